/**
 * The hazard model's time axis: a piecewise-exponential survival model. The days after a cut-off are
 * cut into segments (0–7, 7–30, 30–90 days); the gradient-boosted trees learn a GPU's failure rate per
 * day in each segment, log λ_k(x), with the segment's index as one more input, from Poisson rows (one
 * per training row and segment it reached: the days it was watched there, and whether it failed there).
 * The cumulative hazard is H(t) = Σ λ_k · (days of segment k before t), and P(fail by t) = 1 − e^(−H(t)).
 * H only grows, so P7 ≤ P30 ≤ P90 by construction, and a GPU whose precursor says "soon" can put its
 * risk in the first week instead of sharing one time profile with every other GPU (as one hazard ratio
 * on a Breslow baseline would).
 */

/** Segment boundaries in days from the cut-off; the last is the horizon. */
export function segmentBounds(horizonDays: number): number[] {
  const bounds = [0];
  for (const b of [7, 30, 90, 180, 365]) {
    if (b < horizonDays) bounds.push(b);
  }
  bounds.push(horizonDays);
  return bounds;
}

/** The Poisson rows of one outcome: per segment reached, its exposure (days) and whether the failure fell in it. */
export function poissonRows(days: number, event: boolean, bounds: readonly number[]): { segment: number; exposure: number; event: boolean }[] {
  const out: { segment: number; exposure: number; event: boolean }[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const lo = bounds[k]!;
    const hi = bounds[k + 1]!;
    if (days <= lo) break;
    const exposure = Math.min(days, hi) - lo;
    out.push({ segment: k, exposure, event: event && days <= hi });
  }
  return out;
}

/** Cumulative hazard at `t` days from per-segment daily rates (beyond the horizon: the last segment's rate continues). */
export function cumulativeHazard(rates: readonly number[], bounds: readonly number[], t: number): number {
  let h = 0;
  for (let k = 0; k < rates.length; k++) {
    const lo = bounds[k]!;
    const hi = k === rates.length - 1 ? Number.POSITIVE_INFINITY : bounds[k + 1]!;
    if (t <= lo) break;
    h += rates[k]! * (Math.min(t, hi) - lo);
  }
  return h;
}

/** P(failure within t days). */
export function failureProbability(rates: readonly number[], bounds: readonly number[], t: number): number {
  return 1 - Math.exp(-cumulativeHazard(rates, bounds, t));
}

/**
 * The day by which the GPU has failed with probability q: where H(t) = −ln(1 − q). Null when that lies
 * beyond the horizon (the model says nothing past it).
 */
export function failureQuantileDays(rates: readonly number[], bounds: readonly number[], q: number): number | null {
  const target = -Math.log(1 - q);
  let h = 0;
  for (let k = 0; k < rates.length; k++) {
    const lo = bounds[k]!;
    const hi = bounds[k + 1]!;
    const r = rates[k]!;
    if (h + r * (hi - lo) >= target) return r > 0 ? lo + (target - h) / r : null;
    h += r * (hi - lo);
  }
  return null;
}
