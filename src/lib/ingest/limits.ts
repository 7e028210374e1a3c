/**
 * What one line may hold for the lake to store it. Checked where lines are parsed, so that a value
 * DuckDB would refuse later (an INT32 cast, a timestamp the manifest cannot write, a staged CSV line
 * past its reader's limit) is a rejected line with its reason, not a failed run that repeats under
 * cron until a person removes the file. Whether a value is plausible is another question (not here).
 */
import { VALUE_COLUMNS, type SqlType } from '../schema.js';

/**
 * The longest line exposition text may have. A dcgm-exporter line with every Kubernetes label is
 * under 2 KiB; a longer one is damage or junk, and staging it could pass DuckDB's 2 MB CSV line limit.
 */
export const MAX_LINE_BYTES = 64 << 10;

/** A line longer than MAX_LINE_BYTES: the reject's reason. */
export const LONG_LINE_REASON = `line longer than ${MAX_LINE_BYTES >> 10} KiB`;

/**
 * The longest line a line parser may stage (UTF-8 bytes): half of DuckDB's CSV `max_line_size`
 * (2,000,000 bytes), whatever escaping adds when the staging view reads it back.
 */
export const MAX_STAGED_LINE_BYTES = 1_000_000;

/**
 * Times the lake can store: years 0001–9999. ISO-8601 text (the manifest is staged as JSON, and
 * partitions are named `date=YYYY-MM-DD`) has four-digit years; beyond them DuckDB's TIMESTAMP parse
 * and the partition names fail.
 */
export const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * The earliest sample time taken: DCGM and dcgm-exporter are far younger, so a sample dated before
 * 2000 comes from a clock that was never set (1970, epoch 0) or a unit mix-up, and would date a
 * partition decades before the fleet.
 */
export const EARLIEST_SAMPLE_MS = Date.UTC(2000, 0, 1);

/**
 * How far past now a sample may be dated: a day, for clocks a little ahead and zones misread. A sample
 * from further ahead (a clock set to 2100) would make the lake's newest sample, and every window
 * ending there, a fiction; `--allow-future` takes it anyway (a simulated fleet, a replay).
 */
export const FUTURE_SLACK_MS = 86_400_000;

/** The sample times a run takes: [minMs, maxMs]. */
export interface TimeBounds {
  minMs: number;
  maxMs: number;
  /** Whether maxMs is now + FUTURE_SLACK_MS (else the storable limit): for the reject's wording. */
  future: boolean;
}

/** What a run takes: 2000 to a day past `nowMs`, or to year 9999 with `allowFuture`. */
export function sampleTimeBounds(nowMs: number, allowFuture: boolean): TimeBounds {
  return allowFuture
    ? { minMs: EARLIEST_SAMPLE_MS, maxMs: MAX_TIME_MS, future: false }
    : { minMs: EARLIEST_SAMPLE_MS, maxMs: Math.min(MAX_TIME_MS, nowMs + FUTURE_SLACK_MS), future: true };
}

/** Every time the lake can store (tests and callers without a run's bounds). */
export const STORABLE_TIMES: TimeBounds = { minMs: MIN_TIME_MS, maxMs: MAX_TIME_MS, future: false };

/** Why `ms` is not taken as a sample time within `bounds`, or null when it is. */
export function timeProblem(ms: number, bounds: TimeBounds = STORABLE_TIMES): string | null {
  if (ms >= bounds.minMs && ms <= bounds.maxMs) return null;
  const year = new Date(ms).getUTCFullYear();
  if (Number.isNaN(year) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    return `timestamp ${Number.isNaN(year) ? String(ms) : `in year ${year}`} is outside the years 0001–9999`;
  }
  const iso = new Date(ms).toISOString();
  if (ms < bounds.minMs) return `timestamp ${iso} is before ${new Date(bounds.minMs).toISOString().slice(0, 10)} (a clock that was never set?)`;
  return bounds.future
    ? `timestamp ${iso} is more than a day in the future (pass --allow-future to take it)`
    : `timestamp ${iso} is after ${new Date(bounds.maxMs).toISOString()}`;
}

/** The largest magnitude of a value stored as each integer type (a DOUBLE takes any finite value). */
const TYPE_LIMIT: Partial<Record<SqlType, number>> = {
  INTEGER: 2 ** 31 - 1,
  // the largest double below 2^63: DuckDB rounds a DOUBLE and casts it to BIGINT at the merge
  BIGINT: 2 ** 63 - 1024,
};

/** Per VALUE_COLUMNS index: the largest magnitude the column's type stores (Infinity for DOUBLE). */
export const VALUE_LIMIT_BY_INDEX: Float64Array = Float64Array.from(VALUE_COLUMNS, (c) => TYPE_LIMIT[c.type] ?? Infinity);

/** True when `x` (finite or NaN for null) cannot be stored in a column of magnitude limit `limit`. */
export function outOfRange(x: number, limit: number): boolean {
  return limit < Infinity && Math.abs(Math.round(x)) > limit;
}

/** The reject reason for a value of column `index` out of its type's range. */
export function rangeReason(index: number, text: string): string {
  const c = VALUE_COLUMNS[index]!;
  return `${c.name} value ${text.slice(0, 40)} is out of range for ${c.type}`;
}

/** The largest magnitude of an INTEGER column (gpu_index, xid). */
export const MAX_INTEGER = TYPE_LIMIT.INTEGER!;
