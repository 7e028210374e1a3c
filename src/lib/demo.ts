/**
 * The README's main job: simulate a fleet, ingest it as a real fleet's telemetry would be, load its
 * asset registry and failure history, summarise the lake, then run the nightly job on it (score,
 * predict, recommend, the report) as cron would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NO_PROGRESS, type ProgressFn } from './progress.js';
import type { ScoreResult } from './stage/score.js';
import type { PredictResult } from './stage/predict.js';
import type { RecommendResult } from './stage/recommend.js';
import { runNightly } from './stage/nightly.js';
import { configPath, loadConfig } from './config.js';
import { GpuhealthError } from './errors.js';
import { ingest } from './ingest/ingest.js';
import type { IngestSummary } from './ingest/summary.js';
import { lakeInfo, type LakeInfo } from './maintenance/info.js';
import { importTable, type ImportSummary } from './registry/import.js';
import { ASSETS_SPEC, FAILURES_SPEC } from './registry/specs.js';
import { simulateFleet, type SimulateSummary } from './simulate/index.js';

export interface DemoOptions {
  out: string;
  gpus: number;
  days: number;
  intervalMs: number;
  seed: number;
  endMs: number;
  progress?: ProgressFn;
}

export interface DemoResult {
  lake: string;
  simulate: SimulateSummary;
  ingest: IngestSummary;
  assets: ImportSummary;
  failures: ImportSummary;
  info: LakeInfo;
  /** Health scores over the last 7 days, worst first. */
  score: ScoreResult;
  /** Failure probabilities at the end of the window (the shipped model), riskiest first. */
  predict: PredictResult;
  /** Keep / sell / repurpose / decommission per GPU at the same hour (the config's prices), worst value first. */
  recommend: RecommendResult;
  /** The nightly report's HTML page, and the nightly job's summary line. */
  report: string;
  nightly: string;
  seconds: number;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const lake = path.join(opts.out, 'lake');
  // A demo run starts from scratch, so the same command always gives the same lake.
  fs.rmSync(path.join(opts.out, 'prom'), { recursive: true, force: true });
  fs.rmSync(lake, { recursive: true, force: true });
  progress('simulating the fleet');
  const simulate = await simulateFleet({
    outDir: opts.out,
    gpus: opts.gpus,
    days: opts.days,
    intervalMs: opts.intervalMs,
    seed: opts.seed,
    endMs: Math.floor(opts.endMs / opts.intervalMs) * opts.intervalMs,
    progress: (d, t) => progress(`simulating the fleet ${Math.round((100 * d) / t)} %`),
  });
  // the fleet's clock, not the machine's: a demo --end in the future is ingested whole
  const ing = await ingest({ lake, inputs: [path.join(opts.out, 'prom')], progress, allowFuture: true });
  // the fleet's clock, not the machine's: a demo --end in the future still imports whole
  const assets = await importTable(lake, path.join(opts.out, 'assets.csv'), ASSETS_SPEC, { nowMs: opts.endMs });
  const failures = await importTable(lake, path.join(opts.out, 'failures.csv'), FAILURES_SPEC, { nowMs: opts.endMs });
  const info = await lakeInfo(lake);
  // then what cron runs every night: score, predict, recommend and the report
  const config = loadConfig(configPath(undefined, lake));
  const nightly = await runNightly({ lake, atMs: opts.endMs, config, progress });
  const failed = nightly.stages.find((s) => s.status === 'failed');
  if (failed) throw new GpuhealthError(`the demo's nightly run failed at ${failed.stage}: ${failed.error}`);
  return {
    lake,
    simulate,
    ingest: ing,
    assets,
    failures,
    info,
    score: nightly.score!,
    predict: nightly.predict!,
    recommend: nightly.recommend!,
    report: nightly.files.find((f) => f.endsWith('.html'))!,
    nightly: nightly.summary,
    seconds: (Date.now() - t0) / 1000,
  };
}
