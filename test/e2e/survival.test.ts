/**
 * End to end: `survival` on a registry a user imports. A seeded fleet of two purchase lots, one with
 * infant mortality (Weibull shape 0.6) and one wearing out (shape 3), deployed over two and a half
 * years, some GPUs removed before they failed, some failures recorded by serial only; imported with
 * `assets import` and `failures import`; then `survival --by lot --json` must find the planted shapes
 * (within the ranges below, which hold the fits' 95 % intervals) and call them infant mortality and
 * wear-out, `--svg` must write a well-formed chart, and the user's mistakes exit 2. Needs
 * `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listLakeFiles, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { checkXml } from '../helpers/xml.js';
import { mulberry32 } from '../../src/lib/model/random.js';
import type { SurvivalResult } from '../../src/lib/stage/survival.js';

const DAY_MS = 86_400_000;
/** The end of the generated history (and the default observation end: the newest date in it). */
const END_MS = Date.parse('2026-06-01T00:00:00Z');
const LOTS = [
  { lot: 'PO-infant', shape: 0.6, scale: 3000, model: 'NVIDIA H100 80GB HBM3' },
  { lot: 'PO-wear', shape: 3, scale: 900, model: 'NVIDIA H100 80GB HBM3' },
] as const;
const PER_LOT = 400;
/** Share of GPUs removed (sold, moved) at a random point of their service, before any failure. */
const REMOVED_SHARE = 0.1;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const uuid = (i: number): string => `GPU-5e1c2d3e-4f50-4a61-8b72-${String(i).padStart(12, '0')}`;

/** assets.csv and failures.csv of the planted fleet, and how many GPUs failed, were removed and so on. */
function plantedFleet(dir: string, seed: number): { assets: string; failures: string; failed: number; removed: number } {
  const rand = mulberry32(seed);
  const assets = ['gpu_uuid,serial,model,host,datacenter,rack,deployed_date,lot,removed_date'];
  const failures = ['gpu_uuid,serial,failed_at,failure_type,description'];
  let failed = 0;
  let removed = 0;
  let i = 0;
  for (const l of LOTS) {
    for (let k = 0; k < PER_LOT; k++, i++) {
      const deployed = END_MS - Math.floor(200 + rand() * 700) * DAY_MS - (l.lot === 'PO-wear' ? 200 * DAY_MS : 0);
      const life = l.scale * (-Math.log(1 - rand())) ** (1 / l.shape) * DAY_MS;
      const removal = rand() < REMOVED_SHARE ? deployed + Math.floor(rand() * ((END_MS - deployed) / DAY_MS)) * DAY_MS : null;
      const failsAt = deployed + life;
      const host = `gpu-${l.lot === 'PO-wear' ? 'b' : 'a'}-n${String(Math.floor(k / 8)).padStart(3, '0')}`;
      const rack = `r${String(Math.floor(k / 32)).padStart(2, '0')}`;
      // a failure on the removal day is still a failure (RMA entered as a removal)
      const isFailure = failsAt < END_MS && (removal === null || failsAt < removal);
      if (removal !== null && !isFailure) removed++;
      assets.push(`${uuid(i)},SN-${i},${l.model},${host},dc1,${rack},${day(deployed)},${l.lot},${removal !== null && !isFailure ? day(removal) : ''}`);
      if (isFailure) {
        failed++;
        // every fifth failure is recorded by serial only, as many RMA systems do
        const id = i % 5 === 0 ? `,SN-${i}` : `${uuid(i)},`;
        failures.push(`${id},${new Date(failsAt).toISOString().replace(/\.\d+Z$/, 'Z')},memory,planted`);
      }
    }
  }
  const a = path.join(dir, 'assets.csv');
  const f = path.join(dir, 'failures.csv');
  fs.writeFileSync(a, `${assets.join('\n')}\n`);
  fs.writeFileSync(f, `${failures.join('\n')}\n`);
  return { assets: a, failures: f, failed, removed };
}

const lake = tempLake();
const dir = tempDir();
let fleet: ReturnType<typeof plantedFleet>;

beforeAll(async () => {
  fleet = plantedFleet(dir, 8);
  for (const [topic, file] of [
    ['assets', fleet.assets],
    ['failures', fleet.failures],
  ] as const) {
    const r = await runCli([topic, 'import', file, '--lake', lake]);
    expect(r.code, r.stderr).toBe(0);
  }
});

describe.concurrent('survival', () => {
  it('recovers the planted Weibull shapes of the two lots with --by lot --json', async () => {
    const before = listLakeFiles(lake);
    const r = await runCli(['survival', '--lake', lake, '--by', 'lot', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(stackLines(r.stderr)).toEqual([]);
    const s = parseJson<SurvivalResult>(r.stdout);
    // the default observation end: the newest date the registry knows, here its last failure or removal
    expect(Date.parse(s.at)).toBeLessThanOrEqual(END_MS);
    expect(Date.parse(s.at)).toBeGreaterThan(END_MS - 30 * DAY_MS);
    expect(s.by).toBe('lot');
    expect(s.gpus).toBe(2 * PER_LOT);
    expect(s.failures).toBe(fleet.failed);
    expect(s.groups.map((g) => g.group)).toEqual(['PO-infant', 'PO-wear']);
    const [infant, wear] = s.groups;
    expect(infant!.n + wear!.n).toBe(2 * PER_LOT);
    expect(infant!.removed + wear!.removed).toBe(fleet.removed);
    for (const g of s.groups) expect(g.censored).toBe(g.n - g.failures);
    // planted 0.6 and 3; the same lifetimes fitted directly for seeds 1–20 gave 0.52–0.75 and 2.69–3.28
    // (seed 8: about 0.60 [0.51, 0.71] and 3.06 [2.69, 3.48])
    expect(infant!.weibull!.shape).toBeGreaterThan(0.5);
    expect(infant!.weibull!.shape).toBeLessThan(0.75);
    expect(infant!.weibull!.hazard_pattern).toBe('infant_mortality');
    expect(wear!.weibull!.shape).toBeGreaterThan(2.5);
    expect(wear!.weibull!.shape).toBeLessThan(3.5);
    expect(wear!.weibull!.hazard_pattern).toBe('wear_out');
    expect(wear!.weibull!.shape_ci[0]).toBeLessThan(3);
    expect(wear!.weibull!.shape_ci[1]).toBeGreaterThan(3);
    // planted scale 900 days
    expect(wear!.weibull!.scale_days).toBeGreaterThan(800);
    expect(wear!.weibull!.scale_days).toBeLessThan(1000);
    // the wear lot passes its median (Weibull(3, 900): 797 days) within its follow-up
    expect(wear!.median_days).toBeGreaterThan(700);
    expect(wear!.median_days).toBeLessThan(900);
    for (const g of s.groups) {
      expect(g.km[0]).toEqual({ t_days: 0, survival: 1, lower: 1, upper: 1 });
      expect(g.km).toHaveLength(1 + new Set(g.km.slice(1).map((p) => p.t_days)).size);
      for (const p of g.km.slice(1)) {
        expect(p.lower!).toBeLessThanOrEqual(p.survival);
        expect(p.upper!).toBeGreaterThanOrEqual(p.survival);
      }
    }
    // the Cox model: lot against the larger lot with failures (a tie: by name), model and slot left out
    // (one model; no telemetry, so no slot); the lots' hazards cross (shapes 0.6 and 3), so their
    // ratio is an average over ages and nothing to test here (the fit itself is checked against R)
    expect(s.cox!.ties).toBe('efron');
    expect(s.cox!.references).toMatchObject({ lot: 'PO-infant', rack: 'r00' });
    expect(s.cox!.covariates.map((c) => c.name)).toContain('lot=PO-wear');
    expect(s.cox!.covariates[0]!.name).toBe('deployed (per year later)');
    expect(s.notes).toEqual(['Cox model: model: left out, every GPU has the same value', 'Cox model: slot: left out, every GPU has the same value']);
    for (const c of s.cox!.covariates) {
      expect(c.ci[0]).toBeLessThanOrEqual(c.hazard_ratio);
      expect(c.ci[1]).toBeGreaterThanOrEqual(c.hazard_ratio);
    }
    // read-only: the lake is as it was
    expect(listLakeFiles(lake)).toEqual(before);
  });

  it('prints a table by default and notes what it did on stderr', async () => {
    const r = await runCli(['survival', '--lake', lake, '--by', 'lot'], { env: { COLUMNS: '160' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PO-infant.*infant mortality/);
    expect(r.stdout).toMatch(/PO-wear.*wear out/);
    expect(r.stdout).toContain('Cox covariate');
    expect(r.stderr).toMatch(/800 GPUs, \d+ failed, observed to 2026-0[56]-\d\d; Cox hazard ratios against/);
    // on an 80-column terminal the least important columns give way
    const narrow = await runCli(['survival', '--lake', lake, '--by', 'lot', '--quiet'], { env: { COLUMNS: '80' } });
    expect(narrow.code, narrow.stderr).toBe(0);
    expect(Math.max(...narrow.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80);
    expect(narrow.stdout).toMatch(/PO-wear.*wear out/);
  });

  it('writes the Kaplan–Meier curves as a well-formed SVG with a band and a curve per lot', async () => {
    const file = path.join(dir, 'km.svg');
    const r = await runCli(['survival', '--lake', lake, '--by', 'lot', '--svg', file, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const svg = fs.readFileSync(file, 'utf8');
    expect(checkXml(svg)[0]).toBe('svg');
    expect(svg.match(/class="curve"/g)).toHaveLength(2);
    expect(svg.match(/class="band"/g)).toHaveLength(2);
    expect(svg).toContain('PO-infant (n ');
    expect(svg).toContain('days since deployment');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('censors at --at: failures after it are not seen', async () => {
    const at = '2025-06-01T00:00:00Z';
    const r = await runCli(['survival', '--lake', lake, '--at', at, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = parseJson<SurvivalResult>(r.stdout);
    expect(s.at).toBe('2025-06-01T00:00:00.000Z');
    expect(s.groups.map((g) => g.group)).toEqual(['all']);
    expect(s.failures).toBeLessThan(fleet.failed);
    expect(Math.max(...s.groups[0]!.km.map((p) => p.t_days))).toBeLessThanOrEqual(s.groups[0]!.followup_days);
    expect(s.left_out.deployed_after_at).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/deployed after the observation end left out/);
  });

  it('reads an assets file from before lot and removed_date, and refuses --by lot there (exit 2)', async () => {
    const old = tempLake();
    fs.mkdirSync(path.join(old, 'assets'), { recursive: true });
    fs.cpSync(path.join(lake, 'failures'), path.join(old, 'failures'), { recursive: true });
    const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
    await queryLake(
      lake,
      `COPY (SELECT gpu_uuid, serial, model, host, datacenter, rack, deployed_date, warranty_expiry, purchase_price FROM read_parquet(${q(path.join(lake, 'assets', '*.parquet'))}))
       TO ${q(path.join(old, 'assets', 'assets.parquet'))} (FORMAT parquet)`,
    );
    const ok = await runCli(['survival', '--lake', old, '--by', 'model', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const s = parseJson<SurvivalResult>(ok.stdout);
    expect(s.gpus).toBe(2 * PER_LOT);
    expect(s.groups.reduce((a, g) => a + g.removed, 0)).toBe(0);
    const r = await runCli(['survival', '--lake', old, '--by', 'lot']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no asset in the registry has a lot/);
    expect(r.stderr).toMatch(/Try: add a lot column to assets\.csv/);
    expect(stackLines(r.stderr)).toEqual([]);
  });

  it('exits 2 with a clear message on a lake without assets, a bad --by and a bad --at', async () => {
    const empty = tempLake();
    fs.mkdirSync(path.join(empty, '_ingest'), { recursive: true });
    const none = await runCli(['survival', '--lake', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no asset registry/);
    expect(none.stderr).toMatch(/gpuhealth assets import/);
    const by = await runCli(['survival', '--lake', lake, '--by', 'colour']);
    expect(by.code).toBe(2);
    // oclif wraps its message at the terminal width
    expect(by.stderr.replace(/\s+›\s+/g, ' ')).toMatch(/Expected --by=colour to be one of: model, lot, rack, datacenter, host/);
    const at = await runCli(['survival', '--lake', lake, '--at', 'yesterday']);
    expect(at.code).toBe(2);
    expect(at.stderr).toMatch(/invalid time "yesterday"/);
    const early = await runCli(['survival', '--lake', lake, '--at', '2020-01-01']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/no GPU was deployed by the observation end 2020-01-01/);
    const missing = await runCli(['survival', '--lake', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    for (const res of [none, by, at, early, missing]) expect(stackLines(res.stderr)).toEqual([]);
  });
});
