/**
 * Fitting the three failure models from labelled feature rows (docs/prediction.md):
 *  - the hazard model: gradient-boosted trees with a Poisson objective on piecewise-exponential rows
 *    (survival.ts), so one model gives P7 ≤ P30 ≤ P90;
 *  - the type model: softmax trees over the failures' types, trained on the rows that failed within
 *    the horizon;
 *  - an isolation forest over the same features (missing values imputed by the training medians),
 *    which scores how unlike the fleet a GPU behaves, for failures the classifier has never seen.
 * Pure: no lake, no files; stage/train.ts feeds it and writes what it returns.
 */
import { FAILURE_TYPES, type FailureType } from '../features/prediction-features.js';
import { trainGbdt, type GbdtParams, type TrainData } from './gbdt.js';
import { trainIsolationForest } from './iforest.js';
import { mulberry32 } from './random.js';
import { poissonRows } from './survival.js';
import { predictRaw, type Ensemble } from './tree.js';

export interface Outcome {
  days: number;
  event: boolean;
  type: FailureType | null;
}

export interface HazardHyper extends GbdtParams {
  /** Share of the rows without a failure in the horizon kept for training (each weighted by its inverse). */
  negativeRate: number;
}

/**
 * The hazard model's settings. A fixed number of trees rather than early stopping: a validation set
 * holds a handful of failures, and its Poisson deviance is too noisy to stop on (it stopped at the first
 * round on the default fleet). 300 trees of depth 5 with at least 100 rows a leaf were chosen on the
 * default training fleet by GPU-disjoint validation, then checked once on an unseen fleet
 * (docs/prediction.md, "Quality").
 */
export const DEFAULT_HAZARD_PARAMS: HazardHyper = {
  nTrees: 300,
  learningRate: 0.05,
  maxDepth: 5,
  minChildWeight: 0.5,
  minSamplesLeaf: 100,
  lambda: 5,
  subsample: 0.8,
  colsample: 0.8,
  maxBins: 64,
  seed: 1,
  maxDeltaStep: 0.7,
  negativeRate: 0.25,
};

export const DEFAULT_TYPE_PARAMS: GbdtParams = {
  nTrees: 150,
  learningRate: 0.08,
  maxDepth: 3,
  minChildWeight: 1,
  minSamplesLeaf: 5,
  lambda: 2,
  subsample: 0.9,
  colsample: 0.9,
  maxBins: 32,
  seed: 2,
};

/**
 * The hazard model's Poisson rows for the given training rows: per row and segment it reached, the
 * features plus the segment index, the exposure's log as offset, and the event. Rows without a failure in
 * the horizon are sampled at `negativeRate` and weighted by its inverse, so rates stay unbiased.
 */
export function hazardTrainData(
  X: Float64Array,
  nFeatures: number,
  outcomes: readonly (Outcome | null)[],
  rows: readonly number[],
  bounds: readonly number[],
  negativeRate: number,
  seed: number,
): TrainData {
  const rnd = mulberry32(seed);
  const xs: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  const off: number[] = [];
  for (const i of rows) {
    const o = outcomes[i];
    if (!o) continue;
    let weight = 1;
    if (!o.event) {
      if (rnd() >= negativeRate) continue;
      weight = 1 / negativeRate;
    }
    for (const p of poissonRows(o.days, o.event, bounds)) {
      for (let j = 0; j < nFeatures; j++) xs.push(X[i * nFeatures + j]!);
      xs.push(p.segment);
      y.push(p.event ? 1 : 0);
      w.push(weight);
      off.push(Math.log(p.exposure));
    }
  }
  return { X: Float32Array.from(xs), nFeatures: nFeatures + 1, y: Float64Array.from(y), weight: Float64Array.from(w), offset: Float64Array.from(off) };
}

/** Per row, the hazard model's daily failure rate in each segment (exp of its raw output with the segment appended). */
export function hazardRates(hazard: Ensemble, X: Float64Array, nFeatures: number, nSegments: number): Float64Array {
  const n = X.length / nFeatures;
  const out = new Float64Array(n * nSegments);
  const x = new Float64Array(nFeatures + 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nFeatures; j++) x[j] = X[i * nFeatures + j]!;
    for (let k = 0; k < nSegments; k++) {
      x[nFeatures] = k;
      out[i * nSegments + k] = Math.exp(predictRaw(hazard, x)[0]!);
    }
  }
  return out;
}

/** The type model's rows: those that failed within the horizon, labelled by type index. */
export function typeTrainData(X: Float64Array, nFeatures: number, outcomes: readonly (Outcome | null)[], rows: readonly number[]): TrainData {
  const xs: number[] = [];
  const y: number[] = [];
  for (const i of rows) {
    const o = outcomes[i];
    if (!o?.event || o.type === null) continue;
    for (let j = 0; j < nFeatures; j++) xs.push(X[i * nFeatures + j]!);
    y.push(FAILURE_TYPES.indexOf(o.type));
  }
  return { X: Float32Array.from(xs), nFeatures, y: Float64Array.from(y) };
}

/** Per feature, the median over the rows (NaN ignored; 0 when a feature is never present). */
export function featureMedians(X: Float64Array, nFeatures: number, rows: readonly number[]): number[] {
  const med: number[] = [];
  for (let j = 0; j < nFeatures; j++) {
    const v = rows.map((i) => X[i * nFeatures + j]!).filter((x) => !Number.isNaN(x));
    v.sort((a, b) => a - b);
    med.push(v.length === 0 ? 0 : v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2);
  }
  return med;
}

/** Rows with missing values replaced by `medians`, as float32 for the isolation forest. */
export function imputed(X: Float64Array, nFeatures: number, rows: readonly number[], medians: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * nFeatures);
  rows.forEach((i, r) => {
    for (let j = 0; j < nFeatures; j++) {
      const v = X[i * nFeatures + j]!;
      out[r * nFeatures + j] = Number.isNaN(v) ? medians[j]! : v;
    }
  });
  return out;
}

export interface FittedModels {
  hazard: Ensemble;
  hazardTrees: number;
  type: Ensemble | null;
  typeCounts: Record<FailureType, number>;
  iforest: { ensemble: Ensemble; c: number };
  medians: number[];
}

/**
 * Fits the three models on `rows`. `monotone` holds the hazard model to each feature's direction
 * (PREDICTION_FEATURES' `monotone`). With `valid` rows and `hazard.earlyStoppingRounds`, the hazard
 * model stops adding trees when their Poisson deviance stops falling.
 */
export function fitFailureModels(
  X: Float64Array,
  nFeatures: number,
  outcomes: readonly (Outcome | null)[],
  rows: readonly number[],
  bounds: readonly number[],
  opts: { hazard?: Partial<HazardHyper>; valid?: readonly number[]; seed?: number; monotone?: readonly number[] } = {},
): FittedModels {
  const hp: HazardHyper = { ...DEFAULT_HAZARD_PARAMS, ...opts.hazard, seed: opts.seed ?? DEFAULT_HAZARD_PARAMS.seed };
  const train = hazardTrainData(X, nFeatures, outcomes, rows, bounds, hp.negativeRate, hp.seed);
  // early stopping only when asked for (hazard.earlyStoppingRounds) and given validation rows
  const valid = opts.valid && hp.earlyStoppingRounds ? hazardTrainData(X, nFeatures, outcomes, opts.valid, bounds, 1, hp.seed + 1) : undefined;
  // the segment index (the last input) is free; the features follow their listed direction
  const params: GbdtParams = { ...hp, ...(opts.monotone ? { monotone: [...opts.monotone, 0] } : {}) };
  const hz = trainGbdt(train, { kind: 'poisson' }, params, valid);

  const typeData = typeTrainData(X, nFeatures, outcomes, rows);
  const typeCounts = Object.fromEntries(FAILURE_TYPES.map((t) => [t, 0])) as Record<FailureType, number>;
  for (const y of typeData.y) typeCounts[FAILURE_TYPES[y]!]++;
  const type = typeData.y.length >= 5 ? trainGbdt(typeData, { kind: 'softmax', nClasses: FAILURE_TYPES.length }, DEFAULT_TYPE_PARAMS).ensemble : null;

  const medians = featureMedians(X, nFeatures, rows);
  // the forest learns what normal looks like from an even sample of the rows
  const step = Math.max(1, Math.floor(rows.length / 20_000));
  const sample = rows.filter((_, k) => k % step === 0);
  const iforest = trainIsolationForest(imputed(X, nFeatures, sample, medians), nFeatures, { nTrees: 100, sampleSize: 256, seed: hp.seed + 7 });
  return { hazard: hz.ensemble, hazardTrees: hz.ensemble.trees.length, type, typeCounts, iforest, medians };
}
