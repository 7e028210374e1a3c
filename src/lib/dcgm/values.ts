/**
 * Canonical value rules: how a reading a source printed becomes a value in the lake, the same in every
 * parser (src/lib/ingest/) and in `simulate --to-lake`, which writes what ingest would have stored.
 *
 * - Missing: NaN, ±Inf and DCGM's blank sentinels (`isDcgmBlank`, fields.ts) are null, never 0.
 * - Absent at zero: a column in ZERO_MEANS_ABSENT reading exactly 0 is null (no such sensor).
 * - Units: a reading is scaled to the canonical unit (DCP ratios 0–1 → percent, mW → W, ns → µs…) by
 *   moving the decimal point of the printed text (`scaleReading`), so a value is the double nearest the
 *   decimal the source would have printed in the canonical unit: "0.058619" × 100 is 5.8619 whichever
 *   parser read it, not 5.8618999999999994 (the binary product).
 *
 * The exposition-text parser (src/lib/ingest/prom-text.ts, `PromRangeParser.sample`) inlines twins of
 * these rules on its hot path: the zero rule through ZERO_MEANS_ABSENT_BY_INDEX, and the decimal shift as
 * digit arithmetic (`mantissa / 10^(fraction digits − shift)`, exact for the ≤ 15 digits it takes), with
 * `scaleReading` itself for every other spelling. A test in src/lib/ingest/prom-text.test.ts ("one DCP
 * scaling rule") checks that the text and JSON parsers store what `scaleReading` gives for the same
 * printed values, fast and slow spellings alike.
 */
import { VALUE_COLUMNS, type ValueColumn } from '../schema.js';
import { isDcgmBlank, type FieldMapping } from './fields.js';

/** Columns whose reading of exactly 0 means "no reading": DCGM and nvidia-smi print a memory temperature of 0 °C on GPUs without an HBM sensor (L4, L40S, T4, vGPU). */
export const ZERO_MEANS_ABSENT: ReadonlySet<ValueColumn> = new Set<ValueColumn>(['memory_temp']);

/** ZERO_MEANS_ABSENT by VALUE_COLUMNS index (1: the column's 0 is null), for loops that run once per sample. */
export const ZERO_MEANS_ABSENT_BY_INDEX: Uint8Array = Uint8Array.from(VALUE_COLUMNS, (c) => (ZERO_MEANS_ABSENT.has(c.name) ? 1 : 0));

/** True when `value` is the column's "no reading" marker rather than a reading. */
export function absentAtZero(column: ValueColumn, value: number): boolean {
  return value === 0 && ZERO_MEANS_ABSENT.has(column);
}

/** The largest decimal shift `decimalShift` reports; with at most 15 digits the exposition parser's 10^k stays exact (k ≤ 22). */
const MAX_DECIMAL_SHIFT = 6;

/** k when `scale` = 10^k with |k| ≤ 6 (1e-3, 100, 1e6…), else null. */
export function decimalShift(scale: number): number | null {
  for (let k = -MAX_DECIMAL_SHIFT; k <= MAX_DECIMAL_SHIFT; k++) if (Number(`1e${k}`) === scale) return k;
  return null;
}

/** A decimal as sources print it: optional sign, digits with an optional point, optional exponent. */
const DECIMAL_TEXT = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?$/;

/**
 * `value` (read from `text`) in the canonical unit, `scale` times the printed unit. A power-of-ten scale
 * moves the decimal point in `text`; any other scale (MiB per GiB), or a value without its text,
 * multiplies.
 */
export function scaleReading(value: number, scale: number, text?: string | null): number {
  if (scale === 1) return value;
  const shift = decimalShift(scale);
  const m = shift === null || text == null ? null : DECIMAL_TEXT.exec(text.trim());
  if (m === null) return value * scale;
  return Number(`${m[1]!}e${Number(m[2] ?? 0) + shift!}`);
}

/**
 * A dcgm-exporter or dcgmi reading (`raw`, printed as `text` when known) as the value of `field`'s
 * canonical column: null when missing or absent at zero, else scaled.
 */
export function canonicalValue(field: FieldMapping, raw: number, text?: string | null): number | null {
  if (!Number.isFinite(raw) || isDcgmBlank(raw)) return null;
  if (absentAtZero(field.column, raw)) return null;
  return scaleReading(raw, field.scale, text);
}
