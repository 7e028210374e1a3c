/**
 * The built-in economic settings: what `recommend` uses where no config file says otherwise
 * (economics/config.ts lays the files over them; docs/economics.md, "Defaults and their sources").
 *
 * The figures are mid-points of the ranges published in 2025–26 (used-market listings and broker
 * quotes, cloud on-demand and marketplace rates, utility tariffs), not quotes for any one fleet. They
 * move fast — used H100 prices halved within two years — so a fleet should replace them with its own.
 *
 * Model entries are tried in order and the first whose `match` fits wins, so the more specific entry
 * of a family comes first: the A100 80GB before the A100 40GB, the H100 PCIe/NVL before the H100 SXM.
 */
import type { HealthGrade } from '../health/score.js';
import type { EconomicsSettings, ModelPrices } from './types.js';

/** When the global settings (power, PUE, fees, shares) were taken, and from what kind of figure. */
export const GLOBAL_SOURCE = Object.freeze({
  as_of: '2026-05-01',
  source:
    'typical published figures, 2025–26: industrial and data-centre power tariffs ($0.06–0.12/kWh), data-centre PUE surveys (1.3–1.6), broker and marketplace fees, refurbisher handling costs',
});

/** When the model prices were taken. */
const MODELS_AS_OF = '2026-05-01';
const MARKET_SOURCE = 'used-market listings and broker quotes, 2025–26; cloud on-demand and marketplace rates';

/**
 * Used sale price by grade as shares of the `good` price: a card in excellent health fetches a little
 * more, buyers discount visible wear through fair and degraded, a poor card sells to those who will
 * refurbish it, and a critical one only for parts (salvage).
 */
const GRADE_SHARE: Readonly<Record<HealthGrade, number>> = {
  excellent: 1.06,
  good: 1,
  fair: 0.85,
  degraded: 0.67,
  poor: 0.45,
  critical: 0.14,
};

/** Repair or board replacement out of warranty, as a share of the used `good` price. */
const REPAIR_SHARE = 0.5;

function salePrices(good: number): Record<HealthGrade, number> {
  const out = {} as Record<HealthGrade, number>;
  // rounded to $50: the figures are not known any closer
  for (const [g, share] of Object.entries(GRADE_SHARE) as [HealthGrade, number][]) out[g] = Math.round((good * share) / 50) * 50;
  return out;
}

function model(match: string[], good: number, rental: number, decline: number, source: string): ModelPrices {
  return {
    match,
    sale_price: salePrices(good),
    rental_rate_per_hour: rental,
    repair_cost: Math.round((good * REPAIR_SHARE) / 50) * 50,
    price_decline_per_month: decline,
    as_of: MODELS_AS_OF,
    source,
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export const DEFAULT_ECONOMICS: EconomicsSettings = deepFreeze({
  horizon_months: 12,
  discount_rate_annual: 0.1,
  hours_per_month: 730,
  power_price_per_kwh: 0.09,
  pue: 1.4,
  maintenance_per_month: 40,
  downtime_months_per_failure: 0.5,
  marketplace_fee: 0.05,
  deinstall_cost: 150,
  repurpose_rate_share: 0.6,
  repurpose_utilization: 0.5,
  repurpose_power_share: 0.7,
  salvage_share: 0.1,
  models: {
    // H200 NVL is the PCIe card with the same 141 GB: priced with the H200
    H200: model(['\\bH200\\b'], 25000, 3.0, 0.02, `${MARKET_SOURCE} (new ≈ $28–31k, used below; $2.5–4.5/GPU-h)`),
    // H100 NVL is a PCIe card (94 GB, NVLink bridge): sold and rented in the PCIe tier
    'H100 PCIe': model(['\\bH100\\b.*\\b(PCIe|NVL)\\b'], 17000, 1.9, 0.02, `${MARKET_SOURCE} (used ≈ $12–20k; rented below the SXM)`),
    // NVML reports the SXM5 board as "NVIDIA H100 80GB HBM3"
    'H100 SXM': model(['\\bH100\\b.*\\b(SXM|HBM3)'], 22000, 2.2, 0.02, `${MARKET_SOURCE} (used ≈ $15–28k; $1.7–3.5/GPU-h)`),
    'A100 80GB': model(['\\bA100\\b.*\\b80 ?GB\\b'], 9000, 1.2, 0.015, `${MARKET_SOURCE} (used ≈ $4–18k by form factor and condition; $0.8–1.5/GPU-h)`),
    // an A100 whose name does not say 80GB is the original 40 GB board
    'A100 40GB': model(
      ['\\bA100\\b.*\\b40 ?GB\\b', '^(NVIDIA )?A100([ -](SXM4?|PCIe))*$'],
      5000,
      0.9,
      0.015,
      `${MARKET_SOURCE} (the low end of the A100 ranges: below the 80 GB board)`,
    ),
    L40S: model(['\\bL40S\\b'], 6500, 0.8, 0.015, `${MARKET_SOURCE} (few used sales: priced below new; rented about a third below the A100)`),
  },
});

const compiled = new WeakMap<ModelPrices, RegExp[]>();

function patterns(prices: ModelPrices): RegExp[] {
  let re = compiled.get(prices);
  if (re === undefined) {
    re = prices.match.map((p) => new RegExp(p, 'i'));
    compiled.set(prices, re);
  }
  return re;
}

/**
 * The prices for a GPU model name as telemetry or the registry reports it ("NVIDIA H100 80GB HBM3",
 * or a key itself: "H100 SXM"): the first entry of `settings.models` with a matching pattern, or null.
 */
export function modelPricesFor(settings: EconomicsSettings, modelName: string | null): { key: string; prices: ModelPrices } | null {
  if (modelName === null) return null;
  const name = modelName.trim();
  if (name === '') return null;
  for (const [key, prices] of Object.entries(settings.models)) {
    if (patterns(prices).some((re) => re.test(name))) return { key, prices };
  }
  return null;
}
