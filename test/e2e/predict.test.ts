/**
 * End to end, as a user runs it: simulate → (ingest and registry import, which `simulate --to-lake`
 * does in one commit) → train → models list → predict, on a small fleet whose failure rate is raised so
 * that 90 days hold enough failures to train on. Also: predict at T on the lake equals predict at T on a
 * copy of the lake cut at T (no leakage), and train refuses a lake with too few failures. Needs
 * `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryLake, runCli, tempDir, tempLake } from '../helpers/cli.js';
import type { PredictionRow } from '../../src/lib/stage/predict.js';
import type { ModelCard } from '../../src/lib/model/card.js';

const END = '2026-10-01T00:00:00Z';
/** The cut-off the leakage check predicts at: 20 days before the end of the data. */
const T = '2026-09-11T06:00:00Z';
const lake = tempLake();
const cut = tempLake();
let card: ModelCard;

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** A copy of `from` holding only what was known before `at`: telemetry rows before it, the registry, the model; no rollups (predict builds them). */
async function cutLake(from: string, to: string, at: string): Promise<void> {
  fs.mkdirSync(to, { recursive: true });
  for (const table of ['metrics', 'metrics_other', 'xid_events']) {
    if (!fs.existsSync(path.join(from, table))) continue;
    await queryLake(
      from,
      `COPY (SELECT * FROM read_parquet(${q(path.join(from, table, '*', '*.parquet'))}, hive_partitioning = true) WHERE time < TIMESTAMP ${q(at.replace('Z', ''))})
       TO ${q(path.join(to, table))} (FORMAT parquet, PARTITION_BY (date), OVERWRITE_OR_IGNORE)`,
    );
  }
  for (const dir of ['gpus', 'assets', 'failures', 'models']) fs.cpSync(path.join(from, dir), path.join(to, dir), { recursive: true });
  fs.mkdirSync(path.join(to, '_ingest'), { recursive: true });
}

beforeAll(async () => {
  const sim = await runCli(
    ['simulate', '--to-lake', '--lake', lake, '--gpus', '160', '--days', '90', '--interval', '1h', '--seed', '5', '--end', END, '--failure-rate', '1'],
    { timeoutMs: 300_000 },
  );
  expect(sim.code, sim.stderr).toBe(0);
  const tr = await runCli(['train', '--lake', lake, '--name', 'e2e', '--json'], { timeoutMs: 300_000 });
  expect(tr.code, tr.stderr).toBe(0);
  card = parseJson<ModelCard>(tr.stdout);
}, 600_000);

describe('train', () => {
  it('writes the model folder and a card with its data, metrics and baselines', () => {
    const dir = path.join(lake, 'models', 'e2e');
    for (const f of ['hazard.onnx', 'hazard-trees.json', 'type.onnx', 'anomaly.onnx', 'card.json']) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8'))).toEqual(card);
    expect(card.name).toBe('e2e');
    expect(card.features.length).toBeGreaterThan(20);
    expect(card.segment_bounds_days).toEqual([0, 7, 30, 90]);
    const failures = Object.values(card.training.failures_by_type).reduce((a, b) => a + b, 0);
    expect(failures).toBeGreaterThanOrEqual(20);
    expect(card.training.gpu_days).toBeGreaterThan(4000);
    const v = card.validation;
    expect(v.train_gpus + v.valid_gpus).toBeLessThanOrEqual(card.training.gpus);
    expect(v.metrics.model.pr_auc).toBeGreaterThanOrEqual(0);
    expect(v.metrics.model.brier).toBeGreaterThanOrEqual(0);
    expect(v.metrics.rule_based_risk).not.toBeNull();
    expect(v.metrics.overall_score).not.toBeNull();
    expect(card.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('lists the lake model first, then the shipped default', async () => {
    const r = await runCli(['models', 'list', '--lake', lake, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseJson<{ name: string; where: string }[]>(r.stdout);
    expect(rows[0]).toMatchObject({ name: 'e2e', where: 'lake' });
    expect(rows.some((m) => m.name === 'default' && m.where === 'package')).toBe(true);
  });
});

describe('predict', () => {
  let rows: PredictionRow[];
  beforeAll(async () => {
    const r = await runCli(['predict', '--lake', lake, '--at', T, '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/with model e2e/);
    rows = parseJson<PredictionRow[]>(r.stdout);
  }, 180_000);

  it('gives every reporting GPU monotone probabilities, riskiest first, with the contract fields', () => {
    expect(rows.length).toBeGreaterThan(120);
    for (const r of rows) {
      expect(r.failure_prob_7d).toBeGreaterThanOrEqual(0);
      expect(r.failure_prob_7d).toBeLessThanOrEqual(r.failure_prob_30d);
      expect(r.failure_prob_30d).toBeLessThanOrEqual(r.failure_prob_90d);
      expect(r.failure_prob_90d).toBeLessThanOrEqual(1);
      expect(['low', 'medium', 'high', 'critical']).toContain(r.risk_level);
      expect(r.anomaly_score).toBeGreaterThan(0);
      expect(r.anomaly_score).toBeLessThan(1);
      expect(['memory', 'thermal', 'power', 'interconnect', 'other']).toContain(r.predicted_failure_type);
      expect(r.model_name).toBe('e2e');
      expect(r.at).toBe(T.replace('Z', '.000Z'));
      for (const f of r.top_factors) expect(f.contribution).toBeGreaterThan(0);
      if (r.expected_days_to_failure !== null) expect(r.expected_days_to_failure).toBeLessThanOrEqual(90);
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.failure_prob_30d).toBeGreaterThanOrEqual(rows[i]!.failure_prob_30d);
  });

  it('leaves out the GPUs that had already failed', async () => {
    const failed = await queryLake(
      lake,
      `SELECT gpu_uuid FROM read_parquet(${q(path.join(lake, 'failures', '*.parquet'))}) WHERE failed_at <= TIMESTAMP ${q(T.replace('Z', ''))}`,
    );
    expect(failed.length).toBeGreaterThan(5);
    const predicted = new Set(rows.map((r) => r.gpu_uuid));
    for (const f of failed) expect(predicted.has(String(f.gpu_uuid))).toBe(false);
  });

  it('writes every row to the lake', async () => {
    const n = await queryLake(lake, `SELECT count(*) AS n FROM read_parquet(${q(path.join(lake, 'predictions', '*', '*.parquet'))})`);
    expect(n[0]!.n).toBe(rows.length);
  });

  it('gives the same answer on a lake cut at the cut-off (no leakage)', async () => {
    await cutLake(lake, cut, T);
    const r = await runCli(['predict', '--lake', cut, '--at', T, '--model', 'e2e', '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<PredictionRow[]>(r.stdout)).toEqual(rows);
  }, 180_000);

  it('uses the shipped model with --model default', async () => {
    const r = await runCli(['predict', '--lake', lake, '--at', T, '--model', 'default', '--worst', '3', '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const top = parseJson<PredictionRow[]>(r.stdout);
    expect(top).toHaveLength(3);
    expect(top[0]!.model_name).toBe('default');
  }, 180_000);
});

describe('predict, lifetime prior', () => {
  const THIN = 'GPU-7410c0de-0000-4000-8000-000000000001';
  const SILENT = 'GPU-7410c0de-0000-4000-8000-000000000002';
  const MODEL = 'NVIDIA H100 80GB HBM3';

  it('predicts a GPU with a few hours of telemetry, and one in the registry with none, from the registry lifetime curve', async () => {
    const dir = tempDir();
    const atMs = Date.parse(T);
    // three hours of samples two days before T, and nothing from the second GPU
    const labels = (uuid: string, i: number): string =>
      `gpu="${i}",UUID="${uuid}",pci_bus_id="00000000:${10 + i}:00.0",device="nvidia${i}",modelName="${MODEL}",Hostname="gpu-prior-n01"`;
    const lines: string[] = [];
    for (let h = 0; h < 3; h++) lines.push(`DCGM_FI_DEV_GPU_TEMP{${labels(THIN, 0)}} 41 ${atMs - 2 * 86_400_000 + h * 3_600_000}`);
    fs.writeFileSync(path.join(dir, 'gpu-prior-n01.prom'), `${lines.join('\n')}\n`);
    fs.writeFileSync(
      path.join(dir, 'assets.csv'),
      `gpu_uuid,model,host,deployed_date\n${THIN},${MODEL},gpu-prior-n01,2026-03-01\n${SILENT},${MODEL},gpu-prior-n01,2025-01-15\n`,
    );
    expect((await runCli(['ingest', path.join(dir, 'gpu-prior-n01.prom'), '--lake', lake])).code).toBe(0);
    expect((await runCli(['assets', 'import', path.join(dir, 'assets.csv'), '--lake', lake])).code).toBe(0);

    const r = await runCli(['predict', '--lake', lake, '--at', T, '--no-write', '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 GPU with under 24 h of telemetry and 1 GPU in the registry without telemetry predicted from the fleet's lifetime curve/);
    const all = parseJson<PredictionRow[]>(r.stdout);
    const got = all.filter((x) => x.gpu_uuid === THIN || x.gpu_uuid === SILENT);
    expect(got.map((x) => x.gpu_uuid).sort()).toEqual([THIN, SILENT]);

    // the same curve `survival` fits at T: the model's own where it has 5 failures, else the fleet's
    const s = await runCli(['survival', '--lake', lake, '--at', T, '--by', 'model', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const groups = parseJson<{ groups: { group: string; failures: number; weibull: { shape: number; scale_days: number } | null }[] }>(s.stdout).groups;
    let curve = groups.find((g) => g.group === MODEL)!;
    if (curve.failures < 5) {
      const all = parseJson<{ groups: (typeof curve)[] }>((await runCli(['survival', '--lake', lake, '--at', T, '--json'])).stdout).groups;
      curve = all[0]!;
    }
    const { shape, scale_days: scale } = curve.weibull!;
    for (const [uuid, deployed, hours] of [
      [THIN, '2026-03-01', 3],
      [SILENT, '2025-01-15', 0],
    ] as const) {
      const row = got.find((x) => x.gpu_uuid === uuid)!;
      const age = (atMs - Date.parse(`${deployed}T00:00:00Z`)) / 86_400_000;
      const p = (h: number): number => 1 - Math.exp((age / scale) ** shape - ((age + h) / scale) ** shape);
      expect(row).toMatchObject({ prediction_source: 'prior', telemetry_hours: hours, predicted_failure_type: null, top_factors: [] });
      expect(row.failure_prob_7d).toBeCloseTo(p(7), 5);
      expect(row.failure_prob_30d).toBeCloseTo(p(30), 5);
      expect(row.failure_prob_90d).toBeCloseTo(p(90), 5);
      expect(row.top_factor).toMatch(/^lifetime prior: age \d+ d on the /);
    }
    expect(got.find((x) => x.gpu_uuid === SILENT)!.anomaly_score).toBeNull();
    // every other GPU reports all week: the model's answer
    const others = all.filter((x) => x.gpu_uuid !== THIN && x.gpu_uuid !== SILENT);
    expect(others.length).toBeGreaterThan(120);
    for (const x of others) expect(x.prediction_source).toBe('model');
  }, 300_000);
});

describe('backtest', () => {
  interface Metrics {
    failures: number;
    caught: number;
    recall: number;
    precision: number | null;
    false_alarms_per_1000_gpu_days: number;
    pr_auc: number | null;
    median_lead_days: number | null;
    gpu_days: number;
  }
  interface Result {
    model: { name: string };
    warnings: string[];
    gpu_days: number;
    horizons: { horizon: string; model: Metrics; rule_based_risk: Metrics | null; overall_score: Metrics | null }[];
    failures: { gpu_uuid: string; failed_at: string; flagged: Record<string, boolean>; lead_days: Record<string, number | null>; top_factors: string[] }[];
  }

  it('replays the shipped model over two months: it catches some failures ahead, not all (sudden ones have no precursor)', async () => {
    const r = await runCli(['backtest', '--lake', lake, '--from', '2026-08-01', '--to', '2026-09-30', '--model', 'default', '--no-baselines', '--json'], {
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const b = parseJson<Result>(r.stdout);
    expect(b.model.name).toBe('default');
    expect(b.horizons.map((h) => h.horizon)).toEqual(['7d', '30d', '90d']);
    const h30 = b.horizons[1]!.model;
    expect(h30.failures).toBe(b.failures.length);
    expect(h30.failures).toBeGreaterThanOrEqual(10);
    expect(h30.caught).toBeGreaterThan(0);
    expect(h30.caught).toBeLessThan(h30.failures);
    expect(h30.median_lead_days).toBeGreaterThan(1);
    expect(h30.precision).not.toBeNull();
    // every caught failure names the factors of its first flag, and its lead is within the horizon
    for (const f of b.failures.filter((x) => x.flagged['30d'])) {
      expect(f.top_factors.length).toBeGreaterThan(0);
      expect(f.lead_days['30d']).toBeGreaterThan(0);
      expect(f.lead_days['30d']).toBeLessThanOrEqual(30);
    }
    // the data ends 2026-10-01: no day has a whole 90-day follow-up, which is said, not flattered
    expect(b.horizons[2]!.model).toMatchObject({ gpu_days: 0, precision: null, pr_auc: null });
    expect(b.warnings.some((w) => /90-day horizon/.test(w))).toBe(true);
    expect(b.warnings.some((w) => /overlaps/.test(w))).toBe(false);
  }, 300_000);

  it('warns when the model trained on the period, replays the baselines, and --csv gives one row per failure', async () => {
    const args = ['backtest', '--lake', lake, '--from', '2026-09-01', '--to', '2026-09-06', '--horizon', '7d', '--model', 'e2e'];
    const r = await runCli([...args, '--json'], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: model e2e was trained on this lake's .* overlaps the period/);
    const b = parseJson<Result>(r.stdout);
    const h = b.horizons[0]!;
    expect(h.rule_based_risk).not.toBeNull();
    expect(h.overall_score).not.toBeNull();
    expect(h.rule_based_risk!.gpu_days).toBe(h.model.gpu_days);
    const csv = await runCli([...args, '--csv', '--no-baselines'], { timeoutMs: 300_000 });
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^gpu_uuid,host,failed_at,failure_type,days_watched,flagged_7d,lead_days_7d,/);
    expect(lines.length - 1).toBe(b.failures.length);
  }, 300_000);
});

describe('train with too few failures', () => {
  it('exits 2, says how many it has and needs, and that the shipped model still works', async () => {
    // the lake keeps only three failures (the last test of this file: the others are done with it)
    const dir = path.join(lake, 'failures');
    const [file] = fs.readdirSync(dir);
    // and one more that names a serial no asset record has
    await queryLake(
      lake,
      `COPY (SELECT * FROM (SELECT * FROM read_parquet(${q(path.join(dir, file!))}) ORDER BY failed_at LIMIT 3)
             UNION ALL SELECT * REPLACE (NULL AS gpu_uuid, 'NO-SUCH-SERIAL' AS serial) FROM (SELECT * FROM read_parquet(${q(path.join(dir, file!))}) ORDER BY failed_at DESC LIMIT 1))
       TO ${q(path.join(dir, 'only3.parquet'))} (FORMAT parquet)`,
    );
    fs.rmSync(path.join(dir, file!));
    const r = await runCli(['train', '--lake', lake, '--name', 'few', '--no-baselines'], { timeoutMs: 300_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/too few failures to train on: \d failures? .* at least 20 \(1 more name a serial that no asset record matches\)/);
    expect(r.stderr).toMatch(/shipped model/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(lake, 'models', 'few'))).toBe(false);
  }, 300_000);
});
