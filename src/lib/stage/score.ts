/**
 * `gpuhealth score`: features for the window (src/lib/stage/features.ts), then `scoreGpu` per GPU, written to
 * `lake/scores/date=<at>/scores-<at>.parquet` with `at` and the window in every row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadJsonlTable } from '../sql/lake-views.js';
import { computeFeatureTable, featuresFile, readFeatureRows, type FeatureRow } from './features.js';
import { windowFile, windowSummary, withWindowStage, type StageWrites, type WindowOptions } from './window.js';
import { selectGpus } from './select.js';
import { scoreGpu, type Confidence, type HealthGrade, type HealthScore } from '../health/score.js';
import { toGpuFeatures } from '../features/feature-list.js';
import { XID_CLASSES, type RecommendedAction, type XidTable } from '../dcgm/xid.js';

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
  /** What to do: none, monitor, reset_gpu, reboot_host, drain_and_diagnose, rma. */
  recommended_action: RecommendedAction;
  /** How far the score can be trusted (coverage, missing signals, bad data), and why. */
  confidence: Confidence;
  confidence_reasons: string[];
  /** The caps that bound the grade, with their evidence. */
  grade_caps: string[];
  /** The top factor's evidence in words (null for a GPU without factors). */
  top_factor: string | null;
  /** Every factor with its numbers, most points first. */
  factors: ScoreFactor[];
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

/** A factor as score rows carry it (JSON, Parquet): `name` is the factor's id. */
export interface ScoreFactor {
  name: string;
  dimension: string;
  points: number;
  value: number | null;
  unit: string | null;
  threshold: number | null;
  evidence: string;
}

export interface ScoreOptions extends WindowOptions {
  /** Only the N lowest-scoring GPUs (after --gpu / --host). */
  worst?: number;
  /** The Xid classification (defaults merged with the config file's `xid`). */
  xidClasses?: XidTable;
  /** One GPU (UUID or unique prefix) whose features are returned beside its score (`score --explain`). */
  explain?: string;
}

/** `score --explain GPU`: the GPU's score and every feature behind it. */
export interface ScoreExplanation {
  score: ScoreRow;
  features: FeatureRow;
}

export interface ScoreResult {
  at: string;
  window_start: string;
  window_end: string;
  /** GPUs scored: those with telemetry in the window and those not reporting (before --gpu / --host / --worst). */
  gpus_total: number;
  /** GPUs scored as `not_reporting`: silent in the whole window, or silent for over an hour before the fleet's newest sample. */
  not_reporting: number;
  /** Silent GPUs left out: recorded as failed (no sample since), or removed from service. */
  left_out: { failed: number; removed: number };
  /** The fleet's newest sample in the window (coverage is measured to it). */
  newest_sample: string | null;
  /** Lowest overall score first; unknown (null) last. */
  rows: ScoreRow[];
  grades: Record<HealthGrade | 'unknown', number>;
  file: string | null;
  features_file: string | null;
  rollups_built: number;
  /** What the run did to the lake (rollups kept, tables not written and why). */
  writes: StageWrites;
  seconds: number;
  explained: ScoreExplanation | null;
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
    recommended_action: s.recommended_action,
    confidence: s.confidence,
    confidence_reasons: s.confidence_reasons,
    grade_caps: s.grade_caps,
    top_factor: s.factor_details[0]?.evidence ?? null,
    factors: s.factor_details.map((d) => ({
      name: d.factor,
      dimension: d.dimension,
      points: d.points,
      value: d.value,
      unit: d.unit,
      threshold: d.threshold,
      evidence: d.evidence,
    })),
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
  return scored
    .sort((a, b) => byWorst(a.s, b.s))
    .slice(0, n)
    .map((x) => x.r);
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
  recommended_action: 'VARCHAR',
  confidence: 'VARCHAR',
  confidence_reasons: 'VARCHAR[]',
  grade_caps: 'VARCHAR[]',
  top_factor: 'VARCHAR',
  factors: 'STRUCT(name VARCHAR, dimension VARCHAR, points DOUBLE, value DOUBLE, unit VARCHAR, threshold DOUBLE, evidence VARCHAR)[]',
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
    const table = await computeFeatureTable(db, startMs, endMs);
    progress('scoring');
    const featureRows = await readFeatureRows(db);
    const all = featureRows.map((r) => scoreFeatureRow(r, xidClasses));
    let featuresPath: string | null = null;
    let file: string | null = null;
    if (stage.writable) {
      const featuresTarget = featuresFile(layout, startMs, endMs);
      const target = windowFile(layout.scoresDir, 'scores', startMs, endMs);
      // the rows go through a JSON file so DuckDB types them once, by SCORE_COLUMNS
      const tmp = path.join(stage.run.stage, 'scores.jsonl');
      fs.writeFileSync(tmp, `${all.map((r) => JSON.stringify(r)).join('\n')}\n`);
      await loadJsonlTable(db, 'scores', tmp, SCORE_COLUMNS);
      const written = await stage.writeTables([
        { table: 'features', target: featuresTarget },
        { table: 'scores', target },
      ]);
      if (written) [featuresPath, file] = [featuresTarget, target];
    }
    let rows = selectGpus(all, opts.gpus, opts.hosts).sort(byWorst);
    if (opts.worst !== undefined) rows = rows.slice(0, opts.worst);
    const grades = { excellent: 0, good: 0, fair: 0, degraded: 0, poor: 0, critical: 0, unknown: 0 } as Record<HealthGrade | 'unknown', number>;
    for (const r of all) grades[r.health_grade ?? 'unknown']++;
    let explained: ScoreExplanation | null = null;
    if (opts.explain !== undefined) {
      const [features] = selectGpus(featureRows, [opts.explain]);
      explained = { score: all.find((r) => r.gpu_uuid === features!.gpu_uuid)!, features: features! };
    }
    return {
      ...windowSummary(startMs, endMs),
      gpus_total: table.gpus,
      not_reporting: all.filter((r) => r.degradation_factors.includes('not_reporting')).length,
      left_out: table.leftOut,
      newest_sample: table.newestSample,
      rows,
      grades,
      file,
      features_file: featuresPath,
      rollups_built: stage.rollupsBuilt,
      writes: stage.writes(),
      seconds: (Date.now() - t0) / 1000,
      explained,
    };
  });
}
