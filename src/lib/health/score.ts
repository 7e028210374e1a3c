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
import { thermalLimits } from '../dcgm/thermal-limits.js';
import {
  classifyXid,
  FELL_OFF_BUS_XID,
  RECOMMENDED_ACTIONS,
  type RecommendedAction,
  XID_CLASSES,
  type XidClass,
  type XidInfo,
  type XidTable,
  xidAction,
} from '../dcgm/xid.js';
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
/** One uncorrectable error in a week takes memory to 80: it was contained and fenced off, but it killed a job (and it needs a reset: see the caps). */
export const UE_PENALTY = 20;
/** Three or more uncorrectable errors in a week put memory at 40: the chip is failing whatever the count. */
export const UE_MAX = 60;
/** An uncontained error (Xid 95) may have corrupted other processes' memory: it counts as two contained ones. */
export const UNCONTAINED_UE_WEIGHT = 2;
/** Correctable errors per week a healthy HBM stack stays under (the reference rule's 100, as a rate, so a 1-day window is judged alike). */
export const SBE_LIMIT_PER_WEEK = 100;
/**
 * Points for correctable errors grow with the logarithm of the rate over the limit: 5 at the limit, +15 per
 * tenfold (200/week ≈ 9.5, 1,000 ≈ 20, 100,000 ≈ 50). Correctable errors are corrected, so they warn; a
 * rate ten thousand times the limit is a failing stack all the same, which a linear rule capped at twice
 * the limit could not tell from 200 a week.
 */
export const SBE_PENALTY_AT_LIMIT = 5;
export const SBE_PENALTY_PER_DECADE = 15;
export const SBE_PENALTY_MAX = 50;
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
/** Pending retirements or remaps wait for a reset; until then the GPU runs without the repair (and the reset cap applies). */
export const REPAIR_PENDING_PENALTY = 10;
/** Each row remapped after an uncorrectable error is one past DBE, fenced by a spare row: the same weight as a DBE page. */
export const REMAP_UE_PENALTY = 5;
export const REMAP_UE_MAX = 30;
/** A row remapped after correctable errors is preventive wear. */
export const REMAP_CE_PENALTY = 1;
export const REMAP_CE_MAX = 10;

// Thermal
/** Mean temperature above 85 °C (all samples, idle included) is near every data-centre GPU's slowdown point; wear roughly doubles per 10 °C. */
export const TEMP_MEAN_LIMIT_C = 85;
export const TEMP_MEAN_PENALTY_PER_C = 2;
export const TEMP_MEAN_MAX = 30;
/**
 * A peak at the part's own slowdown temperature (dcgm/thermal-limits.ts; the A100 and H100 slow down
 * around 90 °C and shut down at 92, so the old fixed 95 °C could never fire on them): the GPU reached
 * the point where it protects itself. 10 points, 5 more per °C beyond, up to 40.
 */
export const TEMP_PEAK_PENALTY_BASE = 10;
export const TEMP_PEAK_PENALTY_PER_C = 5;
export const TEMP_PEAK_MAX = 40;
/** HBM above the part's memory maximum operating temperature: the memory's own limit, whatever the GPU die does. */
export const HBM_OVER_PENALTY_BASE = 20;
export const HBM_OVER_PENALTY_PER_C = 5;
export const HBM_OVER_MAX = 60;
/** More than 8 °C hotter than the model runs at the same power: beyond rack-position and sensor spread, so fan, heatsink or airflow. */
export const TEMP_EXCESS_LIMIT_C = 8;
export const TEMP_EXCESS_PENALTY_PER_C = 2;
export const TEMP_EXCESS_MAX = 30;
/** Thermal throttling in more than 1 % of loaded samples: the bits now mean only real thermal events, so a few transients are all a healthy GPU shows. */
export const THERMAL_SHARE_LIMIT = 0.01;
/** One point per percentage point of loaded time above the limit, up to 60: a GPU throttled half the time delivers half its work. */
export const THERMAL_SHARE_PENALTY_PER_PCT = 1;
export const THERMAL_SHARE_MAX = 60;
/** HW thermal slowdown cuts clocks by half or more: the GPU's own emergency brake (reference rule); sustained, it is a cooling fault. */
export const HW_THERMAL_PENALTY = 20;
/** Points per percentage point of samples in HW thermal slowdown, on top of the first 20, up to 60 in all. */
export const HW_THERMAL_PENALTY_PER_PCT = 1;
export const HW_THERMAL_MAX = 60;

// Performance
/**
 * SM clock this many robust σ below same-model peers at the same load, with no throttle bit set: the GPU
 * cannot hold the clocks its siblings hold. 10 points at the limit, 10 per σ beyond, up to 80 — a clock
 * stuck far below its cohort slows every synchronous job it is part of.
 */
export const CLOCK_Z_LIMIT = -3;
export const CLOCK_Z_PENALTY_BASE = 10;
export const CLOCK_Z_PENALTY_PER_SIGMA = 10;
export const CLOCK_Z_MAX = 80;
/** Clock spread above 5 % of the median while nothing asks for lower clocks (no throttle bit, no idle) is instability (reference threshold). */
export const CLOCK_STD_LIMIT_PCT = 5;
export const CLOCK_STD_PENALTY = 10;

// Power
/** Any HW power brake: an external signal (PSU, board) forced the clocks down (reference rule). */
export const POWER_BRAKE_PENALTY = 15;
/** Braking in more than 1 % of samples is no single facility event: power delivery is failing. 15 more, and 1.5 per percent of samples, up to 80 in all. */
export const POWER_BRAKE_SHARE_LIMIT = 0.01;
export const POWER_BRAKE_SUSTAINED_PENALTY = 15;
export const POWER_BRAKE_PENALTY_PER_PCT = 1.5;
export const POWER_BRAKE_MAX = 80;
/** A HW slowdown that neither the thermal nor the brake bit explains: of the three causes NVIDIA lists, two are power. */
export const HW_SLOWDOWN_PENALTY = 10;
/** Power varying by more than 20 % of its mean at the same activity is not the workload: delivery or sensing is unstable. */
export const POWER_CV_LIMIT = 0.2;
export const POWER_CV_PENALTY_PER_UNIT = 100;
export const POWER_CV_MAX = 20;

// Reliability (hardware events only: coverage lowers the confidence, not the score)
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
/** A watch-grade Xid (SBE storm, C2C, ctx-switch timeout) is a warning. */
export const XID_WATCH_PENALTY = 5;
export const XID_WATCH_MAX = 20;

// Grade
/**
 * The grade is at most this many bands better than the worst known dimension's own grade: a failed
 * subsystem is a failed GPU, however healthy the rest (DCGM's overall health is its worst incident;
 * GPUd and NVSentinel never average subsystems). The weighted mean still ranks GPUs within a grade.
 */
export const GRADE_BANDS_ABOVE_WORST = 1;
/** A GPU that needs a reset (a UE, a pending repair, a reset-class Xid, the driver asking) is at best degraded until a reset is seen. */
export const RESET_REQUIRED_CAP: HealthGrade = 'degraded';
/** Three or more reset-requiring incidents in the window, or the GPU fell off the bus (Xid 79): the faults recur, so at best poor. */
export const REPEATED_INCIDENTS = 3;
export const REPEATED_INCIDENTS_CAP: HealthGrade = 'poor';
/** A fault NVIDIA's policy answers with replacement: critical. */
export const RMA_CAP: HealthGrade = 'critical';
/**
 * A GPU silent for the last hour before the fleet's newest sample (and 3 of its intervals) is not reporting: whatever its
 * older samples said, nobody can call it healthy now (it died, was pulled, or its exporter is down). At best poor.
 */
export const NOT_REPORTING_AFTER_S = 3600;
export const NOT_REPORTING_CAP: HealthGrade = 'poor';
/** A dimension below 70 (fair) adds its summary factor (memory_degradation, thermal_issues, …). */
export const SUMMARY_FACTOR_BELOW = 70;
/** A known dimension below this (degraded or worse) from faults that are not Xids asks for the GPU to be drained and diagnosed (dcgmi diag). */
export const DIAGNOSE_BELOW = 60;

// Confidence
/** Below 95 % of the samples the fleet's interval expects (about 8 h missing in a week): more than maintenance and exporter restarts explain. */
export const COMPLETENESS_MEDIUM_BELOW = 0.95;
/** Below half the expected samples, the window says little about this GPU. */
export const COMPLETENESS_LOW_BELOW = 0.5;
/** Three silences over the gap threshold make the coverage patchy. */
export const GAPS_MEDIUM_AT = 3;
/** Fewer samples than this (an hour at 1 min) and nothing is measured with confidence. */
export const MIN_SAMPLES_FOR_CONFIDENCE = 60;
/** Three unknown dimensions: the score rests on two. */
export const UNKNOWN_DIMENSIONS_LOW_AT = 3;

export const SUMMARY_FACTORS = {
  memory: 'memory_degradation',
  thermal: 'thermal_issues',
  performance: 'performance_degradation',
  power: 'power_issues',
  reliability: 'reliability_issues',
} as const satisfies Record<Dimension, string>;

export const CONFIDENCE_LEVELS = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

// ───────────────────────────── scoring ─────────────────────────────

/** One reason behind a score, with the numbers: what was measured, against what, and what it cost. */
export interface FactorDetail {
  factor: string;
  dimension: Dimension;
  /** Points the factor took from its dimension (before clamping; 100 for an RMA-grade fault). */
  points: number;
  /** The measured value the rule judged (null when the evidence is a set of events). */
  value: number | null;
  unit: string | null;
  /** The rule's threshold in the same unit (null when any occurrence counts). */
  threshold: number | null;
  /** The evidence in words: "3 UEs in window (DBE +3, Xid 48 ×1) → −60 memory". */
  evidence: string;
}

export type DimensionScores = Record<DimensionField, number | null>;

export interface HealthScore extends DimensionScores {
  /** The weighted mean of the known dimensions (weights re-normalised), capped to the top of the grade's band: the ranking number. Null only when no dimension is known. */
  overall_score: number | null;
  health_grade: HealthGrade | null;
  /** What an operator should do: none, monitor, reset_gpu, reboot_host, drain_and_diagnose, rma. */
  recommended_action: RecommendedAction;
  /** How far the score can be trusted: coverage, missing signals, data problems (never the GPU's health). */
  confidence: Confidence;
  confidence_reasons: string[];
  /** The caps that bound the grade, with their evidence: `reset_required: 1 UE (DBE +1)`. */
  grade_caps: string[];
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
const present = (...values: (number | null | undefined)[]): boolean => values.some((v) => v !== null && v !== undefined);
const fmt = (x: number, digits = 1): string => (Number.isInteger(x) ? String(x) : x.toFixed(digits));
const pct = (share: number): string => `${fmt(share * 100)} %`;

export function gradeOf(score: number): HealthGrade {
  const s = round1(score);
  for (const g of GRADES) if (s >= GRADE_FLOORS[g]) return g;
  return 'critical';
}

const gradeRank = (g: HealthGrade): number => GRADES.indexOf(g);
/** The worse of two grades. */
export const worseGrade = (a: HealthGrade, b: HealthGrade): HealthGrade => (gradeRank(a) >= gradeRank(b) ? a : b);
/** The highest overall score a grade holds: 100 for excellent, 89.9 for good, … */
export function gradeCeiling(g: HealthGrade): number {
  const i = gradeRank(g);
  return i === 0 ? 100 : round1(GRADE_FLOORS[GRADES[i - 1]!] - 0.1);
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

interface Evidence {
  value?: number | null;
  unit?: string | null;
  threshold?: number | null;
  /** The evidence before the arrow; the arrow and the points are added. */
  text: string;
}

class Ledger {
  readonly details: FactorDetail[] = [];
  readonly known = new Set<Dimension>();
  readonly rma = new Set<Dimension>();

  add(dimension: Dimension, factor: string, points: number, ev: Evidence): void {
    if (!(points > 0)) return;
    const existing = this.details.find((d) => d.factor === factor && d.dimension === dimension);
    if (existing) {
      existing.points += points;
      existing.evidence = `${existing.evidence.replace(/ → −[\d.]+ \w+$/, '')}; ${ev.text} → −${fmt(round1(existing.points))} ${dimension}`;
      return;
    }
    this.details.push({
      factor,
      dimension,
      points,
      value: ev.value ?? null,
      unit: ev.unit ?? null,
      threshold: ev.threshold ?? null,
      evidence: `${ev.text} → −${fmt(round1(points))} ${dimension}`,
    });
  }

  /** An RMA-grade fault: the dimension goes to 0. */
  fail(dimension: Dimension, factor: string, ev: Evidence): void {
    this.rma.add(dimension);
    this.known.add(dimension);
    this.add(dimension, factor, 100, ev);
  }

  penalty(dimension: Dimension): number {
    return this.details.filter((d) => d.dimension === dimension).reduce((s, d) => s + d.points, 0);
  }
}

const actionRank = (a: RecommendedAction): number => RECOMMENDED_ACTIONS.indexOf(a);
const worseAction = (a: RecommendedAction, b: RecommendedAction): RecommendedAction => (actionRank(a) >= actionRank(b) ? a : b);

/** Xid 154's recovery actions that ask for a reset or reboot, and what the operator does about each. */
const RECOVERY_ACTIONS: Readonly<Record<string, RecommendedAction>> = { reset_gpu: 'reset_gpu', reboot_host: 'reboot_host', drain_reset: 'reset_gpu' };

export type ScoreInput = GpuFeatures;

/** Scores one GPU. See docs/scoring.md for the rules. */
export function scoreGpu(f: ScoreInput, opts: ScoreOptions = {}): HealthScore {
  const xidTable = opts.xidClasses ?? XID_CLASSES;
  const led = new Ledger();
  const repair = memoryRepairKind(f.model);
  const readRemap = repair !== 'page_retirement';
  const readRetire = repair !== 'row_remap';
  const limits = thermalLimits(f.model);

  const remap = {
    ce: readRemap ? f.remapped_rows_correctable : null,
    ue: readRemap ? f.remapped_rows_uncorrectable : null,
    ueNew: readRemap ? f.remapped_rows_uncorrectable_new : null,
    failure: readRemap ? f.row_remap_failure : null,
    pending: readRemap ? f.row_remap_pending : null,
  };
  const retired = {
    dbe: readRetire ? f.retired_pages_dbe : null,
    sbe: readRetire ? f.retired_pages_sbe : null,
    pending: readRetire ? f.retired_pages_pending : null,
  };
  const repairStatePresent = present(remap.ce, remap.ue, remap.failure, remap.pending, retired.dbe, retired.sbe, retired.pending);
  const pendingStatePresent = present(remap.pending, retired.pending);

  // Which dimensions have their primary signals. A dimension without them becomes known only when an
  // event proves a fault in it (a hardware Xid): absence of evidence is not health, but evidence of a
  // fault is evidence.
  if (present(f.sbe_delta, f.dbe_delta) || repairStatePresent) led.known.add('memory');
  if (present(f.temp_mean, f.temp_max, f.memory_temp_max) || f.throttle_samples > 0) led.known.add('thermal');
  if (present(f.sm_clock_under_load_z, f.sm_clock_std_pct_under_load)) led.known.add('performance');
  if (f.power_mean !== null || f.throttle_samples > 0) led.known.add('power');
  if (present(f.pcie_replay_delta, f.nvlink_crc_delta)) led.known.add('reliability');

  // What the operator should do, from each piece of evidence (the worst wins), and the caps on the grade.
  let action = 'none' as RecommendedAction;
  const needAction = (a: RecommendedAction): void => {
    action = worseAction(action, a);
  };
  const resetEvidence: string[] = [];
  let resetIncidents = 0;

  // ── Xids: classify, then charge each class's dimension (memory Xids merge with their counters).
  let xidUncorrectable = 0;
  const xidUeCodes: string[] = [];
  const hardwareXids = new Set<number>();
  const severityPoints = new Map<string, number>();
  const charge = (dim: Dimension, info: XidInfo, code: number, count: number): void => {
    const factor = `xid_${info.class}_errors`;
    const text = `Xid ${code} ${info.mnemonic} ×${count}`;
    if (info.severity === 'rma') {
      led.fail(dim, info.class === 'memory' ? (repair === 'page_retirement' ? 'page_retirement_failure' : 'row_remap_failure') : factor, {
        value: count,
        unit: 'events',
        text,
      });
      return;
    }
    const [per, cap] = info.severity === 'reset' ? [XID_RESET_PENALTY, XID_RESET_MAX] : [XID_WATCH_PENALTY, XID_WATCH_MAX];
    const key = `${dim}/${info.severity}`;
    const before = severityPoints.get(key) ?? 0;
    const after = Math.min(cap, before + per * count);
    severityPoints.set(key, after);
    led.known.add(dim);
    led.add(dim, factor, after - before, { value: count, unit: 'events', text });
  };
  const codes = Object.keys(f.xid_counts)
    .map(Number)
    .sort((a, b) => a - b);
  let pendingFromXid = false;
  let xidResets = 0;
  for (const code of codes) {
    const count = f.xid_counts[code] ?? 0;
    if (!(count > 0)) continue;
    const info = classifyXid(code, xidTable);
    const dim = XID_CLASS_DIMENSION[info.class];
    needAction(info.severity === 'none' ? 'none' : xidAction(code, xidTable));
    if (dim === null || info.severity === 'none') continue;
    hardwareXids.add(code);
    if (info.severity === 'reset' && info.counted_by !== 'dbe') {
      resetEvidence.push(`Xid ${code} ×${count}`);
      xidResets += count;
    }
    switch (info.counted_by) {
      case 'dbe':
        // Merged with the DBE counter below (max, not sum): one fault, seen twice.
        xidUncorrectable += count;
        xidUeCodes.push(`Xid ${code} ×${count}`);
        led.known.add('memory');
        continue;
      case 'sbe':
        if (f.sbe_delta !== null) continue;
        break;
      case 'retirement':
        // A retirement or remap event: the repair waits for a reset. Without the pending fields
        // (dcgm-exporter's defaults leave ROW_REMAP_PENDING out) the Xid is the only sign of it.
        if (!pendingStatePresent) pendingFromXid = true;
        if (repairStatePresent) continue;
        break;
      case 'remap_failure':
        if (remap.failure !== null && remap.failure >= 1) continue;
        break;
      case undefined:
        break;
    }
    charge(dim, info, code, count);
  }

  // Reset-class Xids of one fault (119, 120 and 62 of one GSP failure) are one incident: the features
  // group them in time; per-code counts are the fallback where a config override adds codes.
  resetIncidents += f.reset_xid_incidents > 0 ? f.reset_xid_incidents : xidResets;

  // ── Memory
  // Xid 48 and 94/95 logged for one error are one incident (features: ue_incidents groups them in time).
  const xidUe = f.ue_incidents > 0 ? f.ue_incidents : xidUncorrectable;
  const uncontained = f.uncontained_ue_incidents;
  const ue = Math.max(f.dbe_delta ?? 0, xidUe);
  if (ue > 0) {
    const seen = [f.dbe_delta ? `DBE +${fmt(f.dbe_delta)}` : null, ...xidUeCodes].filter((x): x is string => x !== null).join(', ');
    const weighted = ue + (UNCONTAINED_UE_WEIGHT - 1) * Math.min(uncontained, ue);
    led.add('memory', 'uncorrectable_ecc_errors', Math.min(UE_MAX, UE_PENALTY * weighted), {
      value: ue,
      unit: 'errors',
      text: `${fmt(ue)} uncorrectable ECC error${ue === 1 ? '' : 's'} in window (${seen}${uncontained > 0 ? `; ${uncontained} uncontained` : ''})`,
    });
    resetEvidence.push(`${fmt(ue)} UE (${seen})`);
    resetIncidents += ue;
    needAction('reset_gpu');
  }
  if (f.sbe_delta !== null && f.sbe_delta > 0) {
    const perWeek = (f.sbe_delta / Math.max(f.span_s, 86_400)) * 7 * 86_400;
    if (perWeek > SBE_LIMIT_PER_WEEK) {
      const points = Math.min(SBE_PENALTY_MAX, SBE_PENALTY_AT_LIMIT + SBE_PENALTY_PER_DECADE * Math.log10(perWeek / SBE_LIMIT_PER_WEEK));
      led.add('memory', 'high_correctable_ecc_errors', points, {
        value: round1(perWeek),
        unit: 'per week',
        threshold: SBE_LIMIT_PER_WEEK,
        text: `${fmt(round1(perWeek))} correctable ECC errors per week (limit ${SBE_LIMIT_PER_WEEK})`,
      });
    }
    if (f.sbe_accel !== null && f.sbe_accel >= SBE_ACCEL_LIMIT && f.sbe_delta >= SBE_ACCEL_MIN_ERRORS) {
      led.add('memory', 'accelerating_correctable_ecc_errors', SBE_ACCEL_PENALTY, {
        value: round1(f.sbe_accel),
        unit: '×',
        threshold: SBE_ACCEL_LIMIT,
        text: `correctable ECC rate in the last 24 h ${fmt(round1(f.sbe_accel))}× the rest of the window (limit ${SBE_ACCEL_LIMIT}×)`,
      });
    }
  }
  if (retired.dbe !== null && retired.dbe > 0) {
    led.add('memory', 'retired_memory_pages', Math.min(RETIRED_DBE_PAGE_MAX, RETIRED_DBE_PAGE_PENALTY * retired.dbe), {
      value: retired.dbe,
      unit: 'pages',
      text: `${fmt(retired.dbe)} pages retired after DBEs`,
    });
  }
  if (retired.sbe !== null && retired.sbe > 0) {
    led.add('memory', 'retired_memory_pages', Math.min(RETIRED_SBE_PAGE_MAX, RETIRED_SBE_PAGE_PENALTY * retired.sbe), {
      value: retired.sbe,
      unit: 'pages',
      text: `${fmt(retired.sbe)} pages retired after SBEs`,
    });
  }
  const retiredTotal = (retired.dbe ?? 0) + (retired.sbe ?? 0);
  if (retiredTotal >= RETIRED_PAGES_RMA) {
    led.fail('memory', 'retired_pages_limit', {
      value: retiredTotal,
      unit: 'pages',
      threshold: RETIRED_PAGES_RMA,
      text: `${fmt(retiredTotal)} retired pages (DCGM limit ${RETIRED_PAGES_RMA})`,
    });
  }
  const pendingNow = (retired.pending ?? 0) > 0 || (remap.pending ?? 0) >= 1;
  if (pendingNow || pendingFromXid) {
    const what = pendingNow
      ? (remap.pending ?? 0) >= 1
        ? 'row remap pending (waits for a GPU reset)'
        : `${fmt(retired.pending ?? 0)} page retirements pending (wait for a GPU reset)`
      : 'memory repair pending (Xid 63; the pending fields are not exported)';
    led.add(
      'memory',
      (remap.pending ?? 0) >= 1 || (pendingFromXid && repair !== 'page_retirement') ? 'row_remap_pending' : 'retired_pages_pending',
      REPAIR_PENDING_PENALTY,
      {
        text: what,
      },
    );
    resetEvidence.push(what);
    resetIncidents += 1;
    needAction('reset_gpu');
  }
  if (remap.ue !== null && remap.ue > 0) {
    // rows remapped for this window's UEs are the same faults the UE rule charged
    const charged = Math.max(0, remap.ue - Math.min(remap.ueNew ?? 0, ue));
    if (charged > 0) {
      led.add('memory', 'remapped_memory_rows', Math.min(REMAP_UE_MAX, REMAP_UE_PENALTY * charged), {
        value: remap.ue,
        unit: 'rows',
        text: `${fmt(remap.ue)} rows remapped after uncorrectable errors${charged < remap.ue ? ` (${fmt(remap.ue - charged)} of them for this window's UEs)` : ''}`,
      });
    }
  }
  if (remap.ce !== null && remap.ce > 0) {
    led.add('memory', 'remapped_memory_rows', Math.min(REMAP_CE_MAX, REMAP_CE_PENALTY * remap.ce), {
      value: remap.ce,
      unit: 'rows',
      text: `${fmt(remap.ce)} rows remapped after correctable errors`,
    });
  }
  if (remap.failure !== null && remap.failure >= 1) led.fail('memory', 'row_remap_failure', { value: 1, text: 'a row remapping failed (no spare row left)' });

  // ── Thermal
  if (f.temp_mean !== null && f.temp_mean > TEMP_MEAN_LIMIT_C) {
    led.add('thermal', 'elevated_temperature', Math.min(TEMP_MEAN_MAX, TEMP_MEAN_PENALTY_PER_C * (f.temp_mean - TEMP_MEAN_LIMIT_C)), {
      value: round1(f.temp_mean),
      unit: '°C',
      threshold: TEMP_MEAN_LIMIT_C,
      text: `mean temperature ${fmt(round1(f.temp_mean))} °C (limit ${TEMP_MEAN_LIMIT_C} °C)`,
    });
  }
  if (f.temp_max !== null && f.temp_max >= limits.slowdown_c) {
    led.add('thermal', 'elevated_temperature', Math.min(TEMP_PEAK_MAX, TEMP_PEAK_PENALTY_BASE + TEMP_PEAK_PENALTY_PER_C * (f.temp_max - limits.slowdown_c)), {
      value: round1(f.temp_max),
      unit: '°C',
      threshold: limits.slowdown_c,
      text: `peak temperature ${fmt(round1(f.temp_max))} °C, at or past the part's ${limits.slowdown_c} °C slowdown point`,
    });
  }
  if (f.memory_temp_max !== null && limits.memory_max_c !== null && f.memory_temp_max > limits.memory_max_c) {
    const over = f.memory_temp_max - limits.memory_max_c;
    led.add('thermal', 'hbm_overtemperature', Math.min(HBM_OVER_MAX, HBM_OVER_PENALTY_BASE + HBM_OVER_PENALTY_PER_C * over), {
      value: round1(f.memory_temp_max),
      unit: '°C',
      threshold: limits.memory_max_c,
      text: `HBM peak ${fmt(round1(f.memory_temp_max))} °C, above the ${limits.memory_max_c} °C memory maximum`,
    });
  }
  if (f.temp_excess_at_power !== null && f.temp_excess_at_power > TEMP_EXCESS_LIMIT_C) {
    led.add('thermal', 'poor_cooling', Math.min(TEMP_EXCESS_MAX, TEMP_EXCESS_PENALTY_PER_C * (f.temp_excess_at_power - TEMP_EXCESS_LIMIT_C)), {
      value: round1(f.temp_excess_at_power),
      unit: '°C',
      threshold: TEMP_EXCESS_LIMIT_C,
      text: `${fmt(round1(f.temp_excess_at_power))} °C hotter than its model at equal power (limit ${TEMP_EXCESS_LIMIT_C} °C)`,
    });
  }
  const thermalShare = f.share_thermal_throttled ?? (f.throttle_samples === 0 ? f.thermal_violation_share : null);
  if (thermalShare !== null && thermalShare > THERMAL_SHARE_LIMIT) {
    const over = (thermalShare - THERMAL_SHARE_LIMIT) * 100;
    const source = f.share_thermal_throttled !== null ? 'of loaded samples thermally throttled' : 'of the window in thermal violation (DCGM counter)';
    led.add('thermal', 'thermal_throttling', Math.min(THERMAL_SHARE_MAX, THERMAL_SHARE_PENALTY_PER_PCT * over), {
      value: round1(thermalShare * 100),
      unit: '%',
      threshold: THERMAL_SHARE_LIMIT * 100,
      text: `${pct(thermalShare)} ${source} (limit ${pct(THERMAL_SHARE_LIMIT)})`,
    });
  }
  if (f.hw_thermal_slowdown_samples > 0) {
    const share = f.throttle_samples > 0 ? f.hw_thermal_slowdown_samples / f.throttle_samples : 0;
    led.add('thermal', 'hw_thermal_slowdown', Math.min(HW_THERMAL_MAX, HW_THERMAL_PENALTY + HW_THERMAL_PENALTY_PER_PCT * share * 100), {
      value: f.hw_thermal_slowdown_samples,
      unit: 'samples',
      text: `HW thermal slowdown in ${fmt(f.hw_thermal_slowdown_samples)} samples (${pct(share)})`,
    });
  }

  // ── Performance (occupancy is deliberately not a rule: it describes the workload)
  if (f.sm_clock_under_load_z !== null && f.sm_clock_under_load_z < CLOCK_Z_LIMIT) {
    const over = CLOCK_Z_LIMIT - f.sm_clock_under_load_z;
    led.add('performance', 'low_clock_under_load', Math.min(CLOCK_Z_MAX, CLOCK_Z_PENALTY_BASE + CLOCK_Z_PENALTY_PER_SIGMA * over), {
      value: round1(f.sm_clock_under_load_z),
      unit: 'σ',
      threshold: CLOCK_Z_LIMIT,
      text: `SM clock under load ${fmt(round1(f.sm_clock_under_load_z))} robust σ from same-model peers at the same load, no throttle bit set (limit ${CLOCK_Z_LIMIT})`,
    });
  }
  if (f.sm_clock_std_pct_under_load !== null && f.sm_clock_std_pct_under_load > CLOCK_STD_LIMIT_PCT) {
    led.add('performance', 'clock_instability', CLOCK_STD_PENALTY, {
      value: round1(f.sm_clock_std_pct_under_load),
      unit: '%',
      threshold: CLOCK_STD_LIMIT_PCT,
      text: `SM clock spread ${fmt(round1(f.sm_clock_std_pct_under_load))} % of its mean under load with no throttle bit (limit ${CLOCK_STD_LIMIT_PCT} %)`,
    });
  }

  // ── Power (a power cap at the stock limit is how power-bound training runs: informational, see --explain)
  if (f.hw_power_brake_samples > 0) {
    const share = f.throttle_samples > 0 ? f.hw_power_brake_samples / f.throttle_samples : 0;
    const sustained = share > POWER_BRAKE_SHARE_LIMIT ? POWER_BRAKE_SUSTAINED_PENALTY + POWER_BRAKE_PENALTY_PER_PCT * share * 100 : 0;
    led.add('power', 'power_brake', Math.min(POWER_BRAKE_MAX, POWER_BRAKE_PENALTY + sustained), {
      value: round1(share * 100),
      unit: '%',
      threshold: POWER_BRAKE_SHARE_LIMIT * 100,
      text: `HW power brake in ${fmt(f.hw_power_brake_samples)} samples (${pct(share)}; sustained above ${pct(POWER_BRAKE_SHARE_LIMIT)})`,
    });
  }
  if (f.hw_slowdown_samples > 0) {
    led.add('power', 'hw_slowdown', HW_SLOWDOWN_PENALTY, {
      value: f.hw_slowdown_samples,
      unit: 'samples',
      text: `HW slowdown without a thermal or brake bit in ${fmt(f.hw_slowdown_samples)} samples`,
    });
  }
  if (f.power_cv !== null && f.power_cv > POWER_CV_LIMIT) {
    led.add('power', 'power_instability', Math.min(POWER_CV_MAX, (f.power_cv - POWER_CV_LIMIT) * POWER_CV_PENALTY_PER_UNIT), {
      value: round1(f.power_cv * 100),
      unit: '%',
      threshold: POWER_CV_LIMIT * 100,
      text: `power varies ${pct(f.power_cv)} of its mean at the same activity (limit ${pct(POWER_CV_LIMIT)})`,
    });
  }

  // ── Reliability (hardware events)
  // a GPU with no sample in the window is not reporting, however short the window (--since 1h)
  const notReporting = f.samples === 0 || f.silent_before_end_s > Math.max(NOT_REPORTING_AFTER_S, GAP_MIN_INTERVALS * (f.interval_s ?? 0));
  if (notReporting) {
    led.known.add('reliability');
    led.add('reliability', 'not_reporting', 100, {
      value: round1(f.silent_before_end_s / 3600),
      unit: 'h',
      threshold: NOT_REPORTING_AFTER_S / 3600,
      text: `silent for ${fmt(round1(f.silent_before_end_s / 3600))} h before the fleet's newest sample`,
    });
    needAction('drain_and_diagnose');
  }
  if (f.pcie_replay_peak_per_min !== null && f.pcie_replay_peak_per_min > PCIE_REPLAY_LIMIT_PER_MIN) {
    led.known.add('reliability');
    led.add('reliability', 'pcie_replay_errors', PCIE_REPLAY_PENALTY, {
      value: round1(f.pcie_replay_peak_per_min),
      unit: 'per min',
      threshold: PCIE_REPLAY_LIMIT_PER_MIN,
      text: `PCIe replays peaked at ${fmt(round1(f.pcie_replay_peak_per_min))} per minute (DCGM limit ${PCIE_REPLAY_LIMIT_PER_MIN})`,
    });
  }
  if (f.nvlink_crc_peak_per_s !== null && f.nvlink_crc_peak_per_s > NVLINK_CRC_LIMIT_PER_S) {
    led.known.add('reliability');
    led.add('reliability', 'nvlink_crc_errors', NVLINK_CRC_PENALTY, {
      value: round1(f.nvlink_crc_peak_per_s),
      unit: 'per s',
      threshold: NVLINK_CRC_LIMIT_PER_S,
      text: `NVLink CRC errors peaked at ${fmt(round1(f.nvlink_crc_peak_per_s))} per second (DCGM limit ${NVLINK_CRC_LIMIT_PER_S})`,
    });
  }

  // ── Driver's recovery action (Xid 154): the driver itself asks for a reset or reboot
  const recovery = f.recovery_action_last;
  if (recovery !== null && recovery in RECOVERY_ACTIONS) {
    resetEvidence.push(`the driver asks for ${recovery.replace('_', ' ')} (Xid 154)`);
    resetIncidents += 1;
    needAction(RECOVERY_ACTIONS[recovery]!);
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
  const mean = overallScore(dims);

  // The grade: the weighted mean's band, bounded by the worst dimension and by the action caps.
  const caps: string[] = [];
  let grade: HealthGrade | null = mean === null ? null : gradeOf(mean);
  if (grade !== null) {
    const known = DIMENSIONS.filter((d) => dims[d] !== null && dims[d] !== undefined);
    const worst = known.reduce((w, d) => (dims[d]! < dims[w]! ? d : w), known[0]!);
    const worstGrade = gradeOf(dims[worst]!);
    const bound = GRADES[Math.max(0, gradeRank(worstGrade) - GRADE_BANDS_ABOVE_WORST)]!;
    if (gradeRank(bound) > gradeRank(grade)) caps.push(`worst_dimension: ${worst} ${fmt(dims[worst]!)} (${worstGrade})`);
    grade = worseGrade(grade, bound);
    // A reset seen after the last event that required one clears the reset caps (the points stay).
    const lastNeed = f.last_reset_required_at;
    const resetSeen =
      [f.volatile_reset_last_at, f.remap_pending_cleared_at]
        .filter((t): t is string => t !== null && t !== undefined)
        .sort()
        .at(-1) ?? null;
    const cleared = resetEvidence.length > 0 && !pendingNow && lastNeed !== null && resetSeen !== null && resetSeen > lastNeed;
    const fellOffBus = Math.max(f.fell_off_bus_incidents, f.xid_counts[FELL_OFF_BUS_XID] ?? 0);
    if (resetEvidence.length > 0 && !cleared) {
      const repeated = resetIncidents >= REPEATED_INCIDENTS || fellOffBus > 0;
      const cap = repeated ? REPEATED_INCIDENTS_CAP : RESET_REQUIRED_CAP;
      caps.push(`${repeated ? 'repeated_resets' : 'reset_required'}: ${resetEvidence.join('; ')}${fellOffBus > 0 ? `; fell off the bus ×${fellOffBus}` : ''}`);
      grade = worseGrade(grade, cap);
      // faults that keep coming back are not fixed by one more reset
      if (resetIncidents >= REPEATED_INCIDENTS || fellOffBus > 1) needAction('drain_and_diagnose');
    } else if (cleared) {
      caps.push(`reset_seen: ${resetSeen} after the last event needing one (${lastNeed}); caps cleared`);
      if (action !== 'rma' && actionRank(action) > actionRank('monitor')) action = 'monitor';
    }
    if (notReporting) {
      caps.push('not_reporting');
      grade = worseGrade(grade, NOT_REPORTING_CAP);
    }
    if (rma) {
      caps.push(
        `rma: ${led.details
          .filter((d) => led.rma.has(d.dimension) && d.points >= 100)
          .map((d) => d.factor)
          .join(', ')}`,
      );
      grade = worseGrade(grade, RMA_CAP);
      needAction('rma');
    }
  }
  const overall = mean === null || grade === null ? null : round1(Math.min(mean, gradeCeiling(grade)));

  const details = led.details
    .filter((d) => led.known.has(d.dimension))
    .map((d) => ({ ...d, points: round1(d.points) }))
    .sort((a, b) => b.points - a.points || a.factor.localeCompare(b.factor));
  const factors = [...new Set(details.map((d) => d.factor))];
  for (const d of DIMENSIONS) {
    const v = dims[d];
    if (v !== null && v !== undefined && v < SUMMARY_FACTOR_BELOW) factors.push(SUMMARY_FACTORS[d]);
  }
  if (details.length > 0) needAction('monitor');
  // A dimension degraded by faults the reset does not fix (heat, power, clocks, links) needs a diagnosis.
  for (const d of DIMENSIONS) {
    const v = dims[d];
    if (v === null || v === undefined || v >= DIAGNOSE_BELOW) continue;
    if (details.some((x) => x.dimension === d && !x.factor.startsWith('xid_') && x.factor !== 'uncorrectable_ecc_errors' && !x.factor.endsWith('_pending')))
      needAction('drain_and_diagnose');
  }

  const conf = confidenceOf(f, unknown);
  return {
    ...scores,
    overall_score: overall,
    health_grade: grade,
    recommended_action: action,
    confidence: conf.level,
    confidence_reasons: conf.reasons,
    grade_caps: caps,
    degradation_factors: factors,
    unknown_dimensions: unknown,
    rma_grade: rma,
    hardware_xids: [...hardwareXids].sort((a, b) => a - b),
    factor_details: details,
  };
}

/** Which signals a dimension's being unknown means are missing, in an operator's words. */
const MISSING_SIGNALS: Record<Dimension, string> = {
  memory: 'no ECC, retired-page or remapped-row counters (memory unknown)',
  thermal: 'no temperature (thermal unknown)',
  performance: 'no SM clock under load (performance unknown)',
  power: 'no power draw (power unknown)',
  reliability: 'no PCIe replay or NVLink error counters (link reliability unknown)',
};

/** How far a score can be trusted: coverage and data quality, never the GPU's health. */
export function confidenceOf(f: ScoreInput, unknown: readonly Dimension[]): { level: Confidence; reasons: string[] } {
  const reasons: string[] = [];
  let level = 0;
  const worse = (l: number, reason: string): void => {
    level = Math.max(level, l);
    reasons.push(reason);
  };
  for (const d of unknown) worse(unknown.length >= UNKNOWN_DIMENSIONS_LOW_AT ? 2 : 1, MISSING_SIGNALS[d]);
  const expected = f.expected_samples;
  if (f.samples < MIN_SAMPLES_FOR_CONFIDENCE) worse(2, `only ${fmt(f.samples)} samples in the window`);
  else if (expected !== null && expected > 0) {
    const completeness = Math.min(1, f.samples / expected);
    if (completeness < COMPLETENESS_MEDIUM_BELOW) {
      worse(completeness < COMPLETENESS_LOW_BELOW ? 2 : 1, `${pct(completeness)} of expected samples`);
    }
  }
  if (f.gaps_over_5min >= GAPS_MEDIUM_AT) worse(1, `${fmt(f.gaps_over_5min)} telemetry gaps`);
  const drops = f.ecc_aggregate_drops;
  if (drops > 0) worse(1, `aggregate ECC counter fell ${fmt(drops)}× (bad data: aggregates never reset)`);
  return { level: CONFIDENCE_LEVELS[level]!, reasons };
}
