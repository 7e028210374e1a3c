/**
 * `gpuhealth features`: the per-GPU feature vector over a window (docs/features.md), computed from
 * the hourly rollups in one DuckDB query and written to `lake/features/date=<at>/features-<at>.parquet`.
 * Scoring and the failure models read the same table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../cli/errors.js';
import { NO_PROGRESS, type ProgressFn } from '../cli/progress.js';
import { Db, quotePath } from '../db/duckdb.js';
import { createLakeViews, listParquet } from '../db/lake-views.js';
import { acquireLock } from '../lake/lock.js';
import { lakeLayout, newRunId, type LakeLayout } from '../lake/layout.js';
import { commit, recover, stagingDir } from '../lake/txn.js';
import { FEATURES_SQL, ROLLUP_RANGE_SQL } from '../sql/features.js';
import { ensureRollups } from './rollups.js';

export const HOUR_MS = 3_600_000;

export interface WindowOptions {
  lake: string;
  /** Window length (ms); whole hours. */
  sinceMs: number;
  /** Window end (ms); rounded down to the hour. Default: now. */
  atMs?: number;
  /** Only these GPUs / hosts in the output (the cohorts still use the whole fleet). */
  gpus?: readonly string[];
  hosts?: readonly string[];
  /** Write the table into the lake (default true). */
  write?: boolean;
  progress?: ProgressFn;
}

export interface FeatureWindow {
  at: string;
  window_start: string;
  window_end: string;
}

export type FeatureRow = Record<string, unknown> & { gpu_uuid: string; host: string | null; model: string | null };

export interface FeaturesResult extends FeatureWindow {
  /** GPUs with telemetry in the window (before --gpu / --host filters). */
  gpus_total: number;
  rows: FeatureRow[];
  /** The file written, or null with write: false. */
  file: string | null;
  rollups_built: number;
  seconds: number;
}

/** The window [start, end) in whole hours: `at` rounded down to the hour. */
export function featureWindow(sinceMs: number, atMs: number): { startMs: number; endMs: number } {
  if (!(sinceMs >= HOUR_MS) || sinceMs % HOUR_MS !== 0) {
    throw new InputError(`--since must be a whole number of hours (1h or more); got ${sinceMs / 1000} s`, ['--since 7d']);
  }
  const endMs = Math.floor(atMs / HOUR_MS) * HOUR_MS;
  return { startMs: endMs - sinceMs, endMs };
}

/** File-name stamp of a window end: 20261120T0000Z. */
export function atStamp(endMs: number): string {
  return new Date(endMs).toISOString().replace(/[-:]/g, '').replace(/\d\d\.\d+Z$/, 'Z');
}

/** Where a window stage writes its table: `<dir>/date=<end date>/<prefix>-<end stamp>.parquet`. */
export function windowFile(dir: string, prefix: string, endMs: number): string {
  return path.join(dir, `date=${new Date(endMs).toISOString().slice(0, 10)}`, `${prefix}-${atStamp(endMs)}.parquet`);
}

export function featuresFile(layout: LakeLayout, endMs: number): string {
  return windowFile(layout.featuresDir, 'features', endMs);
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

/**
 * Computes the feature table into the temp table `features` of `db` (lake views must exist).
 * Throws InputError when the window holds no telemetry, saying where the data is.
 */
export async function computeFeatureTable(db: Db, startMs: number, endMs: number): Promise<number> {
  const params = { start_us: startMs * 1000, end_us: endMs * 1000 };
  await db.exec('features', `CREATE OR REPLACE TEMP TABLE features AS ${FEATURES_SQL}`, params);
  const n = (await db.query<{ n: number }>('count features', 'SELECT count(*) AS n FROM features'))[0]!.n;
  if (n === 0) {
    const range = (await db.query<{ newest: Date | null; oldest: Date | null }>('rollup range', ROLLUP_RANGE_SQL))[0];
    const window = `${new Date(startMs).toISOString()} – ${new Date(endMs).toISOString()}`;
    if (!range?.newest) throw new InputError(`the lake holds no telemetry`, ['gpuhealth ingest PATH first']);
    const newest = range.newest.toISOString();
    throw new InputError(`no telemetry in the window ${window}; the lake's samples run from ${iso(range.oldest)} to ${newest}`, [
      `--at ${newest.slice(0, 13)}:00:00Z (the window ends at --at, default now)`,
    ]);
  }
  return n;
}

/** Reads `features` rows, filtered by GPU / host (the filters are plain JS: the table is one row per GPU). */
export async function readFeatureRows(db: Db, gpus: readonly string[] = [], hosts: readonly string[] = []): Promise<FeatureRow[]> {
  const rows = await db.query<FeatureRow>('read features', 'SELECT * FROM features ORDER BY gpu_uuid');
  const gpuSet = new Set(gpus);
  const hostSet = new Set(hosts);
  return rows
    .filter((r) => (gpuSet.size === 0 || gpuSet.has(r.gpu_uuid)) && (hostSet.size === 0 || (r.host !== null && hostSet.has(r.host))))
    .map((r) => {
      const out: FeatureRow = { ...r };
      for (const [k, v] of Object.entries(out)) if (v instanceof Date) out[k] = v.toISOString();
      return out;
    });
}

/** Opens the lake for a window stage: recovers, brings rollups up to date, opens DuckDB with the views. */
export async function openWindowStage(lake: string, progress: ProgressFn): Promise<{ layout: LakeLayout; db: Db; rollupsBuilt: number }> {
  const layout = lakeLayout(lake);
  if (!fs.existsSync(layout.root)) throw new InputError(`no lake at ${layout.root}`, ['pass --lake DIR or set GPUHEALTH_LAKE', 'gpuhealth ingest PATH creates one']);
  if (listParquet(layout.table('metrics')).length === 0) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
  const built = await ensureRollups(lake, { progress });
  const db = await Db.open({ memoryLimit: process.env.GPUHEALTH_MEMORY_LIMIT ?? '4GB' });
  try {
    await createLakeViews(db, layout);
  } catch (e) {
    db.close();
    throw e;
  }
  return { layout, db, rollupsBuilt: built.built };
}

/**
 * Writes temp tables to Parquet files in the lake in one atomic commit, under the lock. The same
 * window end writes the same file names, so a re-run replaces its earlier result.
 */
export async function writeStageTables(db: Db, layout: LakeLayout, tables: readonly { table: string; target: string }[]): Promise<void> {
  const lock = await acquireLock(layout.lockFile, { waitMs: 60_000 });
  const runId = newRunId();
  try {
    recover(layout);
    const stage = stagingDir(layout, runId);
    const adds: { from: string; to: string }[] = [];
    for (const [i, { table, target }] of tables.entries()) {
      const from = path.join(stage, `${i}-${path.basename(target)}`);
      await db.exec(`write ${table}`, `COPY (SELECT * FROM ${table}) TO ${quotePath(from)} (FORMAT parquet, COMPRESSION zstd)`);
      adds.push({ from, to: target });
    }
    commit(layout, { run_id: runId, adds, deletes: [] });
  } finally {
    fs.rmSync(path.join(layout.tmpDir, runId), { recursive: true, force: true });
    lock.release();
  }
}

export async function computeFeatures(opts: WindowOptions): Promise<FeaturesResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const { startMs, endMs } = featureWindow(opts.sinceMs, opts.atMs ?? Date.now());
  const { layout, db, rollupsBuilt } = await openWindowStage(opts.lake, progress);
  try {
    progress('computing features');
    const total = await computeFeatureTable(db, startMs, endMs);
    let file: string | null = null;
    if (opts.write !== false) {
      file = featuresFile(layout, endMs);
      await writeStageTables(db, layout, [{ table: 'features', target: file }]);
    }
    const rows = await readFeatureRows(db, opts.gpus, opts.hosts);
    return {
      at: new Date(endMs).toISOString(),
      window_start: new Date(startMs).toISOString(),
      window_end: new Date(endMs).toISOString(),
      gpus_total: total,
      rows,
      file,
      rollups_built: rollupsBuilt,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    db.close();
  }
}
