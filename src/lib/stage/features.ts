/**
 * `gpuhealth features`: the per-GPU feature vector over a window (docs/features.md), computed from
 * the hourly rollups in one DuckDB query and written to `lake/features/date=<at>/features-<at>.parquet`.
 * Scoring and the failure models read the same table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { Db, quotePath } from '../db/duckdb.js';
import { createLakeViews, listParquet } from '../sql/lake-views.js';
import { acquireLock } from '../lake/lock.js';
import { lakeLayout, newRunId, type LakeLayout } from '../lake/layout.js';
import { commit, recover, stagingDir } from '../lake/txn.js';
import { selectGpus } from './select.js';
import { FEATURES_SQL, ROLLUP_RANGE_SQL, SILENT_GPUS_SQL } from '../sql/features.js';
import { ensureRollupsLocked } from '../maintenance/rollups.js';

export const HOUR_MS = 3_600_000;
/** The longest window a stage accepts (ten years). */
export const MAX_SINCE_MS = 10 * 365 * 86_400_000;

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
  /** The fleet's newest sample in the window: coverage (gaps, silence, completeness) is measured to it. */
  newest_sample: string | null;
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
  if (sinceMs > MAX_SINCE_MS) throw new InputError(`--since is longer than ${MAX_SINCE_MS / 86_400_000 / 365} years`, ['--since 7d']);
  const endMs = Math.floor(atMs / HOUR_MS) * HOUR_MS;
  return { startMs: endMs - sinceMs, endMs };
}

/** File-name stamp of a window end: 20261120T0000Z. */
export function atStamp(endMs: number): string {
  return new Date(endMs).toISOString().replace(/[-:]/g, '').replace(/\d\d\.\d+Z$/, 'Z');
}

/** A window length as file names show it: `7d`, `36h`. */
export function sinceLabel(sinceMs: number): string {
  const h = Math.round(sinceMs / HOUR_MS);
  return h % 24 === 0 ? `${h / 24}d` : `${h}h`;
}

/**
 * Where a window stage writes its table: `<dir>/date=<end date>/<prefix>-<end stamp>-<length>.parquet`,
 * so windows of different lengths ending at the same hour keep their own files.
 */
export function windowFile(dir: string, prefix: string, startMs: number, endMs: number): string {
  return path.join(dir, `date=${new Date(endMs).toISOString().slice(0, 10)}`, `${prefix}-${atStamp(endMs)}-${sinceLabel(endMs - startMs)}.parquet`);
}

export function featuresFile(layout: LakeLayout, startMs: number, endMs: number): string {
  return windowFile(layout.featuresDir, 'features', startMs, endMs);
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

/**
 * Computes the feature table into the temp table `features` of `db` (lake views must exist).
 * Throws InputError when the window holds no telemetry, saying where the data is.
 */
export async function computeFeatureTable(db: Db, startMs: number, endMs: number): Promise<{ gpus: number; newestSample: string | null }> {
  const params = { start_us: startMs * 1000, end_us: endMs * 1000 };
  await db.exec('features', `CREATE OR REPLACE TEMP TABLE features AS ${FEATURES_SQL}`, params);
  await db.exec('silent gpus', SILENT_GPUS_SQL, params);
  const { n, newest } = (await db.query<{ n: number; newest: Date | null }>('count features', 'SELECT count(*) AS n, max(fleet_last_sample) AS newest FROM features'))[0]!;
  if (n === 0) {
    const range = (await db.query<{ newest: Date | null; oldest: Date | null }>('rollup range', ROLLUP_RANGE_SQL))[0];
    const window = `${new Date(startMs).toISOString()} – ${new Date(endMs).toISOString()}`;
    if (!range?.newest) throw new InputError(`the lake holds no telemetry`, ['gpuhealth ingest PATH first']);
    const newest = range.newest.toISOString();
    // the window ends on the hour before --at, so the hour after the newest sample takes it in
    const suggest = new Date(Math.floor(range.newest.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS).toISOString().replace('.000Z', 'Z');
    throw new InputError(`no telemetry in the window ${window}; the lake's samples run from ${iso(range.oldest)} to ${newest}`, [
      `--at ${suggest} (the window ends at --at rounded down to the hour; default now)`,
    ]);
  }
  return { gpus: n, newestSample: newest ? newest.toISOString() : null };
}

/** Reads every row of `features`, timestamps as ISO strings. */
export async function readFeatureRows(db: Db): Promise<FeatureRow[]> {
  const rows = await db.query<FeatureRow>('read features', 'SELECT * FROM features ORDER BY gpu_uuid');
  return rows.map((r) => {
    const out: FeatureRow = { ...r };
    for (const [k, v] of Object.entries(out)) if (v instanceof Date) out[k] = v.toISOString();
    return out;
  });
}

/** The window as results report it. */
export function windowSummary(startMs: number, endMs: number): FeatureWindow {
  return { at: new Date(endMs).toISOString(), window_start: new Date(startMs).toISOString(), window_end: new Date(endMs).toISOString() };
}

/** How long a window stage waits for another run (an ingest of a backlog, a compaction) to finish. */
export const WINDOW_STAGE_LOCK_WAIT_MS = 10 * 60_000;

export interface WindowStage {
  layout: LakeLayout;
  db: Db;
  rollupsBuilt: number;
  /** Closes DuckDB and releases the lake lock. */
  close(): void;
}

/**
 * Opens the lake for a window stage: takes the lake lock for the whole run (so no ingest or compact
 * changes files under the query, and the results commit against the data they were computed from),
 * finishes or undoes what a killed run left, brings the rollups up to date, and opens DuckDB with the
 * lake's views.
 */
export async function openWindowStage(lake: string, progress: ProgressFn): Promise<WindowStage> {
  const layout = lakeLayout(lake);
  if (!fs.existsSync(layout.root)) throw new InputError(`no lake at ${layout.root}`, ['pass --lake DIR or set GPUHEALTH_LAKE', 'gpuhealth ingest PATH creates one']);
  const lock = await acquireLock(layout.lockFile, { waitMs: WINDOW_STAGE_LOCK_WAIT_MS });
  let db: Db | null = null;
  try {
    recover(layout);
    if (listParquet(layout.table('metrics')).length === 0) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
    const built = await ensureRollupsLocked(layout, progress);
    db = await Db.open({ memoryLimit: process.env.GPUHEALTH_MEMORY_LIMIT ?? '4GB' });
    await createLakeViews(db, layout);
    const open = db;
    return {
      layout,
      db: open,
      rollupsBuilt: built.built,
      close: () => {
        try {
          open.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    db?.close();
    lock.release();
    throw e;
  }
}

/**
 * Writes temp tables to Parquet files in the lake in one atomic commit; the caller holds the lock
 * (openWindowStage). The same window writes the same file names, so a re-run replaces its earlier
 * result (and a killed re-run leaves the earlier one in place).
 */
export async function writeStageTables(db: Db, layout: LakeLayout, tables: readonly { table: string; target: string }[]): Promise<void> {
  const runId = newRunId();
  try {
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
  }
}

export async function computeFeatures(opts: WindowOptions): Promise<FeaturesResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const { startMs, endMs } = featureWindow(opts.sinceMs, opts.atMs ?? Date.now());
  const stage = await openWindowStage(opts.lake, progress);
  const { layout, db } = stage;
  try {
    progress('computing features');
    const { gpus: total, newestSample } = await computeFeatureTable(db, startMs, endMs);
    let file: string | null = null;
    if (opts.write !== false) {
      file = featuresFile(layout, startMs, endMs);
      await writeStageTables(db, layout, [{ table: 'features', target: file }]);
    }
    const rows = selectGpus(await readFeatureRows(db), opts.gpus, opts.hosts);
    return {
      ...windowSummary(startMs, endMs),
      gpus_total: total,
      newest_sample: newestSample,
      rows,
      file,
      rollups_built: stage.rollupsBuilt,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    stage.close();
  }
}

/** A note for stderr when the window reaches well past the newest sample (a stale lake, or an --at past the data). */
export function staleNote(windowEnd: string, newestSample: string | null): string | null {
  if (newestSample === null) return null;
  const lagH = (Date.parse(windowEnd) - Date.parse(newestSample)) / HOUR_MS;
  if (lagH < 2) return null;
  return `note: the newest sample is ${newestSample.slice(0, 16)} UTC, ${lagH.toFixed(0)} h before the window end; gaps, silence and completeness are measured to it (is ingest running?)`;
}
