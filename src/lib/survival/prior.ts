/**
 * The lifetime prior `predict` falls back on for a GPU with too little telemetry to judge: the fleet's
 * own Weibull lifetime curve (from the registry and the failure history, as `gpuhealth survival` fits
 * it), read at the GPU's age. A GPU that has lived `a` days fails within the next `h` with
 *
 *   P(h | a) = 1 − S(a + h) / S(a) = 1 − exp((a/λ)^k − ((a + h)/λ)^k),
 *
 * so a young GPU of a lot with infant mortality (k < 1) carries more risk than an old one, and an old
 * GPU of a lot that wears out (k > 1) more than a young one. The curve is the GPU's model's when that
 * model has enough failures of its own, else the whole fleet's.
 */
import type { Lifetime } from './kaplan-meier.js';
import { weibullFit } from './weibull.js';

/** A model gets its own curve from this many failures; with fewer, the fleet's curve serves it. */
export const MIN_MODEL_PRIOR_FAILURES = 5;
/** The fleet's curve needs this many failures (as survival's Weibull fit per group). */
export const MIN_FLEET_PRIOR_FAILURES = 3;
/** The Weibull density has ln t in it: a failure on the day of deployment counts as one hour. */
const MIN_DAYS = 1 / 24;

export interface LifetimePrior {
  /** Whose lifetimes the curve comes from: a model name, or "fleet". */
  basis: string;
  shape: number;
  scale_days: number;
  gpus: number;
  failures: number;
}

export interface LifetimePriors {
  byModel: ReadonlyMap<string, LifetimePrior>;
  fleet: LifetimePrior | null;
}

export interface ModelLifetime extends Lifetime {
  model: string | null;
}

function fitCurve(basis: string, lifetimes: readonly Lifetime[], minFailures: number): LifetimePrior | null {
  const failures = lifetimes.filter((l) => l.event).length;
  if (failures < minFailures) return null;
  const f = weibullFit(lifetimes.map((l) => ({ time: Math.max(l.time, MIN_DAYS), event: l.event })));
  return f && { basis, shape: f.shape, scale_days: f.scale, gpus: lifetimes.length, failures };
}

/** The fleet's curve and each model's with enough failures of its own. */
export function fitLifetimePriors(lifetimes: readonly ModelLifetime[]): LifetimePriors {
  const byModelLists = new Map<string, ModelLifetime[]>();
  for (const l of lifetimes) {
    if (l.model === null) continue;
    const list = byModelLists.get(l.model);
    if (list) list.push(l);
    else byModelLists.set(l.model, [l]);
  }
  const byModel = new Map<string, LifetimePrior>();
  for (const [model, list] of byModelLists) {
    const p = fitCurve(model, list, MIN_MODEL_PRIOR_FAILURES);
    if (p) byModel.set(model, p);
  }
  return { byModel, fleet: fitCurve('fleet', lifetimes, MIN_FLEET_PRIOR_FAILURES) };
}

/** The curve for a GPU of `model`: its model's, else the fleet's, else none. */
export function priorFor(priors: LifetimePriors, model: string | null): LifetimePrior | null {
  return (model !== null ? priors.byModel.get(model) : undefined) ?? priors.fleet;
}

/** P(failure within `horizonDays` | alive at `ageDays`). */
export function conditionalFailureProb(p: LifetimePrior, ageDays: number, horizonDays: number): number {
  const a = Math.max(ageDays, 0);
  const h0 = (a / p.scale_days) ** p.shape;
  const h1 = ((a + horizonDays) / p.scale_days) ** p.shape;
  return -Math.expm1(h0 - h1);
}

/**
 * Days from `ageDays` until the failure probability reaches `q` (the q-quantile of the remaining life):
 * ((a + t)/λ)^k = (a/λ)^k − ln(1 − q).
 */
export function conditionalQuantileDays(p: LifetimePrior, ageDays: number, q: number): number {
  const a = Math.max(ageDays, 0);
  const h = (a / p.scale_days) ** p.shape - Math.log1p(-q);
  return p.scale_days * h ** (1 / p.shape) - a;
}
