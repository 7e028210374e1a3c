/**
 * The arithmetic of `gpuhealth recommend` (docs/economics.md, "The arithmetic"): for one GPU, the net
 * present value of keeping it, selling it, repurposing it to a lower tier and decommissioning it, the
 * decision, and the sentence behind it. Pure: no I/O, no clock (the cut-off `at` is an argument).
 *
 * Keep and repurpose are monthly cash flows over the horizon, discounted at the monthly equivalent of
 * the annual rate, less the expected cost of failure from the GPU's own survival curve (hazard.ts),
 * plus the sale of the GPU at the horizon's end at the price it will fetch then. That terminal sale
 * is what makes keep and sell comparable: selling now forgoes the cash flows, keeping forgoes the
 * price that falls every month.
 */
import type { HealthGrade } from '../health/score.js';
import { cumulativeHazardCurve, DAYS_PER_MONTH, monthlyFailureRisks, type SurvivalCurve } from './hazard.js';
import {
  type Decision,
  type DecisionFlip,
  type EconomicsSettings,
  type GpuEconomics,
  type GpuEconomicsInput,
  type ModelPrices,
  type MonthlyFlows,
  SENSITIVITY_INPUTS,
  SENSITIVITY_STEP,
} from './types.js';

/** Ties go to the first: a move that earns no more than doing nothing is not worth its trouble. */
export const TIE_ORDER = ['keep', 'repurpose', 'sell', 'decommission'] as const satisfies readonly Decision[];

const DAY_MS = 86_400_000;

/** r_m = (1 + r)^(1/12) − 1: twelve months at r_m compound to one year at r. */
export function monthlyDiscountRate(annualRate: number): number {
  return (1 + annualRate) ** (1 / 12) - 1;
}

/** Under warranty in month m when the warranty still runs at the month's mid-point; null (unknown) is expired. */
export function underWarranty(warrantyDaysLeft: number | null, month: number, daysPerMonth: number = DAYS_PER_MONTH): boolean {
  return warrantyDaysLeft !== null && warrantyDaysLeft >= (month - 0.5) * daysPerMonth;
}

/** What a sale nets `monthsAhead` months from now: the declined price, less the fee and de-installation. */
export function netSalePrice(prices: ModelPrices, grade: HealthGrade, settings: EconomicsSettings, monthsAhead = 0): number {
  return prices.sale_price[grade] * (1 - prices.price_decline_per_month) ** monthsAhead * (1 - settings.marketplace_fee) - settings.deinstall_cost;
}

/** Salvage: a share of the critical-grade price, falling with the market as the sale price does. */
export function salvageValue(prices: ModelPrices, settings: EconomicsSettings, monthsAhead = 0): number {
  return settings.salvage_share * prices.sale_price.critical * (1 - prices.price_decline_per_month) ** monthsAhead;
}

/** One tier of service: what the GPU earns an hour of use, how much it is used, and what it draws. */
interface Service {
  ratePerHour: number;
  utilization: number;
  performanceFactor: number;
  powerW: number;
}

interface ServiceValue {
  npv: number;
  firstMonth: MonthlyFlows;
}

function serviceValue(service: Service, input: GpuEconomicsInput, prices: ModelPrices, settings: EconomicsSettings, risks: readonly number[]): ServiceValue {
  const s = settings;
  const revenue = service.ratePerHour * s.hours_per_month * service.utilization * service.performanceFactor;
  const powerCost = (service.powerW / 1000) * s.hours_per_month * s.power_price_per_kwh * s.pue;
  // A GPU that is down earns nothing and draws nothing; a margin below zero is no loss to miss.
  const downtimeCost = s.downtime_months_per_failure * Math.max(revenue - powerCost, 0);
  const rm = monthlyDiscountRate(s.discount_rate_annual);
  let npv = 0;
  let firstMonth: MonthlyFlows | null = null;
  for (let m = 1; m <= s.horizon_months; m++) {
    const failureCost = risks[m - 1]! * (downtimeCost + (underWarranty(input.warranty_days_left, m) ? 0 : prices.repair_cost));
    if (m === 1) firstMonth = { revenue, power_cost: powerCost, maintenance: s.maintenance_per_month, expected_failure_cost: failureCost };
    npv += (revenue - powerCost - s.maintenance_per_month - failureCost) / (1 + rm) ** m;
  }
  // A failure is paid for by the repair (or the RMA), which restores the GPU: the terminal value stands.
  const h = s.horizon_months;
  const terminal = Math.max(netSalePrice(prices, input.health_grade, s, h), salvageValue(prices, s, h));
  npv += terminal / (1 + rm) ** h;
  return { npv, firstMonth: firstMonth ?? { revenue, power_cost: powerCost, maintenance: s.maintenance_per_month, expected_failure_cost: 0 } };
}

function curveOf(input: GpuEconomicsInput): SurvivalCurve {
  return cumulativeHazardCurve(input.failure_prob_7d, input.failure_prob_30d, input.failure_prob_90d);
}

/** The four values and the decision, before the sentence. */
interface Valuation {
  keep: number;
  sell: number;
  repurpose: number;
  decommission: number;
  repurposeUtilization: number;
  firstMonth: MonthlyFlows;
  rma: boolean;
  decision: Decision;
  expectedValue: number;
  runnerUp: Decision;
  confidence: number;
}

function valuate(input: GpuEconomicsInput, prices: ModelPrices, settings: EconomicsSettings): Valuation {
  const risks = monthlyFailureRisks(curveOf(input), settings.horizon_months);
  const keep = serviceValue(
    { ratePerHour: prices.rental_rate_per_hour, utilization: input.utilization, performanceFactor: input.performance_factor, powerW: input.power_w },
    input,
    prices,
    settings,
    risks,
  );
  // The lower tier cannot be busier than the measurements show the GPU is wanted, and sells its hours
  // at the tier's rate whatever the GPU's throughput against training peers.
  const repurposeUtilization = Math.min(input.utilization, settings.repurpose_utilization);
  const repurpose = serviceValue(
    {
      ratePerHour: prices.rental_rate_per_hour * settings.repurpose_rate_share,
      utilization: repurposeUtilization,
      performanceFactor: 1,
      powerW: input.power_w * settings.repurpose_power_share,
    },
    input,
    prices,
    settings,
    risks,
  );
  const values: Record<Decision, number> = {
    keep: keep.npv,
    sell: netSalePrice(prices, input.health_grade, settings),
    repurpose: repurpose.npv,
    decommission: salvageValue(prices, settings),
  };
  const ranked = [...TIE_ORDER].sort((a, b) => values[b] - values[a] || TIE_ORDER.indexOf(a) - TIE_ORDER.indexOf(b));
  const rma = input.rma_grade && input.warranty_days_left !== null && input.warranty_days_left > 0;
  // An RMA under warranty returns a working GPU: its value is the replacement's, priced as excellent.
  const decision: Decision = rma ? 'decommission' : ranked[0]!;
  const expectedValue = rma ? prices.sale_price.excellent : values[decision];
  const runnerUp = rma ? ranked[0]! : ranked[1]!;
  return {
    keep: keep.npv,
    sell: values.sell,
    repurpose: repurpose.npv,
    decommission: values.decommission,
    repurposeUtilization,
    firstMonth: keep.firstMonth,
    rma,
    decision,
    expectedValue,
    runnerUp,
    confidence: confidenceOf(expectedValue, values[runnerUp]),
  };
}

/** (winner − runner-up) ÷ max(|winner|, |runner-up|), clipped to 0–1 and rounded to 3 decimals. */
export function confidenceOf(winner: number, runnerUp: number): number {
  const scale = Math.max(Math.abs(winner), Math.abs(runnerUp));
  if (scale === 0) return 0;
  const c = Math.min(Math.max((winner - runnerUp) / scale, 0), 1);
  return Math.round(c * 1000) / 1000;
}

// ───────────────────────────── the sentence ─────────────────────────────

/** "$21,400": to the $100 from $10,000, else to the $10. */
export function formatUsd(x: number): string {
  const step = Math.abs(x) >= 10_000 ? 100 : 10;
  const rounded = Math.round(Math.abs(x) / step) * step;
  const digits = String(rounded).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${x < 0 && rounded !== 0 ? '-' : ''}$${digits}`;
}

/** A share as a whole percentage ("83 %"). */
function pct0(x: number): string {
  return `${Math.round(x * 100)} %`;
}

/** A share to one decimal ("1.2 %"), for small probabilities. */
function pct1(x: number): string {
  return `${(Math.round(x * 1000) / 10).toFixed(1)} %`;
}

function warrantyPhrase(input: GpuEconomicsInput, atMs: number): string {
  if (input.warranty_days_left === null) return 'no warranty on record';
  if (input.warranty_days_left <= 0) return 'out of warranty';
  return `under warranty until ${new Date(atMs + input.warranty_days_left * DAY_MS).toISOString().slice(0, 7)}`;
}

function alternative(d: Decision, v: Valuation, months: number, measured: string): string {
  switch (d) {
    case 'keep':
      return `keeping (${formatUsd(v.keep)} over ${months} months) at ${measured}`;
    case 'sell':
      return `selling at ${formatUsd(v.sell)}`;
    case 'repurpose':
      return `repurposing (${formatUsd(v.repurpose)} over ${months} months)`;
    case 'decommission':
      return `salvage at ${formatUsd(v.decommission)}`;
  }
}

function rationaleOf(input: GpuEconomicsInput, prices: ModelPrices, settings: EconomicsSettings, v: Valuation, atMs: number): string {
  const months = settings.horizon_months;
  const risk = `30-day failure risk ${pct1(input.failure_prob_30d)}`;
  const throughput = Math.abs(input.performance_factor - 1) >= 0.005 ? ` and ${pct0(input.performance_factor)} of healthy peers' throughput` : '';
  const measured = `the measured ${pct0(input.utilization)} utilisation${throughput}`;
  // Keeping is what happens when nobody acts: a move says what it beats, and keeping too when that is not the runner-up.
  const versus =
    alternative(v.runnerUp, v, months, measured) + (v.runnerUp === 'keep' || v.decision === 'keep' ? '' : ` and ${alternative('keep', v, months, measured)}`);
  if (v.rma) {
    const daysLeft = Math.ceil(input.warranty_days_left!);
    return `RMA under warranty: an RMA-grade fault with ${daysLeft} day${daysLeft === 1 ? '' : 's'} of warranty left (${warrantyPhrase(input, atMs)}); the replacement is worth ${formatUsd(v.expectedValue)} (the excellent-grade price), against ${versus}`;
  }
  switch (v.decision) {
    case 'keep':
      return `Keep: ${months}-month NPV ${formatUsd(v.keep)} at ${measured} beats ${versus}; ${risk}, ${warrantyPhrase(input, atMs)}`;
    case 'sell':
      return `Sell: ${formatUsd(v.sell)} now beats ${versus}; ${risk}, price falling ${pct1(prices.price_decline_per_month)} a month`;
    case 'repurpose':
      return `Repurpose: ${months}-month NPV ${formatUsd(v.repurpose)} at ${pct0(settings.repurpose_rate_share)} of the rate and ${pct0(v.repurposeUtilization)} utilisation beats ${versus}; ${risk}`;
    case 'decommission':
      return `Decommission: salvage ${formatUsd(v.decommission)} beats ${versus}; ${risk}, ${warrantyPhrase(input, atMs)}`;
  }
}

// ───────────────────────────── the API ─────────────────────────────

/**
 * One GPU's economics at `atMs` (the cut-off, used only to print the warranty's end). `model` names the
 * GPU's model in the sentence when no configured model matches it.
 */
export function gpuEconomics(input: GpuEconomicsInput, settings: EconomicsSettings, atMs: number, model?: string | null): GpuEconomics {
  const prices = input.prices;
  if (prices === null) {
    return {
      decision: null,
      expected_value: null,
      npv_keep: null,
      npv_sell: null,
      npv_repurpose: null,
      salvage_value: null,
      confidence: null,
      rationale: `No prices for model ${model ? `"${model}"` : '(unknown)'} in the config (economics.models): no decision`,
      rma: false,
      first_month: null,
    };
  }
  const v = valuate(input, prices, settings);
  return {
    decision: v.decision,
    expected_value: v.expectedValue,
    npv_keep: v.keep,
    npv_sell: v.sell,
    npv_repurpose: v.repurpose,
    salvage_value: v.decommission,
    confidence: v.confidence,
    rationale: rationaleOf(input, prices, settings, v, atMs),
    rma: v.rma,
    first_month: v.firstMonth,
  };
}

/** `prices` with every grade's sale price scaled by `k`. */
function scaleSalePrices(prices: ModelPrices, k: number): ModelPrices {
  const sale = { ...prices.sale_price };
  for (const g of Object.keys(sale) as (keyof typeof sale)[]) sale[g] *= k;
  return { ...prices, sale_price: sale };
}

/**
 * A failure probability with its hazard scaled by `k`: 1 − (1 − P)^k, which is ≈ k × P for the small P of
 * most GPUs (P = 0.05 moves to 0.0597 at k = 1.2). Scaling P itself would clip a P90 above 1/k to 1 while
 * P30 goes on rising, flattening the curve after 30 days: more risk would then price fewer failures.
 */
export function scaleRisk(p: number, k: number): number {
  return 1 - (1 - Math.min(Math.max(p, 0), 1)) ** k;
}

/** The input and settings with one sensitivity input scaled by `k`. */
export function perturb(
  input: GpuEconomicsInput,
  settings: EconomicsSettings,
  what: DecisionFlip['input'],
  k: number,
): { input: GpuEconomicsInput; settings: EconomicsSettings } {
  const prices = input.prices;
  switch (what) {
    case 'rental_rate':
      return { input: { ...input, prices: prices && { ...prices, rental_rate_per_hour: prices.rental_rate_per_hour * k } }, settings };
    case 'sale_price':
      return { input: { ...input, prices: prices && scaleSalePrices(prices, k) }, settings };
    case 'power_price':
      return { input, settings: { ...settings, power_price_per_kwh: settings.power_price_per_kwh * k } };
    case 'failure_prob':
      return {
        input: {
          ...input,
          failure_prob_7d: scaleRisk(input.failure_prob_7d, k),
          failure_prob_30d: scaleRisk(input.failure_prob_30d, k),
          failure_prob_90d: scaleRisk(input.failure_prob_90d, k),
        },
        settings,
      };
  }
}

/**
 * The decisions that flip when one input moves by ±SENSITIVITY_STEP (each of SENSITIVITY_INPUTS, down
 * then up). Empty when the GPU has no prices.
 */
export function sensitivity(input: GpuEconomicsInput, settings: EconomicsSettings): DecisionFlip[] {
  if (input.prices === null) return [];
  const base = valuate(input, input.prices, settings).decision;
  const flips: DecisionFlip[] = [];
  for (const what of SENSITIVITY_INPUTS) {
    for (const change of [-SENSITIVITY_STEP, SENSITIVITY_STEP]) {
      const moved = perturb(input, settings, what, 1 + change);
      const decision = valuate(moved.input, moved.input.prices!, moved.settings).decision;
      if (decision !== base) flips.push({ input: what, change, decision });
    }
  }
  return flips;
}
