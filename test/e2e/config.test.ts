/**
 * End to end: `config show` and `config init` on temp lakes. The starter `init` writes must change
 * nothing `show` reports but the sources; the layers (lake file, $GPUHEALTH_CONFIG, --config) apply in
 * that order; and a user's mistakes exit 2 naming the file and the key. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir, tempLake } from '../helpers/cli.js';

interface Report {
  files: string[];
  settings: { key: string; value: unknown; source: string }[];
  xid: { built_in: number; overridden: number };
}

const setting = (r: Report, key: string): Report['settings'][number] | undefined => r.settings.find((s) => s.key === key);

describe.concurrent('config show', () => {
  it('shows the defaults, with their sources, where the lake has no file (or does not exist)', async () => {
    const r = await runCli(['config', 'show', '--json', '--lake', tempLake()]);
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson<Report>(r.stdout);
    expect(report.files).toEqual([]);
    expect(setting(report, 'economics.pue')).toMatchObject({ value: 1.4, source: expect.stringMatching(/^default \(2026-\d\d-\d\d, .+\)$/) });
    expect(setting(report, 'economics.models.H100 SXM.rental_rate_per_hour')?.source).toMatch(/^default \(2026-/);
    expect(report.settings.some((s) => s.key.startsWith('xid.'))).toBe(false);
    expect(report.xid.built_in).toBeGreaterThan(30);
  });

  it('layers the lake file, then $GPUHEALTH_CONFIG, then --config', async () => {
    const lake = tempDir();
    const dir = tempDir();
    const own = path.join(lake, 'gpuhealth.json');
    fs.writeFileSync(own, JSON.stringify({ economics: { pue: 1.3, power_price_per_kwh: 0.07 }, xid: { '13': { severity: 'watch' } } }));
    const env = path.join(dir, 'env.json');
    fs.writeFileSync(env, JSON.stringify({ economics: { pue: 1.5, models: { 'H100 SXM': { sale_price: { good: 20000 } } } } }));
    const flag = path.join(dir, 'flag.json');
    fs.writeFileSync(flag, JSON.stringify({ '//': 'a comment', economics: { pue: 1.2 } }));
    const r = await runCli(['config', 'show', '--json', '--lake', lake, '--config', flag], { env: { GPUHEALTH_CONFIG: env } });
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson<Report>(r.stdout);
    expect(report.files).toEqual([own, env, flag]);
    expect(setting(report, 'economics.pue')).toEqual({ key: 'economics.pue', value: 1.2, source: `${flag}:economics.pue` });
    expect(setting(report, 'economics.power_price_per_kwh')).toMatchObject({ value: 0.07, source: `${own}:economics.power_price_per_kwh` });
    expect(setting(report, 'economics.models.H100 SXM.sale_price.good')).toMatchObject({
      value: 20000,
      source: `${env}:economics.models.H100 SXM.sale_price.good`,
    });
    expect(setting(report, 'xid.13')).toMatchObject({ value: { severity: 'watch' }, source: `${own}:xid.13` });
    expect(report.xid.overridden).toBe(1);
  });

  it('prints a table of setting, source and value, and the files on stderr', async () => {
    const r = await runCli(['config', 'show', '--lake', tempLake()], { env: { COLUMNS: '120' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/setting\s+│ source\s+│ value/);
    expect(r.stdout).toMatch(/economics\.pue\s+│ default \(2026-\d\d-\d\d\)\s+│ 1\.4 /);
    expect(r.stderr).toContain('config files: none (built-in defaults)');
    expect(r.stderr).toMatch(/Xid codes: \d+ built in/);
  });

  it('exits 2 naming the file and the key of a bad value', async () => {
    const lake = tempDir();
    const own = path.join(lake, 'gpuhealth.json');
    fs.writeFileSync(own, JSON.stringify({ economics: { models: { 'H100 SXM': { rental_rate_per_hour: 'abc' } } } }));
    const r = await runCli(['config', 'show', '--lake', lake]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Error: ${own}: economics.models.H100 SXM.rental_rate_per_hour: expected a number ≥ 0, got "abc"`);
  });

  it('exits 2 when $GPUHEALTH_CONFIG or --config names no file', async () => {
    const env = await runCli(['config', 'show', '--lake', tempLake()], { env: { GPUHEALTH_CONFIG: '/no/such/gpuhealth.json' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('GPUHEALTH_CONFIG names /no/such/gpuhealth.json, which does not exist');
    const flag = await runCli(['config', 'show', '--lake', tempLake(), '--config', '/no/such.json']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--config /no/such.json: no such file');
  });
});

describe('config init', () => {
  it('writes a starter into the lake that changes no value, and refuses to overwrite it without --force', async () => {
    const lake = tempDir();
    const before = parseJson<Report>((await runCli(['config', 'show', '--json', '--lake', lake])).stdout);
    const init = await runCli(['config', 'init', '--lake', lake]);
    expect(init.code, init.stderr).toBe(0);
    const file = path.join(lake, 'gpuhealth.json');
    expect(init.stdout.trim()).toBe(`wrote ${file}`);
    const after = parseJson<Report>((await runCli(['config', 'show', '--json', '--lake', lake])).stdout);
    expect(after.files).toEqual([file]);
    expect(after.settings.map((s) => [s.key, s.value])).toEqual(before.settings.map((s) => [s.key, s.value]));
    expect(setting(after, 'economics.pue')?.source).toBe(`${file}:economics.pue`);

    fs.writeFileSync(file, '{}');
    const again = await runCli(['config', 'init', '--lake', lake]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${file} exists; not overwritten`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{}');
    const forced = await runCli(['config', 'init', '--lake', lake, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(parseJson(forced.stdout)).toEqual({ file, overwritten: true });
    expect(fs.readdirSync(lake)).toEqual(['gpuhealth.json']);
  });

  it('writes a named FILE, and exits 2 where the folder does not exist', async () => {
    const file = path.join(tempDir(), 'prices.json');
    const r = await runCli(['config', 'init', file, '--lake', tempLake()]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    const lake = tempLake();
    const missing = await runCli(['config', 'init', '--lake', lake]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`no folder ${lake}`);
    expect(fs.existsSync(lake)).toBe(false);
  });
});
