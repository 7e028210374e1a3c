#!/usr/bin/env node
/**
 * `npm run train:default`: rebuilds the shipped failure model, models/default/, from the repository
 * alone. It simulates the training fleet into a temporary lake (seeded, so the same fleet every time),
 * trains on it exactly as `gpuhealth train` does, and writes the ONNX files and card.json.
 *
 * The fleet: 3,000 GPUs over 180 days at 15-minute scrapes, with yearly failure rates of 6 % (A100)
 * and 15 % (H100), about twice the simulator's defaults, so that some 150 failures give the models
 * enough positives to learn from. The card says so; a fleet should retrain on its own failure history.
 * Usage: node scripts/train-default.js [--gpus N] [--days D] [--out DIR] [--keep-lake DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simulateToLake } from '../dist/lib/simulate/to-lake.js';
import { trainFromLake, writeModelFiles } from '../dist/lib/stage/train.js';

const { values: args } = parseArgs({
  options: {
    gpus: { type: 'string', default: '3000' },
    days: { type: 'string', default: '180' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'models', 'default') },
    'keep-lake': { type: 'string' },
  },
});

const fleet = {
  gpus: Number(args.gpus),
  days: Number(args.days),
  intervalMs: 15 * 60_000,
  seed: Number(args.seed),
  endMs: Date.UTC(2026, 5, 1),
  failureRatePerYear: { a100: 0.06, h100: 0.15 },
  minFailures: 0,
};
const lake = args['keep-lake'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-train-default-'));
const log = (m) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const t0 = Date.now();
try {
  if (!fs.existsSync(path.join(lake, 'metrics'))) {
    log(`simulating ${fleet.gpus} GPUs × ${fleet.days} days into ${lake}`);
    const s = await simulateToLake({ ...fleet, lake });
    log(`simulated ${s.rows.toLocaleString('en-US')} rows, ${s.failures} failures in ${s.seconds.toFixed(0)} s`);
  }
  const t1 = Date.now();
  const r = await trainFromLake({
    lake,
    name: 'default-training',
    seed: 1,
    write: false,
    trainedOn: `a simulated fleet (gpuhealth simulate: ${fleet.gpus} GPUs × ${fleet.days} days, 15-minute scrapes, seed ${fleet.seed}, failure rates A100 6 %/year and H100 15 %/year), by npm run train:default`,
    note: 'The shipped default model, trained on simulated telemetry only. Its probabilities assume failure rates like the training fleet’s, about twice what most fleets see, and precursors shaped like the simulator’s. Retrain on your own fleet’s failure history (gpuhealth failures import, then gpuhealth train) as soon as it has 20 or more failures with telemetry before them.',
    progress: (m) => log(m),
  });
  const card = { ...r.card, name: 'default' };
  fs.rmSync(args.out, { recursive: true, force: true });
  writeModelFiles(args.out, card, r.files);
  const mem = process.memoryUsage.rss() / 2 ** 20;
  log(`trained in ${((Date.now() - t1) / 1000).toFixed(0)} s (all ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS now ${mem.toFixed(0)} MiB) → ${args.out}`);
  const m = card.validation.metrics.model;
  log(
    `validation: PR-AUC ${m.pr_auc.toFixed(3)} (base rate ${m.base_rate.toFixed(4)}), precision@1% ${m.top_1pct.precision.toFixed(2)}, failures ${m.failures}, caught 7 d ahead ${m.caught_7d_ahead}`,
  );
} finally {
  if (!args['keep-lake']) fs.rmSync(lake, { recursive: true, force: true });
}
