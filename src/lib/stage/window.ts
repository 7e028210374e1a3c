/**
 * The shape every per-GPU window stage takes (features, score, predict; recommend and report next):
 * window flags → the window in whole hours → a reading run (lake/run.ts withReadRun) → a snapshot of
 * the lake's committed files (lake/snapshot.ts) → hourly rollups the snapshot lacks, built and
 * committed on their own (so a failing stage keeps them) → the lake's views over the snapshot → the
 * stage's computation → its tables written with `at` and the window in their file names, in one atomic
 * commit. Rendering is the command's.
 *
 * The lake lock is held only around the two commits, never while the stage computes: ingests and
 * compactions go on beside it, and the stage computes from the files it listed at the start. A
 * compaction that removes one of them under it makes the stage start again from a new snapshot. On a
 * lake this user may not write, or with `--no-write`, nothing is locked or written: rollups the lake
 * lacks are built in a temp folder outside it for this run only, and the results are only returned.
 */
import path from 'node:path';
import fs from 'node:fs';
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { quotePath, type Db } from '../db/duckdb.js';
import type { LakeLayout } from '../lake/layout.js';
import { LAKE_LOCK_WAIT_MS, LakeLockedError } from '../lake/lock.js';
import { withReadRun, type ReadRun, type ReadOnlyReason } from '../lake/run.js';
import { SNAPSHOT_TABLES, takeSnapshot, vanishedFiles, type LakeSnapshot } from '../lake/snapshot.js';
import { createLakeViews, type ViewFiles } from '../sql/lake-views.js';
import { ROLLUP_VERSION } from '../sql/rollup.js';
import { rollupState, rollupVersion, writeRollup, type RunSql } from '../maintenance/rollups.js';

export const HOUR_MS = 3_600_000;
/** The longest window a stage accepts (ten years). */
export const MAX_SINCE_MS = 10 * 365 * 86_400_000;
/**
 * The lake's one lock wait (README: 60 s), kept for runs that still pass it (train, backtest).
 * @deprecated Pass no `lockWaitMs`: withLakeRun then waits LAKE_LOCK_WAIT_MS, or GPUHEALTH_LOCK_WAIT.
 */
export const WINDOW_STAGE_LOCK_WAIT_MS = LAKE_LOCK_WAIT_MS;
/** How often a stage starts again when a compaction removed files of its snapshot under it. */
const SNAPSHOT_ATTEMPTS = 3;

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
  /**
   * Commit the stage's tables into the lake (default true). False (`--no-write`): compute and return
   * only; no lock is taken and nothing is written into the lake.
   */
  write?: boolean;
  progress?: ProgressFn;
  /** One-line notes for stderr: a commit waiting for another run's lock, and how long it waited. */
  note?: (text: string) => void;
  /** Called once the stage has its snapshot and views, before it computes (tests hold a run here). */
  afterSnapshot?: () => Promise<void>;
}

/** Why a stage's tables were not written into the lake. */
export type WriteSkipped = ReadOnlyReason | { reason: 'locked'; holder: number; waitMs: number };

/** What a window stage did to the lake, for the command's notes. */
export interface StageWrites {
  /** Metrics files whose rollups the run built (the lake lacked them, or holds another format). */
  rollups_built: number;
  /** Whether those rollups were committed into the lake (else they served this run only). */
  rollups_kept: boolean;
  /** Why the stage's tables were not written, or null (written, or nothing to write). */
  skipped: WriteSkipped | null;
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
  readonly run: ReadRun;
  readonly db: Db;
  readonly layout: LakeLayout;
  readonly startMs: number;
  readonly endMs: number;
  readonly progress: ProgressFn;
  /** Whether writeTables can write (not `--no-write`, and a lake this user may write). */
  readonly writable: boolean;
  /** Metrics files whose rollups this run built (a lake written before rollups, or of an older format). */
  readonly rollupsBuilt: number;
  /**
   * Writes temp tables to their files in the lake, in one atomic commit under the lock. False when
   * nothing was written: a read-only run, or the lock wait ran out (writes() says which).
   */
  writeTables(tables: readonly { table: string; target: string }[]): Promise<boolean>;
  /** What the run did to the lake so far, for the stage's result. */
  writes(): StageWrites;
}

/** The snapshot's files and rollups as the views read them: see prepareRollups. */
interface PreparedRollups {
  files: ViewFiles;
  built: number;
  kept: boolean;
}

/**
 * The rollups the stage reads: the snapshot's current ones, and for each metrics file without one (a
 * lake written before rollups, or rollups of another format: then all) one built now into the run's
 * scratch folder. A run that may write commits them under the lock, with the format marker, and drops
 * rollups whose metrics file is gone; a metrics file compacted away meanwhile keeps its rollup in the
 * scratch folder, where this run still reads it. Rollups without their metrics file in the snapshot
 * are never read.
 */
async function prepareRollups(run: ReadRun, snapshot: LakeSnapshot, attempt: number, progress: ProgressFn): Promise<PreparedRollups> {
  const { layout, db } = run;
  const metrics = snapshot.files.metrics;
  const wanted = new Set(metrics.map((m) => layout.rollupOf(m)));
  const current = rollupVersion(layout) === ROLLUP_VERSION ? snapshot.files.rollups.filter((r) => wanted.has(r)) : [];
  const have = new Set(current);
  const missing = metrics.filter((m) => !have.has(layout.rollupOf(m)));
  const others = SNAPSHOT_TABLES.filter((t) => t !== 'rollups').flatMap((t) => snapshot.files[t]);
  if (missing.length === 0) return { files: { lake: [...others, ...current] }, built: 0, kept: false };

  const sql: RunSql = (name, text) => db.exec(name, text);
  const dir = path.join(run.stage, `rollups-${attempt}`);
  const built: { metrics: string; from: string }[] = [];
  for (const [i, m] of missing.entries()) {
    progress(`building hourly rollups ${i + 1}/${missing.length}`);
    const from = path.join(dir, path.basename(path.dirname(m)), path.basename(m)); // keeps the date= folder for the view
    await writeRollup(sql, [m], from);
    built.push({ metrics: m, from });
  }
  let kept: { metrics: string; from: string }[] = [];
  if (run.readOnly === null) {
    try {
      await run.commit(() => {
        // under the lock: what the lake holds now decides what is added and what is dropped
        kept = built.filter((b) => fs.existsSync(b.metrics));
        for (const b of kept) run.add(b.from, layout.rollupOf(b.metrics));
        if (kept.length > 0 && rollupVersion(layout) !== ROLLUP_VERSION) {
          const marker = path.join(dir, '_version');
          fs.writeFileSync(marker, `${ROLLUP_VERSION}\n`);
          run.add(marker, layout.rollupsVersionFile);
        }
        run.remove(...rollupState(layout).orphans);
      });
    } catch (e) {
      if (!(e instanceof LakeLockedError)) throw e;
      kept = []; // the lake stayed locked: the rollups serve this run, and the next run builds them again
    }
  }
  const keptSet = new Set(kept);
  return {
    files: {
      lake: [...others, ...current, ...kept.map((b) => layout.rollupOf(b.metrics))],
      extraRollups: built.filter((b) => !keptSet.has(b)).map((b) => b.from),
    },
    built: built.length,
    kept: kept.length > 0,
  };
}

/**
 * The registry tables a stage reads, copied into memory as soon as the views exist: every ingest
 * writes the GPU registry anew and removes the old file (so do the imports of assets and failures),
 * which a view read later would no longer find. They are small; the telemetry tables stay on disk.
 */
const PINNED_TABLES = ['gpus', 'assets', 'failures'] as const;

async function pinRegistryTables(db: Db): Promise<void> {
  for (const t of PINNED_TABLES) {
    await db.exec(`pin ${t}`, `CREATE OR REPLACE TEMP TABLE ${t}_pinned AS SELECT * FROM ${t}`);
    await db.exec(`view ${t}`, `CREATE OR REPLACE TEMP VIEW ${t} AS SELECT * FROM ${t}_pinned`);
  }
}

/** Runs a window stage's `work` (see the header); the window is checked before the lake is touched. */
export async function withWindowStage<T>(opts: WindowOptions, work: (stage: WindowStage) => Promise<T>): Promise<T> {
  const progress = opts.progress ?? NO_PROGRESS;
  const { startMs, endMs } = featureWindow(opts.sinceMs, opts.atMs ?? Date.now());
  return withReadRun({ lake: opts.lake, write: opts.write, note: opts.note }, async (run) => {
    const { layout, db } = run;
    let resultsCommitted = false;
    for (let attempt = 1; ; attempt++) {
      const snapshot = await takeSnapshot(layout);
      try {
        const metricsFiles = snapshot.files.metrics;
        if (metricsFiles.length === 0) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
        const newestDay = path.basename(path.dirname(metricsFiles.at(-1)!)).replace(/^date=/, ''); // files sort by partition date
        if (opts.checkAt && endMs > Date.parse(newestDay) + 2 * 86_400_000) {
          const dayAfter = new Date(Date.parse(newestDay) + 86_400_000).toISOString().slice(0, 10);
          throw new InputError(`--at ${new Date(endMs).toISOString().slice(0, 16)} is more than a day past the newest data (${newestDay})`, [
            `--at ${dayAfter}T00:00:00Z`,
            '--force-at to compute that window all the same',
          ]);
        }
        const rollups = await prepareRollups(run, snapshot, attempt, progress);
        await createLakeViews(db, layout, rollups.files);
        await pinRegistryTables(db);
        await opts.afterSnapshot?.();
        let files = 0;
        let skipped: WriteSkipped | null = run.readOnly;
        return await work({
          run,
          db,
          layout,
          startMs,
          endMs,
          progress,
          writable: run.readOnly === null,
          rollupsBuilt: rollups.built,
          async writeTables(tables) {
            if (run.readOnly !== null) return false;
            for (const { table, target } of tables) {
              const from = path.join(run.stage, 'out', `${attempt}-${files++}-${path.basename(target)}`);
              fs.mkdirSync(path.dirname(from), { recursive: true });
              await db.exec(`write ${table}`, `COPY (SELECT * FROM ${table}) TO ${quotePath(from)} (FORMAT parquet, COMPRESSION zstd)`);
              run.add(from, target);
            }
            try {
              await run.commit();
            } catch (e) {
              if (!(e instanceof LakeLockedError)) throw e;
              skipped = { reason: 'locked', holder: e.holder, waitMs: e.waitMs };
              return false;
            }
            resultsCommitted = true;
            return true;
          },
          writes: () => ({ rollups_built: rollups.built, rollups_kept: rollups.kept, skipped }),
        });
      } catch (e) {
        // a compaction removed files of the snapshot under the stage: start again from a new one
        if (resultsCommitted || attempt >= SNAPSHOT_ATTEMPTS || vanishedFiles(snapshot).length === 0) throw e;
        progress('the lake was compacted meanwhile; starting again');
      }
    }
  });
}

/** A note for stderr when the window reaches well past the newest sample (a stale lake, or an --at past the data). */
export function staleNote(windowEnd: string, newestSample: string | null): string | null {
  if (newestSample === null) return null;
  const lagH = (Date.parse(windowEnd) - Date.parse(newestSample)) / HOUR_MS;
  if (lagH < 2) return null;
  return `note: the newest sample is ${newestSample.slice(0, 16)} UTC, ${lagH.toFixed(0)} h before the window end; gaps, silence and completeness are measured to it (is ingest running?)`;
}
