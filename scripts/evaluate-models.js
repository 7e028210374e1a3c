#!/usr/bin/env node
/**
 * Measures a failure model on a simulated fleet it never saw (docs/prediction.md, "Quality"): another
 * seed and other parameters (fleet size, failure rates, scrape interval, end date). Pools daily
 * cut-offs at the 30-day horizon and scores, on the same GPU-days, the model's P30, its anomaly score,
 * the original rule-based risk and `score`'s overall score. Prints a Markdown table and writes the
 * metrics as JSON.
 * Usage: node scripts/evaluate-models.js [--model DIR] [--gpus N] [--days D] [--interval 10m] [--seed S]
 *        [--rates a100=0.04,h100=0.08] [--every 2] [--lake DIR] [--json FILE] [--skip-baselines]
 * (--skip-baselines: the models only, so every day is cheap to score.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simulateToLake } from '../dist/lib/simulate/to-lake.js';
import { withLakeRun } from '../dist/lib/lake/run.js';
import { buildRollups } from '../dist/lib/maintenance/rollups.js';
import { createLakeViews } from '../dist/lib/sql/lake-views.js';
import { DAY_MS, gpuOutcomes, labelRow, predictionMatrix } from '../dist/lib/stage/prediction-data.js';
import { loadModel, predictRows } from '../dist/lib/stage/predict.js';
import { baselineScores } from '../dist/lib/stage/train.js';
import { evaluateRisk } from '../dist/lib/model/evaluate.js';
import { parseDuration } from '../dist/lib/time.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(here, '..', 'models', 'default') },
    gpus: { type: 'string', default: '1500' },
    days: { type: 'string', default: '150' },
    interval: { type: 'string', default: '10m' },
    seed: { type: 'string', default: '101' },
    rates: { type: 'string', default: 'a100=0.04,h100=0.08' },
    end: { type: 'string', default: '2026-11-01T00:00:00Z' },
    every: { type: 'string', default: '2' },
    lake: { type: 'string' },
    json: { type: 'string' },
    'skip-baselines': { type: 'boolean', default: false },
  },
});
const rates = Object.fromEntries(
  a.rates
    .split(',')
    .map((kv) => kv.split('='))
    .map(([k, v]) => [k, Number(v)]),
);
const log = (m) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const lake = a.lake ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-eval-'));
const H = 30;
if (!fs.existsSync(path.join(lake, 'metrics'))) {
  log(`simulating ${a.gpus} GPUs × ${a.days} days at ${a.interval}, seed ${a.seed}, rates ${a.rates} into ${lake}`);
  const s = await simulateToLake({
    lake,
    gpus: Number(a.gpus),
    days: Number(a.days),
    intervalMs: parseDuration(a.interval),
    seed: Number(a.seed),
    endMs: Date.parse(a.end),
    failureRatePerYear: rates,
    minFailures: 0,
  });
  log(`${s.rows.toLocaleString('en-US')} rows, ${s.failures} failures, ${s.seconds.toFixed(0)} s`);
}
const card = JSON.parse(fs.readFileSync(path.join(a.model, 'card.json'), 'utf8'));
const result = await withLakeRun({ lake, lockWaitMs: 60_000 }, async (run) => {
  await buildRollups(run, () => {});
  await createLakeViews(run.db, run.layout);
  const [range] = await run.db.query('range', 'SELECT min(first_time) AS oldest, max(last_time) AS newest FROM rollups');
  const toMs = Math.floor(range.newest.getTime() / DAY_MS) * DAY_MS;
  const fromMs = Math.ceil((range.oldest.getTime() + 28 * DAY_MS) / DAY_MS) * DAY_MS;
  const lastK = Math.floor((toMs - H * DAY_MS - fromMs) / DAY_MS);
  const t0 = Date.now();
  const all = await predictionMatrix(run.db, card.features, fromMs, 0, lastK);
  log(`feature rows: ${all.gpu.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const every = Number(a.every);
  const keep = all.cutoffMs.map((c, i) => (((c - fromMs) / DAY_MS) % every === 0 ? i : -1)).filter((i) => i >= 0);
  const F = card.features.length;
  const m = { gpu: [], host: [], model: [], cutoffMs: [], X: new Float64Array(keep.length * F) };
  keep.forEach((i, r) => {
    m.gpu.push(all.gpu[i]);
    m.host.push(all.host[i]);
    m.model.push(all.model[i]);
    m.cutoffMs.push(all.cutoffMs[i]);
    m.X.set(all.X.subarray(i * F, (i + 1) * F), r * F);
  });
  const outcomes = await gpuOutcomes(run.db, toMs);
  const failures = await run.db.query('failures', "SELECT gpu_uuid, failure_type, description LIKE '%no pr%' AS sudden FROM failures");
  const sudden = new Set(failures.filter((f) => f.sudden).map((f) => f.gpu_uuid));
  const model = await loadModel({ name: card.name, dir: a.model, where: 'package', card });
  const t1 = Date.now();
  const preds = await predictRows(model, m, '');
  log(`predicted ${preds.length} GPU-days in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await model.close();
  const base = a['skip-baselines'] ? null : await baselineScores(run.db, [...new Set(m.cutoffMs)], (msg) => log(msg));
  const rows = [];
  const cols = { model: [], anomaly: [], rule: [], overall: [] };
  m.gpu.forEach((g, i) => {
    const l = labelRow(outcomes.get(g), m.cutoffMs[i], H, toMs);
    const b = base ? base.get(`${g}@${m.cutoffMs[i]}`) : { rule: Number.NaN, overall: Number.NaN };
    if (!l || !b) return;
    const failed = l.daysToFailure !== null && l.daysToFailure <= H;
    if (!failed && l.days < H) return;
    rows.push({ gpu: g, daysToFailure: l.daysToFailure, label: failed ? 1 : 0 });
    cols.model.push(preds[i].failure_prob_30d);
    cols.anomaly.push(preds[i].anomaly_score);
    cols.rule.push(b.rule);
    cols.overall.push(b.overall);
  });
  const hadPrecursor = (g) => !sudden.has(g);
  return {
    fleet: { gpus: Number(a.gpus), days: Number(a.days), interval: a.interval, seed: Number(a.seed), rates, failures: failures.length, sudden: sudden.size },
    cutoffs: `${new Date(fromMs).toISOString().slice(0, 10)} → ${new Date(fromMs + lastK * DAY_MS).toISOString().slice(0, 10)} every ${every} days`,
    model: { name: card.name, version: card.version },
    metrics: {
      model: evaluateRisk(rows, cols.model, H, { prob: cols.model, hadPrecursor }),
      anomaly_score: evaluateRisk(rows, cols.anomaly, H, { hadPrecursor }),
      ...(base
        ? { rule_based_risk: evaluateRisk(rows, cols.rule, H, { hadPrecursor }), overall_score: evaluateRisk(rows, cols.overall, H, { hadPrecursor }) }
        : {}),
    },
  };
});
if (!a.lake) fs.rmSync(lake, { recursive: true, force: true });
if (a.json) fs.writeFileSync(a.json, `${JSON.stringify(result, null, 2)}\n`);
const f = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
console.log(`fleet: ${JSON.stringify(result.fleet)}; cut-offs ${result.cutoffs}; model ${result.model.name} ${result.model.version}`);
console.log(
  '| score | GPU-days | positives | base rate | PR-AUC | ROC-AUC | prec. top 1 % | rec. top 1 % | prec. top 5 % | rec. top 5 % | failures caught ≥ 7 d ahead (precursor) | median lead (d) | Σ P30 ÷ failures |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [k, m] of Object.entries(result.metrics)) {
  console.log(
    `| ${k} | ${m.gpu_days} | ${m.positives} | ${f(m.base_rate, 4)} | ${f(m.pr_auc)} | ${f(m.roc_auc)} | ${f(m.top_1pct.precision, 2)} | ${f(m.top_1pct.recall, 2)} | ${f(m.top_5pct.precision, 2)} | ${f(m.top_5pct.recall, 2)} | ${m.precursor_caught_7d_ahead}/${m.precursor_failures} (all: ${m.caught_7d_ahead}/${m.failures}) | ${f(m.median_lead_days, 1)} | ${f(m.calibration_ratio, 2)} |`,
  );
}
