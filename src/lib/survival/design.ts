/**
 * Covariates as the numeric columns a Cox model takes, kept identifiable:
 * - a numeric covariate is one column (left out when it does not vary);
 * - a categorical one is one 0/1 column per level against a reference level: the most common level
 *   that has failures. A level with no failures would get a hazard ratio of 0 (β → −∞, the
 *   likelihood has no maximum), so it joins the reference; so do levels beyond the MAX_LEVELS
 *   largest. A missing value is a level of its own, `(unknown)`.
 * - a column that is a combination of earlier ones (a lot that holds exactly one model's GPUs, say) is
 *   left out: the data cannot tell its effect from theirs.
 * Every such decision is returned as a note, so a reader knows what the model did not estimate.
 */

export interface NumericCovariate {
  kind: 'numeric';
  name: string;
  values: readonly number[];
}

export interface CategoricalCovariate {
  kind: 'categorical';
  name: string;
  values: readonly (string | null)[];
}

export type Covariate = NumericCovariate | CategoricalCovariate;

export interface Design {
  /** Column names: the numeric covariate's name, or `name=level`. */
  names: string[];
  /** One column per name, one value per lifetime. */
  columns: Float64Array[];
  /** Per categorical covariate kept, its reference level. */
  references: Record<string, string>;
  notes: string[];
}

import { addOuter, sparseRows } from './linalg.js';

/** The level of a missing categorical value. */
export const UNKNOWN_LEVEL = '(unknown)';
/** The most indicator columns one categorical covariate gets: a rack per column would drown the model in noise and time. */
export const MAX_LEVELS = 24;
/** A column whose part not explained by earlier columns is below this share of its norm is collinear with them. */
const COLLINEAR_TOLERANCE = 1e-7;

interface Column {
  name: string;
  values: Float64Array;
}

function categoricalColumns(c: CategoricalCovariate, event: readonly boolean[], notes: string[], references: Record<string, string>): Column[] {
  const stats = new Map<string, { n: number; failures: number }>();
  c.values.forEach((v, i) => {
    const level = v ?? UNKNOWN_LEVEL;
    const s = stats.get(level) ?? { n: 0, failures: 0 };
    s.n++;
    if (event[i]) s.failures++;
    stats.set(level, s);
  });
  if (stats.size < 2) {
    notes.push(`${c.name}: left out, every GPU has the same value`);
    return [];
  }
  const bySize = [...stats.entries()].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1));
  const withFailures = bySize.filter(([, s]) => s.failures > 0);
  if (withFailures.length < 2) {
    notes.push(`${c.name}: left out, failures fall in ${withFailures.length === 0 ? 'no' : 'only one'} of its levels`);
    return [];
  }
  const reference = withFailures[0]![0];
  references[c.name] = reference;
  const noFailures = bySize.filter(([, s]) => s.failures === 0).map(([l]) => l);
  if (noFailures.length > 0) notes.push(`${c.name}: ${listLevels(noFailures)} had no failures and count with the reference ${reference}`);
  const kept = withFailures.slice(1, MAX_LEVELS + 1).map(([l]) => l);
  const beyond = withFailures.slice(MAX_LEVELS + 1).map(([l]) => l);
  if (beyond.length > 0)
    notes.push(`${c.name}: only the ${MAX_LEVELS} largest levels are estimated; ${listLevels(beyond)} count with the reference ${reference}`);
  const out = kept.map((level) => ({ name: `${c.name}=${level}`, values: new Float64Array(c.values.length) }));
  const columnOf = new Map(kept.map((level, k) => [level, out[k]!.values]));
  c.values.forEach((v, i) => {
    const col = columnOf.get(v ?? UNKNOWN_LEVEL);
    if (col) col[i] = 1;
  });
  return out;
}

function listLevels(levels: readonly string[]): string {
  const shown = levels.slice(0, 5).join(', ');
  return levels.length > 5 ? `${shown} and ${levels.length - 5} more` : shown;
}

/** Encodes `covariates` for lifetimes with these `event` flags (see the header). */
export function buildDesign(covariates: readonly Covariate[], event: readonly boolean[]): Design {
  const notes: string[] = [];
  const references: Record<string, string> = {};
  const columns: Column[] = [];
  for (const c of covariates) {
    if (c.kind === 'numeric') {
      const first = c.values[0];
      if (c.values.every((v) => v === first)) notes.push(`${c.name}: left out, every GPU has the same value`);
      else columns.push({ name: c.name, values: Float64Array.from(c.values) });
    } else columns.push(...categoricalColumns(c, event, notes, references));
  }
  // Gram–Schmidt on the centred columns, in order, done as a Cholesky factorisation of their Gram
  // matrix (the same residual norms; the Gram matrix of mostly-indicator columns costs a few products
  // per GPU): a column that earlier ones explain is left out
  const n = event.length;
  const p = columns.length;
  const rows = sparseRows(
    columns.map((c) => c.values),
    n,
  );
  const sums = new Float64Array(p);
  const gram = new Float64Array(p * p);
  for (let i = 0; i < n; i++) addOuter(rows, i, 1, sums, gram, p);
  const centred = (j: number, k: number): number => gram[j * p + k]! - (sums[j]! * sums[k]!) / n;
  const factor: Float64Array[] = [];
  const keptIdx: number[] = [];
  const kept: Column[] = [];
  columns.forEach((col, j) => {
    const norm2 = centred(j, j);
    const l = new Float64Array(keptIdx.length);
    let rest2 = norm2;
    keptIdx.forEach((k, a) => {
      let t = centred(j, k);
      for (let b = 0; b < a; b++) t -= l[b]! * factor[a]![b]!;
      l[a] = t / factor[a]![a]!;
      rest2 -= l[a]! * l[a]!;
    });
    if (!(rest2 > COLLINEAR_TOLERANCE ** 2 * norm2)) {
      notes.push(`${col.name}: left out, it is determined by the covariates before it (the same GPUs)`);
      return;
    }
    const row = new Float64Array(keptIdx.length + 1);
    row.set(l);
    row[keptIdx.length] = Math.sqrt(rest2);
    factor.push(row);
    keptIdx.push(j);
    kept.push(col);
  });
  return { names: kept.map((c) => c.name), columns: kept.map((c) => c.values), references, notes };
}
