/**
 * The main thread's end of batches.ts: appends each column batch to a DuckDB table as one data
 * chunk, one memory copy per column (no text is parsed, no value is visited in JavaScript). The
 * tables hold every column as DOUBLE with NaN for null; the staged_* views (staging-views.ts) cast
 * them back.
 */
import { DOUBLE, DuckDBDataChunk, type DuckDBAppender } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { Db } from '../db/duckdb.js';
import { BATCH_ROWS, BATCH_TABLES, type Batch, type BatchKind } from './batches.js';

/** Creates the (empty) batch tables; ingest creates them before any parse so the views always resolve. */
export async function createBatchTables(db: Db): Promise<void> {
  for (const { table, columns } of Object.values(BATCH_TABLES)) {
    await db.exec(`create ${table}`, `CREATE OR REPLACE TABLE ${table} (${columns.map((c) => `${c} DOUBLE`).join(', ')})`);
  }
}

export class BatchAppender {
  private constructor(private readonly appenders: Record<BatchKind, DuckDBAppender>) {}

  static async open(db: Db): Promise<BatchAppender> {
    return new BatchAppender({
      wide: await db.conn.createAppender(BATCH_TABLES.wide.table),
      other: await db.conn.createAppender(BATCH_TABLES.other.table),
    });
  }

  append(batch: Batch): void {
    const { columns } = BATCH_TABLES[batch.kind];
    const chunk = DuckDBDataChunk.create(
      columns.map(() => DOUBLE),
      batch.rows,
    );
    const bytes = batch.rows * Float64Array.BYTES_PER_ELEMENT;
    const { buffer, byteOffset } = batch.data;
    for (let c = 0; c < columns.length; c++) {
      const from = byteOffset + c * BATCH_ROWS * Float64Array.BYTES_PER_ELEMENT;
      duckdb.copy_data_to_vector(duckdb.data_chunk_get_vector(chunk.chunk, c), 0, buffer as ArrayBuffer, from, bytes);
    }
    this.appenders[batch.kind].appendDataChunk(chunk);
  }

  close(): void {
    for (const a of Object.values(this.appenders)) a.closeSync();
  }
}
