/**
 * `gpuhealth train`: the failure models fitted on a lake's own telemetry and failure history
 * (docs/prediction.md). One lake run: rollups brought up to date, the feature rows of every GPU at every
 * cut-off day in one query, each row labelled from `failures`, a validation split by time with no GPU on
 * both sides, the baselines scored on the same validation rows, a final fit on everything, and the model
 * folder (ONNX files + card.json) committed atomically to `lake/models/<name>/`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import type { Db } from '../db/duckdb.js';
import { withLakeRun } from '../lake/run.js';
import { createLakeViews } from '../sql/lake-views.js';
import { buildRollups } from '../maintenance/rollups.js';
import { FAILURE_TYPES, PREDICTION_FEATURE_NAMES, PREDICTION_FEATURES, PREDICTION_LOOKBACK_DAYS, type FailureType } from '../features/prediction-features.js';
import { legacyRiskScore } from '../health/legacy-risk.js';
import { DEFAULT_HAZARD_PARAMS, DEFAULT_TYPE_PARAMS, fitFailureModels, hazardRates, imputed, type FittedModels, type Outcome } from '../model/failure-model.js';
import { evaluateRisk, type EvalRow, type RiskMetrics } from '../model/evaluate.js';
import { failureProbability, segmentBounds } from '../model/survival.js';
import { predictRaw } from '../model/tree.js';
import { anomalyScore } from '../model/iforest.js';
import { ensembleToOnnx } from '../model/onnx-export.js';
import { RISK_LEVEL_THRESHOLDS, type ModelCard } from '../model/card.js';
import { DAY_MS, gpuOutcomes, labelRow, predictionMatrix, unmatchedFailures, type FeatureMatrix, type GpuOutcome, type RowLabel } from './prediction-data.js';
import { computeFeatureTable, readFeatureRows } from './features.js';
import { scoreFeatureRow } from './score.js';
import { lakeModelsDir, MODEL_NAME_RE } from './models.js';
import { WINDOW_STAGE_LOCK_WAIT_MS } from './window.js';

/** Failures with telemetry before them that training needs; fewer gives a model that has learnt nothing. */
export const MIN_TRAINING_FAILURES = 20;
/** The horizon the validation metrics are reported at (DESIGN §7: pooled daily cut-offs, 30 days). */
export const EVAL_HORIZON_DAYS = 30;
/** Cut-off days the validation metrics pool at most (spread evenly over the validation days). */
export const VALIDATION_CUTOFFS = 10;
/** Cut-off days the validation model keeps for training at least. */
const MIN_TRAIN_DAYS = 14;
/** Cut-off days training needs: the training days, and validation days with 30 days of follow-up and 2 weeks of cut-offs. */
export const MIN_CUTOFF_DAYS = MIN_TRAIN_DAYS + EVAL_HORIZON_DAYS + 14;

export interface TrainOptions {
  lake: string;
  fromMs?: number;
  toMs?: number;
  name?: string;
  horizonDays?: number;
  seed?: number;
  /** Share of GPUs (and of the cut-off days, the latest) kept for validation. */
  validFraction?: number;
  minFailures?: number;
  /** Score the two baselines on the validation rows (a features run per validation day). */
  baselines?: boolean;
  /** How the card describes the data (default: the lake's path). */
  trainedOn?: string;
  note?: string;
  /** Write the model into the lake (default true); `npm run train:default` writes it elsewhere. */
  write?: boolean;
  progress?: ProgressFn;
}

export interface TrainResult {
  card: ModelCard;
  /** Recorded failures training could not use: a serial no asset record matches, a GPU without telemetry. */
  unmatched_failures: { no_asset: number; no_telemetry: number };
  /** The model folder written, or null with write: false. */
  dir: string | null;
  files: Record<string, Uint8Array | string>;
  seconds: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A stable share in [0, 1) per GPU, for the validation split. */
function gpuShare(gpu: string, seed: number): number {
  return createHash('sha256').update(`${seed}:${gpu}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Evaluation rows at the 30-day horizon: rows watched 30 days, or that failed within them. */
function evalRows(m: FeatureMatrix, labels: readonly (RowLabel | null)[], rows: readonly number[]): { idx: number[]; eval: EvalRow[] } {
  const idx: number[] = [];
  const out: EvalRow[] = [];
  for (const i of rows) {
    const l = labels[i];
    if (!l) continue;
    const failed = l.daysToFailure !== null && l.daysToFailure <= EVAL_HORIZON_DAYS;
    if (!failed && l.days < EVAL_HORIZON_DAYS) continue;
    idx.push(i);
    out.push({ gpu: m.gpu[i]!, daysToFailure: l.daysToFailure, label: failed ? 1 : 0 });
  }
  return { idx, eval: out };
}

/** P(fail within `days`) per row of `m` (rows `idx`) from a fitted hazard model. */
export function probabilities(
  models: Pick<FittedModels, 'hazard'>,
  m: FeatureMatrix,
  idx: readonly number[],
  bounds: readonly number[],
  days: number,
): Float64Array {
  const F = m.names.length;
  const nSeg = bounds.length - 1;
  const sub = new Float64Array(idx.length * F);
  for (let r = 0; r < idx.length; r++) sub.set(m.X.subarray(idx[r]! * F, (idx[r]! + 1) * F), r * F);
  const rates = hazardRates(models.hazard, sub, F, nSeg);
  const out = new Float64Array(idx.length);
  for (let r = 0; r < idx.length; r++) out[r] = failureProbability(Array.from(rates.subarray(r * nSeg, (r + 1) * nSeg)), bounds, days);
  return out;
}

/** The baselines at each cut-off: the original rule-based risk and `score`'s overall score (lower is riskier, so negated), from a 7-day features window. */
export async function baselineScores(db: Db, cutoffs: readonly number[], progress: ProgressFn): Promise<Map<string, { rule: number; overall: number }>> {
  const out = new Map<string, { rule: number; overall: number }>();
  let done = 0;
  for (const c of cutoffs) {
    progress(`baselines ${++done}/${cutoffs.length}`);
    try {
      await computeFeatureTable(db, c - 7 * DAY_MS, c);
    } catch (e) {
      if (e instanceof InputError) continue; // no telemetry in that window
      throw e;
    }
    for (const r of await readFeatureRows(db)) {
      const n = (k: string): number | null => (r[k] === null || r[k] === undefined ? null : Number(r[k]));
      const rule = legacyRiskScore({
        sbe_per_day: n('sbe_per_day'),
        dbe_delta: n('dbe_delta'),
        temp_max: n('temp_max'),
        share_thermal_throttled: n('share_thermal_throttled'),
        power_brake_share: n('power_brake_share'),
        power_cv: n('power_cv'),
      });
      const s = scoreFeatureRow(r);
      out.set(`${r.gpu_uuid}@${c}`, { rule, overall: -(s.overall_score ?? 100) });
    }
  }
  return out;
}

function sha12(files: Record<string, Uint8Array | string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(files).sort()) h.update(k).update('\0').update(files[k]!);
  return h.digest('hex').slice(0, 12);
}

/** Trains on the rows of `m` (see the header); pure apart from the baselines' features runs on `db`. */
export async function trainOnMatrix(
  db: Db | null,
  m: FeatureMatrix,
  outcomes: Map<string, GpuOutcome>,
  opts: Required<Pick<TrainOptions, 'horizonDays' | 'seed' | 'validFraction' | 'minFailures'>> & {
    fromMs: number;
    toMs: number;
    name: string;
    trainedOn: string;
    note: string;
    baselines: boolean;
    progress: ProgressFn;
    /** Failures that could not be matched, for the too-few message. */
    unmatched?: { no_asset: number; no_telemetry: number };
  },
): Promise<{ card: ModelCard; files: Record<string, Uint8Array | string> }> {
  const { horizonDays, seed, toMs, fromMs, progress } = opts;
  const F = m.names.length;
  const bounds = segmentBounds(horizonDays);
  const n = m.gpu.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const labels = all.map((i) => labelRow(outcomes.get(m.gpu[i]!), m.cutoffMs[i]!, horizonDays, toMs));
  const failedGpus = new Set(all.filter((i) => labels[i]?.event).map((i) => m.gpu[i]!));
  if (failedGpus.size < opts.minFailures) {
    throw new InputError(
      `too few failures to train on: ${failedGpus.size} failure${failedGpus.size === 1 ? '' : 's'} with telemetry in the ${horizonDays} days before them, and training needs at least ${opts.minFailures}${opts.unmatched?.no_asset ? ` (${opts.unmatched.no_asset} more name a serial that no asset record matches)` : ''}`,
      ['gpuhealth failures import FILE with more of the fleet’s failure history', 'the shipped model (models/default) still works: gpuhealth predict'],
    );
  }
  // validation: the latest cut-off days, on GPUs kept out of training altogether
  // validation rows need 30 days of follow-up, so the validation days reach at least 2 weeks past that
  const days = Math.round((toMs - fromMs) / DAY_MS);
  const validDays = Math.min(days - MIN_TRAIN_DAYS, Math.max(Math.round(days * opts.validFraction), EVAL_HORIZON_DAYS + 14));
  const splitMs = toMs - validDays * DAY_MS;
  const isValidGpu = (g: string): boolean => gpuShare(g, seed) < opts.validFraction;
  const trainRows = all.filter((i) => m.cutoffMs[i]! < splitMs && !isValidGpu(m.gpu[i]!));
  const validRows = all.filter((i) => m.cutoffMs[i]! >= splitMs && isValidGpu(m.gpu[i]!));
  // training rows know only what happened before the split
  const trainLabels = all.map((i) => (m.cutoffMs[i]! < splitMs ? labelRow(outcomes.get(m.gpu[i]!), m.cutoffMs[i]!, horizonDays, splitMs) : null));
  const asOutcome = (l: RowLabel | null): Outcome | null => (l ? { days: l.days, event: l.event, type: l.type } : null);

  progress('fitting the validation model');
  const monotone = m.names.map((n) => PREDICTION_FEATURES.find((f) => f.name === n)?.monotone ?? 0);
  const valFit = fitFailureModels(m.X, F, trainLabels.map(asOutcome), trainRows, bounds, { seed, monotone });
  // the metrics pool up to VALIDATION_CUTOFFS cut-off days spread over the validation days (neighbouring
  // days are nearly the same rows, and each day costs the baselines a features run)
  // (only cut-offs followed for the whole 30 days: near the end only the failures would be known, which
  // would inflate the base rate)
  const validDaysUsed = [...new Set(validRows.map((i) => m.cutoffMs[i]!))].filter((c) => c + EVAL_HORIZON_DAYS * DAY_MS <= toMs).sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(validDaysUsed.length / VALIDATION_CUTOFFS));
  const evalDays = new Set(validDaysUsed.filter((_, k) => k % step === 0));
  const ev = evalRows(
    m,
    labels,
    validRows.filter((i) => evalDays.has(m.cutoffMs[i]!)),
  );
  const p30 = probabilities(valFit, m, ev.idx, bounds, EVAL_HORIZON_DAYS);
  const modelMetrics = evaluateRisk(ev.eval, p30, EVAL_HORIZON_DAYS, { prob: p30 });
  const anomaly = Float64Array.from(
    (() => {
      const Xi = imputed(m.X, F, ev.idx, valFit.medians);
      return ev.idx.map((_, r) => anomalyScore(predictRaw(valFit.iforest.ensemble, Xi.subarray(r * F, (r + 1) * F))[0]!, valFit.iforest.c));
    })(),
  );
  const anomalyMetrics = evaluateRisk(ev.eval, anomaly, EVAL_HORIZON_DAYS);
  let ruleMetrics: RiskMetrics | null = null;
  let overallMetrics: RiskMetrics | null = null;
  if (opts.baselines && db) {
    const cutoffs = [...new Set(ev.idx.map((i) => m.cutoffMs[i]!))].sort((a, b) => a - b);
    const base = await baselineScores(db, cutoffs, progress);
    const keep = ev.idx.map((i, r) => ({ r, b: base.get(`${m.gpu[i]}@${m.cutoffMs[i]}`) })).filter((x) => x.b !== undefined);
    const rows = keep.map((x) => ev.eval[x.r]!);
    ruleMetrics = evaluateRisk(
      rows,
      keep.map((x) => x.b!.rule),
      EVAL_HORIZON_DAYS,
    );
    overallMetrics = evaluateRisk(
      rows,
      keep.map((x) => x.b!.overall),
      EVAL_HORIZON_DAYS,
    );
  }

  progress('fitting the final model on every row');
  const finalLabels = labels.map(asOutcome);
  const fit = fitFailureModels(
    m.X,
    F,
    finalLabels,
    all.filter((i) => finalLabels[i] !== null),
    bounds,
    { seed, monotone },
  );

  const names = [...m.names];
  const files: Record<string, Uint8Array | string> = {
    'hazard.onnx': ensembleToOnnx(fit.hazard, { post: { kind: 'none' }, featureNames: [...names, 'segment'], name: `${opts.name}-hazard` }),
    'hazard-trees.json': JSON.stringify(fit.hazard),
    'anomaly.onnx': ensembleToOnnx(fit.iforest.ensemble, { post: { kind: 'isolation', c: fit.iforest.c }, featureNames: names, name: `${opts.name}-anomaly` }),
  };
  if (fit.type) files['type.onnx'] = ensembleToOnnx(fit.type, { post: { kind: 'softmax' }, featureNames: names, name: `${opts.name}-type` });
  const failuresByType = Object.fromEntries(FAILURE_TYPES.map((t) => [t, 0])) as Record<FailureType, number>;
  for (const g of failedGpus) {
    const first = all.find((i) => m.gpu[i] === g && labels[i]?.event);
    if (first !== undefined) failuresByType[labels[first]!.type ?? 'other']++;
  }
  const card: ModelCard = {
    name: opts.name,
    version: sha12(files),
    created_at: new Date().toISOString(),
    trained_on: opts.trainedOn,
    note: opts.note,
    features: names,
    horizon_days: horizonDays,
    segment_bounds_days: bounds,
    training: {
      from: iso(fromMs),
      to: iso(toMs),
      gpus: new Set(m.gpu).size,
      gpu_days: n,
      failures_by_type: failuresByType,
    },
    validation: {
      split: iso(splitMs),
      to: iso(toMs),
      train_gpus: new Set(trainRows.map((i) => m.gpu[i]!)).size,
      valid_gpus: new Set(validRows.map((i) => m.gpu[i]!)).size,
      gpu_days: ev.idx.length,
      failures: modelMetrics.failures,
      horizon_days: EVAL_HORIZON_DAYS,
      metrics: { model: modelMetrics, rule_based_risk: ruleMetrics, overall_score: overallMetrics, anomaly_score: anomalyMetrics },
      hazard_trees: valFit.hazardTrees,
    },
    hyperparameters: { hazard: { ...DEFAULT_HAZARD_PARAMS, seed, monotone }, type: DEFAULT_TYPE_PARAMS, anomaly: { trees: 100, sample_size: 256 } },
    risk_levels: RISK_LEVEL_THRESHOLDS,
    imputation_medians: fit.medians,
    anomaly_c: fit.iforest.c,
    files: { hazard: 'hazard.onnx', hazard_trees: 'hazard-trees.json', type: fit.type ? 'type.onnx' : null, anomaly: 'anomaly.onnx' },
  };
  return { card, files };
}

/** Writes a model folder's files and card into `dir` (a staging folder). */
export function writeModelFiles(dir: string, card: ModelCard, files: Record<string, Uint8Array | string>): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, data] of Object.entries({ ...files, 'card.json': `${JSON.stringify(card, null, 2)}\n` })) {
    fs.writeFileSync(path.join(dir, name), data);
    written.push(name);
  }
  return written;
}

export async function trainFromLake(opts: TrainOptions): Promise<TrainResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const name = opts.name ?? `fleet-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
  if (!MODEL_NAME_RE.test(name)) throw new InputError(`--name ${JSON.stringify(name)}: use letters, digits, ".", "-" and "_" (up to 64)`);
  if (name === 'default') throw new InputError('--name default is the shipped model; pick another name');
  const horizonDays = opts.horizonDays ?? 90;
  // at least the 30 days the validation metrics are reported at
  if (!(horizonDays >= EVAL_HORIZON_DAYS && horizonDays <= 365 && Number.isInteger(horizonDays)))
    throw new InputError('--horizon must be whole days from 30d to 365d', ['--horizon 90d']);
  return withLakeRun({ lake: opts.lake, lockWaitMs: WINDOW_STAGE_LOCK_WAIT_MS }, async (run) => {
    const { db, layout } = run;
    await buildRollups(run, progress);
    await createLakeViews(db, layout);
    const range = (
      await db.query<{ oldest: Date | null; newest: Date | null }>('rollup range', 'SELECT min(first_time) AS oldest, max(last_time) AS newest FROM rollups')
    )[0];
    if (!range?.newest || !range.oldest) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
    const toMs = opts.toMs ?? Math.floor(range.newest.getTime() / DAY_MS) * DAY_MS;
    const fromMs = opts.fromMs ?? Math.ceil((range.oldest.getTime() + PREDICTION_LOOKBACK_DAYS * DAY_MS) / DAY_MS) * DAY_MS;
    const days = Math.floor((toMs - fromMs) / DAY_MS);
    if (days < MIN_CUTOFF_DAYS) {
      throw new InputError(
        `training needs at least ${MIN_CUTOFF_DAYS} cut-off days between --from and --to (${MIN_TRAIN_DAYS} to train on, and ${EVAL_HORIZON_DAYS + 14} to validate, whose failures are followed for ${EVAL_HORIZON_DAYS} days); the lake gives ${Math.max(0, days)} (${iso(fromMs).slice(0, 10)} → ${iso(toMs).slice(0, 10)}, after the first ${PREDICTION_LOOKBACK_DAYS} days of telemetry, which the features look back on)`,
      );
    }
    progress(`feature rows for ${days} cut-off days`);
    const m = await predictionMatrix(db, PREDICTION_FEATURE_NAMES, fromMs, 0, days - 1);
    const outcomes = await gpuOutcomes(db, toMs);
    const unmatched = await unmatchedFailures(db, toMs);
    const { card, files } = await trainOnMatrix(db, m, outcomes, {
      horizonDays,
      seed: opts.seed ?? 1,
      validFraction: opts.validFraction ?? 0.3,
      minFailures: opts.minFailures ?? MIN_TRAINING_FAILURES,
      fromMs,
      toMs,
      name,
      trainedOn: opts.trainedOn ?? `the lake at ${layout.root}`,
      note: opts.note ?? 'Trained by gpuhealth train on this fleet’s own telemetry and failure history.',
      baselines: opts.baselines ?? true,
      progress,
      unmatched,
    });
    let dir: string | null = null;
    if (opts.write !== false) {
      const target = path.join(lakeModelsDir(layout.root), name);
      dir = target;
      const staged = path.join(run.stage, 'model');
      const written = writeModelFiles(staged, card, files);
      for (const f of written) run.add(path.join(staged, f), path.join(target, f));
      // a retrained model of the same name replaces the old one whole
      if (fs.existsSync(target))
        run.remove(
          ...fs
            .readdirSync(target)
            .filter((f) => !written.includes(f))
            .map((f) => path.join(target, f)),
        );
      run.commit();
    }
    return { card, dir, files, unmatched_failures: unmatched, seconds: (Date.now() - t0) / 1000 };
  });
}
