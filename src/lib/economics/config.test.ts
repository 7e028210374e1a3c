import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { GRADES } from '../health/score.js';
import { defaultEconomicsSources, economicsLeaves, mergeEconomics, type EconomicsLayer } from './config.js';
import { DEFAULT_ECONOMICS, GLOBAL_SOURCE, modelPricesFor } from './defaults.js';

const FILE = { name: 'gpuhealth.json', date: '2026-11-02' };
const base = (): EconomicsLayer => ({ settings: DEFAULT_ECONOMICS, sources: defaultEconomicsSources() });
const merge = (raw: unknown, layer = base()): EconomicsLayer => mergeEconomics(layer, raw, FILE);

/** The message of the InputError `f` throws (fails the test when it throws none, or another error). */
function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

const B200 = {
  match: ['\\bB200\\b'],
  sale_price: { excellent: 37000, good: 35000, fair: 30000, degraded: 23500, poor: 15500, critical: 5000 },
  rental_rate_per_hour: 4,
  repair_cost: 17500,
  price_decline_per_month: 0.02,
};

describe('model names as telemetry reports them', () => {
  const cases: [string, string | null][] = [
    ['NVIDIA A100-SXM4-80GB', 'A100 80GB'],
    ['NVIDIA A100-SXM4-40GB', 'A100 40GB'],
    ['NVIDIA A100-PCIE-40GB', 'A100 40GB'],
    ['NVIDIA A100 80GB PCIe', 'A100 80GB'],
    ['NVIDIA A100-PCIE', 'A100 40GB'],
    ['NVIDIA H100 80GB HBM3', 'H100 SXM'],
    ['NVIDIA H100 PCIe', 'H100 PCIe'],
    ['NVIDIA H100 NVL', 'H100 PCIe'],
    ['NVIDIA H200', 'H200'],
    ['NVIDIA H200 NVL', 'H200'],
    ['NVIDIA L40S', 'L40S'],
    ['nvidia h100 80gb hbm3', 'H100 SXM'],
    // the keys themselves, as a registry may record them
    ['A100 40GB', 'A100 40GB'],
    ['A100 80GB', 'A100 80GB'],
    ['H100 SXM', 'H100 SXM'],
    ['H100 PCIe', 'H100 PCIe'],
    ['H200', 'H200'],
    ['L40S', 'L40S'],
    // no prices: other boards, and names that only look alike
    ['NVIDIA GH200 480GB', null],
    ['NVIDIA L40', null],
    ['NVIDIA A10', null],
    ['Tesla V100-SXM2-32GB', null],
    ['', null],
  ];
  it.each(cases)('%s → %s', (name, key) => {
    expect(modelPricesFor(DEFAULT_ECONOMICS, name)?.key ?? null).toBe(key);
  });

  it('has no model for an unknown name', () => {
    expect(modelPricesFor(DEFAULT_ECONOMICS, null)).toBeNull();
  });

  it('tries the models in order: the first that matches wins', () => {
    const s = merge({ models: { 'H100 any': { ...B200, match: ['H100'] } } }).settings;
    expect(modelPricesFor(s, 'NVIDIA H100 80GB HBM3')?.key).toBe('H100 SXM');
    expect(modelPricesFor(s, 'NVIDIA H100')?.key).toBe('H100 any');
  });
});

describe('the built-in figures', () => {
  it.each(Object.entries(DEFAULT_ECONOMICS.models))('%s: prices fall with the grade, salvage is 10–20 %% of good, repair 40–60 %%', (_key, m) => {
    const prices = GRADES.map((g) => m.sale_price[g]);
    expect([...prices].sort((a, b) => b - a)).toEqual(prices);
    expect(m.sale_price.critical / m.sale_price.good).toBeGreaterThanOrEqual(0.1);
    expect(m.sale_price.critical / m.sale_price.good).toBeLessThanOrEqual(0.2);
    expect(m.repair_cost / m.sale_price.good).toBeGreaterThanOrEqual(0.4);
    expect(m.repair_cost / m.sale_price.good).toBeLessThanOrEqual(0.6);
    expect(m.as_of).toMatch(/^2026-\d{2}-\d{2}$/);
    expect(m.source.length).toBeGreaterThan(20);
  });

  it('sits in the published ranges', () => {
    const m = DEFAULT_ECONOMICS.models;
    expect(m['H100 SXM']!.sale_price.good).toBeGreaterThanOrEqual(15000);
    expect(m['H100 SXM']!.sale_price.good).toBeLessThanOrEqual(28000);
    expect(m['A100 80GB']!.sale_price.good).toBeGreaterThanOrEqual(4000);
    expect(m['A100 80GB']!.sale_price.good).toBeLessThanOrEqual(18000);
    expect(m['H100 SXM']!.rental_rate_per_hour).toBeGreaterThanOrEqual(1.7);
    expect(m['H100 SXM']!.rental_rate_per_hour).toBeLessThanOrEqual(3.5);
    expect(m['A100 80GB']!.rental_rate_per_hour).toBeGreaterThanOrEqual(0.8);
    expect(m['A100 80GB']!.rental_rate_per_hour).toBeLessThanOrEqual(1.5);
    expect(DEFAULT_ECONOMICS.power_price_per_kwh).toBeGreaterThanOrEqual(0.06);
    expect(DEFAULT_ECONOMICS.power_price_per_kwh).toBeLessThanOrEqual(0.12);
    expect(DEFAULT_ECONOMICS.pue).toBeGreaterThanOrEqual(1.3);
    expect(DEFAULT_ECONOMICS.pue).toBeLessThanOrEqual(1.6);
  });

  it('passes its own checks', () => {
    const all = Object.fromEntries(Object.entries(DEFAULT_ECONOMICS).filter(([k]) => k !== 'models'));
    expect(merge({ ...all, models: DEFAULT_ECONOMICS.models }).settings).toEqual(DEFAULT_ECONOMICS);
  });
});

describe('provenance of the defaults', () => {
  it('cites GLOBAL_SOURCE for a global and the model’s own date and source for its prices', () => {
    const s = defaultEconomicsSources();
    expect(s['economics.pue']).toBe(`default (${GLOBAL_SOURCE.as_of}, ${GLOBAL_SOURCE.source})`);
    const h = DEFAULT_ECONOMICS.models['H100 SXM']!;
    expect(s['economics.models.H100 SXM.sale_price.good']).toBe(`default (${h.as_of}, ${h.source})`);
    expect(Object.keys(s).sort()).toEqual(
      economicsLeaves(DEFAULT_ECONOMICS)
        .map((l) => l.key)
        .sort(),
    );
  });
});

describe('laying a file over the settings', () => {
  it('sets one global and leaves the rest', () => {
    const r = merge({ power_price_per_kwh: 0.07 });
    expect(r.settings).toEqual({ ...DEFAULT_ECONOMICS, power_price_per_kwh: 0.07 });
    expect(r.sources['economics.power_price_per_kwh']).toBe('gpuhealth.json:economics.power_price_per_kwh');
    expect(r.sources['economics.pue']).toMatch(/^default \(/);
  });

  it('sets one field of one model, and one grade of its sale price', () => {
    const r = merge({ models: { 'H100 SXM': { rental_rate_per_hour: 2.5, sale_price: { good: 20000 } } } });
    const before = DEFAULT_ECONOMICS.models['H100 SXM']!;
    expect(r.settings.models['H100 SXM']).toEqual({ ...before, rental_rate_per_hour: 2.5, sale_price: { ...before.sale_price, good: 20000 } });
    expect(r.sources['economics.models.H100 SXM.sale_price.good']).toBe('gpuhealth.json:economics.models.H100 SXM.sale_price.good');
    expect(r.sources['economics.models.H100 SXM.sale_price.fair']).toMatch(/^default \(/);
    expect(Object.keys(r.settings.models)).toEqual(Object.keys(DEFAULT_ECONOMICS.models));
  });

  it('does not modify the settings it lays over', () => {
    const b = base();
    const copy = structuredClone(b);
    merge({ pue: 1.2, models: { 'H100 SXM': { sale_price: { good: 1 } }, L40S: null } }, b);
    expect(b).toEqual(copy);
  });

  it('adds a new model with every field, dated and sourced by the file when it names neither', () => {
    const r = merge({ models: { B200 } });
    expect(r.settings.models['B200']).toEqual({ ...B200, as_of: '2026-11-02', source: 'gpuhealth.json' });
    expect(modelPricesFor(r.settings, 'NVIDIA B200')?.key).toBe('B200');
    const named = merge({ models: { B200: { ...B200, as_of: '2026-10-01', source: 'broker quote' } } });
    expect(named.settings.models['B200']).toMatchObject({ as_of: '2026-10-01', source: 'broker quote' });
  });

  it('removes a model set to null, and keeps a marker of who removed it', () => {
    const r = merge({ models: { 'A100 40GB': null } });
    expect(r.settings.models['A100 40GB']).toBeUndefined();
    expect(r.sources['economics.models.A100 40GB']).toBe('gpuhealth.json:economics.models.A100 40GB');
    expect(Object.keys(r.sources).some((k) => k.startsWith('economics.models.A100 40GB.'))).toBe(false);
    expect(modelPricesFor(r.settings, 'NVIDIA A100-PCIE-40GB')).toBeNull();
    // removing it again in a later file is no mistake; bringing it back needs every field
    expect(merge({ models: { 'A100 40GB': null } }, r).settings.models['A100 40GB']).toBeUndefined();
    expect(inputError(() => merge({ models: { 'A100 40GB': { rental_rate_per_hour: 1 } } }, r))).toContain('economics.models.A100 40GB.match: missing');
    expect(merge({ models: { 'A100 40GB': B200 } }, r).sources['economics.models.A100 40GB']).toBeUndefined();
  });
});

describe('mistakes in the economics section exit 2 naming the file and the key', () => {
  const cases: [string, unknown, string][] = [
    [
      'a string for a rate',
      { models: { 'H100 SXM': { rental_rate_per_hour: 'abc' } } },
      'gpuhealth.json: economics.models.H100 SXM.rental_rate_per_hour: expected a number ≥ 0, got "abc"',
    ],
    [
      'a negative price',
      { models: { 'H100 SXM': { sale_price: { good: -5 } } } },
      'gpuhealth.json: economics.models.H100 SXM.sale_price.good: expected a number ≥ 0, got -5',
    ],
    ['a negative power price', { power_price_per_kwh: -0.1 }, 'gpuhealth.json: economics.power_price_per_kwh: expected a number ≥ 0, got -0.1'],
    ['a share above 1', { marketplace_fee: 5 }, 'gpuhealth.json: economics.marketplace_fee: expected a share from 0 to 1, got 5'],
    ['a share below 0', { salvage_share: -0.1 }, 'gpuhealth.json: economics.salvage_share: expected a share from 0 to 1, got -0.1'],
    [
      'a decline above 1',
      { models: { L40S: { price_decline_per_month: 2 } } },
      'gpuhealth.json: economics.models.L40S.price_decline_per_month: expected a share from 0 to 1, got 2',
    ],
    ['a PUE below 1', { pue: 0.9 }, 'gpuhealth.json: economics.pue: expected a number ≥ 1, got 0.9'],
    ['a fractional horizon', { horizon_months: 6.5 }, 'gpuhealth.json: economics.horizon_months: expected a whole number from 1 to 120, got 6.5'],
    ['a horizon of 0', { horizon_months: 0 }, 'gpuhealth.json: economics.horizon_months: expected a whole number from 1 to 120, got 0'],
    ['a horizon over 120', { horizon_months: 121 }, 'gpuhealth.json: economics.horizon_months: expected a whole number from 1 to 120, got 121'],
    ['a null global', { pue: null }, 'gpuhealth.json: economics.pue: expected a number ≥ 1, got null'],
    ['an unknown key', { power_price: 0.1 }, 'gpuhealth.json: economics.power_price: unknown key; known keys: horizon_months'],
    ['an unknown model field', { models: { L40S: { rent: 1 } } }, 'gpuhealth.json: economics.models.L40S.rent: unknown key'],
    [
      'an unknown grade',
      { models: { L40S: { sale_price: { great: 1 } } } },
      'gpuhealth.json: economics.models.L40S.sale_price.great: unknown key; known keys: excellent, good',
    ],
    ['a regex that does not compile', { models: { L40S: { match: ['L40S('] } } }, 'gpuhealth.json: economics.models.L40S.match[0]: not a regular expression'],
    ['an empty match', { models: { L40S: { match: [] } } }, 'gpuhealth.json: economics.models.L40S.match: expected a list of regular expressions'],
    ['a match that is no list', { models: { L40S: { match: 'L40S' } } }, 'gpuhealth.json: economics.models.L40S.match: expected a list'],
    [
      'a new model missing a grade',
      { models: { B200: { ...B200, sale_price: { ...B200.sale_price, critical: undefined } } } },
      'gpuhealth.json: economics.models.B200.sale_price.critical: missing; a new model needs a price for every grade',
    ],
    [
      'a new model missing its rate',
      { models: { B200: { ...B200, rental_rate_per_hour: undefined } } },
      'gpuhealth.json: economics.models.B200.rental_rate_per_hour: missing',
    ],
    ['a bad as_of', { models: { L40S: { as_of: 'May 2026' } } }, 'gpuhealth.json: economics.models.L40S.as_of: expected a date YYYY-MM-DD, got "May 2026"'],
    ['removing a model there is not', { models: { 'H100 SMX': null } }, 'gpuhealth.json: economics.models.H100 SMX: no such model to remove'],
    ['a model that is no object', { models: { L40S: 5 } }, 'gpuhealth.json: economics.models.L40S: expected an object'],
    ['models that are no object', { models: [] }, 'gpuhealth.json: economics.models: expected an object of model name → prices, got a list'],
    ['an economics section that is no object', 12, 'gpuhealth.json: economics: expected an object'],
  ];
  it.each(cases)('%s', (_what, raw, message) => {
    expect(inputError(() => merge(raw))).toContain(message);
  });
});
