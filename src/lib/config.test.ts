import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { XID_CLASSES } from './dcgm/xid.js';
import { DEFAULT_ECONOMICS } from './economics/defaults.js';
import { InputError } from './errors.js';
import { CONFIG_ENV, configPath, configReport, defaultConfig, loadConfig, parseConfig, starterConfig, stripComments, writeStarterConfig } from './config.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-config-'));
  made.push(d);
  return d;
}
function write(dir: string, name: string, data: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof data === 'string' ? data : JSON.stringify(data));
  return f;
}
function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('which files apply', () => {
  it('none without a lake file, env or flag: the defaults', () => {
    const lake = path.join(tempDir(), 'no-such-lake');
    expect(configPath(undefined, lake, {})).toEqual([]);
    expect(loadConfig([])).toEqual(defaultConfig());
  });

  it('the lake file, then the env file, then the flag file; each named once', () => {
    const lake = tempDir();
    const own = write(lake, 'gpuhealth.json', {});
    const env = write(tempDir(), 'env.json', {});
    const flag = write(tempDir(), 'flag.json', {});
    expect(configPath(flag, lake, { [CONFIG_ENV]: env })).toEqual([own, env, flag]);
    expect(configPath(undefined, lake, {})).toEqual([own]);
    expect(configPath(own, lake, { [CONFIG_ENV]: own })).toEqual([own]);
  });

  it('refuses an env or flag file that does not exist, naming where it came from', () => {
    const lake = tempDir();
    expect(inputError(() => configPath(undefined, lake, { [CONFIG_ENV]: '/no/such.json' }))).toBe(`${CONFIG_ENV} names /no/such.json, which does not exist`);
    expect(inputError(() => configPath('/no/such.json', lake, {}))).toBe('--config /no/such.json: no such file');
  });
});

describe('layering', () => {
  it('applies lake < env < flag, each over the keys it sets, and says where each value came from', () => {
    const lake = tempDir();
    const own = write(lake, 'gpuhealth.json', {
      economics: { power_price_per_kwh: 0.07, pue: 1.3, models: { 'H100 SXM': { rental_rate_per_hour: 2.0 } } },
      xid: { '13': { severity: 'watch' } },
    });
    const env = write(tempDir(), 'env.json', { economics: { pue: 1.5, models: { 'H100 SXM': { sale_price: { good: 20000 } } } } });
    const flag = write(tempDir(), 'flag.json', { economics: { pue: 1.2 }, xid: { '13': { class: 'gpu_hardware' } } });
    const c = loadConfig(configPath(flag, lake, { [CONFIG_ENV]: env }));
    expect(c.files).toEqual([own, env, flag]);
    expect(c.economics.power_price_per_kwh).toBe(0.07);
    expect(c.economics.pue).toBe(1.2);
    expect(c.economics.models['H100 SXM']).toMatchObject({
      rental_rate_per_hour: 2.0,
      sale_price: { good: 20000, fair: DEFAULT_ECONOMICS.models['H100 SXM']!.sale_price.fair },
    });
    expect(c.sources['economics.power_price_per_kwh']).toBe(`${own}:economics.power_price_per_kwh`);
    expect(c.sources['economics.pue']).toBe(`${flag}:economics.pue`);
    expect(c.sources['economics.models.H100 SXM.rental_rate_per_hour']).toBe(`${own}:economics.models.H100 SXM.rental_rate_per_hour`);
    expect(c.sources['economics.models.H100 SXM.sale_price.good']).toBe(`${env}:economics.models.H100 SXM.sale_price.good`);
    expect(c.sources['economics.horizon_months']).toMatch(/^default \(2026-/);
    // Xid overrides apply in order too: the lake's severity, then the flag's class
    expect(c.xid[13]).toMatchObject({ severity: 'watch', class: 'gpu_hardware' });
    expect(c.sources['xid.13']).toBe(`${flag}:xid.13`);
  });

  it('gives the file and the key of a mistake in any layer', () => {
    const lake = tempDir();
    write(lake, 'gpuhealth.json', { economics: { models: { 'H100 SXM': { rental_rate_per_hour: 'abc' } } } });
    const own = path.join(lake, 'gpuhealth.json');
    expect(inputError(() => loadConfig(configPath(undefined, lake, {})))).toBe(
      `${own}: economics.models.H100 SXM.rental_rate_per_hour: expected a number ≥ 0, got "abc"`,
    );
    const bad = write(tempDir(), 'bad.json', { xid: { '13': { severity: 'awful' } } });
    expect(inputError(() => loadConfig([bad]))).toMatch(new RegExp(`^${bad}: .*xid\\.13\\.severity`));
    const unknown = write(tempDir(), 'unknown.json', { economic: {} });
    expect(inputError(() => loadConfig([unknown]))).toBe(`${unknown}: economic: unknown key; known keys: economics, xid`);
    const notJson = write(tempDir(), 'broken.json', '{ "economics": ');
    expect(inputError(() => loadConfig([notJson]))).toContain(`${notJson} is not valid JSON`);
    expect(inputError(() => loadConfig([write(tempDir(), 'list.json', [])]))).toContain('expected a JSON object');
  });

  it('dates a new model without as_of by the file', () => {
    const f = write(tempDir(), 'b200.json', {
      economics: {
        models: {
          B200: {
            match: ['B200'],
            sale_price: { excellent: 6, good: 5, fair: 4, degraded: 3, poor: 2, critical: 1 },
            rental_rate_per_hour: 4,
            repair_cost: 1,
            price_decline_per_month: 0.02,
          },
        },
      },
    });
    fs.utimesSync(f, new Date('2026-09-30T12:00:00Z'), new Date('2026-09-30T12:00:00Z'));
    expect(loadConfig([f]).economics.models['B200']).toMatchObject({ as_of: '2026-09-30', source: f });
  });
});

describe('comments', () => {
  it('ignores keys that start with // at any level', () => {
    expect(stripComments({ '//': 'x', a: { '// b': 1, c: [{ '//': 2, d: 3 }] } })).toEqual({ a: { c: [{ d: 3 }] } });
    const c = parseConfig(
      {
        '//': ['top'],
        economics: { '//': 'e', pue: 1.5, models: { '//': 1, L40S: { '//': 'm', sale_price: { '//': 0, good: 7000 } } } },
        xid: { '//': 'none' },
      },
      'c.json',
    );
    expect(c.economics.pue).toBe(1.5);
    expect(c.economics.models['L40S']!.sale_price.good).toBe(7000);
    expect(c.xid).toEqual(XID_CLASSES);
    expect(Object.keys(c.sources).filter((k) => k.includes('//'))).toEqual([]);
  });
});

describe('config show', () => {
  it('lists every economic setting, removed models and the Xid codes a file set', () => {
    const f = write(tempDir(), 'c.json', {
      economics: { models: { 'A100 40GB': null } },
      xid: { '79': { severity: 'rma' }, '999': { class: 'memory', severity: 'watch' } },
    });
    const r = configReport(loadConfig([f]));
    expect(r.files).toEqual([f]);
    expect(r.xid).toEqual({ built_in: Object.keys(XID_CLASSES).length, overridden: 2 });
    const byKey = new Map(r.settings.map((s) => [s.key, s]));
    expect(byKey.get('economics.pue')).toEqual({ key: 'economics.pue', value: 1.4, source: expect.stringMatching(/^default \(2026-/) });
    expect(byKey.get('economics.models.A100 40GB')).toEqual({ key: 'economics.models.A100 40GB', value: null, source: `${f}:economics.models.A100 40GB` });
    expect(byKey.get('economics.models.H100 SXM.match')?.value).toEqual(DEFAULT_ECONOMICS.models['H100 SXM']!.match);
    expect(byKey.get('xid.79')).toMatchObject({ value: { severity: 'rma' }, source: `${f}:xid.79` });
    expect(r.settings.filter((s) => s.key.startsWith('xid.')).map((s) => s.key)).toEqual(['xid.79', 'xid.999']);
    expect(r.settings.every((s) => s.source !== '')).toBe(true);
  });
});

describe('config init', () => {
  it('writes a starter that parses back to exactly the defaults', () => {
    const c = parseConfig(JSON.parse(starterConfig()), 'starter.json');
    expect(c.economics).toEqual(DEFAULT_ECONOMICS);
    expect(c.xid).toEqual(XID_CLASSES);
  });

  it('shows every economics key and a model override', () => {
    const raw = stripComments(JSON.parse(starterConfig())) as { economics: Record<string, unknown> & { models: Record<string, unknown> } };
    for (const k of Object.keys(DEFAULT_ECONOMICS)) expect(raw.economics, k).toHaveProperty(k);
    expect(Object.keys(raw.economics.models)).toEqual(['H100 SXM']);
  });

  it('writes into an existing folder, and keeps an existing file unless forced', () => {
    const dir = tempDir();
    const file = path.join(dir, 'gpuhealth.json');
    expect(writeStarterConfig({ file, force: false })).toEqual({ file, overwritten: false });
    expect(fs.readFileSync(file, 'utf8')).toBe(starterConfig());
    fs.writeFileSync(file, '{}');
    expect(inputError(() => writeStarterConfig({ file, force: false }))).toBe(`${file} exists; not overwritten`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{}');
    expect(writeStarterConfig({ file, force: true })).toEqual({ file, overwritten: true });
    expect(fs.readdirSync(dir)).toEqual(['gpuhealth.json']);
    const missing = path.join(dir, 'no-lake', 'gpuhealth.json');
    expect(inputError(() => writeStarterConfig({ file: missing, force: false }))).toContain(`no folder ${path.join(dir, 'no-lake')}`);
    expect(fs.existsSync(path.join(dir, 'no-lake'))).toBe(false);
  });
});
