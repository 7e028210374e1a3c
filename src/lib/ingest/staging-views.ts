/**
 * The views over what an ingest run has staged: the line parsers' CSV files (staging.ts) and the
 * exposition parser's batch tables (batches.ts). The queries of sql/ingest.ts merge them into new
 * rows; sql/lake-views.ts holds the views over the lake itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/duckdb.js';
import { ID_COLUMNS, OTHER_COLUMNS, VALUE_COLUMNS, XID_COLUMNS } from '../schema.js';
import { emptySelect, quoteFile } from '../sql/lake-views.js';
import { BATCH_TABLES } from './batches.js';

function csvColumns(cols: readonly { name: string; type: string }[]): string {
  return `{${cols.map((c) => `'${c.name}': '${c.type}'`).join(', ')}}`;
}

/** Staged columns are the lake's with the time as epoch milliseconds. */
const TIME_MS = { name: 'time_ms', type: 'BIGINT' } as const;

const STAGED_WIDE_COLUMNS = [
  TIME_MS,
  ...ID_COLUMNS.slice(1),
  // every value is staged as DOUBLE and cast to its lake type when the rows are merged
  ...VALUE_COLUMNS.map((c) => ({ name: c.name, type: 'DOUBLE' })),
] as const;

const STAGED_OTHER_COLUMNS = [TIME_MS, ...OTHER_COLUMNS.slice(1)] as const;

const STAGED_XID_COLUMNS = [TIME_MS, ...XID_COLUMNS.slice(1)] as const;

/** Identity columns carried as ENUMs through an ingest run's merge (createStagingViews `enums`). */
const ENUM_ID_COLUMNS = ['gpu_uuid', 'host', 'model'] as const;
export type EnumColumn = (typeof ENUM_ID_COLUMNS)[number] | 'metric' | 'labels';
const ENUM_COLUMNS: readonly EnumColumn[] = [...ENUM_ID_COLUMNS, 'metric', 'labels'];

/** How many values each of a run's ENUMs (createStagingViews `enums`) holds. */
export function enumSizesSql(): string {
  return `SELECT ${ENUM_COLUMNS.map((c) => `len(enum_range(NULL::staged_${c})) AS ${c}`).join(', ')}`;
}

const STAGED_NAMES_COLUMNS = [
  { name: 'key', type: 'BIGINT' },
  { name: 'metric', type: 'VARCHAR' },
] as const;

const STAGED_SERIES_COLUMNS = [{ name: 'series', type: 'BIGINT' }, ...ID_COLUMNS.slice(1), { name: 'labels', type: 'VARCHAR' }] as const;

/**
 * Views staged_wide, staged_other, staged_xid over a run's staging CSV files and the exposition
 * parser's batch tables (ingest/batch-appender.ts, created first): its rows carry series and metric
 * keys, joined here to the series (identity and labels, staged once per series) and the names.
 */
export async function createStagingViews(db: Db, stagingDir: string, opts: { repeats?: boolean; enums?: boolean } = {}): Promise<void> {
  const defs = [
    ['staged_wide_inline', 'wide-', STAGED_WIDE_COLUMNS],
    ['staged_other_inline', 'other-', STAGED_OTHER_COLUMNS],
    ['staged_series', 'series-', STAGED_SERIES_COLUMNS],
    ['staged_names', 'names-', STAGED_NAMES_COLUMNS],
    ['staged_xid', 'xid-', STAGED_XID_COLUMNS],
  ] as const;
  for (const [view, prefix, cols] of defs) {
    const files = fs
      .readdirSync(stagingDir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.csv') && fs.statSync(path.join(stagingDir, f)).size > 0)
      .map((f) => path.join(stagingDir, f));
    const sql = files.length
      ? `SELECT * FROM read_csv([${files.map(quoteFile).join(', ')}], columns = ${csvColumns(cols)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', nullstr = '', parallel = true)`
      : emptySelect(cols);
    await db.exec(`view ${view}`, `CREATE OR REPLACE TEMP VIEW ${view} AS ${sql}`);
  }
  // For the merge (`enums`), the run's GPU UUIDs, hosts, models, metric names and label sets become
  // ENUMs (sorted, so they sort as the text does): every row then carries small integers instead of
  // copies of these strings through the merge, sorts and rollups. Parquet gets text.
  const asEnum = (column: string, expr: string): string => (opts.enums ? `CAST(${expr} AS staged_${column})` : expr);
  if (opts.enums) {
    const sources: Record<EnumColumn, string[]> = {
      gpu_uuid: ['staged_series', 'staged_wide_inline', 'staged_other_inline'],
      host: ['staged_series', 'staged_wide_inline', 'staged_other_inline'],
      model: ['staged_series', 'staged_wide_inline'],
      metric: ['staged_names', 'staged_other_inline'],
      labels: ['staged_series', 'staged_other_inline'],
    };
    for (const [c, from] of Object.entries(sources)) {
      await db.exec(
        `type staged_${c}`,
        `CREATE TYPE staged_${c} AS ENUM (
           SELECT DISTINCT v FROM (${from.map((t) => `SELECT ${c} AS v FROM ${t}`).join(' UNION ALL ')})
           WHERE v IS NOT NULL ORDER BY v)`,
      );
    }
  }
  // batch tables hold DOUBLEs with NaN for null (ingest/batches.ts)
  const nan = (c: string): string => `CASE WHEN isnan(${c}) THEN NULL ELSE ${c} END`;
  await db.exec(
    'view staged_wide_keyed',
    `CREATE OR REPLACE TEMP VIEW staged_wide_keyed AS
     SELECT CAST(time_ms AS BIGINT) AS time_ms, CAST(series AS BIGINT) AS series, ${VALUE_COLUMNS.map((c) => `${nan(c.name)} AS ${c.name}`).join(', ')}
     FROM ${BATCH_TABLES.wide.table}`,
  );
  await db.exec(
    'view staged_other_keyed',
    `CREATE OR REPLACE TEMP VIEW staged_other_keyed AS
     SELECT CAST(b.time_ms AS BIGINT) AS time_ms, CAST(b.series AS BIGINT) AS series, n.metric, n.metric_hash, ${nan('b.value')} AS value, CAST(b.dup AS BIGINT) AS dup
     FROM ${BATCH_TABLES.other.table} b
     JOIN (SELECT key, ${asEnum('metric', 'metric')} AS metric, hash(metric) AS metric_hash FROM staged_names) n ON n.key = CAST(b.metric AS BIGINT)`,
  );
  const ids = (t: string): string =>
    ID_COLUMNS.slice(1)
      .map((c) => ((ENUM_ID_COLUMNS as readonly string[]).includes(c.name) ? `${asEnum(c.name, `${t}.${c.name}`)} AS ${c.name}` : `${t}.${c.name}`))
      .join(', ');
  const values = (t: string): string => VALUE_COLUMNS.map((c) => `${t}.${c.name}`).join(', ');
  await db.exec(
    'view staged_wide',
    `CREATE OR REPLACE TEMP VIEW staged_wide AS
     SELECT i.time_ms, ${ids('i')}, ${values('i')} FROM staged_wide_inline i
     UNION ALL
     SELECT k.time_ms, ${ids('s')}, ${values('k')}
     FROM staged_wide_keyed k JOIN staged_series s USING (series)`,
  );
  // Repeats of one keyed sample (the parser marks them in `dup`) are resolved on integers first, the
  // last winning, and labels joined after; `repeats: false` says the parsers marked none.
  // `sample_key` hashes (GPU, labels, metric) the same way for both kinds of rows, from per-series and
  // per-name hashes for keyed ones, so that repeats are counted on integers (a collision only sends
  // the run down the merging path, which is right either way).
  await db.exec(
    'view staged_other',
    `CREATE OR REPLACE TEMP VIEW staged_other AS
     SELECT time_ms, ${asEnum('gpu_uuid', 'gpu_uuid')} AS gpu_uuid, ${asEnum('host', 'host')} AS host, ${asEnum('metric', 'metric')} AS metric,
            value, ${asEnum('labels', 'labels')} AS labels, hash(labels) AS labels_hash, hash(hash(gpu_uuid, labels), hash(metric)) AS sample_key
     FROM staged_other_inline
     UNION ALL
     SELECT k.time_ms, s.gpu_enum, s.host_enum, k.metric, k.value, s.label_set, s.labels_hash, hash(s.series_hash, k.metric_hash)
     FROM ${
       opts.repeats === false
         ? 'staged_other_keyed'
         : '(SELECT series, time_ms, metric, metric_hash, arg_max(value, coalesce(dup, 0)) AS value FROM staged_other_keyed GROUP BY series, time_ms, metric, metric_hash)'
     } k
     JOIN (SELECT *, hash(labels) AS labels_hash, hash(gpu_uuid, labels) AS series_hash, ${asEnum('labels', 'labels')} AS label_set,
                  ${asEnum('gpu_uuid', 'gpu_uuid')} AS gpu_enum, ${asEnum('host', 'host')} AS host_enum
           FROM staged_series) s USING (series)`,
  );
}
