/**
 * `gpuhealth score`: features for the window (src/lib/stage/features.ts), then `scoreGpu` per GPU, written to
 * `lake/scores/date=<at>/scores-<at>.parquet` with `at` and the window in every row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadJsonlTable } from '../sql/lake-views.js';
import { computeFeatureTable, featuresFile, readFeatureRows, type FeatureRow } from './features.js';
import { windowFile, windowSummary, withWindowStage, type WindowOptions } from './window.js';
import { selectGpus } from './select.js';
import { scoreGpu, type GpuFeatures, type HealthGrade, type HealthScore } from '../health/score.js';
import { XID_CLASSES, type XidTable } from '../health/xid.js';

export interface ScoreRow {
  gpu_uuid: string;
  host: string | null;
  model: string | null;
  overall_score: number | null;
  health_grade: HealthGrade | null;
  memory_health: number | null;
  thermal_health: number | null;
  performance_health: number | null;
  power_health: number | null;
  reliability_health: number | null;
  degradation_factors: string[];
  unknown_dimensions: string[];
  rma_grade: boolean;
  hardware_xids: number[];
  /** Points each factor took from its dimension, most first: `memory:uncorrectable_ecc_errors:20`. */
  factor_points: string[];
  samples: number;
  /** The GPU's newest sample in the window. */
  last_sample: string | null;
  at: string;
  window_start: string;
  window_end: string;
}

export interface ScoreOptions extends WindowOptions {
  /** Only the N lowest-scoring GPUs (after --gpu / --host). */
  worst?: number;
  /** The Xid classification (defaults merged with the config file's `xid`). */
  xidClasses?: XidTable;
}

export interface ScoreResult {
  at: string;
  window_start: string;
  window_end: string;
  gpus_total: number;
  /** The fleet's newest sample in the window (coverage is measured to it). */
  newest_sample: string | null;
  /** Lowest overall score first; unknown (null) last. */
  rows: ScoreRow[];
  grades: Record<HealthGrade | 'unknown', number>;
  file: string | null;
  features_file: string | null;
  rollups_built: number;
  seconds: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const int0 = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** One row of the features table as the scoring rules read it. */
export function toGpuFeatures(r: FeatureRow): GpuFeatures {
  let xid: Record<number, number> = {};
  if (typeof r['xid_counts'] === 'string' && r['xid_counts'] !== '') {
    const parsed = JSON.parse(r['xid_counts']) as Record<string, number>;
    xid = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [Number(k), Number(v)]));
  }
  return {
    model: r.model,
    window_s: Number(r['window_s']),
    span_s: int0(r['span_s']),
    samples: int0(r['samples']),
    interval_s: num(r['interval_s']),
    expected_samples: num(r['expected_samples']),
    gaps_over_5min: int0(r['gaps_over_5min']),
    silent_before_end_s: int0(r['silent_before_end_s']),
    loaded_samples: int0(r['loaded_samples']),
    throttle_samples: int0(r['throttle_samples']),
    temp_mean: num(r['temp_mean']),
    temp_max: num(r['temp_max']),
    temp_std: num(r['temp_std']),
    temp_excess_at_power: num(r['temp_excess_at_power']),
    share_thermal_throttled: num(r['share_thermal_throttled']),
    hw_thermal_slowdown_samples: int0(r['hw_thermal_slowdown_samples']),
    sw_thermal_samples: int0(r['sw_thermal_samples']),
    power_mean: num(r['power_mean']),
    power_std: num(r['power_std']),
    power_cv: num(r['power_cv']),
    hw_power_brake_samples: int0(r['hw_power_brake_samples']),
    hw_slowdown_samples: int0(r['hw_slowdown_samples']),
    sw_power_cap_share: num(r['sw_power_cap_share']),
    sm_clock_under_load_z: num(r['sm_clock_under_load_z']),
    sm_clock_std_pct_under_load: num(r['sm_clock_std_pct_under_load']),
    sm_active_mean: num(r['sm_active_mean']),
    sm_occupancy_mean: num(r['sm_occupancy_mean']),
    dram_activity_per_load_z: num(r['dram_activity_per_load_z']),
    sbe_delta: num(r['sbe_delta']),
    dbe_delta: num(r['dbe_delta']),
    sbe_accel: num(r['sbe_accel']),
    retired_pages_dbe: num(r['retired_pages_dbe']),
    retired_pages_sbe: num(r['retired_pages_sbe']),
    retired_pages_pending: num(r['retired_pages_pending']),
    remapped_rows_correctable: num(r['remapped_rows_correctable']),
    remapped_rows_uncorrectable: num(r['remapped_rows_uncorrectable']),
    row_remap_failure: num(r['row_remap_failure']),
    row_remap_pending: num(r['row_remap_pending']),
    pcie_replay_delta: num(r['pcie_replay_delta']),
    pcie_replay_peak_per_min: num(r['pcie_replay_peak_per_min']),
    nvlink_crc_delta: num(r['nvlink_crc_delta']),
    nvlink_crc_peak_per_s: num(r['nvlink_crc_peak_per_s']),
    xid_counts: xid,
  };
}

export function toScoreRow(r: FeatureRow, s: HealthScore): ScoreRow {
  return {
    gpu_uuid: r.gpu_uuid,
    host: r.host,
    model: r.model,
    overall_score: s.overall_score,
    health_grade: s.health_grade,
    memory_health: s.memory_health,
    thermal_health: s.thermal_health,
    performance_health: s.performance_health,
    power_health: s.power_health,
    reliability_health: s.reliability_health,
    degradation_factors: s.degradation_factors,
    unknown_dimensions: s.unknown_dimensions,
    rma_grade: s.rma_grade,
    hardware_xids: s.hardware_xids,
    factor_points: s.factor_details.map((d) => `${d.dimension}:${d.factor}:${d.points}`),
    samples: Number(r['samples']),
    last_sample: r['last_sample'] === null || r['last_sample'] === undefined ? null : String(r['last_sample']),
    at: String(r['at']),
    window_start: String(r['window_start']),
    window_end: String(r['window_end']),
  };
}

/** One features row scored by the rules of docs/scoring.md. */
export function scoreFeatureRow(r: FeatureRow, xidClasses: XidTable = XID_CLASSES): ScoreRow {
  return toScoreRow(r, scoreGpu(toGpuFeatures(r), { xidClasses }));
}

/** The feature rows of the N lowest-scoring GPUs, worst first (`features --worst N`). */
export function worstFeatureRows(rows: readonly FeatureRow[], n: number, xidClasses: XidTable = XID_CLASSES): FeatureRow[] {
  const scored = rows.map((r) => ({ r, s: scoreFeatureRow(r, xidClasses) }));
  return scored.sort((a, b) => byWorst(a.s, b.s)).slice(0, n).map((x) => x.r);
}

/** Worst first: lowest overall score, unknown last, then by GPU. */
export function byWorst(a: ScoreRow, b: ScoreRow): number {
  const x = a.overall_score ?? Number.POSITIVE_INFINITY;
  const y = b.overall_score ?? Number.POSITIVE_INFINITY;
  return x - y || a.gpu_uuid.localeCompare(b.gpu_uuid);
}

/** The score table's Parquet columns (the JSON rows' fields, typed). */
export const SCORE_COLUMNS: Record<keyof ScoreRow, string> = {
  gpu_uuid: 'VARCHAR',
  host: 'VARCHAR',
  model: 'VARCHAR',
  overall_score: 'DOUBLE',
  health_grade: 'VARCHAR',
  memory_health: 'DOUBLE',
  thermal_health: 'DOUBLE',
  performance_health: 'DOUBLE',
  power_health: 'DOUBLE',
  reliability_health: 'DOUBLE',
  degradation_factors: 'VARCHAR[]',
  unknown_dimensions: 'VARCHAR[]',
  rma_grade: 'BOOLEAN',
  hardware_xids: 'INTEGER[]',
  factor_points: 'VARCHAR[]',
  samples: 'BIGINT',
  last_sample: 'TIMESTAMP',
  at: 'TIMESTAMP',
  window_start: 'TIMESTAMP',
  window_end: 'TIMESTAMP',
};

export async function scoreFleet(opts: ScoreOptions): Promise<ScoreResult> {
  const t0 = Date.now();
  const xidClasses = opts.xidClasses ?? XID_CLASSES;
  return withWindowStage(opts, async (stage) => {
    const { db, layout, startMs, endMs, progress } = stage;
    progress('computing features');
    const { gpus: total, newestSample } = await computeFeatureTable(db, startMs, endMs);
    progress('scoring');
    const all = (await readFeatureRows(db)).map((r) => scoreFeatureRow(r, xidClasses));
    let featuresPath: string | null = null;
    let file: string | null = null;
    if (opts.write !== false) {
      featuresPath = featuresFile(layout, startMs, endMs);
      file = windowFile(layout.scoresDir, 'scores', startMs, endMs);
      // the rows go through a JSON file so DuckDB types them once, by SCORE_COLUMNS
      const tmp = path.join(stage.run.stage, 'scores.jsonl');
      fs.writeFileSync(tmp, all.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await loadJsonlTable(db, 'scores', tmp, SCORE_COLUMNS);
      await stage.writeTables([
        { table: 'features', target: featuresPath },
        { table: 'scores', target: file },
      ]);
    }
    let rows = selectGpus(all, opts.gpus, opts.hosts).sort(byWorst);
    if (opts.worst !== undefined) rows = rows.slice(0, opts.worst);
    const grades = { excellent: 0, good: 0, fair: 0, degraded: 0, poor: 0, critical: 0, unknown: 0 } as Record<HealthGrade | 'unknown', number>;
    for (const r of all) grades[r.health_grade ?? 'unknown']++;
    return {
      ...windowSummary(startMs, endMs),
      gpus_total: total,
      newest_sample: newestSample,
      rows,
      grades,
      file,
      features_file: featuresPath,
      rollups_built: stage.rollupsBuilt,
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
