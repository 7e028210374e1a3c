import { describe, expect, it } from 'vitest';
import { GRADES, type HealthGrade } from '../health/score.js';
import { mulberry32 } from '../model/random.js';
import { confidenceOf, formatUsd, gpuEconomics, perturb, sensitivity, TIE_ORDER, underWarranty } from './npv.js';
import type { EconomicsSettings, GpuEconomicsInput, ModelPrices } from './types.js';

const D = 365.25 / 12;
const AT = Date.UTC(2025, 0, 15);

const PRICES: ModelPrices = {
  match: ['H100'],
  sale_price: { excellent: 20_000, good: 19_000, fair: 17_000, degraded: 14_000, poor: 10_000, critical: 5_000 },
  rental_rate_per_hour: 2,
  repair_cost: 8_000,
  price_decline_per_month: 0,
  as_of: '2025-01-15',
  source: 'hand-made for the tests',
};

const SETTINGS: EconomicsSettings = {
  horizon_months: 12,
  discount_rate_annual: 0.1,
  hours_per_month: 730,
  power_price_per_kwh: 0.1,
  pue: 1.4,
  maintenance_per_month: 50,
  downtime_months_per_failure: 0.5,
  marketplace_fee: 0.05,
  deinstall_cost: 200,
  repurpose_rate_share: 0.6,
  repurpose_utilization: 0.5,
  repurpose_power_share: 0.7,
  salvage_share: 0.1,
  models: { 'H100 SXM': PRICES },
};

/** A good-grade H100 at 80 % utilisation drawing 500 W, with no failure risk and no warranty on record. */
function gpu(over: Partial<GpuEconomicsInput> = {}, prices: Partial<ModelPrices> = {}): GpuEconomicsInput {
  return {
    gpu_uuid: 'GPU-1',
    prices: { ...PRICES, ...prices },
    price_key: 'H100 SXM',
    health_grade: 'good',
    rma_grade: false,
    utilization: 0.8,
    power_w: 500,
    performance_factor: 1,
    failure_prob_7d: 0,
    failure_prob_30d: 0,
    failure_prob_90d: 0,
    warranty_days_left: null,
    ...over,
  };
}

// The hand arithmetic shared by the golden cases (SETTINGS, PRICES, gpu()):
const RM = 1.1 ** (1 / 12) - 1; // monthly rate: 0.0079741…
const disc = (m: number): number => 1.1 ** (m / 12); // (1 + r_m)^m
const ANNUITY = (1 - 1 / 1.1) / RM; // Σ_{m=1..12} 1/(1 + r_m)^m in closed form: 11.40049…
const REVENUE = 2 * 730 * 0.8; // $/h × h × utilisation × performance = 1168
const POWER = 0.5 * 730 * 0.1 * 1.4; // kW × h × $/kWh × PUE = 51.1
const NET = REVENUE - POWER - 50; // less maintenance: 1066.9 a month
const MARGIN = REVENUE - POWER; // what a month of downtime loses: 1116.9
const SELL_GOOD = 19_000 * 0.95 - 200; // the good-grade price, less 5 % and de-installation: 17,850
const REP_NET = 2 * 0.6 * 730 * 0.5 - 0.5 * 0.7 * 730 * 0.1 * 1.4 - 50; // 438 − 35.77 − 50 = 352.23

describe('keep: discounting', () => {
  it('is the annuity of the monthly net plus the sale at the horizon, discounted a year', () => {
    const e = gpuEconomics(gpu(), SETTINGS, AT);
    const expected = NET * ANNUITY + SELL_GOOD / 1.1; // 12,163.2 + 16,227.3
    expect(e.npv_keep).toBeCloseTo(expected, 8);
    expect(e.npv_keep).toBeCloseTo(28_390.45, 2);
    let monthByMonth = 0;
    for (let m = 1; m <= 12; m++) monthByMonth += NET / disc(m);
    expect(e.npv_keep).toBeCloseTo(monthByMonth + SELL_GOOD / 1.1, 8);
    expect(e.first_month).toEqual({ revenue: expect.closeTo(1168, 10), power_cost: expect.closeTo(51.1, 10), maintenance: 50, expected_failure_cost: 0 });
  });

  it('without discounting sums the months', () => {
    const e = gpuEconomics(gpu(), { ...SETTINGS, discount_rate_annual: 0 }, AT);
    expect(e.npv_keep).toBeCloseTo(12 * NET + SELL_GOOD, 8);
  });

  it('prices the other three and decides with the margin over the runner-up', () => {
    const e = gpuEconomics(gpu(), SETTINGS, AT);
    const repurpose = REP_NET * ANNUITY + SELL_GOOD / 1.1; // 20,242.9
    expect(e.npv_sell).toBeCloseTo(SELL_GOOD, 10);
    expect(e.npv_repurpose).toBeCloseTo(repurpose, 8);
    expect(e.salvage_value).toBeCloseTo(0.1 * 5_000, 10);
    expect(e.decision).toBe('keep');
    expect(e.expected_value).toBe(e.npv_keep);
    expect(e.confidence).toBe(0.287); // (28,390.5 − 20,242.9) / 28,390.5
    expect(e.rma).toBe(false);
    expect(e.rationale).toBe(
      'Keep: 12-month NPV $28,400 at the measured 80 % utilisation beats repurposing ($20,200 over 12 months); 30-day failure risk 0.0 %, no warranty on record',
    );
  });
});

describe('keep: failure cost and warranty', () => {
  // A constant hazard λ a day: every month, a GPU in service fails with 1 − e^(−λ·30.44).
  const lambda = 0.001;
  const risky = { failure_prob_7d: 1 - Math.exp(-7 * lambda), failure_prob_30d: 1 - Math.exp(-30 * lambda), failure_prob_90d: 1 - Math.exp(-90 * lambda) };
  const p = 1 - Math.exp(-lambda * D); // 0.0300…

  it('out of warranty costs half a month of margin and the repair, month by month', () => {
    const e = gpuEconomics(gpu(risky), SETTINGS, AT);
    let expected = SELL_GOOD / 1.1;
    for (let m = 1; m <= 12; m++) expected += (NET - p * (0.5 * MARGIN + 8_000)) / disc(m);
    expect(e.npv_keep).toBeCloseTo(expected, 8);
    expect(e.first_month!.expected_failure_cost).toBeCloseTo(p * (0.5 * 1116.9 + 8_000), 10);
  });

  it('under warranty costs only the downtime: the difference is the discounted repairs of the covered months', () => {
    const expired = gpuEconomics(gpu({ ...risky, warranty_days_left: null }), SETTINGS, AT).npv_keep!;
    const zero = gpuEconomics(gpu({ ...risky, warranty_days_left: 0 }), SETTINGS, AT).npv_keep!;
    const whole = gpuEconomics(gpu({ ...risky, warranty_days_left: 400 }), SETTINGS, AT).npv_keep!;
    const fiveMonths = gpuEconomics(gpu({ ...risky, warranty_days_left: 150 }), SETTINGS, AT).npv_keep!;
    expect(zero).toBe(expired);
    let all = 0;
    for (let m = 1; m <= 12; m++) all += (p * 8_000) / disc(m);
    expect(whole - expired).toBeCloseTo(all, 8);
    // 150 days covers months 1–5: month 5's mid-point is day 4.5 × 30.44 = 137, month 6's is day 167.
    let covered = 0;
    for (let m = 1; m <= 5; m++) covered += (p * 8_000) / disc(m);
    expect(fiveMonths - expired).toBeCloseTo(covered, 8);
  });

  it('counts a month as covered when the warranty runs to its mid-point', () => {
    expect(underWarranty(15.21875, 1)).toBe(true);
    expect(underWarranty(15.2, 1)).toBe(false);
    expect(underWarranty(150, 5)).toBe(true);
    expect(underWarranty(150, 6)).toBe(false);
    expect(underWarranty(0, 1)).toBe(false);
    expect(underWarranty(null, 1)).toBe(false);
  });

  it('reads the failure risk off a curve that is not constant', () => {
    const settings = { ...SETTINGS, horizon_months: 3 };
    const e = gpuEconomics(gpu({ failure_prob_7d: 0.01, failure_prob_30d: 0.05, failure_prob_90d: 0.2 }), settings, AT);
    const h30 = -Math.log(0.95);
    const tail = (-Math.log(0.8) - h30) / 60; // the 30–90-day hazard a day, also beyond day 90
    const risks = [
      1 - Math.exp(-(h30 + tail * (D - 30))), // month 1 ends 0.44 days into the 30–90 stretch
      1 - Math.exp(-tail * D),
      1 - Math.exp(-tail * D), // straddles day 90, at the same rate on both sides
    ];
    let expected = SELL_GOOD / disc(3);
    for (let m = 1; m <= 3; m++) expected += (NET - risks[m - 1]! * (0.5 * MARGIN + 8_000)) / disc(m);
    expect(e.npv_keep).toBeCloseTo(expected, 8);
  });
});

describe('keep: price decline and the terminal sale', () => {
  it('sells at the horizon at the declined price; selling now is unaffected', () => {
    const flat = gpuEconomics(gpu(), SETTINGS, AT);
    const declining = gpuEconomics(gpu({}, { price_decline_per_month: 0.02 }), SETTINGS, AT);
    const terminal = 19_000 * 0.98 ** 12 * 0.95 - 200; // 13,964.1
    expect(declining.npv_keep).toBeCloseTo(NET * ANNUITY + terminal / 1.1, 8);
    expect(flat.npv_keep! - declining.npv_keep!).toBeCloseTo((SELL_GOOD - terminal) / 1.1, 8);
    expect(declining.npv_sell).toBeCloseTo(flat.npv_sell!, 10);
  });

  it('falls to the salvage when a sale would not pay for its de-installation', () => {
    const e = gpuEconomics(gpu({ health_grade: 'critical' }, { price_decline_per_month: 0.02 }), { ...SETTINGS, deinstall_cost: 5_000 }, AT);
    expect(e.npv_keep).toBeCloseTo(NET * ANNUITY + (0.1 * 5_000 * 0.98 ** 12) / 1.1, 8);
  });
});

describe('decisions', () => {
  it('sells a GPU that is seldom used while its price falls', () => {
    const e = gpuEconomics(gpu({ utilization: 0.1 }, { price_decline_per_month: 0.02 }), SETTINGS, AT);
    const keep = (2 * 730 * 0.1 - POWER - 50) * ANNUITY + (19_000 * 0.98 ** 12 * 0.95 - 200) / 1.1; // 13,206.6
    expect(e.npv_keep).toBeCloseTo(keep, 8);
    expect(e.decision).toBe('sell');
    expect(e.expected_value).toBeCloseTo(SELL_GOOD, 10);
    expect(e.confidence).toBe(Math.round(((SELL_GOOD - keep) / SELL_GOOD) * 1000) / 1000);
    expect(e.rationale).toBe(
      'Sell: $17,900 now beats keeping ($13,200 over 12 months) at the measured 10 % utilisation; 30-day failure risk 0.0 %, price falling 2.0 % a month',
    );
  });

  it('repurposes a GPU far slower than its peers', () => {
    const e = gpuEconomics(gpu({ utilization: 0.5, performance_factor: 0.4 }), SETTINGS, AT);
    const keep = (2 * 730 * 0.5 * 0.4 - POWER - 50) * ANNUITY + SELL_GOOD / 1.1; // 18,403.6
    const repurpose = REP_NET * ANNUITY + SELL_GOOD / 1.1; // 20,242.9
    expect(e.npv_keep).toBeCloseTo(keep, 8);
    expect(e.npv_repurpose).toBeCloseTo(repurpose, 8);
    expect(e.decision).toBe('repurpose');
    expect(e.rationale).toBe(
      "Repurpose: 12-month NPV $20,200 at 60 % of the rate and 50 % utilisation beats keeping ($18,400 over 12 months) at the measured 50 % utilisation and 40 % of healthy peers' throughput; 30-day failure risk 0.0 %",
    );
  });

  it('repurposes at no more than the measured utilisation', () => {
    const e = gpuEconomics(gpu({ utilization: 0.2 }), SETTINGS, AT);
    const repurpose = (2 * 0.6 * 730 * 0.2 - 0.5 * 0.7 * 730 * 0.1 * 1.4 - 50) * ANNUITY + SELL_GOOD / 1.1;
    expect(e.npv_repurpose).toBeCloseTo(repurpose, 8);
  });

  it('decommissions an idle critical GPU that a sale would not pay for', () => {
    const e = gpuEconomics(gpu({ health_grade: 'critical', utilization: 0, power_w: 300 }), { ...SETTINGS, deinstall_cost: 5_000 }, AT);
    expect(e.npv_sell).toBeCloseTo(5_000 * 0.95 - 5_000, 10); // −250
    expect(e.npv_keep).toBeCloseTo((-0.3 * 730 * 0.1 * 1.4 - 50) * ANNUITY + 500 / 1.1, 8);
    expect(e.decision).toBe('decommission');
    expect(e.expected_value).toBe(500);
    expect(e.confidence).toBe(1); // (500 + 250) / 500, clipped
    expect(e.rationale).toBe(
      // keeping: (−0.3 × 730 × 0.1 × 1.4 − 50) × 11.4005 + 500 / 1.1 = −919.6 + 454.5 = −465.0
      'Decommission: salvage $500 beats selling at -$250 and keeping (-$470 over 12 months) at the measured 0 % utilisation; 30-day failure risk 0.0 %, no warranty on record',
    );
  });

  it('breaks ties toward doing nothing: keep, repurpose, sell, decommission', () => {
    expect(TIE_ORDER).toEqual(['keep', 'repurpose', 'sell', 'decommission']);
    // No horizon: keeping and repurposing are the sale now.
    const none = { ...SETTINGS, horizon_months: 0 };
    const e = gpuEconomics(gpu(), none, AT);
    expect(e.npv_keep).toBeCloseTo(SELL_GOOD, 10);
    expect(e.npv_repurpose).toBe(e.npv_keep);
    expect(e.npv_sell).toBe(e.npv_keep);
    expect(e.decision).toBe('keep');
    expect(e.confidence).toBe(0);
    expect(e.first_month).toEqual({ revenue: expect.closeTo(1168, 10), power_cost: expect.closeTo(51.1, 10), maintenance: 50, expected_failure_cost: 0 });
    // A sale that loses money: keeping ends in salvage, worth what decommissioning is.
    const salvaged = gpuEconomics(gpu(), { ...none, deinstall_cost: 30_000 }, AT);
    expect(salvaged.npv_keep).toBe(salvaged.salvage_value);
    expect(salvaged.decision).toBe('keep');
  });

  it('measures confidence against the larger magnitude, clipped to 0–1', () => {
    expect(confidenceOf(100, 80)).toBe(0.2);
    expect(confidenceOf(100, -500)).toBe(1);
    expect(confidenceOf(-100, -120)).toBe(0.167);
    expect(confidenceOf(0, 0)).toBe(0);
    expect(confidenceOf(80, 100)).toBe(0);
  });
});

describe('RMA under warranty', () => {
  const rmaGpu = (warranty: number | null): GpuEconomicsInput => gpu({ health_grade: 'critical', rma_grade: true, warranty_days_left: warranty });

  it('is a decommission worth the replacement (the excellent-grade price), whatever the NPVs say', () => {
    const e = gpuEconomics(rmaGpu(200), SETTINGS, AT);
    const keep = NET * ANNUITY + (5_000 * 0.95 - 200) / 1.1; // 16,299.5: the runner-up
    expect(e.decision).toBe('decommission');
    expect(e.rma).toBe(true);
    expect(e.expected_value).toBe(20_000);
    expect(e.npv_keep).toBeCloseTo(keep, 8);
    expect(e.salvage_value).toBeCloseTo(500, 10);
    expect(e.confidence).toBe(Math.round(((20_000 - keep) / 20_000) * 1000) / 1000); // 0.185
    expect(e.rationale).toBe(
      'RMA under warranty: an RMA-grade fault with 200 days of warranty left (under warranty until 2025-08); the replacement is worth $20,000 (the excellent-grade price), against keeping ($16,300 over 12 months) at the measured 80 % utilisation',
    );
  });

  it('is no RMA once the warranty has run out or is unknown, nor without an RMA-grade fault', () => {
    for (const e of [
      gpuEconomics(rmaGpu(0), SETTINGS, AT),
      gpuEconomics(rmaGpu(null), SETTINGS, AT),
      gpuEconomics(gpu({ warranty_days_left: 200 }), SETTINGS, AT),
    ]) {
      expect(e.rma).toBe(false);
      expect(e.decision).toBe('keep');
      expect(e.expected_value).toBe(e.npv_keep);
    }
  });
});

describe('no prices', () => {
  it('gives no numbers and no decision, and says which model lacks prices', () => {
    const e = gpuEconomics(gpu({ prices: null, price_key: null }), SETTINGS, AT, 'NVIDIA B200');
    expect(e).toEqual({
      decision: null,
      expected_value: null,
      npv_keep: null,
      npv_sell: null,
      npv_repurpose: null,
      salvage_value: null,
      confidence: null,
      rationale: 'No prices for model "NVIDIA B200" in the config (economics.models): no decision',
      rma: false,
      first_month: null,
    });
    expect(gpuEconomics(gpu({ prices: null, price_key: null }), SETTINGS, AT).rationale).toContain('model (unknown)');
    expect(sensitivity(gpu({ prices: null, price_key: null }), SETTINGS)).toEqual([]);
  });
});

describe('formatUsd', () => {
  it('rounds to $100 from $10,000 and to $10 below', () => {
    expect(formatUsd(21_437)).toBe('$21,400');
    expect(formatUsd(19_000)).toBe('$19,000');
    expect(formatUsd(9_994)).toBe('$9,990');
    expect(formatUsd(1_234_567)).toBe('$1,234,600');
    expect(formatUsd(1_804)).toBe('$1,800');
    expect(formatUsd(-250)).toBe('-$250');
    expect(formatUsd(-12_345)).toBe('-$12,300');
    expect(formatUsd(-3)).toBe('$0');
  });
});

describe('sensitivity', () => {
  // At 17 % utilisation keeping beats selling by $54: within reach of a 20 % move in rate, sale price or power price.
  const NET_17 = 2 * 730 * 0.17 - POWER - 50; // 147.1 a month
  const GAP = NET_17 * ANNUITY + SELL_GOOD / 1.1 - SELL_GOOD; // keep − sell = 54.28

  it('lists the moves that flip a GPU near the keep/sell boundary', () => {
    expect(GAP).toBeGreaterThan(0);
    expect(GAP).toBeLessThan(100);
    const near = gpu({ utilization: 0.17 });
    expect(gpuEconomics(near, SETTINGS, AT).decision).toBe('keep');
    // Rate −20 %: keep loses 0.2 × 248.2 × 11.4 = 566 > 54. Sale +20 %: selling gains 3,570, keeping 3,570 / 1.1.
    // Power +20 %: 10.2 a month × 11.4 = 116.5 > 54. No failure risk to move.
    expect(sensitivity(near, SETTINGS)).toEqual([
      { input: 'rental_rate', change: -0.2, decision: 'sell' },
      { input: 'sale_price', change: 0.2, decision: 'sell' },
      { input: 'power_price', change: 0.2, decision: 'sell' },
    ]);
  });

  it('flips on the failure probability when the expected failure cost is what keeps keeping ahead', () => {
    // A flat curve (P7 = P30 = P90 = p) fails only in month 1, with probability p; moved up, 1 − (1 − p)^1.2.
    const c1 = (0.5 * (2 * 730 * 0.17 - POWER) + 8_000) / disc(1); // a month-1 failure, discounted
    const p = GAP / (1.1 * c1); // costs GAP / 1.1: keep stays ahead; moved up it costs ≈ 1.09 GAP: sell wins
    expect((1 - (1 - p) ** 1.2) * c1).toBeGreaterThan(GAP);
    expect((1 - (1 - p) ** 0.8) * c1).toBeLessThan(GAP);
    const near = gpu({ utilization: 0.17, failure_prob_7d: p, failure_prob_30d: p, failure_prob_90d: p });
    const e = gpuEconomics(near, SETTINGS, AT);
    expect(e.npv_keep! - e.npv_sell!).toBeCloseTo(GAP - GAP / 1.1, 8);
    expect(e.decision).toBe('keep');
    expect(sensitivity(near, SETTINGS)).toEqual([
      { input: 'rental_rate', change: -0.2, decision: 'sell' },
      { input: 'sale_price', change: 0.2, decision: 'sell' },
      { input: 'power_price', change: 0.2, decision: 'sell' },
      { input: 'failure_prob', change: 0.2, decision: 'sell' },
    ]);
  });

  it('never flips an RMA, and nothing flips far from a boundary', () => {
    expect(sensitivity(gpu({ health_grade: 'critical', rma_grade: true, warranty_days_left: 200 }), SETTINGS)).toEqual([]);
    expect(sensitivity(gpu(), SETTINGS)).toEqual([]);
  });

  it('moves every grade’s sale price, and failure probabilities no higher than 1', () => {
    const moved = perturb(gpu({ failure_prob_90d: 0.9 }), SETTINGS, 'sale_price', 1.2).input.prices!.sale_price;
    for (const g of GRADES) expect(moved[g]).toBeCloseTo(PRICES.sale_price[g] * 1.2, 10);
    // The hazard moves by the factor: 1 − (1 − P)^1.2, so P never passes 1.
    const risky = perturb(gpu({ failure_prob_7d: 0.01, failure_prob_30d: 0.5, failure_prob_90d: 0.9 }), SETTINGS, 'failure_prob', 1.2).input;
    expect(risky.failure_prob_7d).toBeCloseTo(1 - 0.99 ** 1.2, 14); // 0.01199
    expect(risky.failure_prob_30d).toBeCloseTo(1 - 0.5 ** 1.2, 14); // 0.5647
    expect(risky.failure_prob_90d).toBeCloseTo(1 - 0.1 ** 1.2, 14); // 0.9369
    const safer = perturb(gpu({ failure_prob_30d: 1 }), SETTINGS, 'failure_prob', 0.8).input;
    expect(safer.failure_prob_30d).toBe(1);
    expect(perturb(gpu(), SETTINGS, 'power_price', 0.8).settings.power_price_per_kwh).toBeCloseTo(0.08, 12);
    expect(perturb(gpu(), SETTINGS, 'rental_rate', 0.8).input.prices!.rental_rate_per_hour).toBeCloseTo(1.6, 12);
  });
});

// ───────────────────────────── properties (seeded) ─────────────────────────────

function randomCase(rnd: () => number): { input: GpuEconomicsInput; settings: EconomicsSettings } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Sale prices fall with the grade, as a market's do (not that the arithmetic needs it).
  let price = 5_000 + rnd() * 30_000;
  const sale = {} as Record<HealthGrade, number>;
  for (const g of GRADES) {
    sale[g] = price;
    price *= 0.6 + 0.4 * rnd();
  }
  const prices: ModelPrices = {
    ...PRICES,
    sale_price: sale,
    rental_rate_per_hour: 0.5 + rnd() * 4,
    repair_cost: rnd() * 20_000,
    price_decline_per_month: rnd() * 0.05,
  };
  const scale = pick([1e-3, 0.05, 0.5, 1]);
  const [p7, p30, p90] = [rnd() * scale, rnd() * scale, rnd() * scale].sort((a, b) => a - b) as [number, number, number];
  const settings: EconomicsSettings = {
    ...SETTINGS,
    horizon_months: 1 + Math.floor(rnd() * 36),
    discount_rate_annual: rnd() * 0.3,
    maintenance_per_month: rnd() * 200,
    downtime_months_per_failure: rnd() * 2,
    deinstall_cost: rnd() * 1_000,
    power_price_per_kwh: 0.03 + rnd() * 0.3,
  };
  const input = gpu(
    {
      health_grade: pick(GRADES),
      utilization: rnd(),
      power_w: 50 + rnd() * 750,
      performance_factor: 0.3 + rnd() * 0.8,
      failure_prob_7d: p7,
      failure_prob_30d: p30,
      failure_prob_90d: p90,
      warranty_days_left: pick([null, -30, Math.floor(rnd() * 1_200)]),
    },
    prices,
  );
  return { input, settings };
}

/** Equal up to rounding: the sums run to tens of thousands of dollars. */
const SLACK = 1e-6;

describe('properties', () => {
  it('a higher failure probability never raises npv_keep (nor npv_repurpose)', () => {
    const rnd = mulberry32(1401);
    for (let i = 0; i < 400; i++) {
      const { input, settings } = randomCase(rnd);
      const k = 1 + rnd() * 2;
      const base = gpuEconomics(input, settings, AT);
      const riskiers = [
        // The sensitivity move: the hazard scaled by k, so S(t) becomes S(t)^k.
        perturb(input, settings, 'failure_prob', k).input,
        // P90 alone: a steeper 30–90-day stretch, and so a steeper tail.
        { ...input, failure_prob_90d: input.failure_prob_90d + rnd() * (1 - input.failure_prob_90d) },
      ];
      // Every P times k, while k × P90 stays below 1 (clipped, P90 would stop rising while P30 went on).
      if (k * input.failure_prob_90d < 1) {
        riskiers.push({
          ...input,
          failure_prob_7d: k * input.failure_prob_7d,
          failure_prob_30d: k * input.failure_prob_30d,
          failure_prob_90d: k * input.failure_prob_90d,
        });
      }
      for (const riskier of riskiers) {
        const e = gpuEconomics(riskier, settings, AT);
        const ctx = `case ${i}: ${JSON.stringify([input.failure_prob_7d, input.failure_prob_30d, input.failure_prob_90d, k])}`;
        expect(e.npv_keep!, ctx).toBeLessThanOrEqual(base.npv_keep! + SLACK);
        expect(e.npv_repurpose!, ctx).toBeLessThanOrEqual(base.npv_repurpose! + SLACK);
      }
    }
  });

  it('a higher sale price never lowers npv_sell (nor npv_keep, through the terminal sale)', () => {
    const rnd = mulberry32(1402);
    for (let i = 0; i < 400; i++) {
      const { input, settings } = randomCase(rnd);
      const base = gpuEconomics(input, settings, AT);
      const all = gpuEconomics(perturb(input, settings, 'sale_price', 1 + rnd()).input, settings, AT);
      const grade = input.health_grade;
      const own = gpuEconomics(
        { ...input, prices: { ...input.prices!, sale_price: { ...input.prices!.sale_price, [grade]: input.prices!.sale_price[grade] + rnd() * 5_000 } } },
        settings,
        AT,
      );
      for (const e of [all, own]) {
        expect(e.npv_sell!).toBeGreaterThanOrEqual(base.npv_sell!);
        expect(e.npv_keep!).toBeGreaterThanOrEqual(base.npv_keep! - SLACK);
      }
    }
  });
});
