import { describe, expect, it } from 'vitest';
import { backtestHorizon, type BacktestDay } from './backtest.js';

const D = 86_400_000;

/** GPU a fails on day 10; GPU b never does. One day each for days 0–9 (labels at horizons 7 and 30). */
function fleet(): { days: BacktestDay[]; failAt: number } {
  const failAt = 10 * D;
  const days: BacktestDay[] = [];
  for (let k = 0; k < 10; k++) {
    const toFail = (failAt - k * D) / D;
    days.push({ gpu: 'a', cutoffMs: k * D, labels: [toFail <= 7 ? 1 : 0, 1] });
    // b's follow-up at 30 days runs past the data for the last days: unknown
    days.push({ gpu: 'b', cutoffMs: k * D, labels: [0, k < 5 ? 0 : null] });
  }
  return { days, failAt };
}

describe('backtestHorizon', () => {
  it('counts a failure caught at its first flag within the horizon, its lead, and the false alarms', () => {
    const { days, failAt } = fleet();
    // a is flagged from day 5, b on days 8 and 9
    const flagged = days.map((d) => (d.gpu === 'a' ? d.cutoffMs >= 5 * D : d.cutoffMs >= 8 * D));
    const score = days.map((d) => (d.gpu === 'a' ? d.cutoffMs / D : d.cutoffMs / D - 3));
    const m7 = backtestHorizon(days, [{ gpu: 'a', atMs: failAt, type: 'memory' }], { score, flagged }, 0, 7);
    // within 7 days before day 10: cut-offs 3–9; the first flag is day 5, 5 days ahead
    expect(m7.per_failure).toEqual([{ flagged: true, lead_days: 5, first_flag: 10, days_watched: 7 }]);
    expect(m7).toMatchObject({ failures: 1, caught: 1, recall: 1, gpu_days: 20, flagged_gpu_days: 7, true_alarms: 5, false_alarms: 2 });
    expect(m7.precision).toBeCloseTo(5 / 7, 12);
    expect(m7.false_alarms_per_1000_gpu_days).toBeCloseTo(100, 12);
    // negatives at 7 days: a's days 0–2 and b's ten
    expect(m7.false_positive_rate).toBeCloseTo(2 / 13, 12);
    expect(m7.median_lead_days).toBe(5);

    // at 30 days every day of a is a positive; b's days 5–9 are unknown and count for nothing
    const m30 = backtestHorizon(days, [{ gpu: 'a', atMs: failAt, type: 'memory' }], { score, flagged }, 1, 30);
    expect(m30).toMatchObject({ gpu_days: 15, flagged_gpu_days: 5, true_alarms: 5, false_alarms: 0, precision: 1 });
    expect(m30.per_failure[0]).toMatchObject({ flagged: true, lead_days: 5, days_watched: 10 });
  });

  it('a flag after the failure or before the horizon does not catch it; a failure without telemetry is missed', () => {
    const { days, failAt } = fleet();
    const flagged = days.map((d) => d.gpu === 'a' && d.cutoffMs === 1 * D);
    const score = days.map(() => 0);
    const m = backtestHorizon(
      days,
      [
        { gpu: 'a', atMs: failAt, type: 'memory' },
        { gpu: 'c', atMs: failAt, type: 'power' },
      ],
      { score, flagged },
      0,
      7,
    );
    expect(m.per_failure).toEqual([
      { flagged: false, lead_days: null, first_flag: null, days_watched: 7 },
      { flagged: false, lead_days: null, first_flag: null, days_watched: 0 },
    ]);
    expect(m).toMatchObject({ caught: 0, recall: 0, median_lead_days: null });
  });

  it('PR-AUC is null without a failure among the known days, and precision null without a flag', () => {
    const days: BacktestDay[] = [{ gpu: 'b', cutoffMs: 0, labels: [0] }];
    const m = backtestHorizon(days, [], { score: [1], flagged: [false] }, 0, 7);
    expect(m.pr_auc).toBeNull();
    expect(m.precision).toBeNull();
  });
});
