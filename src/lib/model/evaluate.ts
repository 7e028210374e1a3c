/**
 * How a risk score is judged, as a user of rare-event prediction judges it (DESIGN §7): over GPU-days
 * (one row per GPU and cut-off), at one horizon. The ranking: PR-AUC, ROC-AUC, precision and recall in
 * the top 1 % and 5 % of GPU-days. The failures: how many were flagged (in the top 5 %) within the
 * horizon before they happened, how many at least 7 days before, and the median lead time. For a
 * probability, also its calibration: the Brier score, and the sum of predicted probabilities against the
 * failures seen, overall and per decile. Never accuracy: with 0.3 % positives, "nothing fails" is 99.7 %
 * accurate.
 */
import { atTopFraction, brier, calibrationTable, prAuc, rocAuc } from './metrics.js';

export interface EvalRow {
  gpu: string;
  /** Days from the cut-off to the GPU's next recorded failure (null: none within what is known). */
  daysToFailure: number | null;
  /** 1 when the GPU failed within the horizon, 0 when it was watched the whole horizon without failing. */
  label: 0 | 1;
}

export interface RiskMetrics {
  gpu_days: number;
  positives: number;
  base_rate: number;
  pr_auc: number;
  roc_auc: number;
  top_1pct: { precision: number; recall: number };
  top_5pct: { precision: number; recall: number };
  failures: number;
  /** Failures flagged (top 5 %) at a cut-off within the horizon before them. */
  caught: number;
  /** Failures flagged at a cut-off 7 days or more before them. */
  caught_7d_ahead: number;
  /** Of those, over the failures `hadPrecursor` selects (all when not given). */
  precursor_failures: number;
  precursor_caught_7d_ahead: number;
  /** Median days between the first flag within the horizon and the failure, over caught failures. */
  median_lead_days: number | null;
  brier?: number;
  /** Σ predicted probability ÷ failures seen (1 is perfect). */
  calibration_ratio?: number;
  calibration?: { lo: number; hi: number; n: number; predicted: number; observed: number }[];
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Metrics of `score` (higher = riskier) over `rows` at `horizonDays`. `prob`, when the score is a
 * probability of failure within the horizon, adds calibration. `hadPrecursor(gpu)` picks the failures the
 * precursor recall counts (a simulated fleet knows which failures were sudden; a real one does not).
 */
export function evaluateRisk(
  rows: readonly EvalRow[],
  score: ArrayLike<number>,
  horizonDays: number,
  opts: { prob?: ArrayLike<number>; hadPrecursor?: (gpu: string) => boolean } = {},
): RiskMetrics {
  const labels = rows.map((r) => r.label);
  const positives = labels.reduce<number>((a, b) => a + b, 0);
  const top1 = atTopFraction(score, labels, 0.01);
  const top5 = atTopFraction(score, labels, 0.05);
  // each failure: the rows of its GPU within the horizon before it; flagged when its score reaches the top 5 %
  const lead = new Map<string, { caught: boolean; ahead7: boolean; lead: number }>();
  rows.forEach((r, i) => {
    if (r.daysToFailure === null || r.daysToFailure > horizonDays) return;
    const key = r.gpu;
    const f = lead.get(key) ?? { caught: false, ahead7: false, lead: 0 };
    if (score[i]! >= top5.threshold && Number.isFinite(score[i]!)) {
      f.caught = true;
      f.lead = Math.max(f.lead, r.daysToFailure);
      if (r.daysToFailure >= 7) f.ahead7 = true;
    }
    lead.set(key, f);
  });
  const failures = [...lead.entries()];
  const precursor = failures.filter(([gpu]) => opts.hadPrecursor?.(gpu) ?? true);
  const out: RiskMetrics = {
    gpu_days: rows.length,
    positives,
    base_rate: rows.length ? positives / rows.length : 0,
    pr_auc: prAuc(score, labels),
    roc_auc: rocAuc(score, labels),
    top_1pct: { precision: top1.precision, recall: top1.recall },
    top_5pct: { precision: top5.precision, recall: top5.recall },
    failures: failures.length,
    caught: failures.filter(([, f]) => f.caught).length,
    caught_7d_ahead: failures.filter(([, f]) => f.ahead7).length,
    precursor_failures: precursor.length,
    precursor_caught_7d_ahead: precursor.filter(([, f]) => f.ahead7).length,
    median_lead_days: median(failures.filter(([, f]) => f.caught).map(([, f]) => f.lead)),
  };
  if (opts.prob) {
    const p = opts.prob;
    let sum = 0;
    for (let i = 0; i < rows.length; i++) sum += p[i]!;
    out.brier = brier(p, labels);
    out.calibration_ratio = positives > 0 ? sum / positives : Number.NaN;
    out.calibration = calibrationTable(p, labels, 10);
  }
  return out;
}
