import { describe, expect, it } from 'vitest';
import { evaluateRisk, type EvalRow } from './evaluate.js';
import { fitFailureModels, hazardRates, hazardTrainData, type Outcome } from './failure-model.js';
import { mulberry32 } from './random.js';
import { failureProbability, segmentBounds } from './survival.js';

/** Rows whose failure rate grows with feature 0 (a daily rate of 0.0005 × e^(3·x0)); feature 1 is noise. */
function syntheticRows(n: number, seed: number): { X: Float64Array; outcomes: Outcome[] } {
  const rnd = mulberry32(seed);
  const X = new Float64Array(n * 2);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    const x0 = rnd() * 2;
    X[i * 2] = x0;
    X[i * 2 + 1] = rnd();
    const rate = 0.0005 * Math.exp(3 * x0);
    const t = -Math.log(1 - rnd()) / rate;
    const event = t <= 90;
    outcomes.push({ days: Math.min(t, 90), event, type: event ? (x0 > 1 ? 'memory' : 'power') : null });
  }
  return { X, outcomes };
}

describe('fitFailureModels', () => {
  const bounds = segmentBounds(90);
  const { X, outcomes } = syntheticRows(6000, 3);
  const rows = outcomes.map((_, i) => i);
  const fit = fitFailureModels(X, 2, outcomes, rows, bounds, { seed: 1, monotone: [1, 0], hazard: { minSamplesLeaf: 50 } });

  it('learns a failure rate that grows with the feature that drives it, and monotone horizons', () => {
    const grid = new Float64Array([0.1, 0.5, 0.5, 0.5, 1.0, 0.5, 1.5, 0.5, 1.9, 0.5]);
    const rates = hazardRates(fit.hazard, grid, 2, 3);
    const p30 = [0, 1, 2, 3, 4].map((r) => failureProbability(Array.from(rates.subarray(r * 3, r * 3 + 3)), bounds, 30));
    for (let k = 1; k < p30.length; k++) expect(p30[k]!).toBeGreaterThanOrEqual(p30[k - 1]!);
    // the true 30-day probabilities are 1.8 % at x0 = 0.1 and 59 % at x0 = 1.9
    expect(p30[0]!).toBeLessThan(0.05);
    expect(p30[4]!).toBeGreaterThan(0.3);
    const r = Array.from(rates.subarray(0, 3));
    expect(failureProbability(r, bounds, 7)).toBeLessThanOrEqual(failureProbability(r, bounds, 30));
    expect(failureProbability(r, bounds, 30)).toBeLessThanOrEqual(failureProbability(r, bounds, 90));
  });

  it('learns the failure type from the failed rows', () => {
    expect(fit.type).not.toBeNull();
    expect(fit.typeCounts.memory + fit.typeCounts.power).toBe(outcomes.filter((o) => o.event).length);
  });

  it('keeps the rates unbiased when it samples the rows without a failure', () => {
    const all = hazardTrainData(X, 2, outcomes, rows, bounds, 1, 1);
    const sampled = hazardTrainData(X, 2, outcomes, rows, bounds, 0.25, 1);
    const exposure = (d: typeof all): number => d.offset!.reduce((a, o, k) => a + Math.exp(o) * d.weight![k]!, 0);
    expect(sampled.y.reduce((a, b) => a + b, 0)).toBe(all.y.reduce((a, b) => a + b, 0));
    expect(exposure(sampled) / exposure(all)).toBeGreaterThan(0.93);
    expect(exposure(sampled) / exposure(all)).toBeLessThan(1.07);
  });
});

describe('evaluateRisk', () => {
  it('counts a failure as flagged 7 days ahead only when a row 7 or more days before it is in the top 5 %', () => {
    const rows: EvalRow[] = [];
    const score: number[] = [];
    // 200 healthy GPU-days, then GPU a flagged 10 days before its failure, GPU b only 2 days before
    for (let i = 0; i < 200; i++) {
      rows.push({ gpu: `h${i}`, daysToFailure: null, label: 0 });
      score.push(i / 1000);
    }
    rows.push({ gpu: 'a', daysToFailure: 10, label: 1 }, { gpu: 'b', daysToFailure: 12, label: 1 }, { gpu: 'b', daysToFailure: 2, label: 1 });
    score.push(0.9, 0.0, 0.8);
    const m = evaluateRisk(rows, score, 30, { prob: score.map(() => 0.01), hadPrecursor: (g) => g === 'a' });
    expect(m.failures).toBe(2);
    expect(m.caught).toBe(2);
    expect(m.caught_7d_ahead).toBe(1);
    expect(m.precursor_failures).toBe(1);
    expect(m.precursor_caught_7d_ahead).toBe(1);
    expect(m.median_lead_days).toBe(6);
    expect(m.positives).toBe(3);
    expect(m.calibration_ratio).toBeCloseTo((203 * 0.01) / 3, 9);
  });
});
