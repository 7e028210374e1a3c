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
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { Db } from '../db/duckdb.js';
import { acquireLock } from './lock.js';
import { LAKE_FOLDERS, lakeLayout, newRunId, type LakeLayout } from './layout.js';
import { commit, recover, stagingDir, type CommitHooks } from './txn.js';

/** How long a writer waits for another run to finish before failing. */
export const LAKE_LOCK_WAIT_MS = 60_000;
/** DuckDB's memory limit for runs that do not set their own (GPUHEALTH_MEMORY_LIMIT overrides it). */
export const DEFAULT_MEMORY_LIMIT = '4GB';

export interface LakeRunOptions {
  lake: string;
  /** Create the lake folder when it does not exist (writers of new data); else a missing lake is an InputError. */
  create?: boolean;
  lockWaitMs?: number;
  /** DuckDB's memory limit for this kind of run; GPUHEALTH_MEMORY_LIMIT overrides it. */
  memoryLimit?: string;
  /** DuckDB threads (default: one per core). */
  threads?: number;
  commitHooks?: CommitHooks;
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
    const lock = await acquireLock(layout.lockFile, { waitMs: opts.lockWaitMs ?? LAKE_LOCK_WAIT_MS });
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
