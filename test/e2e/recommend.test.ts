/**
 * End to end: `recommend` on the fleet with planted conditions (test/helpers/planted-fleet.ts) and a
 * registry a user imports: the GPUs with planted faults are not kept at full value, the RMA-grade GPU
 * under warranty is an RMA, a model without prices gets no made-up number, and the fleet totals are the
 * sums of the rows. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryLake, runCli, tempDir, tempLake } from '../helpers/cli.js';
import type { FleetTotals, RecommendationRow } from '../../src/lib/stage/recommend.js';
import { MODEL, PLANTED_GPUS, plantedFleet, uuidOf } from '../helpers/planted-fleet.js';

const AT = '2026-11-20T00:00:00Z';
const lake = tempLake();
const dir = tempDir();
/** GPU 11 is registered as a model the config has no prices for. */
const UNPRICED = 'NVIDIA GB300';
const HEALTHY = [0, 10];
/** Hot, memory errors, slow, power brake, Xid 79, row-remap failure (RMA-grade). */
const FAULTY = [1, 2, 4, 5, 7, 8];

let result: { at: string; totals: FleetTotals; rows: RecommendationRow[] };
const row = (g: number): RecommendationRow => result.rows.find((r) => r.gpu_uuid === uuidOf(g))!;

beforeAll(async () => {
  const fleet = plantedFleet();
  fs.writeFileSync(path.join(dir, 'fleet.csv'), fleet.csv);
  fs.writeFileSync(path.join(dir, 'kern.log'), fleet.kernelLog);
  expect((await runCli(['ingest', '--lake', lake, path.join(dir, 'fleet.csv')])).code).toBe(0);
  expect((await runCli(['ingest', '--lake', lake, '--host', 'node-a', path.join(dir, 'kern.log')])).code).toBe(0);
  // every GPU deployed in 2025; GPU 8 (RMA-grade) and the healthy ones still under warranty
  const assets = ['gpu_uuid,model,deployed_date,warranty_expiry'];
  for (let g = 0; g < PLANTED_GPUS; g++) {
    const warranty = g === 8 || HEALTHY.includes(g) ? '2027-06-30' : '2026-01-31';
    assets.push(`${uuidOf(g)},${g === 11 ? UNPRICED : MODEL},2025-02-01,${warranty}`);
  }
  fs.writeFileSync(path.join(dir, 'assets.csv'), `${assets.join('\n')}\n`);
  expect((await runCli(['assets', 'import', '--lake', lake, path.join(dir, 'assets.csv')])).code).toBe(0);
  const r = await runCli(['recommend', '--lake', lake, '--at', AT, '--sensitivity', '--json'], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  result = parseJson(r.stdout);
}, 180_000);

describe('recommend', () => {
  it('values every GPU, worst value first, with the contract fields', () => {
    expect(result.rows).toHaveLength(PLANTED_GPUS);
    const values = result.rows.map((r) => r.expected_value ?? Number.POSITIVE_INFINITY);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    for (const r of result.rows) {
      for (const k of ['decision', 'expected_value', 'npv_keep', 'npv_sell', 'npv_repurpose', 'salvage_value', 'confidence', 'rationale', 'health_grade']) {
        expect(r).toHaveProperty(k);
      }
      for (const k of ['overall_score', 'failure_prob_30d', 'failure_prob_90d', 'utilization', 'power_w', 'warranty_days_left', 'age_days']) {
        expect(r).toHaveProperty(k);
      }
      expect(Array.isArray(r.sensitivity)).toBe(true);
      expect(r.rationale.length).toBeGreaterThan(20);
    }
  });

  it('does not keep a GPU with a planted fault at the value of a healthy one', () => {
    const healthyKeep = Math.min(...HEALTHY.map((g) => row(g).npv_keep!));
    for (const g of HEALTHY) expect(row(g).decision, row(g).rationale).toBe('keep');
    for (const g of FAULTY) {
      const r = row(g);
      expect(r.decision === 'keep' && r.npv_keep! >= healthyKeep, `GPU ${g}: ${r.rationale}`).toBe(false);
    }
    // the slow GPU sells fewer useful hours: its measured throughput against its peers says so
    expect(row(4).performance_factor!).toBeLessThan(0.9);
    expect(row(0).performance_factor!).toBeGreaterThan(0.97);
  });

  it('makes the RMA-grade GPU under warranty an RMA, valued at its replacement', () => {
    const r = row(8);
    expect(r).toMatchObject({ decision: 'decommission', rma: true, health_grade: 'critical' });
    expect(r.rationale).toMatch(/^RMA under warranty/);
    expect(r.expected_value!).toBeGreaterThan(r.npv_sell!);
  });

  it('gives a model without prices no numbers, and says which models need them', () => {
    const r = row(11);
    expect(r).toMatchObject({ decision: null, expected_value: null, npv_keep: null, price_model: null, model: UNPRICED });
    expect(r.rationale).toMatch(/No prices for model "NVIDIA GB300"/);
    expect(result.totals.models_without_prices).toEqual([UNPRICED]);
  });

  it('adds the fleet totals up from the rows', () => {
    const t = result.totals;
    const sum = (f: (r: RecommendationRow) => number | null): number => result.rows.reduce((s, r) => s + (f(r) ?? 0), 0);
    expect(t.gpus).toBe(PLANTED_GPUS);
    expect(t.fleet_value).toBeCloseTo(
      sum((r) => r.expected_value),
      1,
    );
    expect(t.monthly_revenue).toBeCloseTo(
      sum((r) => r.monthly_revenue),
      1,
    );
    expect(t.monthly_operating_cost).toBeCloseTo(
      sum((r) => r.monthly_cost),
      1,
    );
    expect(t.monthly_profit).toBeCloseTo(t.monthly_revenue - t.monthly_operating_cost, 1);
    for (const d of ['keep', 'sell', 'repurpose', 'decommission'] as const) expect(t.decisions[d]).toBe(result.rows.filter((r) => r.decision === d).length);
    expect(t.decisions.none).toBe(1);
    const sells = result.rows.filter((r) => r.decision === 'sell');
    expect(t.for_sale.gpus).toBe(sells.length);
    expect(t.for_sale.value).toBeCloseTo(
      sells.reduce((s, r) => s + r.expected_value!, 0),
      1,
    );
    expect(t.sensitivity!.gpus_with_flips).toBe(result.rows.filter((r) => r.sensitivity!.length > 0).length);
  });

  it('writes every row to the lake', async () => {
    const n = await queryLake(
      lake,
      `SELECT count(*) AS n, count(decision) AS decided FROM read_parquet('${path.join(lake, 'recommendations', '*', '*.parquet')}')`,
    );
    expect(n[0]).toEqual({ n: PLANTED_GPUS, decided: PLANTED_GPUS - 1 });
  });

  it('prints a table with the totals on stderr, filters by decision, and refuses a bad config (exit 2)', async () => {
    const t = await runCli(['recommend', '--lake', lake, '--at', AT, '--no-write'], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/decision/);
    expect(t.stderr).toMatch(/^fleet: 12 GPUs worth \$[\d,]+; a month as it runs: revenue/m);
    expect(t.stderr).toMatch(/^decisions: \d+ keep, \d+ sell, \d+ repurpose, \d+ decommission \(1 RMA under warranty\), 1 without a decision$/m);
    expect(t.stderr).toMatch(/no prices for NVIDIA GB300/);

    const rma = await runCli(['recommend', '--lake', lake, '--at', AT, '--no-write', '--decision', 'decommission', '--json'], { timeoutMs: 120_000 });
    expect(rma.code, rma.stderr).toBe(0);
    const rows = parseJson<{ rows: RecommendationRow[] }>(rma.stdout).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.decision).toBe('decommission');

    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ economics: { power_price_per_kwh: 'cheap' } }));
    const bad = await runCli(['recommend', '--lake', lake, '--at', AT, '--no-write', '--config', path.join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/power_price_per_kwh/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  }, 240_000);
});
