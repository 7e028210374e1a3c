import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, queryLake, runCli, tempLake } from '../helpers/cli.js';

const END = '2026-11-20T00:00:00Z';
const FLEET = ['--gpus', '16', '--days', '1', '--interval', '5m', '--seed', '3', '--end', END];

describe('gpuhealth simulate', () => {
  it('writes scrapes, assets.csv and failures.csv that ingest and import with zero rejects', async () => {
    const out = tempLake();
    const lake = tempLake();
    const sim = await runCli(['simulate', '--out', out, ...FLEET, '--json']);
    expect(sim.code).toBe(0);
    const s = parseJson<{ gpus: number; hosts: number; files: number; failures: number }>(sim.stdout);
    expect(s.gpus).toBe(16);
    expect(fs.readFileSync(path.join(out, 'assets.csv'), 'utf8').split('\n')[0]).toBe(
      'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price',
    );
    const ing = await runCli(['ingest', path.join(out, 'prom'), '--lake', lake, '--json']);
    expect(ing.code).toBe(0);
    const summary = parseJson<{ rejected: number; files: number; rows: number; gpus: number; skipped_files: number }>(ing.stdout);
    expect(summary.rejected).toBe(0);
    expect(summary.skipped_files).toBe(0);
    expect(summary.files).toBe(s.files - 2);
    expect(summary.gpus).toBeGreaterThanOrEqual(16);
    for (const [cmd, file] of [
      ['assets', 'assets.csv'],
      ['failures', 'failures.csv'],
    ] as const) {
      const r = await runCli([cmd, 'import', path.join(out, file), '--lake', lake, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(parseJson<{ rejected: number }>(r.stdout).rejected).toBe(0);
    }
  });

  it('writes the same rows straight into a lake (--to-lake) as through scrapes and ingest', async () => {
    const out = tempLake();
    const viaText = tempLake();
    const direct = tempLake();
    expect((await runCli(['simulate', '--out', out, ...FLEET])).code).toBe(0);
    expect((await runCli(['ingest', path.join(out, 'prom'), '--lake', viaText, '--quiet'])).code).toBe(0);
    const r = await runCli(['simulate', '--to-lake', '--lake', direct, ...FLEET, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = (lake: string): string => `read_parquet('${lake}/metrics/*/*.parquet', hive_partitioning = true)`;
    const diff = await queryLake(
      viaText,
      `SELECT
        (SELECT count(*) FROM ${m(viaText)}) AS a, (SELECT count(*) FROM ${m(direct)}) AS b,
        (SELECT count(*) FROM (SELECT * FROM ${m(viaText)} EXCEPT SELECT * FROM ${m(direct)})) AS a_not_b,
        (SELECT count(*) FROM (SELECT * FROM ${m(direct)} EXCEPT SELECT * FROM ${m(viaText)})) AS b_not_a`,
    );
    expect(diff[0]).toMatchObject({ a_not_b: 0, b_not_a: 0 });
    expect(Number(diff[0]!.a)).toBeGreaterThan(4000);
    expect(diff[0]!.a).toBe(diff[0]!.b);
    // the registry and failure history come along
    const assets = await queryLake(direct, `SELECT count(*) AS n FROM read_parquet('${direct}/assets/*.parquet')`);
    expect(Number(assets[0]!.n)).toBeGreaterThanOrEqual(16);
    // both keep hourly rollups, and score the fleet alike (the ingested lake also imports the registry)
    for (const [cmd, file] of [
      ['assets', 'assets.csv'],
      ['failures', 'failures.csv'],
    ] as const) {
      expect((await runCli([cmd, 'import', path.join(out, file), '--lake', viaText, '--quiet'])).code).toBe(0);
    }
    const score = async (lake: string): Promise<unknown> => {
      const res = await runCli(['score', '--lake', lake, '--since', '1d', '--at', END, '--json']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).not.toMatch(/built hourly rollups/);
      return parseJson(res.stdout);
    };
    expect(await score(direct)).toEqual(await score(viaText));
  });

  it('refuses --to-lake into a lake that already holds telemetry, and needs --out or --to-lake', async () => {
    const lake = tempLake();
    expect((await runCli(['simulate', '--to-lake', '--lake', lake, ...FLEET])).code).toBe(0);
    const again = await runCli(['simulate', '--to-lake', '--lake', lake, ...FLEET]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/has some/);
    const neither = await runCli(['simulate', ...FLEET]);
    expect(neither.code).toBe(2);
  });
});

describe('gpuhealth demo', () => {
  it('simulates, ingests, imports and scores a fleet, worst first', async () => {
    const out = tempLake();
    const r = await runCli(['demo', '--out', out, '--gpus', '16', '--days', '2', '--interval', '10m', '--end', END, '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const d = parseJson<{
      ingest: { rejected: number };
      score: { gpus_total: number; left_out: { failed: number }; window_end: string; rows: { overall_score: number | null; health_grade: string }[] };
      predict: { at: string; failed_left_out: number; model: { name: string }; rows: { failure_prob_30d: number }[] };
      recommend: { rows: { decision: string | null }[] };
      report: string;
      nightly: string;
    }>(r.stdout);
    // it ends as cron would: the nightly job wrote its dated HTML report into the lake
    expect(d.report).toMatch(/reports\/2026-11-20\/report-20261120T0000Z\.html$/);
    expect(fs.readFileSync(d.report, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(d.nightly).toMatch(/^nightly 2026-11-20: \d+ GPUs/);
    expect(d.ingest.rejected).toBe(0);
    expect(d.score.window_end).toBe('2026-11-20T00:00:00.000Z');
    expect(d.score.rows.length).toBe(d.score.gpus_total);
    // the GPUs the failure history records as failed, with no sample since, are left out
    expect(d.score.gpus_total + d.score.left_out.failed).toBeGreaterThanOrEqual(16);
    const overall = d.score.rows.map((x) => x.overall_score ?? Infinity);
    expect(overall).toEqual([...overall].sort((a, b) => a - b));
    // the shipped model predicts at the same hour, riskiest first
    expect(d.predict.at).toBe(d.score.window_end);
    expect(d.predict.model.name).toBe('default');
    // both leave out the same dead GPUs
    expect(d.predict.rows.length).toBe(d.score.gpus_total);
    expect(d.predict.failed_left_out).toBe(d.score.left_out.failed);
    // and every GPU gets a decision at the built-in prices (the simulated models are priced)
    expect(d.recommend.rows).toHaveLength(d.score.gpus_total);
    for (const x of d.recommend.rows) expect(['keep', 'sell', 'repurpose', 'decommission']).toContain(x.decision);
    const p30 = d.predict.rows.map((x) => x.failure_prob_30d);
    expect(p30).toEqual([...p30].sort((a, b) => b - a));
    const table = await runCli(['demo', '--out', out, '--gpus', '16', '--days', '2', '--interval', '10m', '--end', END, '--top', '3'], { timeoutMs: 120_000 });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/Worst 3 GPUs by health score/);
    expect(table.stdout).toMatch(/Riskiest 3 GPUs by 30-day failure probability/);
    expect(table.stdout).toMatch(/health: {4}\d+ excellent/);
    expect(table.stdout).toMatch(/What to do with each GPU at .* GPUs to act on first/);
    expect(table.stdout).toMatch(/fleet: \d+ GPUs worth \$[\d,]+/);
    expect(table.stdout).toMatch(/The nightly report .*: .*report-20261120T0000Z\.html/);
  }, 180_000);
});
