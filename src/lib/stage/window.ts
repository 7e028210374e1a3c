/**
 * The shape every per-GPU window stage takes (features and score today; predict, recommend and report
 * next): window flags → the window in whole hours → one lake run (lake/run.ts) holding the lock for
 * the whole stage, so no ingest or compact changes files under the query and the results commit
 * against the data they were computed from → hourly rollups brought up to date (committed on their
 * own, so a failing stage keeps them) → the lake's views → the stage's computation → its tables
 * written with `at` and the window in their file names, in one atomic commit. Rendering is the
 * command's.
 */
import path from 'node:path';
import fs from 'node:fs';
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { quotePath, type Db } from '../db/duckdb.js';
import type { LakeLayout } from '../lake/layout.js';
import { withLakeRun, type LakeRun } from '../lake/run.js';
import { createLakeViews, listParquet } from '../sql/lake-views.js';
import { buildRollups } from '../maintenance/rollups.js';

export const HOUR_MS = 3_600_000;
/** The longest window a stage accepts (ten years). */
export const MAX_SINCE_MS = 10 * 365 * 86_400_000;
/** How long a window stage waits for another run (an ingest of a backlog, a compaction) to finish. */
export const WINDOW_STAGE_LOCK_WAIT_MS = 10 * 60_000;

export interface WindowOptions {
  lake: string;
  /** Window length (ms); whole hours. */
  sinceMs: number;
  /** Window end (ms); rounded down to the hour. Default: now. */
  atMs?: number;
  /** Refuse an `atMs` more than a day past the newest data (a typo'd --at would write a stray partition); --force-at clears it. */
  checkAt?: boolean;
  /** Only these GPUs / hosts in the output (the cohorts still use the whole fleet). */
  gpus?: readonly string[];
  hosts?: readonly string[];
  /** Write the stage's tables into the lake (default true). */
  write?: boolean;
  progress?: ProgressFn;
}

/** The window as results report it. */
export interface StageWindow {
  at: string;
  window_start: string;
  window_end: string;
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
  return new Date(endMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\d\d\.\d+Z$/, 'Z');
}

/** A window length as file names show it: `7d`, `36h`. */
export function sinceLabel(sinceMs: number): string {
  const h = Math.round(sinceMs / HOUR_MS);
  return h % 24 === 0 ? `${h / 24}d` : `${h}h`;
}

/**
 * Where a window stage writes its table: `<dir>/date=<end date>/<prefix>-<end stamp>-<length>.parquet`,
 * so windows of different lengths ending at the same hour keep their own files. The same window
 * writes the same name, so a re-run replaces its earlier result (a killed re-run leaves it in place).
 */
export function windowFile(dir: string, prefix: string, startMs: number, endMs: number): string {
  return path.join(dir, `date=${new Date(endMs).toISOString().slice(0, 10)}`, `${prefix}-${atStamp(endMs)}-${sinceLabel(endMs - startMs)}.parquet`);
}

export function windowSummary(startMs: number, endMs: number): StageWindow {
  return { at: new Date(endMs).toISOString(), window_start: new Date(startMs).toISOString(), window_end: new Date(endMs).toISOString() };
}

/** What a stage's work gets: the open run, its window, and how to write its tables. */
export interface WindowStage {
  readonly run: LakeRun;
  readonly db: Db;
  readonly layout: LakeLayout;
  readonly startMs: number;
  readonly endMs: number;
  readonly progress: ProgressFn;
  /** Metrics files whose rollups this run built (a lake written before rollups, or of an older format). */
  readonly rollupsBuilt: number;
  /** Writes temp tables to their files in the lake, in one atomic commit. */
  writeTables(tables: readonly { table: string; target: string }[]): Promise<void>;
}

/** Runs a window stage's `work` (see the header); the window is checked before the lake is touched. */
export async function withWindowStage<T>(opts: WindowOptions, work: (stage: WindowStage) => Promise<T>): Promise<T> {
  const progress = opts.progress ?? NO_PROGRESS;
  const { startMs, endMs } = featureWindow(opts.sinceMs, opts.atMs ?? Date.now());
  return withLakeRun({ lake: opts.lake, lockWaitMs: WINDOW_STAGE_LOCK_WAIT_MS }, async (run) => {
    const { layout, db } = run;
    const metricsFiles = listParquet(layout.table('metrics'));
    if (metricsFiles.length === 0) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
    const newestDay = path.basename(path.dirname(metricsFiles.at(-1)!)).replace(/^date=/, ''); // files sort by partition date
    if (opts.checkAt && endMs > Date.parse(newestDay) + 2 * 86_400_000) {
      const dayAfter = new Date(Date.parse(newestDay) + 86_400_000).toISOString().slice(0, 10);
      throw new InputError(`--at ${new Date(endMs).toISOString().slice(0, 16)} is more than a day past the newest data (${newestDay})`, [
        `--at ${dayAfter}T00:00:00Z`,
        '--force-at to compute that window all the same',
      ]);
    }
    const built = await buildRollups(run, progress);
    await createLakeViews(db, layout);
    let files = 0;
    return work({
      run,
      db,
      layout,
      startMs,
      endMs,
      progress,
      rollupsBuilt: built.built,
      async writeTables(tables) {
        for (const { table, target } of tables) {
          const from = path.join(run.stage, 'out', `${files++}-${path.basename(target)}`);
          fs.mkdirSync(path.dirname(from), { recursive: true });
          await db.exec(`write ${table}`, `COPY (SELECT * FROM ${table}) TO ${quotePath(from)} (FORMAT parquet, COMPRESSION zstd)`);
          run.add(from, target);
        }
        run.commit();
      },
    });
  });
}

/** A note for stderr when the window reaches well past the newest sample (a stale lake, or an --at past the data). */
export function staleNote(windowEnd: string, newestSample: string | null): string | null {
  if (newestSample === null) return null;
  const lagH = (Date.parse(windowEnd) - Date.parse(newestSample)) / HOUR_MS;
  if (lagH < 2) return null;
  return `note: the newest sample is ${newestSample.slice(0, 16)} UTC, ${lagH.toFixed(0)} h before the window end; gaps, silence and completeness are measured to it (is ingest running?)`;
}
