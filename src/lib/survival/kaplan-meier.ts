/**
 * Kaplan–Meier survival with Greenwood's variance and log-log confidence bands.
 *
 * The band transform is log-log (R: `survfit(…, conf.type = "log-log")`; the default of lifelines and
 * SAS PROC LIFETEST), not R's default "log": a log band can pass 1 and has to be clipped there, and in
 * the tail, where few GPUs are left at risk, its coverage falls short (Borgan & Liestøl 1990); log-log
 * bounds always lie inside (0, 1). The bands are pointwise, not simultaneous.
 */
import { Z95 } from './normal.js';

/** One observed lifetime: its length (any unit; gpuhealth uses days) and whether it ended in a failure. */
export interface Lifetime {
  time: number;
  event: boolean;
}

/** The curve at one failure time: S(t) just after it, and its band. */
export interface KmPoint {
  time: number;
  /** At risk just before `time` (lifetimes ≥ time). */
  atRisk: number;
  failures: number;
  survival: number;
  /** Greenwood standard error of S(t). */
  stdErr: number;
  /** Null where the band is undefined (S = 0: every GPU at risk failed). */
  lower: number | null;
  upper: number | null;
}

export interface KaplanMeier {
  /** One point per distinct failure time, in time order. */
  points: KmPoint[];
  /** Smallest t with S(t) ≤ ½ (R's rule for a curve flat at exactly ½: the middle of that step); null when S stays above ½. */
  median: number | null;
  /** The longest observed lifetime (failed or censored): how far the curve is known. */
  end: number;
  n: number;
  failures: number;
}

/** R's tolerance for "exactly ½" (survfit's median: √ machine epsilon). */
const HALF_TOLERANCE = Math.sqrt(Number.EPSILON);

/** The log-log band of S with Greenwood sum `g` = Σ d / (n (n − d)): S^exp(±z √g / |ln S|). */
function logLogBand(s: number, g: number, z: number): { lower: number | null; upper: number | null } {
  if (s <= 0 || !Number.isFinite(g)) return { lower: null, upper: null };
  if (s >= 1) return { lower: 1, upper: 1 };
  const w = (z * Math.sqrt(g)) / Math.abs(Math.log(s));
  return { lower: s ** Math.exp(w), upper: s ** Math.exp(-w) };
}

/** R's median: the first failure time where S ≤ ½, or the middle of a step at exactly ½ and the next drop. */
function medianOf(points: readonly KmPoint[]): number | null {
  const i = points.findIndex((p) => p.survival < 0.5 + HALF_TOLERANCE);
  if (i < 0) return null;
  const p = points[i]!;
  if (Math.abs(p.survival - 0.5) < HALF_TOLERANCE) {
    const next = points.slice(i + 1).find((q) => q.survival < p.survival);
    if (next) return (p.time + next.time) / 2;
  }
  return p.time;
}

/** The Kaplan–Meier curve of `lifetimes` with `level` bands (z of the two-sided normal; default 95 %). */
export function kaplanMeier(lifetimes: readonly Lifetime[], z = Z95): KaplanMeier {
  const sorted = [...lifetimes].sort((a, b) => a.time - b.time);
  const points: KmPoint[] = [];
  let atRisk = sorted.length;
  let s = 1;
  let greenwood = 0;
  let failuresTotal = 0;
  for (let i = 0; i < sorted.length; ) {
    const t = sorted[i]!.time;
    let failures = 0;
    let leaving = 0;
    for (; i < sorted.length && sorted[i]!.time === t; i++, leaving++) if (sorted[i]!.event) failures++;
    if (failures > 0) {
      s *= 1 - failures / atRisk;
      greenwood += failures === atRisk ? Number.POSITIVE_INFINITY : failures / (atRisk * (atRisk - failures));
      points.push({ time: t, atRisk, failures, survival: s, stdErr: s * Math.sqrt(greenwood), ...logLogBand(s, greenwood, z) });
      failuresTotal += failures;
    }
    atRisk -= leaving;
  }
  // Greenwood's standard error at S = 0 is 0·∞; it is 0
  for (const p of points) if (p.survival === 0) p.stdErr = 0;
  return { points, median: medianOf(points), end: sorted.at(-1)?.time ?? 0, n: sorted.length, failures: failuresTotal };
}
