/**
 * What a fleet report holds (`gpuhealth report`, `gpuhealth nightly`): every figure read from the lake's
 * committed results for one `at` (scores, predictions, recommendations) and its raw tables (Xid
 * events, metrics, the ingest manifest and rejects), never recomputed. report/data.ts builds it; the
 * renderers (report/html.ts, markdown.ts, prom.ts) only lay it out. The JSON format is this object
 * (docs/report.md documents it), so its shape is a contract: add fields, never rename them.
 */
import type { Decision } from '../economics/types.js';
import type { HealthGrade } from '../health/score.js';
import type { RiskLevel } from '../model/card.js';

export const REPORT_FORMATS = ['html', 'md', 'json', 'prom'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The version of the JSON shape; raised only when a field changes meaning or goes away. */
export const REPORT_SCHEMA_VERSION = 1;

export interface ReportGpu {
  gpu_uuid: string;
  host: string | null;
  model: string | null;
  rack: string | null;
  datacenter: string | null;
  /** From `score` (null when the lake has no scores for `at`). */
  overall_score: number | null;
  health_grade: HealthGrade | null;
  memory_health: number | null;
  thermal_health: number | null;
  performance_health: number | null;
  power_health: number | null;
  reliability_health: number | null;
  recommended_action: string | null;
  top_factor: string | null;
  not_reporting: boolean;
  /** From `predict` (null without predictions for `at`). */
  failure_prob_7d: number | null;
  failure_prob_30d: number | null;
  failure_prob_90d: number | null;
  risk_level: RiskLevel | null;
  predicted_failure_type: string | null;
  /** The prediction's top factors, as sentences. */
  risk_factors: string[];
  /** From `recommend` (null without recommendations for `at`, or without prices for the model). */
  decision: Decision | null;
  expected_value: number | null;
  rationale: string | null;
  warranty_days_left: number | null;
  /** Temperature above same-model GPUs at equal power (°C, features' temp_excess_at_power). */
  temp_excess_at_power: number | null;
}

export interface GradeChange {
  gpu_uuid: string;
  host: string | null;
  /** Null: the GPU was not in that report. */
  from: HealthGrade | null;
  to: HealthGrade | null;
  direction: 'up' | 'down';
}

export interface TrendPoint {
  at: string;
  health_index: number | null;
  share_good_or_better: number | null;
  gpus: number;
}

export interface XidEventCount {
  gpu_uuid: string;
  host: string | null;
  xid: number;
  /** What the code means, from the Xid table (docs/scoring.md). */
  meaning: string;
  count: number;
  last: string;
}

export interface CounterIncrease {
  gpu_uuid: string;
  host: string | null;
  /** The increase over the last day (reset-aware). */
  increase: number;
}

export interface SilentGpu {
  gpu_uuid: string;
  host: string | null;
  last_sample: string | null;
}

export interface SilentHost {
  host: string;
  gpus: number;
  last_sample: string | null;
}

export interface MissingSignal {
  signal: string;
  /** GPUs reporting without it. */
  gpus: number;
  /** The dcgm-exporter counters (or nvidia-smi fields) that switch it on. */
  hint: string;
}

export interface RackRisk {
  rack: string;
  datacenter: string | null;
  gpus: number;
  mean_failure_prob_30d: number;
  max_failure_prob_30d: number;
}

export interface ReportEconomics {
  fleet_value: number;
  monthly_revenue: number;
  monthly_operating_cost: number;
  monthly_profit: number;
  decisions: Record<Decision | 'none', number>;
  for_sale: { gpus: number; value: number };
  models_without_prices: string[];
}

export interface ReportData {
  schema_version: number;
  /** The results' cut-off (ISO, UTC) and when the report was made. */
  at: string;
  generated_at: string;
  lake: string;
  /** Which results the lake held for `at` (a report without predictions says so instead of guessing). */
  sources: { scores: string | null; predictions: string | null; recommendations: string | null };
  fleet: {
    gpus: number;
    hosts: number;
    /** Mean overall score of the graded GPUs. */
    health_index: number | null;
    /** Share (0–1) of graded GPUs at good or excellent. */
    share_good_or_better: number | null;
    grades: Record<HealthGrade | 'unknown', number>;
    not_reporting: number;
    risk_levels: Record<RiskLevel, number>;
  };
  /** The health index of the reports kept in the lake over the 30 days before, oldest first, then this one. */
  trend: TrendPoint[];
  /** Against the previous report in the lake (null when there is none). */
  previous_at: string | null;
  grade_changes: GradeChange[];
  /** The riskiest GPUs by P30 (at most AT_RISK_LIMIT, risk medium or worse first). */
  at_risk: ReportGpu[];
  /** The day before `at`. */
  events: {
    xids: XidEventCount[];
    uncorrectable_ecc: CounterIncrease[];
    remapped_rows: CounterIncrease[];
    stopped_reporting: SilentGpu[];
  };
  economics: ReportEconomics | null;
  coverage: {
    silent_hosts: SilentHost[];
    silent_gpus: SilentGpu[];
    missing_signals: MissingSignal[];
    /** Lines ingest rejected in the day before `at`, and the files they came from. */
    ingest_rejects_last_day: number;
    ingest_reject_files: string[];
  };
  racks: RackRisk[];
  /** Every GPU, the worst score first: the charts, the Prometheus gauges and the full tables read these. */
  gpus: ReportGpu[];
}

/** The at-risk table's length in the report (the JSON `gpus` has every GPU). */
export const AT_RISK_LIMIT = 20;
