/**
 * The shapes `gpuhealth recommend` shares between its parts: the economic settings (built-in
 * defaults, overridden by the config file's `economics` key: economics/config.ts), one GPU's measured
 * inputs, and what the arithmetic (economics/npv.ts) makes of them. Money is USD; shares are 0–1.
 */
import type { HealthGrade } from '../health/score.js';

export const DECISIONS = ['keep', 'sell', 'repurpose', 'decommission'] as const;
export type Decision = (typeof DECISIONS)[number];

/** What the sensitivity analysis moves, each ±SENSITIVITY_STEP. */
export const SENSITIVITY_INPUTS = ['rental_rate', 'sale_price', 'power_price', 'failure_prob'] as const;
export type SensitivityInput = (typeof SENSITIVITY_INPUTS)[number];
export const SENSITIVITY_STEP = 0.2;

/** Prices for one GPU model (a key of `economics.models`, e.g. "H100 SXM"). */
export interface ModelPrices {
  /**
   * Case-insensitive regular expressions matched against the model name that telemetry or the registry
   * reports ("NVIDIA H100 80GB HBM3"); the first model whose pattern matches wins.
   */
  match: string[];
  /** Used sale price (USD, before fees) by health grade. */
  sale_price: Record<HealthGrade, number>;
  /** Rental rate (USD per GPU-hour) for training-tier service. */
  rental_rate_per_hour: number;
  /** What a failure out of warranty costs to repair or replace (USD). */
  repair_cost: number;
  /** Monthly fall of the used sale price (0.02 = 2 % a month). */
  price_decline_per_month: number;
  /** When the figures were taken (YYYY-MM-DD) and where from. */
  as_of: string;
  source: string;
}

/** Every economic setting in force (defaults, then the config files). */
export interface EconomicsSettings {
  /** Months the keep and repurpose cash flows run (default 12). */
  horizon_months: number;
  /** Annual discount rate (0.10); months are discounted at (1 + r)^(1/12) − 1. */
  discount_rate_annual: number;
  /** Hours in a month (730). */
  hours_per_month: number;
  /** USD per kWh at the meter. */
  power_price_per_kwh: number;
  /** Power usage effectiveness of the data centre (1.4: cooling and losses on top of the GPU's draw). */
  pue: number;
  /** Maintenance per GPU per month (USD): staff, spares, support contracts. */
  maintenance_per_month: number;
  /** Months a failed GPU is out of service (diagnosis, RMA or repair, requalification). */
  downtime_months_per_failure: number;
  /** Marketplace or broker fee on a sale (0.05). */
  marketplace_fee: number;
  /** De-installation, testing and shipping per GPU sold (USD). */
  deinstall_cost: number;
  /** A repurposed GPU's rate as a share of the model's training rate (0.6). */
  repurpose_rate_share: number;
  /** A repurposed GPU's utilisation (inference or batch tier; 0.5). */
  repurpose_utilization: number;
  /** A repurposed GPU's power draw as a share of its measured draw (0.7). */
  repurpose_power_share: number;
  /** Salvage value as a share of the sale price at grade critical (0.10). */
  salvage_share: number;
  models: Record<string, ModelPrices>;
}

/** One GPU's measured inputs, as the recommend stage gathers them from score, predict and the registry. */
export interface GpuEconomicsInput {
  gpu_uuid: string;
  /** The ModelPrices entry for this GPU, or null when no configured model matches (economics are then null). */
  prices: ModelPrices | null;
  /** The model's key in `economics.models` (null with prices). */
  price_key: string | null;
  health_grade: HealthGrade;
  /** RMA-grade fault (score's rma_grade). */
  rma_grade: boolean;
  /** Measured utilisation over the window (0–1). */
  utilization: number;
  /** Measured mean power draw (W). */
  power_w: number;
  /** Measured throughput against healthy same-model peers (1 = as they are; 0.9 = 10 % slower). */
  performance_factor: number;
  failure_prob_7d: number;
  failure_prob_30d: number;
  failure_prob_90d: number;
  /** Days of warranty left at `at` (0 or negative: expired); null when unknown (taken as expired). */
  warranty_days_left: number | null;
}

/** The first month's cash flows of keeping the GPU (USD), for the fleet totals. */
export interface MonthlyFlows {
  revenue: number;
  power_cost: number;
  maintenance: number;
  expected_failure_cost: number;
}

export interface GpuEconomics {
  /** Null when the GPU's model has no prices. */
  decision: Decision | null;
  expected_value: number | null;
  npv_keep: number | null;
  npv_sell: number | null;
  npv_repurpose: number | null;
  salvage_value: number | null;
  /** (winner − runner-up) ÷ max(|winner|, |runner-up|), 0–1; null without a decision. */
  confidence: number | null;
  /** One plain sentence with the numbers behind the decision (or why there is none). */
  rationale: string;
  /** True when the decision is an RMA under warranty (decision decommission). */
  rma: boolean;
  first_month: MonthlyFlows | null;
}

/** A decision that flips when one input moves (sensitivity analysis). */
export interface DecisionFlip {
  input: SensitivityInput;
  /** −0.2 or +0.2. */
  change: number;
  decision: Decision;
}
