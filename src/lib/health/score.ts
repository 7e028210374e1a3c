/**
 * Health scoring (DESIGN §6; the rules and the reason for every threshold are in docs/scoring.md).
 *
 * The features stage computes one `GpuFeatures` per GPU and window; `scoreGpu` turns it into five
 * dimension scores, an overall score, a grade and the degradation factors behind them. Pure: no I/O,
 * no clock, no randomness. Each dimension starts at 100, loses points per rule and is clamped to 0–100.
 * A dimension whose signals are absent is `null` (unknown) and its weight is spread over the known ones:
 * a GPU is never called healthy on evidence nobody collected.
 *
 * Only scoring thresholds live here. The definitions the features are made with (loaded samples, the
 * gap rule, clock-event bits, the reset-aware counter rule, Xid classes) are in src/lib/dcgm/ and
 * src/lib/features/definitions.ts, shared with ingest, rollups and the features SQL.
 */
import { GAP_MIN_INTERVALS } from '../dcgm/sampling.js';
import { classifyXid, XID_CLASSES, type XidClass, type XidInfo, type XidTable } from '../dcgm/xid.js';
import { SBE_ACCEL_MIN_ERRORS } from '../features/definitions.js';
import type { GpuFeatures } from '../features/feature-list.js';

// ───────────────────────────── enumerations ─────────────────────────────

export const DIMENSIONS = ['memory', 'thermal', 'performance', 'power', 'reliability'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type DimensionField = `${Dimension}_health`;

export const WEIGHTS = {
  memory: 0.3,
  thermal: 0.25,
  performance: 0.2,
  power: 0.15,
  reliability: 0.1,
} as const satisfies Record<Dimension, number>;

/** Best first. */
export const GRADES = ['excellent', 'good', 'fair', 'degraded', 'poor', 'critical'] as const;
export type HealthGrade = (typeof GRADES)[number];

/** The lowest overall score (after rounding to 0.1) that earns each grade. */
export const GRADE_FLOORS = {
  excellent: 90,
  good: 80,
  fair: 70,
  degraded: 60,
  poor: 50,
  critical: Number.NEGATIVE_INFINITY,
} as const satisfies Record<HealthGrade, number>;

/** Which dimension an Xid of each class lowers; null: never lowers a score. */
export const XID_CLASS_DIMENSION = {
  memory: 'memory',
  thermal: 'thermal',
  power: 'power',
  interconnect: 'reliability',
  gpu_hardware: 'reliability',
  firmware: 'reliability',
  application: null,
  informational: null,
} as const satisfies Record<XidClass, Dimension | null>;

/** Shown for an unknown dimension in tables (JSON has `null`). */
export const UNKNOWN_MARK = '–';

// ───────────────────────────── memory repair ─────────────────────────────

/**
 * How a model repairs bad memory. Row remapping replaced page retirement with Ampere (GA100/GA10x),
 * and Ada, Hopper and Blackwell keep it; Kepler to Turing retire pages. Null: unknown model, read both.
 */
export type MemoryRepair = 'row_remap' | 'page_retirement';
export const ROW_REMAP_MODEL_RE = /\b(?:A\d{1,4}[A-Z]?|[HL]\d{1,3}[A-Z]?|G[HB]\d{3}|B\d{2,3}[A-Z]?|Ampere|Ada|Hopper|Blackwell)\b/i;
export const PAGE_RETIREMENT_MODEL_RE = /\b(?:Tesla|Quadro|TITAN|V100|T4|T\d{3,4}|P\d{1,3}|K\d{1,2}|M\d{1,2})\b/i;

export function memoryRepairKind(model: string | null): MemoryRepair | null {
  if (model === null) return null;
  if (ROW_REMAP_MODEL_RE.test(model)) return 'row_remap';
  if (PAGE_RETIREMENT_MODEL_RE.test(model)) return 'page_retirement';
  return null;
}

// ───────────────────────────── thresholds ─────────────────────────────
// Every threshold with a one-line reason; docs/scoring.md gives the longer one.

// Memory
/** One uncorrectable error in a week takes memory to 80 (good, watch it): it was contained and fenced off, but it killed a job. */
export const UE_PENALTY = 20;
/** Three or more uncorrectable errors in a week put memory at 40: the chip is failing whatever the count. */
export const UE_MAX = 60;
/** Correctable errors per week a healthy HBM stack stays under (the reference rule's 100, now a rate, so a 1-day window is judged alike). */
export const SBE_LIMIT_PER_WEEK = 100;
/** Points at twice the limit; the rule's scale and cap: correctable errors are corrected, so they only warn. */
export const SBE_PENALTY_MAX = 20;
/** A rate over the last day 3× the rest of the window is a trend, not noise: cells degrading precede uncorrectable errors. */
export const SBE_ACCEL_LIMIT = 3;
export const SBE_ACCEL_PENALTY = 10;
/** Each page retired after a DBE is one past uncorrectable error the page table now hides (reference rule). */
export const RETIRED_DBE_PAGE_PENALTY = 5;
export const RETIRED_DBE_PAGE_MAX = 30;
/** A page retired after repeated SBEs is preventive: a fifth of a DBE page. */
export const RETIRED_SBE_PAGE_PENALTY = 1;
export const RETIRED_SBE_PAGE_MAX = 10;
/** DCGM's limit for retired pages (DCGM_LIMIT_MAX_RETIRED_PAGES): at 60 the GPU fails DCGM's health check — RMA-grade. */
export const RETIRED_PAGES_RMA = 60;
/** Pending retirements or remaps wait for a reset; until then the GPU runs without the repair. */
export const REPAIR_PENDING_PENALTY = 5;
/** Each row remapped after an uncorrectable error is one past DBE, fenced by a spare row: the same weight as a DBE page. */
export const REMAP_UE_PENALTY = 5;
export const REMAP_UE_MAX = 30;
/** A row remapped after correctable errors is preventive wear. */
export const REMAP_CE_PENALTY = 1;
export const REMAP_CE_MAX = 10;
/** DRAM activity this many robust σ below same-model peers at the same load is outside what job mix explains in a cohort of 8+. */
export const DRAM_Z_LIMIT = -3;
export const DRAM_Z_PENALTY_BASE = 10;
export const DRAM_Z_PENALTY_PER_SIGMA = 5;
/** A weak signal (job mix still differs between GPUs), so it can cost at most 20. */
export const DRAM_Z_MAX = 20;

// Thermal
/** Mean temperature above 85 °C (all samples, idle included) is near every data-centre GPU's slowdown point; wear roughly doubles per 10 °C. */
export const TEMP_MEAN_LIMIT_C = 85;
export const TEMP_MEAN_PENALTY_PER_C = 2;
export const TEMP_MEAN_MAX = 30;
/** A peak above 95 °C is past slowdown on current parts; only a cooling failure gets there. */
export const TEMP_MAX_LIMIT_C = 95;
export const TEMP_MAX_PENALTY_PER_C = 3;
export const TEMP_MAX_MAX = 30;
/** More than 8 °C hotter than the model runs at the same power: beyond rack-position and sensor spread, so fan, heatsink or airflow. */
export const TEMP_EXCESS_LIMIT_C = 8;
export const TEMP_EXCESS_PENALTY_PER_C = 2;
export const TEMP_EXCESS_MAX = 30;
/** Thermal throttling in more than 1 % of loaded samples: the bits now mean only real thermal events, so a few transients are all a healthy GPU shows. */
export const THERMAL_SHARE_LIMIT = 0.01;
/** One point per percentage point of loaded time above the limit (the reference rule's slope). */
export const THERMAL_SHARE_PENALTY_PER_PCT = 1;
export const THERMAL_SHARE_MAX = 40;
/** HW thermal slowdown cuts clocks by half or more: the GPU's own emergency brake (reference rule). */
export const HW_THERMAL_PENALTY = 20;

// Performance
/** SM clock this many robust σ below same-model peers at the same load: the GPU cannot hold the clocks its siblings hold. */
export const CLOCK_Z_LIMIT = -3;
export const CLOCK_Z_PENALTY_BASE = 10;
export const CLOCK_Z_PENALTY_PER_SIGMA = 10;
export const CLOCK_Z_MAX = 40;
/** Clock spread above 5 % of the median while nothing asks for lower clocks (no power cap, no idle) is instability (reference threshold). */
export const CLOCK_STD_LIMIT_PCT = 5;
export const CLOCK_STD_PENALTY = 10;

// Power
/** Any HW power brake: an external signal (PSU, board) forced the clocks down (reference rule). */
export const POWER_BRAKE_PENALTY = 15;
/** Braking in more than 1 % of samples is no single facility event: power delivery is failing. */
export const POWER_BRAKE_SHARE_LIMIT = 0.01;
export const POWER_BRAKE_SUSTAINED_PENALTY = 15;
/** A HW slowdown that neither the thermal nor the brake bit explains: of the three causes NVIDIA lists, two are power. */
export const HW_SLOWDOWN_PENALTY = 10;
/** Power-capped in more than half the loaded samples: the GPU cannot hold boost clocks within its limit (reference rule, now of loaded samples). */
export const POWER_CAP_SHARE_LIMIT = 0.5;
export const POWER_CAP_PENALTY = 10;
/** Power varying by more than 20 % of its mean at the same activity is not the workload: delivery or sensing is unstable. */
export const POWER_CV_LIMIT = 0.2;
export const POWER_CV_PENALTY_PER_UNIT = 100;
export const POWER_CV_MAX = 20;

// Reliability
/** Below 95 % of expected samples (about 8 h missing in a week): more than maintenance and exporter restarts explain (reference rule). */
export const COMPLETENESS_LIMIT = 0.95;
export const COMPLETENESS_PENALTY_PER_UNIT = 100;
/** Each silence counts 5 (reference rule); capped at 30 so a flapping exporter alone cannot make the GPU critical. */
export const GAP_PENALTY = 5;
export const GAP_MAX = 30;
/** DCGM_LIMIT_MAX_PCIREPLAY_RATE: 8 replays per minute is the most the driver team recommends. */
export const PCIE_REPLAY_LIMIT_PER_MIN = 8;
export const PCIE_REPLAY_PENALTY = 15;
/** DCGM_LIMIT_MAX_LWLINK_CRC_ERROR: NVLink CRC errors matter at 100+ per second. */
export const NVLINK_CRC_LIMIT_PER_S = 100;
export const NVLINK_CRC_PENALTY = 15;

// Xid
/** A reset-grade hardware Xid costs what an uncorrectable ECC error costs: both end the job and need a reset. */
export const XID_RESET_PENALTY = 20;
export const XID_RESET_MAX = 60;
/** A watch-grade Xid (retirement event, SBE storm, C2C, ctx-switch timeout) is a warning. */
export const XID_WATCH_PENALTY = 5;
export const XID_WATCH_MAX = 20;

// Overall
/** A dimension below 70 (fair) adds its summary factor (memory_degradation, thermal_issues, …). */
export const SUMMARY_FACTOR_BELOW = 70;
/** An RMA-grade fault caps the overall score at 40 — critical whatever the other dimensions say. */
export const RMA_OVERALL_CAP = 40;
/**
 * A GPU silent for the last hour before the fleet's newest sample (and 3 of its intervals) is not reporting: whatever its
 * older samples said, nobody can call it healthy now (it died, was pulled, or its exporter is down).
 * Reliability goes to 0 and the overall score is capped at 59.9 (poor) until it reports again.
 */
export const NOT_REPORTING_AFTER_S = 3600;
export const NOT_REPORTING_OVERALL_CAP = 59.9;

export const SUMMARY_FACTORS = {
  memory: 'memory_degradation',
  thermal: 'thermal_issues',
  performance: 'performance_degradation',
  power: 'power_issues',
  reliability: 'reliability_issues',
} as const satisfies Record<Dimension, string>;

// ───────────────────────────── scoring ─────────────────────────────

export interface FactorDetail {
  factor: string;
  dimension: Dimension;
  /** Points the factor took from its dimension (before clamping). */
  points: number;
}

export type DimensionScores = Record<DimensionField, number | null>;

export interface HealthScore extends DimensionScores {
  /** Weighted mean of the known dimensions (weights re-normalised), capped when RMA-grade; null only when no dimension is known. */
  overall_score: number | null;
  health_grade: HealthGrade | null;
  /** Specific factors, most points first, then the summary factors of dimensions below 70. */
  degradation_factors: string[];
  unknown_dimensions: Dimension[];
  /** A fault NVIDIA's policy answers with replacement (row-remap failure, Xid 64, retired-page limit). */
  rma_grade: boolean;
  /** Hardware Xid codes seen in the window (a class that maps to a dimension, severity not `none`), ascending. */
  hardware_xids: number[];
  factor_details: FactorDetail[];
}

export interface ScoreOptions {
  /** The Xid classification (XID_CLASSES merged with the config file's overrides). */
  xidClasses?: XidTable;
}

export const dimensionField = (d: Dimension): DimensionField => `${d}_health`;

const round1 = (x: number): number => Math.round(x * 10) / 10;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const present = (...values: (number | null)[]): boolean => values.some((v) => v !== null);

export function gradeOf(score: number): HealthGrade {
  const s = round1(score);
  for (const g of GRADES) if (s >= GRADE_FLOORS[g]) return g;
  return 'critical';
}

/** Weighted mean of the known dimensions; the weights of unknown ones are spread over the rest in proportion. */
export function overallScore(dims: Partial<Record<Dimension, number | null>>): number | null {
  let sum = 0;
  let weight = 0;
  for (const d of DIMENSIONS) {
    const v = dims[d];
    if (v === null || v === undefined) continue;
    sum += WEIGHTS[d] * v;
    weight += WEIGHTS[d];
  }
  return weight === 0 ? null : sum / weight;
}

class Ledger {
  readonly details: FactorDetail[] = [];
  readonly known = new Set<Dimension>();
  readonly rma = new Set<Dimension>();

  add(dimension: Dimension, factor: string, points: number): void {
    if (!(points > 0)) return;
    const existing = this.details.find((d) => d.factor === factor && d.dimension === dimension);
    if (existing) existing.points += points;
    else this.details.push({ factor, dimension, points });
  }

  /** An RMA-grade fault: the dimension goes to 0. */
  fail(dimension: Dimension, factor: string): void {
    this.rma.add(dimension);
    this.known.add(dimension);
    this.add(dimension, factor, 100);
  }

  penalty(dimension: Dimension): number {
    return this.details.filter((d) => d.dimension === dimension).reduce((s, d) => s + d.points, 0);
  }
}

/** Scores one GPU. See docs/scoring.md for the rules. */
export function scoreGpu(f: GpuFeatures, opts: ScoreOptions = {}): HealthScore {
  const xidTable = opts.xidClasses ?? XID_CLASSES;
  const led = new Ledger();
  const repair = memoryRepairKind(f.model);
  const readRemap = repair !== 'page_retirement';
  const readRetire = repair !== 'row_remap';

  const remap = {
    ce: readRemap ? f.remapped_rows_correctable : null,
    ue: readRemap ? f.remapped_rows_uncorrectable : null,
    failure: readRemap ? f.row_remap_failure : null,
    pending: readRemap ? f.row_remap_pending : null,
  };
  const retired = {
    dbe: readRetire ? f.retired_pages_dbe : null,
    sbe: readRetire ? f.retired_pages_sbe : null,
    pending: readRetire ? f.retired_pages_pending : null,
  };
  const repairStatePresent = present(remap.ce, remap.ue, remap.failure, remap.pending, retired.dbe, retired.sbe, retired.pending);

  // Which dimensions have their primary signals. A dimension without them becomes known only when an
  // event proves a fault in it (a hardware Xid): absence of evidence is not health, but evidence of a
  // fault is evidence.
  if (present(f.sbe_delta, f.dbe_delta) || repairStatePresent) led.known.add('memory');
  if (present(f.temp_mean, f.temp_max) || f.throttle_samples > 0) led.known.add('thermal');
  if (present(f.sm_clock_under_load_z, f.sm_clock_std_pct_under_load)) led.known.add('performance');
  if (f.power_mean !== null || f.throttle_samples > 0) led.known.add('power');
  if (f.expected_samples !== null && f.expected_samples > 0) led.known.add('reliability');

  // ── Xids: classify, then charge each class's dimension (memory Xids merge with their counters).
  let xidUncorrectable = 0;
  const hardwareXids = new Set<number>();
  const severityPoints = new Map<string, number>();
  const charge = (dim: Dimension, info: XidInfo, count: number): void => {
    const factor = `xid_${info.class}_errors`;
    if (info.severity === 'rma') {
      led.fail(dim, info.class === 'memory' ? (repair === 'page_retirement' ? 'page_retirement_failure' : 'row_remap_failure') : factor);
      return;
    }
    const [per, cap] = info.severity === 'reset' ? [XID_RESET_PENALTY, XID_RESET_MAX] : [XID_WATCH_PENALTY, XID_WATCH_MAX];
    const key = `${dim}/${info.severity}`;
    const before = severityPoints.get(key) ?? 0;
    const after = Math.min(cap, before + per * count);
    severityPoints.set(key, after);
    led.known.add(dim);
    led.add(dim, factor, after - before);
  };
  const codes = Object.keys(f.xid_counts)
    .map(Number)
    .sort((a, b) => a - b);
  for (const code of codes) {
    const count = f.xid_counts[code] ?? 0;
    if (!(count > 0)) continue;
    const info = classifyXid(code, xidTable);
    const dim = XID_CLASS_DIMENSION[info.class];
    if (dim === null || info.severity === 'none') continue;
    hardwareXids.add(code);
    switch (info.counted_by) {
      case 'dbe':
        // Merged with the DBE counter below (max, not sum): one fault, seen twice.
        xidUncorrectable += count;
        led.known.add('memory');
        continue;
      case 'sbe':
        if (f.sbe_delta !== null) continue;
        break;
      case 'retirement':
        if (repairStatePresent) continue;
        break;
      case 'remap_failure':
        if (remap.failure !== null && remap.failure >= 1) continue;
        break;
      case undefined:
        break;
    }
    charge(dim, info, count);
  }

  // ── Memory
  const ue = Math.max(f.dbe_delta ?? 0, xidUncorrectable);
  led.add('memory', 'uncorrectable_ecc_errors', Math.min(UE_MAX, UE_PENALTY * ue));
  if (f.sbe_delta !== null && f.sbe_delta > 0) {
    const perWeek = (f.sbe_delta / Math.max(f.span_s, 86_400)) * 7 * 86_400;
    if (perWeek > SBE_LIMIT_PER_WEEK) {
      led.add('memory', 'high_correctable_ecc_errors', Math.min(SBE_PENALTY_MAX, ((perWeek - SBE_LIMIT_PER_WEEK) / SBE_LIMIT_PER_WEEK) * SBE_PENALTY_MAX));
    }
    if (f.sbe_accel !== null && f.sbe_accel >= SBE_ACCEL_LIMIT && f.sbe_delta >= SBE_ACCEL_MIN_ERRORS) {
      led.add('memory', 'accelerating_correctable_ecc_errors', SBE_ACCEL_PENALTY);
    }
  }
  if (retired.dbe !== null) led.add('memory', 'retired_memory_pages', Math.min(RETIRED_DBE_PAGE_MAX, RETIRED_DBE_PAGE_PENALTY * retired.dbe));
  if (retired.sbe !== null) led.add('memory', 'retired_memory_pages', Math.min(RETIRED_SBE_PAGE_MAX, RETIRED_SBE_PAGE_PENALTY * retired.sbe));
  if ((retired.dbe ?? 0) + (retired.sbe ?? 0) >= RETIRED_PAGES_RMA) led.fail('memory', 'retired_pages_limit');
  if (retired.pending !== null && retired.pending > 0) led.add('memory', 'retired_pages_pending', REPAIR_PENDING_PENALTY);
  if (remap.ue !== null) led.add('memory', 'remapped_memory_rows', Math.min(REMAP_UE_MAX, REMAP_UE_PENALTY * remap.ue));
  if (remap.ce !== null) led.add('memory', 'remapped_memory_rows', Math.min(REMAP_CE_MAX, REMAP_CE_PENALTY * remap.ce));
  if (remap.pending !== null && remap.pending >= 1) led.add('memory', 'row_remap_pending', REPAIR_PENDING_PENALTY);
  if (remap.failure !== null && remap.failure >= 1) led.fail('memory', 'row_remap_failure');
  if (led.known.has('memory') && f.dram_activity_per_load_z !== null && f.dram_activity_per_load_z < DRAM_Z_LIMIT) {
    const over = DRAM_Z_LIMIT - f.dram_activity_per_load_z;
    led.add('memory', 'memory_bandwidth_degradation', Math.min(DRAM_Z_MAX, DRAM_Z_PENALTY_BASE + DRAM_Z_PENALTY_PER_SIGMA * over));
  }

  // ── Thermal
  if (f.temp_mean !== null && f.temp_mean > TEMP_MEAN_LIMIT_C) {
    led.add('thermal', 'elevated_temperature', Math.min(TEMP_MEAN_MAX, TEMP_MEAN_PENALTY_PER_C * (f.temp_mean - TEMP_MEAN_LIMIT_C)));
  }
  if (f.temp_max !== null && f.temp_max > TEMP_MAX_LIMIT_C) {
    led.add('thermal', 'elevated_temperature', Math.min(TEMP_MAX_MAX, TEMP_MAX_PENALTY_PER_C * (f.temp_max - TEMP_MAX_LIMIT_C)));
  }
  if (f.temp_excess_at_power !== null && f.temp_excess_at_power > TEMP_EXCESS_LIMIT_C) {
    led.add('thermal', 'poor_cooling', Math.min(TEMP_EXCESS_MAX, TEMP_EXCESS_PENALTY_PER_C * (f.temp_excess_at_power - TEMP_EXCESS_LIMIT_C)));
  }
  if (f.share_thermal_throttled !== null && f.share_thermal_throttled > THERMAL_SHARE_LIMIT) {
    const pct = (f.share_thermal_throttled - THERMAL_SHARE_LIMIT) * 100;
    led.add('thermal', 'thermal_throttling', Math.min(THERMAL_SHARE_MAX, THERMAL_SHARE_PENALTY_PER_PCT * pct));
  }
  if (f.hw_thermal_slowdown_samples > 0) led.add('thermal', 'hw_thermal_slowdown', HW_THERMAL_PENALTY);

  // ── Performance (occupancy is deliberately not a rule: it describes the workload)
  if (f.sm_clock_under_load_z !== null && f.sm_clock_under_load_z < CLOCK_Z_LIMIT) {
    const over = CLOCK_Z_LIMIT - f.sm_clock_under_load_z;
    led.add('performance', 'low_clock_under_load', Math.min(CLOCK_Z_MAX, CLOCK_Z_PENALTY_BASE + CLOCK_Z_PENALTY_PER_SIGMA * over));
  }
  if (f.sm_clock_std_pct_under_load !== null && f.sm_clock_std_pct_under_load > CLOCK_STD_LIMIT_PCT) {
    led.add('performance', 'clock_instability', CLOCK_STD_PENALTY);
  }

  // ── Power
  if (f.hw_power_brake_samples > 0) {
    led.add('power', 'power_brake', POWER_BRAKE_PENALTY);
    if (f.throttle_samples > 0 && f.hw_power_brake_samples / f.throttle_samples > POWER_BRAKE_SHARE_LIMIT) {
      led.add('power', 'power_brake', POWER_BRAKE_SUSTAINED_PENALTY);
    }
  }
  if (f.hw_slowdown_samples > 0) led.add('power', 'hw_slowdown', HW_SLOWDOWN_PENALTY);
  if (f.sw_power_cap_share !== null && f.sw_power_cap_share > POWER_CAP_SHARE_LIMIT) led.add('power', 'power_capped', POWER_CAP_PENALTY);
  if (f.power_cv !== null && f.power_cv > POWER_CV_LIMIT) {
    led.add('power', 'power_instability', Math.min(POWER_CV_MAX, (f.power_cv - POWER_CV_LIMIT) * POWER_CV_PENALTY_PER_UNIT));
  }

  // ── Reliability
  if (f.expected_samples !== null && f.expected_samples > 0) {
    const completeness = Math.min(1, f.samples / f.expected_samples);
    if (completeness < COMPLETENESS_LIMIT) {
      led.add('reliability', 'incomplete_telemetry', (COMPLETENESS_LIMIT - completeness) * COMPLETENESS_PENALTY_PER_UNIT);
    }
  }
  led.add('reliability', 'data_gaps', Math.min(GAP_MAX, GAP_PENALTY * f.gaps_over_5min));
  const notReporting = f.silent_before_end_s > Math.max(NOT_REPORTING_AFTER_S, GAP_MIN_INTERVALS * (f.interval_s ?? 0));
  if (notReporting) {
    led.known.add('reliability');
    led.add('reliability', 'not_reporting', 100);
  }
  if (f.pcie_replay_peak_per_min !== null && f.pcie_replay_peak_per_min > PCIE_REPLAY_LIMIT_PER_MIN) {
    led.known.add('reliability');
    led.add('reliability', 'pcie_replay_errors', PCIE_REPLAY_PENALTY);
  }
  if (f.nvlink_crc_peak_per_s !== null && f.nvlink_crc_peak_per_s > NVLINK_CRC_LIMIT_PER_S) {
    led.known.add('reliability');
    led.add('reliability', 'nvlink_crc_errors', NVLINK_CRC_PENALTY);
  }

  // ── Assemble
  const scores = {} as DimensionScores;
  const unknown: Dimension[] = [];
  const dims: Partial<Record<Dimension, number | null>> = {};
  for (const d of DIMENSIONS) {
    let v: number | null = null;
    if (led.known.has(d)) v = led.rma.has(d) ? 0 : round1(clamp(100 - led.penalty(d), 0, 100));
    else unknown.push(d);
    scores[dimensionField(d)] = v;
    dims[d] = v;
  }
  const rma = led.rma.size > 0;
  let overall = overallScore(dims);
  if (overall !== null) {
    if (rma) overall = Math.min(overall, RMA_OVERALL_CAP);
    if (notReporting) overall = Math.min(overall, NOT_REPORTING_OVERALL_CAP);
    overall = round1(overall);
  }

  const details = led.details
    .filter((d) => led.known.has(d.dimension))
    .map((d) => ({ ...d, points: round1(d.points) }))
    .sort((a, b) => b.points - a.points || a.factor.localeCompare(b.factor));
  const factors = [...new Set(details.map((d) => d.factor))];
  for (const d of DIMENSIONS) {
    const v = dims[d];
    if (v !== null && v !== undefined && v < SUMMARY_FACTOR_BELOW) factors.push(SUMMARY_FACTORS[d]);
  }

  return {
    ...scores,
    overall_score: overall,
    health_grade: overall === null ? null : gradeOf(overall),
    degradation_factors: factors,
    unknown_dimensions: unknown,
    rma_grade: rma,
    hardware_xids: [...hardwareXids].sort((a, b) => a - b),
    factor_details: details,
  };
}
