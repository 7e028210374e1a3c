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
import { addOuter, cholesky, choleskyInverse, choleskySolve, type Matrix, type SparseRows, sparseRows, zeros } from './linalg.js';
import { twoSidedP, Z95 } from './normal.js';

export interface CoxInput {
  time: readonly number[];
  event: readonly boolean[];
  /** The covariates, one column per covariate, one value per lifetime (already numeric: see design.ts). */
  columns: readonly ArrayLike<number>[];
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
 * The covariates row by row, non-zeros only. A fleet's design is mostly 0/1 indicator columns (a model,
 * a lot, a rack) with one non-zero per covariate in each row, so the risk-set sums cost a few products
 * per lifetime instead of p². Indicator columns stay as they are; other columns are centred (as coxph
 * does), which keeps their squares from swamping the variance in S2/S0 − (S1/S0)².
 */
function covariateRows(columns: readonly ArrayLike<number>[], n: number): SparseRows {
  const centred = columns.map((c) => {
    let binary = true;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = c[i]!;
      sum += v;
      if (v !== 0 && v !== 1) binary = false;
    }
    if (binary) return c;
    const mean = sum / Math.max(1, n);
    return Float64Array.from({ length: n }, (_, i) => c[i]! - mean);
  });
  return sparseRows(centred, n);
}

/**
 * Log partial likelihood, score and information at β with Efron's ties. Walking from the latest time
 * back, the risk-set sums S0 = Σ r, S1 = Σ r·x, S2 = Σ r·x·xᵀ (r = e^(β·x)) grow by each time's
 * lifetimes; with d tied failures whose own sums are T0, T1, T2, the l-th of them (l = 0…d−1) sees
 * the risk set less l/d of the tied ones. Every r is scaled by e^(−c), c the largest β·x, so none
 * overflows; the likelihood gets c back and the score and information do not depend on it.
 */
function evaluate(x: SparseRows, event: readonly boolean[], groups: readonly number[][], beta: readonly number[]): Step {
  const p = beta.length;
  const n = event.length;
  const eta = new Float64Array(n);
  let c = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let a = x.start[i]!; a < x.start[i + 1]!; a++) e += beta[x.idx[a]!]! * x.val[a]!;
    eta[i] = e;
    if (e > c) c = e;
  }
  if (n === 0) c = 0;
  const s1 = new Float64Array(p);
  const s2 = new Float64Array(p * p);
  const t1 = new Float64Array(p);
  const t2 = new Float64Array(p * p);
  let s0 = 0;
  let loglik = 0;
  const score = new Array<number>(p).fill(0);
  const info = new Float64Array(p * p);
  const b = new Float64Array(p);
  for (const g of groups) {
    let t0 = 0;
    let d = 0;
    for (const i of g) {
      const r = Math.exp(eta[i]! - c);
      s0 += r;
      addOuter(x, i, r, s1, s2, p);
      if (!event[i]) continue;
      if (d === 0) {
        t1.fill(0);
        t2.fill(0);
      }
      d++;
      loglik += eta[i]!;
      t0 += r;
      for (let a = x.start[i]!; a < x.start[i + 1]!; a++) score[x.idx[a]!]! += x.val[a]!;
      addOuter(x, i, r, t1, t2, p);
    }
    for (let l = 0; l < d; l++) {
      const f = l / d;
      const a = s0 - f * t0;
      loglik -= Math.log(a) + c;
      for (let j = 0; j < p; j++) {
        b[j] = (s1[j]! - f * t1[j]!) / a;
        score[j]! -= b[j]!;
      }
      for (let j = 0; j < p; j++) {
        const row = j * p;
        for (let k = 0; k <= j; k++) info[row + k]! += (s2[row + k]! - f * t2[row + k]!) / a - b[j]! * b[k]!;
      }
    }
  }
  const m = zeros(p);
  for (let j = 0; j < p; j++) {
    for (let k = 0; k <= j; k++) {
      m[j]![k] = info[j * p + k]!;
      m[k]![j] = info[j * p + k]!;
    }
  }
  return { loglik, score, info: m };
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
  const x = covariateRows(input.columns, n);
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
