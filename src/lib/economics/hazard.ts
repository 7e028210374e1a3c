/**
 * A GPU's own survival curve, from the three failure probabilities `predict` gives it (7, 30 and 90
 * days), for the expected cost of failure in `recommend` (docs/economics.md, "The arithmetic").
 *
 * The cumulative hazard H(t) = −ln(1 − P(t)) is known at 0, 7, 30 and 90 days and taken as linear in
 * between: a constant failure rate within each stretch, the simplest curve that passes through all
 * three predictions. Beyond 90 days, where predict says nothing, the 30–90-day rate goes on: the most
 * recent rate the model vouches for, and one that neither the first week's burst nor a guess at ageing
 * distorts.
 */

/** Days in an average month (a Julian year over 12). */
export const DAYS_PER_MONTH = 365.25 / 12;

/** The days predict gives probabilities for, after day 0 (where nothing has failed yet). */
export const KNOT_DAYS = [0, 7, 30, 90] as const;

/** P = 1 would make H infinite; this caps H at ≈ 27.6, a GPU that is as good as certain to fail. */
const P_MAX = 1 - 1e-12;

export interface SurvivalCurve {
  /** H(t): the expected number of failures by day t if each failure were repaired to the state just before it. */
  cumulativeHazard(tDays: number): number;
  /** S(t) = exp(−H(t)): the probability the GPU has not failed by day t. */
  survival(tDays: number): number;
}

/**
 * The curve through P7, P30 and P90. Each P is clamped to [0, 1 − 1e-12]; predict's P's never fall
 * with the horizon, and should a caller's do so, a running maximum keeps the curve a survival curve.
 */
export function cumulativeHazardCurve(p7: number, p30: number, p90: number): SurvivalCurve {
  const knots = [0];
  for (const p of [p7, p30, p90]) {
    const clamped = Math.min(Math.max(Number.isFinite(p) ? p : 0, 0), P_MAX);
    knots.push(Math.max(-Math.log1p(-clamped), knots[knots.length - 1]!));
  }
  const [, h7, h30, h90] = knots as [number, number, number, number];
  const tailRate = (h90 - h30) / (KNOT_DAYS[3] - KNOT_DAYS[2]);
  const cumulativeHazard = (t: number): number => {
    if (t <= 0) return 0;
    if (t <= KNOT_DAYS[1]) return (h7 * t) / KNOT_DAYS[1];
    if (t <= KNOT_DAYS[2]) return h7 + ((h30 - h7) * (t - KNOT_DAYS[1])) / (KNOT_DAYS[2] - KNOT_DAYS[1]);
    if (t <= KNOT_DAYS[3]) return h30 + tailRate * (t - KNOT_DAYS[2]);
    return h90 + tailRate * (t - KNOT_DAYS[3]);
  };
  return { cumulativeHazard, survival: (t) => Math.exp(-cumulativeHazard(t)) };
}

/**
 * The unconditional probability that the GPU's first failure falls in month m (m = 1..months):
 * S(t_{m−1}) − S(t_m). They are ≥ 0 and sum to 1 − S(t_months) ≤ 1.
 */
export function monthlyFailureProbs(curve: SurvivalCurve, months: number, daysPerMonth: number = DAYS_PER_MONTH): number[] {
  const out: number[] = [];
  for (let m = 1; m <= months; m++) out.push(curve.survival((m - 1) * daysPerMonth) - curve.survival(m * daysPerMonth));
  return out;
}

/**
 * The probability that a GPU in service at the start of month m fails during it:
 * 1 − exp(−(H(t_m) − H(t_{m−1}))) = 1 − S(t_m) / S(t_{m−1}).
 *
 * This, not the first-failure probability, prices failures in `recommend`: a failed GPU is repaired or
 * replaced and goes on serving, so a risky GPU can fail again, and more risk never moves failures
 * out of the horizon. With first failures only, a higher risk that pulls the failure into the warranty
 * months would make the GPU look cheaper to keep.
 */
export function monthlyFailureRisks(curve: SurvivalCurve, months: number, daysPerMonth: number = DAYS_PER_MONTH): number[] {
  const out: number[] = [];
  for (let m = 1; m <= months; m++) {
    const dH = curve.cumulativeHazard(m * daysPerMonth) - curve.cumulativeHazard((m - 1) * daysPerMonth);
    out.push(-Math.expm1(-dH));
  }
  return out;
}
