/**
 * The little dense linear algebra the likelihood fits need: the information matrices are small
 * (one row per covariate) and symmetric positive definite at a maximum, so Cholesky does it all.
 */

export type Matrix = number[][];

export const zeros = (n: number, m = n): Matrix => Array.from({ length: n }, () => new Array<number>(m).fill(0));

/** The lower Cholesky factor L of a symmetric matrix A = L·Lᵀ, or null when A is not positive definite. */
export function cholesky(a: Matrix): Matrix | null {
  const n = a.length;
  const l = zeros(n);
  for (let j = 0; j < n; j++) {
    let s = a[j]![j]!;
    for (let k = 0; k < j; k++) s -= l[j]![k]! ** 2;
    // relative to the diagonal's scale: a pivot that cancels to rounding noise is a singular matrix
    if (!(s > 1e-12 * Math.abs(a[j]![j]!))) return null;
    const d = Math.sqrt(s);
    l[j]![j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i]![j]!;
      for (let k = 0; k < j; k++) t -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = t / d;
    }
  }
  return l;
}

/** Solves (L·Lᵀ) x = b for x, given the Cholesky factor L. */
export function choleskySolve(l: Matrix, b: readonly number[]): number[] {
  const n = l.length;
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * y[k]!;
    y[i] = s / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

/** The inverse of L·Lᵀ (a covariance matrix from an information matrix), given L. */
export function choleskyInverse(l: Matrix): Matrix {
  const n = l.length;
  const inv = zeros(n);
  for (let j = 0; j < n; j++) {
    const e = new Array<number>(n).fill(0);
    e[j] = 1;
    const col = choleskySolve(l, e);
    for (let i = 0; i < n; i++) inv[i]![j] = col[i]!;
  }
  return inv;
}

/** A matrix row by row, its non-zeros only: row i's entries are start[i] … start[i + 1] − 1 of idx and val. */
export interface SparseRows {
  start: Int32Array;
  idx: Int32Array;
  val: Float64Array;
}

/** The n rows of a matrix given as columns, non-zeros only. */
export function sparseRows(columns: readonly ArrayLike<number>[], n: number): SparseRows {
  const start = new Int32Array(n + 1);
  for (const c of columns) for (let i = 0; i < n; i++) if (c[i] !== 0) start[i + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const idx = new Int32Array(start[n]!);
  const val = new Float64Array(start[n]!);
  columns.forEach((c, j) => {
    for (let i = 0; i < n; i++) {
      const v = c[i]!;
      if (v === 0) continue;
      idx[fill[i]!] = j;
      val[fill[i]!] = v;
      fill[i]!++;
    }
  });
  return { start, idx, val };
}

/** Adds w·x_i to the vector v and w·x_i·x_iᵀ to the lower triangle of the p × p matrix m (row-major). */
export function addOuter(x: SparseRows, i: number, w: number, v: Float64Array, m: Float64Array, p: number): void {
  const end = x.start[i + 1]!;
  for (let a = x.start[i]!; a < end; a++) {
    const j = x.idx[a]!;
    const wj = w * x.val[a]!;
    v[j]! += wj;
    for (let b = x.start[i]!; b <= a; b++) m[j * p + x.idx[b]!]! += wj * x.val[b]!;
  }
}
