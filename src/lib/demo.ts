/**
 * The README's main job: simulate a fleet, ingest it as a real fleet's telemetry would be, load its
 * asset registry and failure history, and summarise the lake. Each later stage joins here as it lands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NO_PROGRESS, type ProgressFn } from './progress.js';
import { scoreFleet, type ScoreResult } from './stage/score.js';
import { predictFleet, type PredictResult } from './stage/predict.js';
import { recommendFleet, type RecommendResult } from './stage/recommend.js';
import { configPath, loadConfig } from './config.js';
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
  progress('scoring');
  const score = await scoreFleet({ lake, sinceMs: Math.min(opts.days, 7) * 86_400_000, atMs: opts.endMs, progress });
  progress('predicting failures');
  const predict = await predictFleet({ lake, atMs: opts.endMs, progress });
  progress('valuing');
  const config = loadConfig(configPath(undefined, lake));
  const recommend = await recommendFleet({ lake, atMs: opts.endMs, economics: config.economics, xidClasses: config.xid, progress });
  return { lake, simulate, ingest: ing, assets, failures, info, score, predict, recommend, seconds: (Date.now() - t0) / 1000 };
}
