/**
 * Column batches: how the exposition-text parser hands its pivoted rows to DuckDB. A batch is one
 * Float64Array of BATCH_ROWS rows per column, column after column, that a worker transfers to the
 * main thread without copying and the main thread appends to DuckDB as one data chunk
 * (batch-appender.ts). DuckDB then never parses these rows from text, which was the largest part
 * of the merge. NaN stands for null: canonical and other values are never NaN (the parser turns
 * NaN, ±Inf and DCGM blanks into null), and times and keys are integers below 2^53.
 */
import { VALUE_COLUMNS } from '../schema.js';

/** DuckDB's vector size: one batch is one data chunk. */
export const BATCH_ROWS = 2048;

/** Canonical rows keyed by series: time_ms, series, then every value column. */
export const WIDE_BATCH_COLUMNS: readonly string[] = ['time_ms', 'series', ...VALUE_COLUMNS.map((c) => c.name)];

/** Other samples keyed by series and metric name: `dup` > 0 marks a repeat (the highest is the last). */
export const OTHER_BATCH_COLUMNS: readonly string[] = ['time_ms', 'series', 'metric', 'value', 'dup'];

export type BatchKind = 'wide' | 'other';

/** The DuckDB tables the main thread appends batches to (all DOUBLE; see staging-views.ts for the views). */
export const BATCH_TABLES: Record<BatchKind, { table: string; columns: readonly string[] }> = {
  wide: { table: 'staged_wide_batches', columns: WIDE_BATCH_COLUMNS },
  other: { table: 'staged_other_batches', columns: OTHER_BATCH_COLUMNS },
};

export interface Batch {
  kind: BatchKind;
  rows: number;
  /** Column c, row r at data[c * BATCH_ROWS + r]. */
  data: Float64Array;
}

export type BatchSink = (batch: Batch) => void;

/** Fills batches of one kind row by row and hands each full one to the sink. */
export class BatchBuilder {
  /** The batch being filled; write row `row` through it, then call `next()`. */
  data: Float64Array;
  row = 0;
  constructor(
    readonly kind: BatchKind,
    private readonly columns: number,
    private readonly sink: BatchSink,
  ) {
    this.data = new Float64Array(columns * BATCH_ROWS);
  }

  /** The current row is complete. */
  next(): void {
    if (++this.row === BATCH_ROWS) this.flush();
  }

  /** Hands over the rows so far (the sink may take the buffer) and starts a new batch. */
  flush(): void {
    if (this.row === 0) return;
    this.sink({ kind: this.kind, rows: this.row, data: this.data });
    this.data = new Float64Array(this.columns * BATCH_ROWS);
    this.row = 0;
  }
}

/** Rows of a batch as arrays, NaN as null (for tests and debugging). */
export function batchRows(batch: Batch, columns: number): (number | null)[][] {
  const out: (number | null)[][] = [];
  for (let r = 0; r < batch.rows; r++) {
    const row: (number | null)[] = [];
    for (let c = 0; c < columns; c++) {
      const v = batch.data[c * BATCH_ROWS + r]!;
      row.push(Number.isNaN(v) ? null : v);
    }
    out.push(row);
  }
  return out;
}
