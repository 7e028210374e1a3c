/**
 * `gpuhealth ingest`: sources → staging (CSV files; column batches for exposition text) → DuckDB
 * merge/dedupe → Parquet → one atomic commit, as one lake run (lake/run.ts): the lake lock is held
 * throughout; nothing is visible until the commit. The stages, in order: sources.ts (what to read),
 * parse-prom.ts and parse-lines.ts (parse), summary.ts (what was parsed), rounds.ts (merge and
 * write), then the registry, manifest and rejects join the commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { quotePath } from '../db/duckdb.js';
import { withLakeRun, type LakeRun } from '../lake/run.js';
import type { CommitHooks } from '../lake/txn.js';
import { addRollupVersion } from '../maintenance/rollups.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import * as Q from '../sql/ingest.js';
import { createLakeViews } from '../sql/lake-views.js';
import { createBatchTables } from './batch-appender.js';
import { stageCsvExports } from './csv-export.js';
import { expandInput } from './inputs.js';
import { sampleTimeBounds } from './limits.js';
import { parseLineFiles, type LineParseOptions } from './parse-lines.js';
import { parsePromFiles, type PromParseOptions } from './parse-prom.js';
import { ROUND_BYTES, RunOutputs, splitRounds } from './rounds.js';
import { planSources, stageManifest, type Planned, type SourceOptions, type SourceStats } from './sources.js';
import type { RejectRecord } from './staging.js';
import { newSummary, summarise, type IngestSummary } from './summary.js';

export interface IngestOptions extends SourceOptions, PromParseOptions, LineParseOptions {
  lake: string;
  progress?: ProgressFn;
  /** Called for the first rejects as they are found (the command shows a few on stderr). */
  onReject?: (r: RejectRecord) => void;
  /** Called for warnings about one source. */
  onWarning?: (message: string) => void;
  lockWaitMs?: number;
  commitHooks?: CommitHooks;
  /** Exposition text per merge round (default ROUND_BYTES); small values let tests run several rounds. */
  roundBytes?: number;
  /** --allow-future: take samples dated more than a day ahead (a simulated fleet, a replay). */
  allowFuture?: boolean;
  /**
   * Stages more files into the run's commit, after its own (`pull` adds its records of the chunks
   * whose data this commit lands). Also called, and committed, when the inputs held nothing new.
   */
  beforeCommit?: (run: LakeRun) => Promise<void>;
}

/**
 * DuckDB's share of ingest's memory (it spills to the staging folder beyond it); with the rounds
 * (ROUND_BYTES) and the parser workers, the process stays under 1 GiB whatever the input size.
 */
const INGEST_MEMORY_LIMIT = '384MB';

export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  for (const arg of opts.inputs) if (arg !== '-') expandInput(arg, opts.cwd); // fail on a typo before touching the lake
  // A lake this run creates is removed again when the run commits nothing (withLakeRun): a typo'd
  // --lake or a non-telemetry file leaves no empty lake behind.
  const lakeRun = { lake: opts.lake, create: true, memoryLimit: INGEST_MEMORY_LIMIT, lockWaitMs: opts.lockWaitMs, commitHooks: opts.commitHooks };
  return withLakeRun(lakeRun, async (run) => {
    await createLakeViews(run.db, run.layout);
    await createBatchTables(run.db);
    const summary = await runIngest(run, opts, progress);
    summary.elapsed_s = (Date.now() - started) / 1000;
    return summary;
  });
}

const DEBUG = Boolean(process.env.DEBUG && /gpuhealth|\*/.test(process.env.DEBUG));

/** Phase timings on stderr under DEBUG=gpuhealth (the benchmark's breakdown). */
function phaseTimer(): (phase: string) => void {
  let last = Date.now();
  let cpu = process.cpuUsage();
  return (phase) => {
    if (!DEBUG) return;
    const now = Date.now();
    const used = process.cpuUsage(cpu);
    process.stderr.write(`[ingest] ${phase} ${now - last} ms (cpu: user ${Math.round(used.user / 1000)} ms, sys ${Math.round(used.system / 1000)} ms)\n`);
    last = now;
    cpu = process.cpuUsage();
  };
}

async function runIngest(run: LakeRun, opts: IngestOptions, progress: ProgressFn): Promise<IngestSummary> {
  const { db, layout, runId, stage } = run;
  const phase = phaseTimer();
  // 1. what to read
  const { inputs, outcomes, planned } = await planSources(db, stage, opts, progress);
  // samples dated before 2000 or (without --allow-future) over a day ahead are rejected by line
  const times = sampleTimeBounds(opts.nowMs ?? Date.now(), opts.allowFuture ?? false);
  opts = { ...opts, times };

  phase('plan sources');
  // 2. parse: exposition text on workers, identity-bearing line formats, then the ones needing
  // mapping. Exposition text and CSV exports (history) are parsed, merged and written a round at a
  // time (ROUND_BYTES of text, splitRounds), so DuckDB's share of a run stays bounded however much is
  // ingested at once; the other line formats go with the last round. Nothing is visible before the
  // one commit at the end.
  const stats = new Map<Planned, SourceStats>();
  let rejectsShown = 0;
  const showReject = (r: RejectRecord): void => {
    if (rejectsShown++ < 5) opts.onReject?.(r);
  };
  const rejectsFile = path.join(stage, 'rejects-all.jsonl');
  const rounds = splitRounds(
    planned.filter((p) => p.format === 'prom' || p.format === 'csv'),
    opts.roundBytes ?? ROUND_BYTES,
  );
  const outputs = new RunOutputs(run);
  await db.exec('create run gpus', Q.CREATE_RUN_GPUS_SQL);
  let summary: IngestSummary | null = null;
  for (const [k, promFiles] of rounds.entries()) {
    const last = k === rounds.length - 1;
    const roundStage = path.join(stage, `round-${k}`);
    fs.mkdirSync(roundStage, { recursive: true });
    await createBatchTables(db);
    const ofFormat = (format: 'prom' | 'csv'): Planned[] => promFiles.filter((p) => p.format === format);
    const repeatedSamples = await parsePromFiles(db, ofFormat('prom'), roundStage, opts, stats, rejectsFile, showReject, progress);
    await stageCsvExports(db, ofFormat('csv'), roundStage, opts, stats, rejectsFile, showReject, progress);
    if (!last) {
      phase(`parse (round ${k + 1} of ${rounds.length})`);
      await outputs.mergeRound(roundStage, repeatedSamples, progress);
      phase(`merge and write Parquet (round ${k + 1} of ${rounds.length})`);
      continue;
    }
    // CSV exports were staged with their round above
    const lineFiles = planned.filter((p) => p.format !== 'csv');
    await parseLineFiles(db, lineFiles, roundStage, opts, stats, showReject, progress);
    for (const f of fs.readdirSync(roundStage).filter((f) => f.startsWith('rejects-') && f.endsWith('.jsonl'))) {
      fs.appendFileSync(rejectsFile, fs.readFileSync(path.join(roundStage, f)));
    }
    phase('parse');
    summary = summarise(planned, stats, outcomes, inputs, runId, layout, opts.onWarning);
    if (summary === null) {
      // every source was in the lake already (or there were none): only what the caller stages commits
      await opts.beforeCommit?.(run);
      return newSummary(outcomes, runId, layout, 0, 0);
    }
    await outputs.mergeRound(roundStage, repeatedSamples, progress);
    phase('merge and write Parquet');
  }
  summary = summary!;
  const totals = outputs.totals();
  summary.rows = totals.rows;
  summary.gpus = (await db.query<{ n: number }>('count run gpus', Q.COUNT_RUN_GPUS_SQL))[0]!.n;
  summary.other_samples = totals.others;
  summary.xid_events = totals.xids;
  summary.duplicates_dropped = totals.duplicates;
  summary.rows_filled = totals.filled;
  summary.conflicting_values = totals.conflicts;
  summary.implausible_values = totals.implausible;
  const implausible = Object.entries(totals.implausible);
  if (implausible.length > 0) {
    const n = implausible.reduce((a, [, c]) => a + c, 0);
    const which = implausible.map(([c, k]) => `${c} ${k}`).join(', ');
    opts.onWarning?.(`${n} physically impossible value(s) stored as null (${which}); see docs/schema.md, plausible ranges`);
  }
  const conflicts = Object.entries(totals.conflicts);
  if (conflicts.length > 0) {
    const n = conflicts.reduce((a, [, c]) => a + c, 0);
    const which = conflicts.map(([c, k]) => `${c} ${k}`).join(', ');
    opts.onWarning?.(`${n} value(s) differ from the lake's for the same GPU and time (${which}); kept the lake's`);
  }
  summary.time_min = totals.timeMin ? totals.timeMin.toISOString() : null;
  summary.time_max = totals.timeMax ? totals.timeMax.toISOString() : null;
  progress('writing Parquet');
  const rejected = summary.rejected;

  // GPU registry: rewritten whole (it is small), the old file replaced in the same commit.
  await db.exec('merge gpus', Q.MERGE_GPUS_SQL);
  await db.exec('write gpus', Q.copyTableSql('new_gpus', quotePath(path.join(stage, 'gpus.parquet'))));
  run.add(path.join(stage, 'gpus.parquet'), path.join(layout.gpusDir, `gpus-${runId}.parquet`));
  if (fs.existsSync(layout.gpusDir)) for (const f of fs.readdirSync(layout.gpusDir)) run.remove(path.join(layout.gpusDir, f));

  // manifest rows for the sources that contributed
  await stageManifest(run, planned, stats);
  if (rejected > 0 && fs.existsSync(rejectsFile)) {
    const to = path.join(layout.rejectsDir, `${runId}.jsonl`);
    run.add(rejectsFile, to);
    summary.rejects_file = to;
  }

  addRollupVersion(run);
  await opts.beforeCommit?.(run);
  phase('rollups, registry, manifest');
  progress('committing');
  run.commit();
  phase('commit');
  return summary;
}
