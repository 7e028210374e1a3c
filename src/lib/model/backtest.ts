/**
 * What a backtest reports at one horizon, for one scorer (the model, or a baseline): the replay's
 * GPU-days are (GPU, cut-off day) pairs; a GPU-day is *flagged* when the scorer's alert rule fires on it
 * (for the model: risk high or critical). An operator reads it as: of the failures in the period, how
 * many were flagged at a cut-off within the horizon before them, how long before; and of the flags, how
 * many were false alarms. This is the proof of concept's success criterion ("predicted failures N days
 * before they happened, with a false-positive rate under 10 %") as numbers.
 */
import { prAuc } from './metrics.js';

export interface BacktestDay {
  gpu: string;
  cutoffMs: number;
  /**
   * Per horizon (same order as the horizons given): 1 when the GPU failed within it after the cut-off,
   * 0 when it was watched that long without failing, null when the follow-up is cut short (the data
   * ends, or the GPU left service): such a day counts for no precision or false alarm.
   */
  labels: readonly (0 | 1 | null)[];
}

export interface BacktestFailure {
  gpu: string;
  atMs: number;
  type: string;
}

/** A scorer's numbers per GPU-day: its risk score (higher is riskier) and whether its alert fired. */
export interface BacktestScorer {
  score: ArrayLike<number>;
  flagged: ArrayLike<boolean>;
}

export interface FailureOutcome {
  /** Whether a GPU-day within the horizon before the failure was flagged. */
  flagged: boolean;
  /** Days from the first such flag to the failure; null when not flagged. */
  lead_days: number | null;
  /** Index (into the days) of that first flag; null when not flagged. */
  first_flag: number | null;
  /** GPU-days of the GPU within the horizon before the failure (0: no telemetry to judge it on). */
  days_watched: number;
}

export interface HorizonMetrics {
  horizon_days: number;
  /** GPU-days whose outcome over the horizon is known. */
  gpu_days: number;
  failures: number;
  caught: number;
  recall: number;
  flagged_gpu_days: number;
  /** Flagged GPU-days followed by a failure within the horizon. */
  true_alarms: number;
  /** Flagged GPU-days not followed by a failure within the horizon. */
  false_alarms: number;
  false_alarms_per_1000_gpu_days: number;
  /** False alarms ÷ GPU-days that did not fail (the false-positive rate). */
  false_positive_rate: number;
  /** True alarms ÷ flagged GPU-days (null when nothing was flagged). */
  precision: number | null;
  /** Average precision of the score over the known GPU-days; null without a failure among them. */
  pr_auc: number | null;
  median_lead_days: number | null;
  per_failure: FailureOutcome[];
}

const DAY_MS = 86_400_000;

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The metrics of `scorer` over `days` at the horizon with index `h` (days[i].labels[h]) of `horizonDays`. */
export function backtestHorizon(
  days: readonly BacktestDay[],
  failures: readonly BacktestFailure[],
  scorer: BacktestScorer,
  h: number,
  horizonDays: number,
): HorizonMetrics {
  const score: number[] = [];
  const labels: (0 | 1)[] = [];
  let flaggedDays = 0;
  let trueAlarms = 0;
  let negatives = 0;
  for (let i = 0; i < days.length; i++) {
    const l = days[i]!.labels[h];
    if (l === null || l === undefined) continue;
    const s = scorer.score[i]!;
    score.push(Number.isFinite(s) ? s : Number.NEGATIVE_INFINITY);
    labels.push(l);
    if (l === 0) negatives++;
    if (scorer.flagged[i]) {
      flaggedDays++;
      if (l === 1) trueAlarms++;
    }
  }
  // each failure: the GPU's days within the horizon before it, in time order
  const byGpu = new Map<string, number[]>();
  days.forEach((d, i) => {
    const list = byGpu.get(d.gpu);
    if (list) list.push(i);
    else byGpu.set(d.gpu, [i]);
  });
  const perFailure = failures.map((f): FailureOutcome => {
    const window = (byGpu.get(f.gpu) ?? []).filter((i) => days[i]!.cutoffMs < f.atMs && days[i]!.cutoffMs >= f.atMs - horizonDays * DAY_MS);
    window.sort((a, b) => days[a]!.cutoffMs - days[b]!.cutoffMs);
    const first = window.find((i) => scorer.flagged[i]);
    return first === undefined
      ? { flagged: false, lead_days: null, first_flag: null, days_watched: window.length }
      : { flagged: true, lead_days: (f.atMs - days[first]!.cutoffMs) / DAY_MS, first_flag: first, days_watched: window.length };
  });
  const caught = perFailure.filter((f) => f.flagged);
  const falseAlarms = flaggedDays - trueAlarms;
  return {
    horizon_days: horizonDays,
    gpu_days: labels.length,
    failures: failures.length,
    caught: caught.length,
    recall: failures.length ? caught.length / failures.length : 0,
    flagged_gpu_days: flaggedDays,
    true_alarms: trueAlarms,
    false_alarms: falseAlarms,
    false_alarms_per_1000_gpu_days: labels.length ? (1000 * falseAlarms) / labels.length : 0,
    false_positive_rate: negatives ? falseAlarms / negatives : 0,
    precision: flaggedDays ? trueAlarms / flaggedDays : null,
    pr_auc: ((a) => (Number.isNaN(a) ? null : a))(prAuc(score, labels)),
    median_lead_days: median(caught.map((f) => f.lead_days!)),
    per_failure: perFailure,
  };
}
