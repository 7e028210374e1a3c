/**
 * The one place where lake paths meet SQL: views over the lake's Parquet files (and over a run's
 * staging CSV). Every other query reads these views. An empty table is an empty typed view, so
 * queries work on a new lake too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BATCH_TABLES } from '../ingest/batches.js';
import { ID_COLUMNS, METRIC_COLUMNS, OTHER_COLUMNS, VALUE_COLUMNS, XID_COLUMNS } from '../schema.js';
import type { LakeLayout, PartitionedTable } from '../lake/layout.js';
import { ASSETS_SPEC } from '../registry/specs.js';
import { ROLLUP_SQL } from './rollup.js';
import { quotePath, type Db } from '../db/duckdb.js';

export const MANIFEST_COLUMNS = [
  { name: 'run_id', type: 'VARCHAR' },
  { name: 'ingested_at', type: 'TIMESTAMP' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'size', type: 'BIGINT' },
  { name: 'mtime', type: 'TIMESTAMP' },
  /** Content hash; null unless another source had the same size and head (see ingest/pipeline.ts). */
  { name: 'sha256', type: 'VARCHAR' },
  { name: 'format', type: 'VARCHAR' },
  { name: 'samples', type: 'BIGINT' },
  { name: 'rows', type: 'BIGINT' },
  { name: 'rejected', type: 'BIGINT' },
  { name: 'truncated', type: 'BOOLEAN' },
  { name: 'time_min', type: 'TIMESTAMP' },
  { name: 'time_max', type: 'TIMESTAMP' },
  /** sha256 of the first 64 KiB; null in manifests written before it was recorded. */
  { name: 'head_sha256', type: 'VARCHAR' },
] as const;

/** The GPU registry: a GPU's latest identity, and when it was first and last seen. */
export const GPU_COLUMNS = [
  ...ID_COLUMNS.slice(1),
  { name: 'first_seen', type: 'TIMESTAMP' },
  { name: 'last_seen', type: 'TIMESTAMP' },
] as const;

type Cols = readonly { name: string; type: string }[];

function emptySelect(cols: Cols, extra = ''): string {
  return `SELECT ${cols.map((c) => `CAST(NULL AS ${c.type}) AS ${c.name}`).join(', ')}${extra} WHERE false`;
}

function hasParquet(dir: string, depth: number): boolean {
  if (!fs.existsSync(dir)) return false;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.parquet') && depth === 0) return true;
    if (e.isDirectory() && depth > 0 && hasParquet(path.join(dir, e.name), depth - 1)) return true;
  }
  return false;
}

const TABLE_COLUMNS: Record<PartitionedTable, Cols> = {
  metrics: METRIC_COLUMNS,
  metrics_other: OTHER_COLUMNS,
  xid_events: XID_COLUMNS,
};

/**
 * The view run_<table> (run_metrics, run_metrics_other, run_xid_events) over Parquet files an ingest
 * run has written but not committed yet (under date=… folders): what its earlier rounds hold.
 */
export async function createRunView(db: Db, table: PartitionedTable, files: readonly string[]): Promise<void> {
  const sql = `SELECT * FROM read_parquet([${files.map(quotePath).join(', ')}], hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`;
  await db.exec(`view run_${table}`, `CREATE OR REPLACE TEMP VIEW run_${table} AS ${sql}`);
}

/** Creates (or replaces) the views metrics, metrics_other, xid_events, manifest, gpus. */
export async function createLakeViews(db: Db, layout: LakeLayout): Promise<void> {
  for (const t of Object.keys(TABLE_COLUMNS) as PartitionedTable[]) {
    const sql = hasParquet(layout.table(t), 1)
      ? `SELECT * FROM read_parquet(${quotePath(layout.glob(t))}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`
      : emptySelect(TABLE_COLUMNS[t], ', CAST(NULL AS DATE) AS date');
    await db.exec(`view ${t}`, `CREATE OR REPLACE TEMP VIEW ${t} AS ${sql}`);
  }
  const meta = hasParquet(layout.table('metrics'), 1)
    ? `SELECT * FROM parquet_metadata(${quotePath(layout.glob('metrics'))})`
    : 'SELECT CAST(NULL AS VARCHAR) AS file_name, CAST(NULL AS BIGINT) AS row_group_id, CAST(NULL AS BIGINT) AS row_group_num_rows, CAST(NULL AS VARCHAR) AS path_in_schema, CAST(NULL AS BIGINT) AS stats_null_count, CAST(NULL AS BIGINT) AS num_values WHERE false';
  await db.exec('view metrics_parquet_meta', `CREATE OR REPLACE TEMP VIEW metrics_parquet_meta AS ${meta}`);
  // every column exists, also where all parts predate one (head_sha256)
  const manifest = hasParquet(layout.manifestDir, 0)
    ? `${emptySelect(MANIFEST_COLUMNS)} UNION ALL BY NAME SELECT * FROM read_parquet(${quotePath(layout.manifestGlob)}, union_by_name = true)`
    : emptySelect(MANIFEST_COLUMNS);
  await db.exec('view manifest', `CREATE OR REPLACE TEMP VIEW manifest AS ${manifest}`);
  const gpus = hasParquet(layout.gpusDir, 0) ? `SELECT * FROM read_parquet(${quotePath(layout.gpusGlob)})` : emptySelect(GPU_COLUMNS);
  await db.exec('view gpus', `CREATE OR REPLACE TEMP VIEW gpus AS ${gpus}`);
  const assetCols = ASSETS_SPEC.fields.map((f) => ({ name: f.name, type: f.type }));
  const assets = hasParquet(layout.assetsDir, 0)
    ? `SELECT * FROM read_parquet(${quotePath(path.join(layout.assetsDir, '*.parquet'))}, union_by_name = true)`
    : emptySelect(assetCols);
  await db.exec('view assets', `CREATE OR REPLACE TEMP VIEW assets AS ${assets}`);
  if (hasParquet(layout.rollupsDir, 1)) {
    await db.exec(
      'view rollups',
      `CREATE OR REPLACE TEMP VIEW rollups AS SELECT * FROM read_parquet(${quotePath(layout.rollupsGlob)}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`,
    );
  } else {
    // typed and empty: the rollup of no rows
    await db.exec('view rollup_input', `CREATE OR REPLACE TEMP VIEW rollup_input AS ${emptySelect(METRIC_COLUMNS)}`);
    await db.exec('view rollups', `CREATE OR REPLACE TEMP VIEW rollups AS SELECT *, CAST(NULL AS DATE) AS date FROM (${ROLLUP_SQL}) WHERE false`);
  }
}

/** The view ROLLUP_SQL reads, over a table of metrics rows (an ingest run's new rows). */
export function rollupInputFromTableSql(table: string): string {
  return `CREATE OR REPLACE TEMP VIEW rollup_input AS SELECT * FROM ${table}`;
}

/** The view ROLLUP_SQL reads: the rows of the given metrics files (the lake's own, or a run's staged ones). */
export function rollupInputViewSql(files: readonly string[]): string {
  return `CREATE OR REPLACE TEMP VIEW rollup_input AS SELECT * FROM read_parquet([${files.map(quotePath).join(', ')}], union_by_name = true)`;
}

/** Files currently in the lake for one table (for compaction and journals). */
export function listParquet(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listParquet(p));
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(p);
  }
  return out.sort();
}

function csvColumns(cols: readonly { name: string; type: string }[]): string {
  return `{${cols.map((c) => `'${c.name}': '${c.type}'`).join(', ')}}`;
}

/** Staged columns are the lake's with the time as epoch milliseconds. */
const TIME_MS = { name: 'time_ms', type: 'BIGINT' } as const;

export const STAGED_WIDE_COLUMNS = [
  TIME_MS,
  ...ID_COLUMNS.slice(1),
  // every value is staged as DOUBLE and cast to its lake type when the rows are merged
  ...VALUE_COLUMNS.map((c) => ({ name: c.name, type: 'DOUBLE' })),
] as const;

export const STAGED_OTHER_COLUMNS = [TIME_MS, ...OTHER_COLUMNS.slice(1)] as const;

export const STAGED_XID_COLUMNS = [TIME_MS, ...XID_COLUMNS.slice(1)] as const;

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

export const STAGED_SERIES_COLUMNS = [
  { name: 'series', type: 'BIGINT' },
  ...ID_COLUMNS.slice(1),
  { name: 'labels', type: 'VARCHAR' },
] as const;

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
      ? `SELECT * FROM read_csv([${files.map(quotePath).join(', ')}], columns = ${csvColumns(cols)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', nullstr = '', parallel = true)`
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

/** COPY target inside a run's staging folder. */
export function stagingTarget(stagingDir: string, name: string): string {
  return quotePath(path.join(stagingDir, name));
}

/** Loads a newline-delimited JSON file (rows a stage computed in JS) into a temp table, typed by `columns`. */
export async function loadJsonlTable(db: Db, table: string, file: string, columns: Readonly<Record<string, string>>): Promise<void> {
  const cols = Object.entries(columns).map(([k, t]) => `'${k}': '${t}'`).join(', ');
  await db.exec(`load ${table}`, `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM read_json(${quotePath(file)}, format = 'newline_delimited', columns = {${cols}})`);
}
