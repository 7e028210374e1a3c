/**
 * Keeping the hourly rollups beside the metrics files they summarise (src/lib/sql/rollup.ts).
 * Ingest, compact and `simulate --to-lake` write a metrics file's rollup in the same commit as the file;
 * `ensureRollups` builds the ones a lake lacks (a lake written before rollups existed: the first
 * `features` or `score` run pays for it once) and drops rollups whose metrics file is gone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { quotePath } from '../db/duckdb.js';
import { listParquet, rollupInputViewSql } from '../sql/lake-views.js';
import { lakeLayout, type LakeLayout } from '../lake/layout.js';
import { withLakeRun, type LakeRun } from '../lake/run.js';
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

/**
 * The rollup format of the lake's rollups (a ROLLUP_VERSION hash; a number from releases that bumped it
 * by hand); '' when unknown (none yet, or written before versions).
 */
export function rollupVersion(layout: LakeLayout): string {
  try {
    return fs.readFileSync(layout.rollupsVersionFile, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Stages the version marker and queues it in the run's next commit. */
function addVersionMarker(run: Pick<LakeRun, 'layout' | 'stage' | 'add'>): void {
  const from = path.join(run.stage, 'rollup-version');
  fs.writeFileSync(from, `${ROLLUP_VERSION}\n`);
  run.add(from, run.layout.rollupsVersionFile);
}

/**
 * For a run that writes rollups (ingest, compact, simulate --to-lake): adds the version marker when
 * the lake has no rollups yet. A lake that holds rollups of another version keeps its marker, so the
 * next ensureRollups rebuilds them all.
 */
export function addRollupVersion(run: Pick<LakeRun, 'layout' | 'stage' | 'add' | 'pending'>): void {
  if (!run.pending.some((a) => a.to.startsWith(run.layout.rollupsDir + path.sep))) return;
  if (listParquet(run.layout.rollupsDir).length > 0) return;
  addVersionMarker(run);
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

/** Builds missing rollups and removes orphaned ones, atomically, as a lake run of its own. */
export async function ensureRollups(lake: string, opts: { progress?: ProgressFn } = {}): Promise<EnsureRollupsSummary> {
  const quick = rollupState(lakeLayout(lake));
  if (quick.missing.length === 0 && quick.orphans.length === 0) return { built: 0, removed: 0, seconds: 0 };
  return withLakeRun({ lake }, (run) => buildRollups(run, opts.progress ?? NO_PROGRESS));
}

/**
 * Builds the rollups the run's lake lacks and removes orphaned ones, and commits them at once: a stage
 * that fails after this keeps them. One metrics file at a time, so memory stays flat.
 */
export async function buildRollups(run: LakeRun, progress: ProgressFn): Promise<EnsureRollupsSummary> {
  const t0 = Date.now();
  const { layout, db, stage } = run;
  const { missing, orphans } = rollupState(layout);
  if (missing.length === 0 && orphans.length === 0) return { built: 0, removed: 0, seconds: 0 };
  const sql: RunSql = (name, text) => db.exec(name, text);
  for (const [i, m] of missing.entries()) {
    progress(`building hourly rollups ${i + 1}/${missing.length}`);
    const from = path.join(stage, `rollup-${i}.parquet`);
    await writeRollup(sql, [m], from);
    run.add(from, layout.rollupOf(m));
  }
  if (rollupVersion(layout) !== ROLLUP_VERSION) addVersionMarker(run);
  run.remove(...orphans);
  run.commit();
  return { built: missing.length, removed: orphans.length, seconds: (Date.now() - t0) / 1000 };
}
