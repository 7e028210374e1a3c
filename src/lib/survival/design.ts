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
  /** One row per lifetime. */
  x: number[][];
  /** Per categorical covariate kept, its reference level. */
  references: Record<string, string>;
  notes: string[];
}

/** The level of a missing categorical value. */
export const UNKNOWN_LEVEL = '(unknown)';
/** The most indicator columns one categorical covariate gets: a rack per column would drown the model in noise and time. */
export const MAX_LEVELS = 24;
/** A column whose part not explained by earlier columns is below this share of its norm is collinear with them. */
const COLLINEAR_TOLERANCE = 1e-7;

interface Column {
  name: string;
  values: number[];
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
  return kept.map((level) => ({ name: `${c.name}=${level}`, values: c.values.map((v) => ((v ?? UNKNOWN_LEVEL) === level ? 1 : 0)) }));
}

/** Euclidean norm (Math.hypot(...v) would spread a fleet's worth of arguments). */
function l2(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
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
      else columns.push({ name: c.name, values: [...c.values] });
    } else columns.push(...categoricalColumns(c, event, notes, references));
  }
  // Gram–Schmidt on the centred columns, in order: a column that earlier ones explain is left out
  const basis: number[][] = [];
  const kept: Column[] = [];
  for (const col of columns) {
    const mean = col.values.reduce((a, b) => a + b, 0) / col.values.length;
    const r = col.values.map((v) => v - mean);
    const norm = l2(r);
    for (const q of basis) {
      let dot = 0;
      for (let i = 0; i < r.length; i++) dot += r[i]! * q[i]!;
      for (let i = 0; i < r.length; i++) r[i]! -= dot * q[i]!;
    }
    const rest = l2(r);
    if (!(rest > COLLINEAR_TOLERANCE * norm)) {
      notes.push(`${col.name}: left out, it is determined by the covariates before it (the same GPUs)`);
      continue;
    }
    basis.push(r.map((v) => v / rest));
    kept.push(col);
  }
  const x = event.map((_, i) => kept.map((c) => c.values[i]!));
  return { names: kept.map((c) => c.name), x, references, notes };
}
