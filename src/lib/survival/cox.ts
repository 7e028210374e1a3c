/**
 * Cox proportional hazards, h(t | x) = h₀(t) · exp(β·x), by Newton–Raphson on the partial likelihood.
 *
 * Ties use Efron's approximation, as R's `coxph` (its default) and lifelines do: GPUs whose failures
 * fall on the same day are common in RMA data, and Breslow's approximation biases β towards 0 as ties
 * grow. The iteration follows coxph's: start at β = 0, halve a step that lowers the likelihood, stop
 * when the log-likelihood changes by less than 1e-9 relative. Covariates are centred first (as coxph
 * does); β does not change, exp(β·x) stays in range. Intervals and p-values are Wald's, from the
 * inverse of the observed information at the maximum.
 */
import { cholesky, choleskyInverse, choleskySolve, type Matrix, zeros } from './linalg.js';
import { twoSidedP, Z95 } from './normal.js';

export interface CoxInput {
  time: readonly number[];
  event: readonly boolean[];
  /** One row per lifetime, one column per covariate (already numeric: see design.ts). */
  x: readonly (readonly number[])[];
  names: readonly string[];
}

export interface CoxCoefficient {
  name: string;
  coef: number;
  se: number;
  hazardRatio: number;
  ci: [number, number];
  p: number;
}

export interface CoxFit {
  coefficients: CoxCoefficient[];
  /** Log partial likelihood at β = 0 and at the fit. */
  loglik: [number, number];
  n: number;
  events: number;
  iterations: number;
}

const MAX_ITERATIONS = 30;
/** coxph's `eps`: converged when |1 − ℓ_old/ℓ_new| falls below it. */
const LOGLIK_TOLERANCE = 1e-9;

interface Step {
  loglik: number;
  score: number[];
  /** The observed information: minus the Hessian of the log partial likelihood. */
  info: Matrix;
}

/** Lifetimes ordered by time, latest first, grouped by equal time (the order the risk sets grow in). */
function timeGroups(time: readonly number[]): number[][] {
  const order = time.map((_, i) => i).sort((a, b) => time[b]! - time[a]!);
  const groups: number[][] = [];
  for (const i of order) {
    const last = groups.at(-1);
    if (last && time[last[0]!] === time[i]) last.push(i);
    else groups.push([i]);
  }
  return groups;
}

/**
 * Log partial likelihood, score and information at β with Efron's ties. Walking from the latest time
 * back, the risk-set sums S0 = Σ r, S1 = Σ r·x, S2 = Σ r·x·xᵀ (r = e^(β·x)) grow by each time's
 * lifetimes; with d tied failures whose own sums are T0, T1, T2, the l-th of them (l = 0…d−1) sees
 * the risk set less l/d of the tied ones.
 */
function evaluate(x: readonly (readonly number[])[], event: readonly boolean[], groups: readonly number[][], beta: readonly number[]): Step {
  const p = beta.length;
  const s1 = new Array<number>(p).fill(0);
  const s2 = zeros(p);
  let s0 = 0;
  let loglik = 0;
  const score = new Array<number>(p).fill(0);
  const info = zeros(p);
  const t1 = new Array<number>(p).fill(0);
  const t2 = zeros(p);
  for (const g of groups) {
    let t0 = 0;
    let d = 0;
    t1.fill(0);
    for (const row of t2) row.fill(0);
    for (const i of g) {
      const xi = x[i]!;
      let eta = 0;
      for (let j = 0; j < p; j++) eta += beta[j]! * xi[j]!;
      const r = Math.exp(eta);
      s0 += r;
      for (let j = 0; j < p; j++) {
        s1[j]! += r * xi[j]!;
        for (let k = 0; k <= j; k++) s2[j]![k]! += r * xi[j]! * xi[k]!;
      }
      if (!event[i]) continue;
      d++;
      loglik += eta;
      t0 += r;
      for (let j = 0; j < p; j++) {
        score[j]! += xi[j]!;
        t1[j]! += r * xi[j]!;
        for (let k = 0; k <= j; k++) t2[j]![k]! += r * xi[j]! * xi[k]!;
      }
    }
    for (let l = 0; l < d; l++) {
      const f = l / d;
      const a = s0 - f * t0;
      loglik -= Math.log(a);
      for (let j = 0; j < p; j++) {
        const bj = (s1[j]! - f * t1[j]!) / a;
        score[j]! -= bj;
        for (let k = 0; k <= j; k++) {
          const bk = (s1[k]! - f * t1[k]!) / a;
          info[j]![k]! += (s2[j]![k]! - f * t2[j]![k]!) / a - bj * bk;
        }
      }
    }
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) info[k]![j] = info[j]![k]!;
  return { loglik, score, info };
}

export class CoxConvergenceError extends Error {}

/**
 * Fits the model. Throws CoxConvergenceError when the information matrix is singular (a covariate
 * that is constant or a combination of others: design.ts leaves those out) or the iteration does not
 * settle (a coefficient running off to infinity: a group with no failures, say).
 */
export function coxPH(input: CoxInput, z = Z95): CoxFit {
  const n = input.time.length;
  const p = input.names.length;
  // centred covariates: the same β, and e^(β·x) stays in range
  const means = input.names.map((_, j) => input.x.reduce((s, row) => s + row[j]!, 0) / Math.max(1, n));
  const x = input.x.map((row) => row.map((v, j) => v - means[j]!));
  const groups = timeGroups(input.time);
  let beta = new Array<number>(p).fill(0);
  let cur = evaluate(x, input.event, groups, beta);
  const loglik0 = cur.loglik;
  const events = input.event.filter(Boolean).length;
  let iterations = 0;
  for (;;) {
    if (iterations >= MAX_ITERATIONS) throw new CoxConvergenceError(`no convergence in ${MAX_ITERATIONS} iterations`);
    iterations++;
    const l = cholesky(cur.info);
    if (!l) throw new CoxConvergenceError('the information matrix is singular');
    const delta = choleskySolve(l, cur.score);
    let step = 1;
    let nextBeta = beta.map((b, j) => b + delta[j]!);
    let next = evaluate(x, input.event, groups, nextBeta);
    while (!(next.loglik >= cur.loglik - 1e-12 * Math.abs(cur.loglik)) && step > 1e-8) {
      step /= 2;
      nextBeta = beta.map((b, j) => b + step * delta[j]!);
      next = evaluate(x, input.event, groups, nextBeta);
    }
    const done = Math.abs(1 - cur.loglik / next.loglik) < LOGLIK_TOLERANCE;
    beta = nextBeta;
    cur = next;
    if (done) break;
  }
  const l = cholesky(cur.info);
  if (!l) throw new CoxConvergenceError('the information matrix is singular at the fit');
  const cov = choleskyInverse(l);
  const coefficients = input.names.map((name, j): CoxCoefficient => {
    const b = beta[j]!;
    const se = Math.sqrt(cov[j]![j]!);
    return { name, coef: b, se, hazardRatio: Math.exp(b), ci: [Math.exp(b - z * se), Math.exp(b + z * se)], p: twoSidedP(b / se) };
  });
  return { coefficients, loglik: [loglik0, cur.loglik], n, events, iterations };
}
