/**
 * End to end: `nightly` as cron runs it, on the fleet with planted conditions
 * (test/helpers/planted-fleet.ts) in a spool folder: one run ingests, scores, predicts, recommends
 * and writes the report (in the lake and --out-dir) and the Prometheus textfile, which the project's
 * own ingest reads back; the report names the planted failing GPUs; --alert-below exits 3; a second
 * run for the same --at gives the same report; two runs at once: one runs, one exits at once; a stage
 * forced to fail leaves the others running and exits 1. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/lib/report/types.js';
import { parseJson, runCli, spawnCli, tempDir, tempLake } from '../helpers/cli.js';
import { PLANTED_GPUS, plantedFleet, uuidOf } from '../helpers/planted-fleet.js';

const AT = '2026-11-20T00:00:00Z';
const lake = tempLake();
const spool = tempDir();
const out = tempDir();
const prom = path.join(out, 'gpuhealth.prom');

/** The lake's report files for AT. */
const reportFiles = (root: string): string[] =>
  fs.existsSync(path.join(root, 'reports'))
    ? fs.readdirSync(path.join(root, 'reports'), { recursive: true, encoding: 'utf8' }).filter((f) => /report-.*\.(html|md|json)$/.test(f))
    : [];

const readJson = (file: string): ReportData => JSON.parse(fs.readFileSync(file, 'utf8')) as ReportData;
const withoutClock = ({ generated_at: _, ...rest }: ReportData): Omit<ReportData, 'generated_at'> => rest;

let first: { code: number | null; stdout: string; stderr: string };
let jsonFile: string;

beforeAll(async () => {
  const fleet = plantedFleet();
  fs.writeFileSync(path.join(spool, 'fleet.csv'), fleet.csv);
  // the kernel log names its host in the file name, as a log shipper would write it
  fs.writeFileSync(path.join(spool, 'kern-node-a.log'), fleet.kernelLog);
  first = await runCli(['nightly', '--lake', lake, '--spool', spool, '--at', AT, '--out-dir', out, '--prom', prom, '--alert-below', 'poor'], {
    timeoutMs: 180_000,
  });
  jsonFile = path.join(out, fs.readdirSync(out).find((f) => f.endsWith('.json'))!);
}, 240_000);

describe('nightly', () => {
  it('ingests, scores, predicts, recommends and reports in one run, with one summary line, and exits 3 below --alert-below', () => {
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout.trim().split('\n')).toHaveLength(1);
    expect(first.stdout).toMatch(/^nightly 2026-11-20: 12 GPUs, .*critical.*to sell, \d+ GPUs? below poor, report → .*report-20261120T0000Z\.html$/m);
    expect(first.stderr).toMatch(/below poor: GPU-00000000-0000-4000-8000-000000000008 \(node-b\) critical/);
    expect(
      reportFiles(lake)
        .map((f) => path.extname(f))
        .sort(),
    ).toEqual(['.html', '.json', '.md']);
    for (const ext of ['html', 'md', 'json']) expect(fs.existsSync(path.join(out, `report-20261120T0000Z.${ext}`)), ext).toBe(true);
    for (const table of ['scores', 'predictions', 'recommendations']) expect(fs.existsSync(path.join(lake, table)), table).toBe(true);
  });

  it('names the planted failing GPUs in the report', () => {
    const r = readJson(jsonFile);
    expect(r.fleet.gpus).toBe(PLANTED_GPUS);
    const gpu = (g: number) => r.gpus.find((x) => x.gpu_uuid === uuidOf(g))!;
    expect(gpu(8).health_grade).toBe('critical'); // row-remap failure
    expect(gpu(7).health_grade).toMatch(/poor|critical/); // Xid 79
    // its Xid 79 came 28 h before --at, so it is in the grade's factors, not in the last day's events
    expect(gpu(7).top_factor).toMatch(/\b79\b/);
    const html = fs.readFileSync(jsonFile.replace(/\.json$/, '.html'), 'utf8');
    const md = fs.readFileSync(jsonFile.replace(/\.json$/, '.md'), 'utf8');
    for (const text of [html, md]) expect(text).toContain(uuidOf(8).slice(0, 12));
    expect(md.split('\n').length).toBeLessThan(100);
  });

  it('writes a Prometheus textfile that ingest reads as exposition text', async () => {
    const text = fs.readFileSync(prom, 'utf8');
    expect(text).toMatch(/^gpuhealth_overall_score\{.*UUID="GPU-00000000-0000-4000-8000-000000000008".*\} [\d.]+$/m);
    const check = await runCli(['ingest', prom, '--lake', tempLake(), '--format-in', 'prom', '--time', AT, '--json']);
    expect(check.code, check.stderr).toBe(0);
    const s = parseJson<{ rejected: number; samples: number }>(check.stdout);
    expect(s.rejected).toBe(0);
    expect(s.samples).toBeGreaterThan(PLANTED_GPUS * 5);
  });

  it('report --json lists the files it wrote; the Markdown it writes is the nightly one', async () => {
    const md = path.join(tempDir(), 'fleet.md');
    const r = await runCli(['report', '--lake', lake, '--at', AT, '--out', md, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = parseJson<{ at: string; gpus: number; files: { file: string; format: string; bytes: number }[] }>(r.stdout);
    expect(s).toMatchObject({ gpus: PLANTED_GPUS, files: [{ file: md, format: 'md', bytes: fs.statSync(md).size }] });
    expect(s.at.slice(0, 16)).toBe(AT.slice(0, 16));
    const unclocked = (file: string): string => fs.readFileSync(file, 'utf8').replace(/ · made [^_]*/, '');
    expect(unclocked(md)).toBe(unclocked(jsonFile.replace(/\.json$/, '.md')));
  });

  it('writes the same report when run again for the same --at', async () => {
    const again = await runCli(['nightly', '--lake', lake, '--at', AT, '--json'], { timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    const lakeJson = path.join(lake, 'reports', reportFiles(lake).find((f) => f.endsWith('.json'))!);
    expect(withoutClock(readJson(lakeJson))).toEqual(withoutClock(readJson(jsonFile)));
  }, 240_000);

  it('lets one run at a time: a second exits at once with the lock message', async () => {
    const hold = path.join(tempDir(), 'hold');
    const one = spawnCli(['nightly', '--lake', lake, '--at', AT], { env: { GPUHEALTH_TEST_HOLD: hold }, timeoutMs: 180_000 });
    for (let i = 0; i < 600 && !fs.existsSync(hold); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(hold)).toBe(true);
    const t0 = Date.now();
    const two = await runCli(['nightly', '--lake', lake, '--at', AT]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/another gpuhealth nightly is running on .* \(pid \d+\); this one exits without doing anything/);
    fs.rmSync(hold);
    expect((await one.done).code).toBe(0);
  }, 240_000);

  it('runs the other stages when one fails, and exits 1', async () => {
    const r = await runCli(['nightly', '--lake', lake, '--at', AT, '--json'], { env: { GPUHEALTH_TEST_FAIL_STAGE: 'predict' }, timeoutMs: 180_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/predict failed: predict failed on purpose/);
    const s = parseJson<{ stages: { stage: string; status: string }[]; summary: string }>(r.stdout);
    expect(Object.fromEntries(s.stages.map((x) => [x.stage, x.status]))).toEqual({
      compact: 'ok',
      score: 'ok',
      predict: 'failed',
      recommend: 'ok',
      report: 'ok',
    });
    expect(s.summary).toMatch(/predict FAILED/);
  }, 240_000);
});
