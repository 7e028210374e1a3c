/**
 * The Weibull lifetime distribution fitted by maximum likelihood with right censoring:
 * S(t) = exp(−(t/λ)^k), shape k, scale λ (the age by which 63.2 % have failed).
 *
 * Newton–Raphson on (ln k, ln λ), where the log-likelihood is smooth and unbounded parameters stay
 * positive, with the analytic gradient and Hessian and step halving. The 95 % intervals are Wald
 * intervals on the log scale from the observed information (the negative Hessian at the maximum), so
 * they stay positive and match R's `survreg(…, dist = "weibull")`, whose `Log(scale)` is −ln k and
 * whose intercept is ln λ.
 *
 * What the shape says: k < 1 a falling hazard (infant mortality: weak units fail early and leave),
 * k = 1 a constant one (random failures), k > 1 a rising one (wear-out). `hazardPattern` reads it
 * from the interval, not the point estimate: only a shape whose whole interval lies on one side of 1
 * is called falling or rising.
 */
import type { Lifetime } from './kaplan-meier.js';
import { Z95 } from './normal.js';

export interface WeibullFit {
  shape: number;
  scale: number;
  shapeCi: [number, number];
  scaleCi: [number, number];
  /** Standard errors of ln k and ln λ, and their covariance. */
  seLogShape: number;
  seLogScale: number;
  covLogShapeLogScale: number;
  /** Log-likelihood at the maximum, density terms included (as R reports it). */
  loglik: number;
  iterations: number;
}

export const HAZARD_PATTERNS = ['infant_mortality', 'random', 'wear_out'] as const;
export type HazardPattern = (typeof HAZARD_PATTERNS)[number];

const MAX_ITERATIONS = 100;
/** Converged when no parameter moves more than this (on the log scale: a relative change of 1e-10). */
const STEP_TOLERANCE = 1e-10;
/** |ln k| beyond this (k > 3·10⁴ or < 3·10⁻⁵) is a likelihood without a maximum: all failures at one age, say. */
const MAX_ABS_LOG_SHAPE = 10;

interface Derivatives {
  loglik: number;
  /** Gradient and Hessian in (a, b) = (ln k, ln λ). */
  ga: number;
  gb: number;
  haa: number;
  hab: number;
  hbb: number;
}

/**
 * With w = k (ln t − ln λ) and u = e^w, a failure adds ln k + w − ln t − u to the log-likelihood and a
 * censored lifetime −u; ∂w/∂a = w and ∂w/∂b = −k give the derivatives below.
 */
function derivatives(logT: readonly number[], event: readonly boolean[], a: number, b: number): Derivatives {
  const k = Math.exp(a);
  let loglik = 0;
  let ga = 0;
  let gb = 0;
  let haa = 0;
  let hab = 0;
  let hbb = 0;
  for (let i = 0; i < logT.length; i++) {
    const w = k * (logT[i]! - b);
    const u = Math.exp(w);
    const d = event[i] ? 1 : 0;
    loglik += d * (a + w - logT[i]!) - u;
    ga += d * (1 + w) - u * w;
    gb += k * (u - d);
    haa += d * w - u * w * (w + 1);
    hab += k * (u * (w + 1) - d);
    hbb -= k * k * u;
  }
  return { loglik, ga, gb, haa, hab, hbb };
}

/**
 * The maximum-likelihood Weibull of `lifetimes` (times > 0), or null when the likelihood has no finite
 * maximum: no failure at all, or a shape running off to 0 or infinity.
 */
export function weibullFit(lifetimes: readonly Lifetime[], z = Z95): WeibullFit | null {
  const failures = lifetimes.filter((l) => l.event).length;
  if (failures === 0) return null;
  if (lifetimes.some((l) => !(l.time > 0) || !Number.isFinite(l.time))) throw new RangeError('Weibull lifetimes must be positive and finite');
  const logT = lifetimes.map((l) => Math.log(l.time));
  const event = lifetimes.map((l) => l.event);
  // start from the exponential fit (k = 1), whose scale is total time over failures
  let a = 0;
  let b = Math.log(lifetimes.reduce((s, l) => s + l.time, 0) / failures);
  let cur = derivatives(logT, event, a, b);
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    // Newton step: solve H·δ = −g (H negative definite near the maximum); else a gradient step
    const det = cur.haa * cur.hbb - cur.hab * cur.hab;
    let da: number;
    let db: number;
    if (cur.haa < 0 && det > 0) {
      da = -(cur.hbb * cur.ga - cur.hab * cur.gb) / det;
      db = -(cur.haa * cur.gb - cur.hab * cur.ga) / det;
    } else {
      const n = Math.hypot(cur.ga, cur.gb) || 1;
      da = (cur.ga / n) * 0.1;
      db = (cur.gb / n) * 0.1;
    }
    let step = 1;
    let next = derivatives(logT, event, a + da, b + db);
    while (!(next.loglik >= cur.loglik - 1e-12 * Math.abs(cur.loglik)) && step > 1e-10) {
      step /= 2;
      next = derivatives(logT, event, a + step * da, b + step * db);
    }
    a += step * da;
    b += step * db;
    cur = next;
    if (Math.abs(a) > MAX_ABS_LOG_SHAPE) return null;
    if (Math.max(Math.abs(step * da), Math.abs(step * db)) < STEP_TOLERANCE) {
      const det2 = cur.haa * cur.hbb - cur.hab * cur.hab;
      if (!(cur.haa < 0 && det2 > 0)) return null;
      // covariance = (−H)⁻¹
      const vaa = -cur.hbb / det2;
      const vbb = -cur.haa / det2;
      const vab = cur.hab / det2;
      const seA = Math.sqrt(vaa);
      const seB = Math.sqrt(vbb);
      return {
        shape: Math.exp(a),
        scale: Math.exp(b),
        shapeCi: [Math.exp(a - z * seA), Math.exp(a + z * seA)],
        scaleCi: [Math.exp(b - z * seB), Math.exp(b + z * seB)],
        seLogShape: seA,
        seLogScale: seB,
        covLogShapeLogScale: vab,
        loglik: cur.loglik,
        iterations: it,
      };
    }
  }
  return null;
}

/** What the shape's interval says about the hazard over age (see the header). */
export function hazardPattern(shapeCi: readonly [number, number]): HazardPattern {
  if (shapeCi[1] < 1) return 'infant_mortality';
  if (shapeCi[0] > 1) return 'wear_out';
  return 'random';
}
