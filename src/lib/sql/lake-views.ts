/**
 * The one place where lake paths meet SQL: views over the lake's Parquet files (an ingest run's
 * staged rows have views of their own, ingest/staging-views.ts, which quote with quoteFile). Every
 * other query reads these views. An empty table is an empty typed view, so queries work on a new
 * lake too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ASSET_COLUMNS, FAILURE_COLUMNS, ID_COLUMNS, METRIC_COLUMNS, OTHER_COLUMNS, XID_COLUMNS } from '../schema.js';
import type { LakeLayout, PartitionedTable } from '../lake/layout.js';
import { PULLED_COLUMNS } from './pull.js';
import { ROLLUP_SQL } from './rollup.js';
import { quotePath, type Db } from '../db/duckdb.js';

export const MANIFEST_COLUMNS = [
  { name: 'run_id', type: 'VARCHAR' },
  { name: 'ingested_at', type: 'TIMESTAMP' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'size', type: 'BIGINT' },
  { name: 'mtime', type: 'TIMESTAMP' },
  /** Content hash; null unless another source had the same size and head (see ingest/sources.ts). */
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
  /** The --time that dated the source's untimestamped samples (part of its identity); null when none did. */
  { name: 'given_time', type: 'TIMESTAMP' },
] as const;

/** The GPU registry: a GPU's latest identity, and when it was first and last seen. */
export const GPU_COLUMNS = [...ID_COLUMNS.slice(1), { name: 'first_seen', type: 'TIMESTAMP' }, { name: 'last_seen', type: 'TIMESTAMP' }] as const;

type Cols = readonly { name: string; type: string }[];

/** A typed, empty SELECT of `cols`: the view of a table that has no files yet. */
export function emptySelect(cols: Cols, extra = ''): string {
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
  const sql = `SELECT * FROM read_parquet([${files.map(quoteFile).join(', ')}], hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`;
  await db.exec(`view run_${table}`, `CREATE OR REPLACE TEMP VIEW run_${table} AS ${sql}`);
}

/**
 * DuckDB's readers treat `*`, `?` and `[` in every path they get as a glob, also in a list of files; a
 * glob that matches nothing falls back to the literal file, which is why a lake at `/x/it's [a]/lake`
 * could be written once and never read again. Bracketed, each matches only itself: `[[]`, `[*]`, `[?]`.
 */
const escapeGlob = (p: string): string => p.replace(/[[*?]/g, (c) => `[${c}]`);

/** A literal file for a DuckDB reader (read_parquet, read_csv, read_json), quoted. */
export const quoteFile = (file: string): string => quotePath(escapeGlob(file));

/**
 * One of the layout's globs, quoted: the lake folder's own path matches only itself, the wildcards
 * the layout puts below it stay wildcards. Globbing keeps big lakes fast (no file list in the SQL).
 */
function quoteLakeGlob(layout: LakeLayout, glob: string): string {
  if (!glob.startsWith(layout.root)) throw new Error(`${glob} is not inside the lake ${layout.root}`);
  return quotePath(escapeGlob(layout.root) + glob.slice(layout.root.length));
}

/** A list of literal files for a DuckDB reader, quoted. */
const quoteFileList = (files: readonly string[]): string => `[${files.map(quoteFile).join(', ')}]`;

/** What the views read instead of the lake's globs (createLakeViews). */
export interface ViewFiles {
  /** Files of the lake: each view reads those below its table's folder. */
  lake: readonly string[];
  /** Rollup files outside the lake's rollup folder, built for one run (a lake it may not write). */
  extraRollups?: readonly string[];
}

/**
 * Creates (or replaces) the views metrics, metrics_other, xid_events, manifest, pulled, gpus, assets,
 * failures, rollups. Over the lake's globs, or, given `files`, over those files only: a reading stage's
 * snapshot of the committed files (lake/snapshot.ts), which ingests committing meanwhile do not change.
 */
export async function createLakeViews(db: Db, layout: LakeLayout, files?: ViewFiles): Promise<void> {
  const under = (dir: string): string[] => (files ? files.lake.filter((f) => f.startsWith(dir + path.sep)) : []);
  const exists = (dir: string, depth: number): boolean => (files ? under(dir).length > 0 : hasParquet(dir, depth));
  // the folder a layout glob reads: where its first wildcard below the lake folder begins
  const source = (glob: string): string => {
    if (!files) return quoteLakeGlob(layout, glob);
    const rel = glob.slice(layout.root.length);
    return quoteFileList(under(layout.root + rel.slice(0, rel.lastIndexOf(path.sep, rel.indexOf('*')))));
  };
  for (const t of Object.keys(TABLE_COLUMNS) as PartitionedTable[]) {
    const sql = exists(layout.table(t), 1)
      ? `SELECT * FROM read_parquet(${source(layout.glob(t))}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`
      : emptySelect(TABLE_COLUMNS[t], ', CAST(NULL AS DATE) AS date');
    await db.exec(`view ${t}`, `CREATE OR REPLACE TEMP VIEW ${t} AS ${sql}`);
  }
  // the metrics rows with the file each is in: ingest rewrites a file whose rows a repeat completes
  const metricsFiles = exists(layout.table('metrics'), 1)
    ? `SELECT * FROM read_parquet(${source(layout.glob('metrics'))}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true, filename = true)`
    : emptySelect(METRIC_COLUMNS, ', CAST(NULL AS DATE) AS date, CAST(NULL AS VARCHAR) AS filename');
  await db.exec('view metrics_files', `CREATE OR REPLACE TEMP VIEW metrics_files AS ${metricsFiles}`);
  const meta = exists(layout.table('metrics'), 1)
    ? `SELECT * FROM parquet_metadata(${source(layout.glob('metrics'))})`
    : 'SELECT CAST(NULL AS VARCHAR) AS file_name, CAST(NULL AS BIGINT) AS row_group_id, CAST(NULL AS BIGINT) AS row_group_num_rows, CAST(NULL AS VARCHAR) AS path_in_schema, CAST(NULL AS BIGINT) AS stats_null_count, CAST(NULL AS BIGINT) AS num_values WHERE false';
  await db.exec('view metrics_parquet_meta', `CREATE OR REPLACE TEMP VIEW metrics_parquet_meta AS ${meta}`);
  // every column exists, also where all parts predate one (head_sha256)
  const manifest = exists(layout.manifestDir, 0)
    ? `${emptySelect(MANIFEST_COLUMNS)} UNION ALL BY NAME SELECT * FROM read_parquet(${source(layout.manifestGlob)}, union_by_name = true)`
    : emptySelect(MANIFEST_COLUMNS);
  await db.exec('view manifest', `CREATE OR REPLACE TEMP VIEW manifest AS ${manifest}`);
  const pulled = exists(layout.pulledDir, 0) ? `SELECT * FROM read_parquet(${source(layout.pulledGlob)}, union_by_name = true)` : emptySelect(PULLED_COLUMNS);
  await db.exec('view pulled', `CREATE OR REPLACE TEMP VIEW pulled AS ${pulled}`);
  const gpus = exists(layout.gpusDir, 0) ? `SELECT * FROM read_parquet(${source(layout.gpusGlob)})` : emptySelect(GPU_COLUMNS);
  await db.exec('view gpus', `CREATE OR REPLACE TEMP VIEW gpus AS ${gpus}`);
  // every column exists, also where the file predates one (lot, removed_date)
  const assets = exists(layout.assetsDir, 0)
    ? `${emptySelect(ASSET_COLUMNS)} UNION ALL BY NAME SELECT * FROM read_parquet(${source(path.join(layout.assetsDir, '*.parquet'))}, union_by_name = true)`
    : emptySelect(ASSET_COLUMNS);
  await db.exec('view assets', `CREATE OR REPLACE TEMP VIEW assets AS ${assets}`);
  const failuresDir = path.join(layout.root, 'failures');
  const failures = exists(failuresDir, 0)
    ? `SELECT * FROM read_parquet(${source(path.join(failuresDir, '*.parquet'))}, union_by_name = true)`
    : emptySelect(FAILURE_COLUMNS);
  await db.exec('view failures', `CREATE OR REPLACE TEMP VIEW failures AS ${failures}`);
  const rollupReads = [
    ...(exists(layout.rollupsDir, 1) ? [source(layout.rollupsGlob)] : []),
    ...(files?.extraRollups?.length ? [quoteFileList(files.extraRollups)] : []),
  ];
  if (rollupReads.length > 0) {
    // rollups built outside the lake's rollup folder are read on their own: their paths hold other hive keys
    const reads = rollupReads.map((src) => `SELECT * FROM read_parquet(${src}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)`);
    await db.exec('view rollups', `CREATE OR REPLACE TEMP VIEW rollups AS ${reads.join(' UNION ALL BY NAME ')}`);
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
  return `CREATE OR REPLACE TEMP VIEW rollup_input AS SELECT * FROM read_parquet([${files.map(quoteFile).join(', ')}], union_by_name = true)`;
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

/** Loads a newline-delimited JSON file (rows a stage computed in JS) into a temp table, typed by `columns`. */
export async function loadJsonlTable(db: Db, table: string, file: string, columns: Readonly<Record<string, string>>): Promise<void> {
  const cols = Object.entries(columns)
    .map(([k, t]) => `'${k}': '${t}'`)
    .join(', ');
  await db.exec(
    `load ${table}`,
    `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM read_json(${quoteFile(file)}, format = 'newline_delimited', columns = {${cols}})`,
  );
}
