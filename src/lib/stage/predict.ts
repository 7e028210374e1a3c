/**
 * `gpuhealth predict`: failure probabilities at 7/30/90 days, the expected days to failure, the likely
 * failure type, an anomaly score and the factors behind each GPU's risk (docs/prediction.md), for every
 * GPU reporting in the 7 days before `--at`. The feature rows come from the query `train` learns from
 * (one cut-off at `--at`, rounded down to the hour); onnxruntime runs the model's ONNX files; the
 * factors come from the same trees (hazard-trees.json) by exact path attribution. Every row is written
 * to `lake/predictions/date=<at>/predictions-<at>.parquet` in one atomic commit, like `score` (and,
 * like it, not with `--no-write` or on a lake this user may not write).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PREDICTION_FEATURES, formatFeatureValue, FAILURE_TYPES, type FailureType } from '../features/prediction-features.js';
import { loadJsonlTable } from '../sql/lake-views.js';
import { loadOnnx } from '../model/onnx-run.js';
import { contributions, type Ensemble } from '../model/tree.js';
import { failureProbability, failureQuantileDays } from '../model/survival.js';
import { riskLevel, type ModelCard, type RiskLevel } from '../model/card.js';
import type { Db } from '../db/duckdb.js';
import { DAY_MS, predictionMatrix, type FeatureMatrix } from './prediction-data.js';
import { resolveModel, type StoredModel } from './models.js';
import { selectGpus } from './select.js';
import { buildLifetimes, type AssetLifetimeRow, type GpuLifetime } from './survival.js';
import { SURVIVAL_ASSETS_SQL, SURVIVAL_FAILURES_VIEW_SQL } from '../sql/survival.js';
import { TELEMETRY_HOURS_SQL } from '../sql/prediction-features.js';
import {
  conditionalFailureProb,
  conditionalQuantileDays,
  fitLifetimePriors,
  type LifetimePrior,
  type LifetimePriors,
  MIN_FLEET_PRIOR_FAILURES,
  priorFor,
} from '../survival/prior.js';
import { windowFile, windowSummary, withWindowStage, type StageWrites, type WindowOptions } from './window.js';

export interface TopFactor {
  feature: string;
  value: number | null;
  /** What the feature adds to the log failure rate (30-day segment). */
  contribution: number;
  text: string;
}

export interface PredictionRow {
  gpu_uuid: string;
  host: string | null;
  model: string | null;
  failure_prob_7d: number;
  failure_prob_30d: number;
  failure_prob_90d: number;
  /** The median of the survival curve, in days; null when it lies beyond the model's horizon. */
  expected_days_to_failure: number | null;
  /** 80 % interval of the days to failure (10th and 90th percentiles); an end beyond the horizon is null. */
  days_to_failure_low: number | null;
  days_to_failure_high: number | null;
  predicted_failure_type: FailureType | null;
  predicted_failure_type_prob: number | null;
  /** Null for a row from the lifetime prior of a GPU without telemetry in the 7 days. */
  anomaly_score: number | null;
  risk_level: RiskLevel;
  top_factors: TopFactor[];
  /** The top factor, short (`sbe_accel_7d = 41×: +1.9`), for the table. */
  top_factor: string | null;
  model_name: string;
  model_version: string;
  /**
   * `model`: the failure model on the GPU's telemetry; `prior`: the fleet's lifetime curve at the GPU's
   * age (registry and failure history), for a GPU with under THIN_TELEMETRY_HOURS of telemetry.
   */
  prediction_source: PredictionSource;
  /** Hours with samples of the GPU in the 7 days before `at`. */
  telemetry_hours: number;
  at: string;
}

export const PREDICTION_SOURCES = ['model', 'prior'] as const;
export type PredictionSource = (typeof PREDICTION_SOURCES)[number];
/**
 * Below a day's worth of hours in the 7 days, the model's features are mostly missing (rates over a
 * day or a week, trends against days 8–28) and its answer is the training fleet's base rate: the
 * fleet's own lifetime curve at the GPU's age says more.
 */
export const THIN_TELEMETRY_HOURS = 24;

export interface PredictOptions extends Omit<WindowOptions, 'sinceMs'> {
  model?: string;
  worst?: number;
}

export interface PredictResult {
  at: string;
  /** GPUs left out because the failure history records them failed, with no sample since. */
  failed_left_out: number;
  /** Rows that came from the lifetime prior instead of the model, and why some could not. */
  prior: PriorUse;
  model: { name: string; version: string; where: string; trained_on: string };
  gpus_total: number;
  rows: PredictionRow[];
  risk_levels: Record<RiskLevel, number>;
  file: string | null;
  rollups_built: number;
  /** What the run did to the lake (rollups kept, tables not written and why). */
  writes: StageWrites;
  seconds: number;
}

/** The table the window stage writes (the JSON rows' fields, typed). */
export const PREDICTION_COLUMNS: Record<keyof PredictionRow, string> = {
  gpu_uuid: 'VARCHAR',
  host: 'VARCHAR',
  model: 'VARCHAR',
  failure_prob_7d: 'DOUBLE',
  failure_prob_30d: 'DOUBLE',
  failure_prob_90d: 'DOUBLE',
  expected_days_to_failure: 'DOUBLE',
  days_to_failure_low: 'DOUBLE',
  days_to_failure_high: 'DOUBLE',
  predicted_failure_type: 'VARCHAR',
  predicted_failure_type_prob: 'DOUBLE',
  anomaly_score: 'DOUBLE',
  risk_level: 'VARCHAR',
  top_factors: 'STRUCT(feature VARCHAR, value DOUBLE, contribution DOUBLE, text VARCHAR)[]',
  top_factor: 'VARCHAR',
  model_name: 'VARCHAR',
  model_version: 'VARCHAR',
  prediction_source: 'VARCHAR',
  telemetry_hours: 'INTEGER',
  at: 'TIMESTAMP',
};

/** How many factors a row carries. */
export const TOP_FACTORS = 3;

const round = (x: number, d: number): number => Number(x.toFixed(d));

/** Worst first: highest 30-day probability, then GPU. */
export function byRisk(a: PredictionRow, b: PredictionRow): number {
  return b.failure_prob_30d - a.failure_prob_30d || a.gpu_uuid.localeCompare(b.gpu_uuid);
}

/** The model's ONNX sessions and trees, loaded once per run. */
export interface LoadedModel {
  stored: StoredModel;
  card: ModelCard;
  hazardTrees: Ensemble;
  run(X: Float64Array, n: number): Promise<{ rates: Float64Array; typeProb: Float32Array | null; anomaly: Float32Array }>;
  close(): Promise<void>;
}

export async function loadModel(stored: StoredModel): Promise<LoadedModel> {
  const card = stored.card;
  const file = (f: string): string => path.join(stored.dir, f);
  const hazard = await loadOnnx(file(card.files.hazard));
  const anomaly = await loadOnnx(file(card.files.anomaly));
  const type = card.files.type ? await loadOnnx(file(card.files.type)) : null;
  const hazardTrees = JSON.parse(fs.readFileSync(file(card.files.hazard_trees), 'utf8')) as Ensemble;
  const F = card.features.length;
  const nSeg = card.segment_bounds_days.length - 1;
  return {
    stored,
    card,
    hazardTrees,
    async run(X, n) {
      // the hazard model sees each row once per segment, with the segment's index appended
      const Xh = new Float32Array(n * nSeg * (F + 1));
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < nSeg; k++) {
          const o = (i * nSeg + k) * (F + 1);
          for (let j = 0; j < F; j++) Xh[o + j] = X[i * F + j]!;
          Xh[o + F] = k;
        }
      }
      const raw = (await hazard.run(Xh, n * nSeg))['raw']!;
      const rates = new Float64Array(n * nSeg);
      for (let r = 0; r < n * nSeg; r++) rates[r] = Math.exp(raw[r]!);
      const Xf = Float32Array.from(X);
      const Xa = new Float32Array(n * F);
      for (let i = 0; i < n * F; i++) Xa[i] = Number.isNaN(X[i]!) ? card.imputation_medians[i % F]! : X[i]!;
      const anomalyOut = (await anomaly.run(Xa, n))['score']!;
      const typeProb = type ? (await type.run(Xf, n))['prob']! : null;
      return { rates, typeProb, anomaly: anomalyOut };
    },
    async close() {
      await hazard.close();
      await anomaly.close();
      await type?.close();
    },
  };
}

/** Predictions for the rows of a feature matrix (one cut-off). */
export async function predictRows(
  model: LoadedModel,
  m: { gpu: string[]; host: (string | null)[]; model: (string | null)[]; X: Float64Array; hours?: readonly number[] },
  atIso: string,
): Promise<PredictionRow[]> {
  const card = model.card;
  const F = card.features.length;
  const n = m.gpu.length;
  const bounds = card.segment_bounds_days;
  const nSeg = bounds.length - 1;
  const out = await model.run(m.X, n);
  const featureInfo = card.features.map((name) => PREDICTION_FEATURES.find((f) => f.name === name));
  // the factors explain the 7–30-day segment's rate, the one P30 rests on most
  const factorSegment = Math.min(1, nSeg - 1);
  const x = new Float64Array(F + 1);
  const rows: PredictionRow[] = [];
  for (let i = 0; i < n; i++) {
    // the factor's sentence for JSON and CSV; its short form (no description) for the table
    const rates = Array.from(out.rates.subarray(i * nSeg, (i + 1) * nSeg));
    const p = (d: number): number => failureProbability(rates, bounds, d);
    for (let j = 0; j < F; j++) x[j] = m.X[i * F + j]!;
    x[F] = factorSegment;
    const c = contributions(model.hazardTrees, x, 0);
    const factors: (TopFactor & { short: string })[] = [];
    for (let j = 0; j < F; j++) {
      if (c.perFeature[j]! <= 0.05) continue;
      const v = m.X[i * F + j]!;
      const info = featureInfo[j];
      // six significant digits: what an operator reads, and free of the last bits' summation order
      const value = Number.isNaN(v) ? null : Number(v.toPrecision(6));
      const shown = info ? formatFeatureValue(info, value) : String(value);
      factors.push({
        feature: card.features[j]!,
        value,
        contribution: round(c.perFeature[j]!, 3),
        text: `${card.features[j]} = ${shown}: +${c.perFeature[j]!.toFixed(1)}${info ? ` (${info.description})` : ''}`,
        short: `${card.features[j]} = ${shown}: +${c.perFeature[j]!.toFixed(1)}`,
      });
    }
    factors.sort((a, b) => b.contribution - a.contribution || a.feature.localeCompare(b.feature));
    let type: FailureType | null = null;
    let typeP: number | null = null;
    if (out.typeProb) {
      const probs = Array.from(out.typeProb.subarray(i * FAILURE_TYPES.length, (i + 1) * FAILURE_TYPES.length));
      const k = probs.indexOf(Math.max(...probs));
      type = FAILURE_TYPES[k]!;
      typeP = round(probs[k]!, 4);
    }
    const q = (qq: number): number | null => {
      const d = failureQuantileDays(rates, bounds, qq);
      return d === null ? null : round(d, 1);
    };
    const p30 = p(30);
    rows.push({
      gpu_uuid: m.gpu[i]!,
      host: m.host[i]!,
      model: m.model[i]!,
      failure_prob_7d: round(p(7), 6),
      failure_prob_30d: round(p30, 6),
      failure_prob_90d: round(p(90), 6),
      expected_days_to_failure: q(0.5),
      days_to_failure_low: q(0.1),
      days_to_failure_high: q(0.9),
      predicted_failure_type: type,
      predicted_failure_type_prob: typeP,
      anomaly_score: round(out.anomaly[i]!, 4),
      risk_level: riskLevel(p30),
      top_factors: factors.slice(0, TOP_FACTORS).map(({ short: _, ...f }) => f),
      top_factor: factors[0]?.short ?? null,
      model_name: card.name,
      model_version: card.version,
      prediction_source: 'model',
      telemetry_hours: m.hours?.[i] ?? 0,
      at: atIso,
    });
  }
  return rows;
}

/**
 * GPUs that already failed before `endMs` (a recorded failure, by UUID or by serial through the asset
 * registry) and sent no sample after it: there is nothing left to predict for them.
 */
async function failedBefore(db: Db, endMs: number): Promise<Set<string>> {
  const rows = await db.query<{ gpu_uuid: string }>(
    'gpus failed before the cut-off',
    `SELECT f.gpu_uuid FROM (
       SELECT coalesce(f.gpu_uuid, a.gpu_uuid) AS gpu_uuid, max(f.failed_at) AS failed_at
       FROM failures f LEFT JOIN assets a ON f.gpu_uuid IS NULL AND a.serial = f.serial
       WHERE f.failed_at <= make_timestamp($end_us) GROUP BY 1
     ) f
     JOIN (SELECT gpu_uuid, max(last_time) AS last_time FROM rollups
           WHERE hour >= make_timestamp($start_us) AND hour < make_timestamp($end_us) GROUP BY 1) r USING (gpu_uuid)
     WHERE r.last_time <= f.failed_at`,
    { start_us: (endMs - 8 * DAY_MS) * 1000, end_us: endMs * 1000 },
  );
  return new Set(rows.map((r) => r.gpu_uuid));
}

/** The matrix without the rows `drop` picks. */
function withoutRows(m: FeatureMatrix, drop: (i: number) => boolean): FeatureMatrix {
  const keep = m.gpu.map((_, i) => i).filter((i) => !drop(i));
  if (keep.length === m.gpu.length) return m;
  const F = m.names.length;
  const X = new Float64Array(keep.length * F);
  keep.forEach((i, r) => {
    X.set(m.X.subarray(i * F, (i + 1) * F), r * F);
  });
  const pick = <T>(xs: T[]): T[] => keep.map((i) => xs[i]!);
  return { names: m.names, X, gpu: pick(m.gpu), cutoffMs: pick(m.cutoffMs), host: pick(m.host), model: pick(m.model) };
}

/** The GPUs' telemetry hours in the 7 days before `endMs`. */
async function telemetryHours(db: Db, endMs: number): Promise<Map<string, number>> {
  const rows = await db.query<{ gpu_uuid: string; hours: number }>('telemetry hours', TELEMETRY_HOURS_SQL, {
    start_us: (endMs - 7 * DAY_MS) * 1000,
    end_us: endMs * 1000,
  });
  return new Map(rows.map((r) => [r.gpu_uuid, Number(r.hours)]));
}

/** The registry's lifetimes at `endMs`, the curves fitted to them, and the GPUs in service then. */
async function lifetimePriors(db: Db, endMs: number): Promise<{ priors: LifetimePriors; inService: GpuLifetime[] }> {
  await db.exec('survival failures view', SURVIVAL_FAILURES_VIEW_SQL);
  const rows = await db.query<AssetLifetimeRow & Record<string, unknown>>('survival assets', SURVIVAL_ASSETS_SQL);
  const { lifetimes } = buildLifetimes(rows, endMs);
  return {
    priors: fitLifetimePriors(lifetimes.map((l) => ({ time: l.time, event: l.event, model: l.row.model }))),
    inService: lifetimes.filter((l) => l.end === 'in_service'),
  };
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toPrecision(2));

/** A row from the lifetime prior: the curve read at the GPU's age (see survival/prior.ts). */
function priorRow(
  base: { gpu_uuid: string; host: string | null; model: string | null; anomaly_score: number | null; telemetry_hours: number },
  prior: LifetimePrior,
  ageDays: number,
  horizonDays: number,
  model: { name: string; version: string },
  atIso: string,
): PredictionRow {
  const p = (h: number): number => round(conditionalFailureProb(prior, ageDays, h), 6);
  const q = (qq: number): number | null => {
    const d = conditionalQuantileDays(prior, ageDays, qq);
    return d > horizonDays ? null : round(d, 1);
  };
  const p30 = p(30);
  const text = `lifetime prior: age ${ageDays.toFixed(0)} d on the ${prior.basis === 'fleet' ? 'fleet' : prior.basis} curve (Weibull shape ${fmt(prior.shape)}, scale ${fmt(prior.scale_days)} d, ${prior.failures} failures of ${prior.gpus} GPUs); ${base.telemetry_hours} h of telemetry in 7 days`;
  return {
    ...base,
    failure_prob_7d: p(7),
    failure_prob_30d: p30,
    failure_prob_90d: p(90),
    expected_days_to_failure: q(0.5),
    days_to_failure_low: q(0.1),
    days_to_failure_high: q(0.9),
    predicted_failure_type: null,
    predicted_failure_type_prob: null,
    risk_level: riskLevel(p30),
    top_factors: [],
    top_factor: text,
    model_name: model.name,
    model_version: model.version,
    prediction_source: 'prior',
    at: atIso,
  };
}

/** How the lifetime prior was used in a run (printed as notes). */
export interface PriorUse {
  /** Rows from the prior: GPUs with thin telemetry, and GPUs in service without any. */
  thin: number;
  silent: number;
  /** GPUs with thin telemetry that kept the model's answer: no prior, or no deployment date. */
  thin_kept_model: number;
  /** Why there is no prior, when there is none. */
  unavailable: string | null;
}

/** What `computePredictions` returns: every GPU's row, and what was left out or came from the prior. */
export interface Predictions {
  rows: PredictionRow[];
  /** GPUs the failure history records as failed before the cut-off, with no sample since. */
  failed: Set<string>;
  prior: PriorUse;
  /** The `extras` feature values asked for, per GPU (NaN where missing). */
  extras: Map<string, number[]>;
}

/**
 * Predictions at `endMs` for every GPU with telemetry in the 7 days before it (less those already
 * failed), and lifetime-prior rows (see THIN_TELEMETRY_HOURS). `extras` are more prediction features
 * to compute in the same query, for callers that need them (recommend's throughput against peers).
 */
export async function computePredictions(
  db: Db,
  endMs: number,
  stored: StoredModel,
  progress: (what: string) => void,
  extras: readonly string[] = [],
): Promise<Predictions> {
  const names = [...stored.card.features, ...extras.filter((e) => !stored.card.features.includes(e))];
  const wide = await predictionMatrix(db, names, endMs, 0, 0);
  const all0 = pickColumns(wide, stored.card.features);
  const failed = await failedBefore(db, endMs);
  const hours = await telemetryHours(db, endMs);
  const m0 = withoutRows(all0, (i) => failed.has(all0.gpu[i]!));
  const m = { ...m0, hours: m0.gpu.map((g) => hours.get(g) ?? 0) };
  progress(`predicting ${m.gpu.length} GPUs`);
  const model = await loadModel(stored);
  const atIso = new Date(endMs).toISOString();
  let all: PredictionRow[];
  try {
    all = await predictRows(model, m, atIso);
  } finally {
    await model.close();
  }
  // GPUs with too little telemetry, and GPUs in service that sent none: the fleet's lifetime curve
  const { priors, inService } = await lifetimePriors(db, endMs);
  const lifetimeOf = new Map(inService.map((l) => [l.row.gpu_uuid, l]));
  const horizon = stored.card.segment_bounds_days.at(-1)!;
  const modelId = { name: stored.card.name, version: stored.card.version };
  const prior: PriorUse = { thin: 0, silent: 0, thin_kept_model: 0, unavailable: null };
  if (!priors.fleet) prior.unavailable = `the registry has fewer than ${MIN_FLEET_PRIOR_FAILURES} failures of GPUs with a deployed_date`;
  all = all.map((r) => {
    if (r.telemetry_hours >= THIN_TELEMETRY_HOURS) return r;
    const l = lifetimeOf.get(r.gpu_uuid);
    const curve = priorFor(priors, l?.row.model ?? r.model);
    if (!l || !curve) {
      prior.thin_kept_model++;
      return r;
    }
    prior.thin++;
    return priorRow(r, curve, l.time, horizon, modelId, atIso);
  });
  const predicted = new Set(all.map((r) => r.gpu_uuid));
  for (const l of inService) {
    if (predicted.has(l.row.gpu_uuid) || failed.has(l.row.gpu_uuid)) continue;
    const curve = priorFor(priors, l.row.model);
    if (!curve) continue;
    prior.silent++;
    const base = { gpu_uuid: l.row.gpu_uuid, host: l.row.host, model: l.row.model, anomaly_score: null, telemetry_hours: hours.get(l.row.gpu_uuid) ?? 0 };
    all.push(priorRow(base, curve, l.time, horizon, modelId, atIso));
  }
  const extraIdx = extras.map((e) => names.indexOf(e));
  const extraValues = new Map<string, number[]>();
  wide.gpu.forEach((g, i) => {
    extraValues.set(
      g,
      extraIdx.map((j) => wide.X[i * names.length + j]!),
    );
  });
  return { rows: all, failed, prior, extras: extraValues };
}

/** The matrix with only the columns `names` (in that order). */
function pickColumns(m: FeatureMatrix, names: readonly string[]): FeatureMatrix {
  if (names.length === m.names.length && names.every((n, j) => m.names[j] === n)) return m;
  const idx = names.map((n) => m.names.indexOf(n));
  const F = m.names.length;
  const X = new Float64Array(m.gpu.length * names.length);
  for (let i = 0; i < m.gpu.length; i++) {
    for (let k = 0; k < idx.length; k++) X[i * names.length + k] = m.X[i * F + idx[k]!]!;
  }
  return { ...m, names: [...names], X };
}

export async function predictFleet(opts: PredictOptions): Promise<PredictResult> {
  const t0 = Date.now();
  return withWindowStage({ ...opts, sinceMs: 7 * DAY_MS }, async (stage) => {
    const { db, layout, endMs, progress } = stage;
    const stored = resolveModel(layout.root, opts.model);
    progress('computing prediction features');
    const { rows: all, failed, prior } = await computePredictions(db, endMs, stored, progress);
    let file: string | null = null;
    if (stage.writable && all.length > 0) {
      const target = windowFile(path.join(layout.root, 'predictions'), 'predictions', endMs - 7 * DAY_MS, endMs);
      const tmp = path.join(stage.run.stage, 'predictions.jsonl');
      fs.writeFileSync(tmp, `${all.map((r) => JSON.stringify(r)).join('\n')}\n`);
      await loadJsonlTable(db, 'predictions', tmp, PREDICTION_COLUMNS);
      if (await stage.writeTables([{ table: 'predictions', target }])) file = target;
    }
    let rows = selectGpus(all, opts.gpus, opts.hosts).sort(byRisk);
    if (opts.worst !== undefined) rows = rows.slice(0, opts.worst);
    const levels: Record<RiskLevel, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    for (const r of all) levels[r.risk_level]++;
    return {
      at: windowSummary(endMs - 7 * DAY_MS, endMs).at,
      failed_left_out: failed.size,
      prior,
      model: { name: stored.name, version: stored.card.version, where: stored.dir, trained_on: stored.card.trained_on },
      gpus_total: all.length,
      rows,
      risk_levels: levels,
      file,
      rollups_built: stage.rollupsBuilt,
      writes: stage.writes(),
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
