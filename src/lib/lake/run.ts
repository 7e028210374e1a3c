/**
 * One run that writes the lake, the way every writer does it (ingest, compact, assets/failures import,
 * rollup upkeep, the window stages, simulate --to-lake):
 *
 *   lock → run id → recover what killed runs left → staging folder → DuckDB (memory limit from
 *   GPUHEALTH_MEMORY_LIMIT, spilling into the staging folder) → the caller's work → commit → cleanup
 *   → release.
 *
 * The caller stages files in `run.stage` and queues them with `run.add(from, to)` / `run.remove(file)`;
 * what is queued when the work returns commits at once (lake/txn.ts). A run that needs a commit
 * point of its own midway (rollups built before a stage's results, so a failed stage keeps them)
 * calls `run.commit()`. A run that created the lake folder and committed nothing removes it again, so
 * a typo'd --lake or a failed first import leaves no empty lake behind.
 *
 * Reading stages (features, score, predict) run as `withReadRun` instead: no lock while they compute
 * (they read a snapshot, lake/snapshot.ts), the lock only around each commit, and on a lake this user
 * cannot write, or with `--no-write`, no lock and nothing written at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { Db } from '../db/duckdb.js';
import { acquireLock, lockWaitMs, lockWaitNotes, LAKE_LOCK_WAIT_MS } from './lock.js';
import { LAKE_FOLDERS, lakeLayout, newRunId, type LakeLayout } from './layout.js';
import { commit, recover, stagingDir, type CommitHooks } from './txn.js';

export { LAKE_LOCK_WAIT_MS };
/** DuckDB's memory limit for runs that do not set their own (GPUHEALTH_MEMORY_LIMIT overrides it). */
export const DEFAULT_MEMORY_LIMIT = '4GB';

export interface LakeRunOptions {
  lake: string;
  /** Create the lake folder when it does not exist (writers of new data); else a missing lake is an InputError. */
  create?: boolean;
  /** How long to wait for another run's lock (default GPUHEALTH_LOCK_WAIT, else LAKE_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  /** DuckDB's memory limit for this kind of run; GPUHEALTH_MEMORY_LIMIT overrides it. */
  memoryLimit?: string;
  /** DuckDB threads (default: one per core). */
  threads?: number;
  commitHooks?: CommitHooks;
  /** One-line notes for stderr: that the run waits for another run's lock, and how long it waited. */
  note?: (text: string) => void;
}

export interface LakeRun {
  readonly layout: LakeLayout;
  readonly runId: string;
  readonly db: Db;
  /** The run's staging folder: files here are invisible to readers until committed. */
  readonly stage: string;
  /** Queues a staged file for the next commit, to land at `to`. */
  add(from: string, to: string): void;
  /** Queues a lake file for removal at the next commit. */
  remove(...files: string[]): void;
  /** Targets of what is queued so far. */
  readonly pending: readonly { from: string; to: string }[];
  /** Commits what is queued now (nothing when nothing is); later work queues for the next commit. */
  commit(): void;
  /** Whether anything has been committed in this run. */
  readonly committed: boolean;
}

const MEMORY_LIMIT_RE = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;

/** DuckDB's memory limit: GPUHEALTH_MEMORY_LIMIT when set (checked), else `fallback`. */
export function memoryLimit(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env['GPUHEALTH_MEMORY_LIMIT'];
  if (v === undefined || v === '') return fallback;
  if (!MEMORY_LIMIT_RE.test(v)) {
    throw new InputError(`GPUHEALTH_MEMORY_LIMIT="${v}" is not a memory size`, [
      'GPUHEALTH_MEMORY_LIMIT=4GB (a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)',
    ]);
  }
  return v.trim();
}

/**
 * Refuses a lake path no run can use (InputError, exit 2): a file, or, unless the run may create the
 * lake, a missing folder or a folder that is not a lake (LAKE_FOLDERS). Returns whether it is missing.
 */
export function checkLakePath(layout: LakeLayout, opts: { create?: boolean } = {}): { missing: boolean } {
  const st = fs.statSync(layout.root, { throwIfNoEntry: false });
  const hint = ['pass --lake DIR or set GPUHEALTH_LAKE', 'gpuhealth ingest PATH --lake DIR creates one'];
  if (st === undefined) {
    if (opts.create) return { missing: true };
    throw new InputError(`no lake at ${layout.root}`, hint);
  }
  if (!st.isDirectory()) throw new InputError(`${layout.root} is ${st.isFile() ? 'a file' : 'not a folder'}, not a lake folder`, hint);
  if (!opts.create && !LAKE_FOLDERS.some((f) => fs.statSync(path.join(layout.root, f), { throwIfNoEntry: false })?.isDirectory())) {
    throw new InputError(`${layout.root} is not a gpuhealth lake (it has no _ingest/ and no table folders)`, hint);
  }
  return { missing: false };
}

/** Runs `work` as one lake run (see the header) and returns what it returns. */
export async function withLakeRun<T>(opts: LakeRunOptions, work: (run: LakeRun) => Promise<T>): Promise<T> {
  const layout = lakeLayout(opts.lake);
  const limit = memoryLimit(opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT);
  const created = checkLakePath(layout, opts).missing;
  fs.mkdirSync(layout.root, { recursive: true });
  let committed = false;
  try {
    const lock = await acquireLock(layout.lockFile, { waitMs: opts.lockWaitMs ?? lockWaitMs(), onWait: lockWaitNotes(opts.note) });
    const runId = newRunId();
    let db: Db | null = null;
    try {
      recover(layout);
      const stage = stagingDir(layout, runId);
      db = await Db.open({ memoryLimit: limit, tempDir: path.join(stage, 'duckdb-tmp'), ...(opts.threads ? { threads: opts.threads } : {}) });
      let adds: { from: string; to: string }[] = [];
      let deletes: string[] = [];
      let commits = 0;
      const run: LakeRun = {
        layout,
        runId,
        db,
        stage,
        add(from, to) {
          adds.push({ from, to });
        },
        remove(...files) {
          deletes.push(...files);
        },
        get pending() {
          return adds;
        },
        get committed() {
          return committed;
        },
        commit() {
          if (adds.length === 0 && deletes.length === 0) return;
          // each commit point has a journal of its own; the staging folder stays until the run ends
          commit(layout, { run_id: commits === 0 ? `${runId}-c` : `${runId}-c${commits}`, adds, deletes }, opts.commitHooks);
          commits++;
          committed = true;
          adds = [];
          deletes = [];
        },
      };
      const result = await work(run);
      run.commit();
      return result;
    } finally {
      db?.close();
      fs.rmSync(path.join(layout.tmpDir, runId), { recursive: true, force: true });
      lock.release();
    }
  } finally {
    if (created && !committed) fs.rmSync(layout.root, { recursive: true, force: true });
  }
}

export interface ReadRunOptions {
  lake: string;
  /** Commit results into the lake (default true). False (`--no-write`): no lock is taken and nothing is written into the lake. */
  write?: boolean;
  /** How long a commit waits for another run's lock (default GPUHEALTH_LOCK_WAIT, else LAKE_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  memoryLimit?: string;
  threads?: number;
  commitHooks?: CommitHooks;
  /** One-line notes for stderr: that a commit waits for another run's lock, and how long it waited. */
  note?: (text: string) => void;
}

/** Why a reading run writes nothing into the lake: `--no-write`, or a folder a commit needs that this user may not write. */
export type ReadOnlyReason = { reason: 'no-write' } | { reason: 'read-only'; folder: string };

/** A reading stage's run (see the header): computes without the lock, commits under it. */
export interface ReadRun {
  readonly layout: LakeLayout;
  readonly runId: string;
  readonly db: Db;
  /**
   * The run's scratch folder (DuckDB spills here too): `_tmp/<run>` in the lake when the run may commit,
   * so what it stages lands by rename; else a private folder in the system's temp folder.
   */
  readonly stage: string;
  /** Why the run writes nothing into the lake, or null when it may commit. */
  readonly readOnly: ReadOnlyReason | null;
  add(from: string, to: string): void;
  remove(...files: string[]): void;
  readonly pending: readonly { from: string; to: string }[];
  /**
   * Commits what is queued: takes the lock (waiting up to the lock wait, with a note), finishes what
   * killed runs left, lets `underLock` queue what depends on the lake as it is now, commits, and
   * releases the lock. Throws LakeLockedError when the wait runs out (nothing committed, the queue kept).
   */
  commit(underLock?: () => void): Promise<void>;
  readonly committed: boolean;
}

/**
 * The folders a commit must write (the lake, its journal and staging folders, the tables stages
 * write): the first this process may not write, or null. A lake owned by the user whose cron ingests
 * it is read-only to everyone else; reading stages still compute from it.
 */
export function unwritableFolder(layout: LakeLayout): string | null {
  const predictions = path.join(layout.root, 'predictions');
  const dirs = [
    layout.root,
    layout.ingestDir,
    layout.journalDir,
    layout.tmpDir,
    path.dirname(layout.rollupsDir),
    layout.rollupsDir,
    layout.featuresDir,
    layout.scoresDir,
    predictions,
  ];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue; // created by a commit, which the folder above must allow
    try {
      fs.accessSync(d, fs.constants.W_OK | fs.constants.X_OK);
    } catch {
      return d;
    }
  }
  return null;
}

/** Runs a reading stage's `work` (see the header) and returns what it returns. */
export async function withReadRun<T>(opts: ReadRunOptions, work: (run: ReadRun) => Promise<T>): Promise<T> {
  const layout = lakeLayout(opts.lake);
  const limit = memoryLimit(opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT);
  checkLakePath(layout);
  const waitMs = opts.lockWaitMs ?? lockWaitMs();
  let readOnly: ReadOnlyReason | null = null;
  if (opts.write === false) readOnly = { reason: 'no-write' };
  else {
    const folder = unwritableFolder(layout);
    if (folder !== null) readOnly = { reason: 'read-only', folder };
  }
  const runId = newRunId();
  const stage = readOnly === null ? stagingDir(layout, runId) : fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-read-'));
  let db: Db | null = null;
  try {
    db = await Db.open({ memoryLimit: limit, tempDir: path.join(stage, 'duckdb-tmp'), ...(opts.threads ? { threads: opts.threads } : {}) });
    let adds: { from: string; to: string }[] = [];
    let deletes: string[] = [];
    let commits = 0;
    const run: ReadRun = {
      layout,
      runId,
      db,
      stage,
      readOnly,
      add(from, to) {
        adds.push({ from, to });
      },
      remove(...files) {
        deletes.push(...files);
      },
      get pending() {
        return adds;
      },
      get committed() {
        return commits > 0;
      },
      async commit(underLock) {
        if (readOnly !== null) throw new Error(`a read-only run cannot commit (${readOnly.reason})`);
        if (adds.length === 0 && deletes.length === 0 && !underLock) return;
        const lock = await acquireLock(layout.lockFile, { waitMs, onWait: lockWaitNotes(opts.note) });
        try {
          recover(layout, new Set([runId]));
          underLock?.();
          if (adds.length === 0 && deletes.length === 0) return;
          commit(layout, { run_id: `${runId}-c${commits}`, adds, deletes }, opts.commitHooks);
          commits++;
          adds = [];
          deletes = [];
        } finally {
          lock.release();
        }
      },
    };
    return await work(run);
  } finally {
    db?.close();
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
