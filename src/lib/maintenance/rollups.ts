/**
 * Keeping the hourly rollups beside the metrics files they summarise (src/lib/sql/rollup.ts).
 * Ingest, compact and `simulate --to-lake` write a metrics file's rollup in the same commit as the file;
 * `ensureRollups` builds the ones a lake lacks (a lake written before rollups existed: the first
 * `features` or `score` run pays for it once) and drops rollups whose metrics file is gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { Db, quotePath } from '../db/duckdb.js';
import { listParquet, rollupInputViewSql } from '../sql/lake-views.js';
import { acquireLock } from '../lake/lock.js';
import { lakeLayout, newRunId, type LakeLayout } from '../lake/layout.js';
import { commit, recover, stagingDir } from '../lake/txn.js';
import { copyRollupSql, ROLLUP_VERSION } from '../sql/rollup.js';

/** Runs SQL on some connection (a Db, or a second connection that writes beside the first). */
export type RunSql = (name: string, sql: string) => Promise<void>;

/** Writes the rollup of `metricsFiles` (one metrics file, or a staged file) to `target`. */
export async function writeRollup(run: RunSql, metricsFiles: readonly string[], target: string): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await run('view rollup_input', rollupInputViewSql(metricsFiles));
  await run('write rollup', copyRollupSql(quotePath(target)));
}

export interface RollupState {
  /** Metrics files without a rollup. */
  missing: string[];
  /** Rollup files whose metrics file is gone. */
  orphans: string[];
}

/** The rollup format of the lake's rollups; 0 when unknown (none yet, or written before versions). */
export function rollupVersion(layout: LakeLayout): number {
  try {
    return Number(fs.readFileSync(layout.rollupsVersionFile, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Stages the version marker and adds it to a commit's adds. */
function addVersionMarker(layout: LakeLayout, stage: string, adds: { from: string; to: string }[]): void {
  const from = path.join(stage, 'rollup-version');
  fs.writeFileSync(from, `${ROLLUP_VERSION}\n`);
  adds.push({ from, to: layout.rollupsVersionFile });
}

/**
 * For a commit that writes rollups (ingest, compact, simulate --to-lake): adds the version marker when
 * the lake has no rollups yet. A lake that holds rollups of another version keeps its marker, so the
 * next ensureRollups rebuilds them all.
 */
export function addRollupVersion(layout: LakeLayout, stage: string, adds: { from: string; to: string }[]): void {
  if (!adds.some((a) => a.to.startsWith(layout.rollupsDir + path.sep))) return;
  if (listParquet(layout.rollupsDir).length > 0) return;
  addVersionMarker(layout, stage, adds);
}

export function rollupState(layout: LakeLayout): RollupState {
  const metrics = listParquet(layout.table('metrics'));
  const want = new Set(metrics.map((m) => layout.rollupOf(m)));
  const have = listParquet(layout.rollupsDir);
  // rollups of another format are rebuilt, every one
  const current = rollupVersion(layout) === ROLLUP_VERSION ? new Set(have) : new Set<string>();
  return {
    missing: metrics.filter((m) => !current.has(layout.rollupOf(m))),
    orphans: have.filter((r) => !want.has(r)),
  };
}

export interface EnsureRollupsSummary {
  built: number;
  removed: number;
  seconds: number;
}

/** Builds missing rollups and removes orphaned ones, atomically, under the lake lock. */
export async function ensureRollups(lake: string, opts: { progress?: ProgressFn } = {}): Promise<EnsureRollupsSummary> {
  const layout = lakeLayout(lake);
  const quick = rollupState(layout);
  if (quick.missing.length === 0 && quick.orphans.length === 0) return { built: 0, removed: 0, seconds: 0 };
  const lock = await acquireLock(layout.lockFile, { waitMs: 60_000 });
  try {
    recover(layout);
    return await ensureRollupsLocked(layout, opts.progress ?? NO_PROGRESS);
  } finally {
    lock.release();
  }
}

/** ensureRollups for a caller that holds the lake lock and has recovered the lake. */
export async function ensureRollupsLocked(layout: LakeLayout, progress: ProgressFn): Promise<EnsureRollupsSummary> {
  const t0 = Date.now();
  const { missing, orphans } = rollupState(layout);
  if (missing.length === 0 && orphans.length === 0) return { built: 0, removed: 0, seconds: 0 };
  const runId = newRunId();
  const db = await Db.open({ memoryLimit: process.env.GPUHEALTH_MEMORY_LIMIT ?? '4GB', tempDir: path.join(layout.tmpDir, runId, 'duckdb-tmp') });
  try {
    const stage = stagingDir(layout, runId);
    const adds: { from: string; to: string }[] = [];
    const run: RunSql = (name, sql) => db.exec(name, sql);
    for (const [i, m] of missing.entries()) {
      progress(`building hourly rollups ${i + 1}/${missing.length}`);
      const from = path.join(stage, `rollup-${i}.parquet`);
      await writeRollup(run, [m], from);
      adds.push({ from, to: layout.rollupOf(m) });
    }
    if (rollupVersion(layout) !== ROLLUP_VERSION) addVersionMarker(layout, stage, adds);
    commit(layout, { run_id: runId, adds, deletes: orphans });
    return { built: missing.length, removed: orphans.length, seconds: (Date.now() - t0) / 1000 };
  } finally {
    db.close();
    fs.rmSync(path.join(layout.tmpDir, runId), { recursive: true, force: true });
  }
}
