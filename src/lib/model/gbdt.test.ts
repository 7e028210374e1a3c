import { describe, expect, it } from 'vitest';
import { type GbdtObjective, type GbdtParams, lossOf, type TrainData, trainGbdt } from './gbdt.js';
import { mulberry32 } from './random.js';
import { contributions, type Ensemble, leafOf, predictRaw } from './tree.js';

const PARAMS: GbdtParams = {
  nTrees: 50,
  learningRate: 0.3,
  maxDepth: 3,
  minChildWeight: 1e-3,
  minSamplesLeaf: 1,
  lambda: 1,
  subsample: 1,
  colsample: 1,
  maxBins: 255,
  seed: 7,
};

const row = (d: TrainData, i: number): Float32Array => d.X.subarray(i * d.nFeatures, (i + 1) * d.nFeatures);

/** Raw outputs of every row of `d`, row-major n × nTargets, from tree.ts (the exported model's view). */
function rawOf(e: Ensemble, d: TrainData): Float64Array {
  const n = d.y.length;
  const out = new Float64Array(n * e.nTargets);
  for (let i = 0; i < n; i++) out.set(predictRaw(e, row(d, i)), i * e.nTargets);
  return out;
}

/** A Poisson draw (Knuth), for small means. */
function poisson(mean: number, rnd: () => number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = rnd();
  while (p > l) {
    k++;
    p *= rnd();
  }
  return k;
}

/** n rows of nFeatures: uniform in [−1, 1), about `missing` of them NaN, plus some repeated values and adjacent floats. */
function mixedX(n: number, nFeatures: number, seed: number, missing = 0.1): Float32Array {
  const rnd = mulberry32(seed);
  const X = new Float32Array(n * nFeatures);
  for (let i = 0; i < X.length; i++) {
    const u = rnd();
    X[i] = u < missing ? Number.NaN : u < 0.2 ? Math.floor(rnd() * 4) : u < 0.25 ? 1 + 2 ** -23 * Math.floor(rnd() * 3) : rnd() * 2 - 1;
  }
  return X;
}

function logisticData(n: number, seed: number): TrainData {
  const F = 5;
  const X = mixedX(n, F, seed);
  const rnd = mulberry32(seed + 1);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = X[i * F]!;
    const b = X[i * F + 1]!;
    const z = (Number.isNaN(a) ? 1 : 2 * a) + (Number.isNaN(b) ? 0 : Math.sin(3 * b)) - 0.5;
    y[i] = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, nFeatures: F, y };
}

/**
 * x0 on [0, 1) (5 % missing) with a signal that rises `sign`·2 over x0 but has a bump of 2.5 at 0.3,
 * so an unconstrained fit rises and falls there; with two features, x1 on [−1, 1) adds sin(3·x1) and
 * an x0·x1 interaction, so the slope in x0 differs with x1.
 */
function bumpData(objective: 'logistic' | 'poisson', sign: 1 | -1, nFeatures: 1 | 2, seed: number): TrainData {
  const n = 3000;
  const rnd = mulberry32(seed);
  const X = new Float32Array(n * nFeatures);
  const y = new Float64Array(n);
  const offset = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = rnd() < 0.05 ? Number.NaN : rnd();
    const x1 = rnd() * 2 - 1;
    X[i * nFeatures] = x0;
    if (nFeatures === 2) X[i * nFeatures + 1] = x1;
    const a = Number.isNaN(x0) ? 0.5 : x0;
    const z = sign * (2 * a + 2.5 * Math.exp(-(((a - 0.3) / 0.07) ** 2))) + (nFeatures === 2 ? Math.sin(3 * x1) + a * x1 : 0);
    if (objective === 'logistic') y[i] = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    else {
      const exposure = 1 + Math.floor(rnd() * 30);
      offset[i] = Math.log(exposure);
      y[i] = poisson(Math.exp(z - 3) * exposure, rnd);
    }
  }
  return objective === 'poisson' ? { X, nFeatures, y, offset } : { X, nFeatures, y };
}

/**
 * Values of feature f to probe: a fine grid over and beyond the training range, plus every threshold
 * the ensemble uses on f and the float32 just below it, so each piece of the step function is visited.
 */
function probeValues(e: Ensemble, f: number): number[] {
  const xs = Array.from({ length: 1401 }, (_, j) => Math.fround(-0.2 + j / 1000));
  for (const t of e.trees) {
    t.feature.forEach((g, j) => {
      if (g !== f) return;
      const thr = t.threshold[j]!;
      xs.push(thr, nextDownF32(thr));
    });
  }
  return xs.sort((a, b) => a - b);
}

/** The largest float32 below x (x a finite float32). */
function nextDownF32(x: number): number {
  if (x === 0) return -1.401298464324817e-45;
  const f = new Float32Array([x]);
  new Int32Array(f.buffer)[0]! += x > 0 ? -1 : 1;
  return f[0]!;
}

/** The largest fall (sign 1) or rise (sign −1) of target k's raw output between adjacent values of feature f, others fixed at `at`. */
function worstViolation(e: Ensemble, f: number, sign: 1 | -1, at: number[], k = 0): number {
  const x = at.slice();
  let worst = 0;
  let prev: number | null = null;
  for (const v of probeValues(e, f)) {
    x[f] = v;
    const out = predictRaw(e, x)[k]!;
    if (prev !== null) worst = Math.max(worst, sign * (prev - out));
    prev = out;
  }
  return worst;
}

describe('gradient-boosted trees', () => {
  it('learns a step with one split, its threshold between the two values', () => {
    const X = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const y = Float64Array.from(X, (x) => (x >= 6 ? 1 : 0));
    const { ensemble } = trainGbdt({ X, nFeatures: 1, y }, { kind: 'logistic' }, { ...PARAMS, nTrees: 1 });
    const t = ensemble.trees[0]!;
    expect(t.feature).toEqual([0, -1, -1]);
    expect(t.threshold[0]).toBe(5.5);
    expect(t.value[t.left[0]!]!).toBeLessThan(0);
    expect(t.value[t.right[0]!]!).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect(leafOf(t, [X[i]!])).toBe(X[i]! >= 6 ? t.right[0] : t.left[0]);
  });

  it('puts a float32 threshold between values that doubles would not separate', () => {
    // 0.1 and 0.2 are not float32 values; and two adjacent float32s have no float32 strictly between
    for (const [lo, hi] of [
      [Math.fround(0.1), Math.fround(0.2)],
      [1, 1 + 2 ** -23],
    ] as const) {
      const X = Float32Array.from([lo, lo, lo, hi, hi, hi]);
      const y = Float64Array.from([0, 0, 0, 1, 1, 1]);
      const t = trainGbdt({ X, nFeatures: 1, y }, { kind: 'logistic' }, { ...PARAMS, nTrees: 1 }).ensemble.trees[0]!;
      const thr = t.threshold[0]!;
      expect(Math.fround(thr)).toBe(thr);
      expect(lo < thr && thr <= hi).toBe(true);
      expect(leafOf(t, [lo])).toBe(t.left[0]);
      expect(leafOf(t, [hi])).toBe(t.right[0]);
    }
  });

  it('drives the logistic loss near zero on separable data', () => {
    const rnd = mulberry32(3);
    const n = 400;
    const X = new Float32Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[2 * i] = rnd() * 2 - 1;
      X[2 * i + 1] = rnd();
      y[i] = X[2 * i]! > 0.3 ? 1 : 0;
    }
    const r = trainGbdt({ X, nFeatures: 2, y }, { kind: 'logistic' }, { ...PARAMS, nTrees: 60 });
    expect(r.trainLoss[0]!).toBeGreaterThan(0.3);
    expect(r.trainLoss.at(-1)!).toBeLessThan(0.01);
    for (let i = 0; i < n; i++) expect(predictRaw(r.ensemble, row({ X, nFeatures: 2, y }, i))[0]! > 0).toBe(y[i] === 1);
  });

  it('recovers per-group Poisson rates with exposure offsets', () => {
    const rnd = mulberry32(11);
    const n = 8000;
    const F = 2;
    const X = new Float32Array(n * F);
    const y = new Float64Array(n);
    const offset = new Float64Array(n);
    const events = [0, 0];
    const days = [0, 0];
    for (let i = 0; i < n; i++) {
      const g = i % 2;
      const exposure = 1 + Math.floor(rnd() * 60);
      X[i * F] = g;
      X[i * F + 1] = rnd(); // noise
      y[i] = poisson((g ? 0.1 : 0.01) * exposure, rnd);
      offset[i] = Math.log(exposure);
      events[g]! += y[i]!;
      days[g]! += exposure;
    }
    const data: TrainData = { X, nFeatures: F, y, offset };
    const r = trainGbdt(data, { kind: 'poisson' }, { ...PARAMS, nTrees: 60, maxDepth: 2, minSamplesLeaf: 1000 });
    // the pooled rate first, and the default step cap: no tree moves a log rate by more than 0.7 × 0.3
    expect(Math.exp(r.ensemble.base[0]!)).toBeCloseTo((events[0]! + events[1]!) / (days[0]! + days[1]!), 12);
    for (const t of r.ensemble.trees) for (const v of t.value) expect(Math.abs(v)).toBeLessThanOrEqual(0.7 * 0.3 + 1e-12);
    for (const [g, rate] of [
      [0, 0.01],
      [1, 0.1],
    ] as const) {
      for (const noise of [0.1, 0.5, 0.9]) expect(Math.abs(Math.exp(predictRaw(r.ensemble, [g, noise])[0]!) / rate - 1)).toBeLessThan(0.1);
      // converged: over the group, the expected events match the events seen (Poisson's score equation)
      let expected = 0;
      for (let i = g; i < n; i += 2) expected += Math.exp(predictRaw(r.ensemble, row(data, i))[0]! + offset[i]!);
      expect(Math.abs(expected / events[g]! - 1)).toBeLessThan(0.01);
    }
  });

  it('classifies three separable classes with one tree per class per round', () => {
    const rnd = mulberry32(5);
    const n = 300;
    const X = new Float32Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      X[2 * i] = c + 0.1 + rnd() * 0.8;
      X[2 * i + 1] = rnd();
      y[i] = c;
    }
    const data: TrainData = { X, nFeatures: 2, y };
    const objective: GbdtObjective = { kind: 'softmax', nClasses: 3 };
    const r = trainGbdt(data, objective, { ...PARAMS, nTrees: 20 });
    expect(r.ensemble.nTargets).toBe(3);
    expect(r.ensemble.trees.length).toBe(60);
    expect(r.ensemble.trees.map((t) => t.target).slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(r.ensemble.base.map(Math.exp).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    for (let i = 0; i < n; i++) {
      const raw = predictRaw(r.ensemble, row(data, i));
      expect(raw.indexOf(Math.max(...raw))).toBe(y[i]);
    }
    expect(r.trainLoss.at(-1)!).toBeLessThan(0.05);
  });

  it('learns which side missing values belong on', () => {
    for (const missingLabel of [0, 1]) {
      // x < 0 → 0, x ≥ 0 → 1, missing → missingLabel
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i < 60; i++) {
        const x = i % 3 === 0 ? Number.NaN : (i % 20) - 10;
        xs.push(x);
        ys.push(Number.isNaN(x) ? missingLabel : x >= 0 ? 1 : 0);
      }
      const data: TrainData = { X: Float32Array.from(xs), nFeatures: 1, y: Float64Array.from(ys) };
      const r = trainGbdt(data, { kind: 'logistic' }, { ...PARAMS, nTrees: 1, maxDepth: 1 });
      const t = r.ensemble.trees[0]!;
      expect(t.feature[0]).toBe(0);
      expect(t.missingLeft[0]).toBe(missingLabel === 0);
      expect(predictRaw(r.ensemble, [Number.NaN])[0]! > 0).toBe(missingLabel === 1);
    }
  });

  it('splits missing from present values when only that separates the labels', () => {
    const xs = Float32Array.from({ length: 40 }, (_, i) => (i % 2 ? Number.NaN : 3));
    const y = Float64Array.from(xs, (x) => (Number.isNaN(x) ? 1 : 0));
    const r = trainGbdt({ X: xs, nFeatures: 1, y }, { kind: 'logistic' }, { ...PARAMS, nTrees: 10 });
    expect(r.ensemble.trees[0]!.feature[0]).toBe(0);
    expect(predictRaw(r.ensemble, [Number.NaN])[0]!).toBeGreaterThan(2);
    expect(predictRaw(r.ensemble, [3])[0]!).toBeLessThan(-2);
  });

  it('sends missing values to the side with more cover when a split saw none', () => {
    const X = Float32Array.from({ length: 30 }, (_, i) => i);
    const y = Float64Array.from(X, (x) => (x < 10 ? 0 : 1));
    const t = trainGbdt({ X, nFeatures: 1, y }, { kind: 'logistic' }, { ...PARAMS, nTrees: 1, maxDepth: 1 }).ensemble.trees[0]!;
    expect(t.cover[t.right[0]!]!).toBeGreaterThan(t.cover[t.left[0]!]!);
    expect(t.missingLeft[0]).toBe(false);
  });

  it('stops early when the validation loss rises, keeping the best rounds', () => {
    // labels independent of the features: every tree after the first few fits noise
    const make = (n: number, seed: number): TrainData => {
      const rnd = mulberry32(seed);
      return { X: mixedX(n, 4, seed), nFeatures: 4, y: Float64Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0)) };
    };
    const train = make(400, 21);
    const valid = make(400, 22);
    const params = { ...PARAMS, nTrees: 200, maxDepth: 6, learningRate: 0.5, earlyStoppingRounds: 5 };
    const r = trainGbdt(train, { kind: 'logistic' }, params, valid);
    expect(r.ensemble.trees.length).toBeLessThan(200);
    expect(r.ensemble.trees.length).toBe(r.bestIteration + 1);
    expect(r.validLoss.length).toBe(r.bestIteration + 1 + 5);
    expect(Math.min(...r.validLoss)).toBe(r.validLoss[r.bestIteration]);
    expect(lossOf({ kind: 'logistic' }, valid, rawOf(r.ensemble, valid))).toBeCloseTo(r.validLoss[r.bestIteration]!, 12);
    // without early stopping every round is kept
    const all = trainGbdt(train, { kind: 'logistic' }, { ...params, earlyStoppingRounds: undefined }, valid);
    expect(all.ensemble.trees.length).toBe(200);
    expect(all.validLoss.at(-1)!).toBeGreaterThan(r.validLoss[r.bestIteration]!);
  });

  it('stops softmax on whole rounds', () => {
    const make = (n: number, seed: number): TrainData => {
      const rnd = mulberry32(seed);
      return { X: mixedX(n, 3, seed), nFeatures: 3, y: Float64Array.from({ length: n }, () => Math.floor(rnd() * 3)) };
    };
    const r = trainGbdt(make(300, 31), { kind: 'softmax', nClasses: 3 }, { ...PARAMS, nTrees: 100, maxDepth: 5, earlyStoppingRounds: 3 }, make(300, 32));
    expect(r.ensemble.trees.length).toBe(3 * (r.bestIteration + 1));
    expect(r.ensemble.trees.length).toBeLessThan(300);
  });

  it('has contributions that sum to the raw output', () => {
    const data = logisticData(500, 41);
    const rnd = mulberry32(42);
    const poissonData: TrainData = { ...data, offset: Float64Array.from(data.y, () => Math.log(1 + 30 * rnd())) };
    const softmaxData: TrainData = { ...data, y: Float64Array.from(data.y, (v, i) => v + (i % 2)) };
    const cases: [GbdtObjective, TrainData][] = [
      [{ kind: 'logistic' }, data],
      [{ kind: 'poisson' }, poissonData],
      [{ kind: 'softmax', nClasses: 3 }, softmaxData],
    ];
    const probe = mixedX(50, 5, 43, 0.2);
    for (const [objective, d] of cases) {
      const { ensemble } = trainGbdt(d, objective, { ...PARAMS, nTrees: 20, maxDepth: 4, subsample: 0.8, colsample: 0.6 });
      for (let i = 0; i < 50; i++) {
        const x = probe.subarray(i * 5, (i + 1) * 5);
        const raw = predictRaw(ensemble, x);
        for (let k = 0; k < ensemble.nTargets; k++) {
          const c = contributions(ensemble, x, k);
          const sum = c.bias + c.perFeature.reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - raw[k]!)).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('is deterministic for a seed', () => {
    const data = logisticData(400, 51);
    const params = { ...PARAMS, nTrees: 15, subsample: 0.7, colsample: 0.6 };
    const a = trainGbdt(data, { kind: 'logistic' }, params);
    const b = trainGbdt(data, { kind: 'logistic' }, params);
    expect(b).toEqual(a);
    const c = trainGbdt(data, { kind: 'logistic' }, { ...params, seed: params.seed + 1 });
    expect(c.ensemble.trees).not.toEqual(a.ensemble.trees);
  });

  it('exports the partition it trained: the model’s training loss is the reported one', () => {
    const data = logisticData(2000, 61);
    const rnd = mulberry32(62);
    const weighted: TrainData = { ...data, weight: Float64Array.from(data.y, () => 0.5 + rnd() * 2) };
    const poissonData: TrainData = { ...weighted, offset: Float64Array.from(data.y, () => Math.log(1 + 30 * rnd())) };
    const cases: [GbdtObjective, TrainData, Partial<GbdtParams>][] = [
      [{ kind: 'logistic' }, data, {}],
      [{ kind: 'logistic' }, weighted, { subsample: 0.6, colsample: 0.6, maxBins: 16 }],
      [{ kind: 'poisson' }, poissonData, { subsample: 0.8, maxBins: 7 }],
      [{ kind: 'softmax', nClasses: 2 }, weighted, { maxBins: 32 }],
    ];
    for (const [objective, d, p] of cases) {
      const r = trainGbdt(d, objective, { ...PARAMS, nTrees: 25, maxDepth: 5, ...p });
      expect(lossOf(objective, d, rawOf(r.ensemble, d))).toBe(r.trainLoss.at(-1));
      // few bins: each feature's thresholds come from at most maxBins + 1 edges
      const maxBins = p.maxBins ?? PARAMS.maxBins;
      for (let f = 0; f < d.nFeatures; f++) {
        const thr = new Set(r.ensemble.trees.flatMap((t) => t.threshold.filter((_, j) => t.feature[j] === f)));
        expect(thr.size).toBeLessThanOrEqual(maxBins + 1);
      }
    }
  });

  it('treats a weight of 2 as a repeated row', () => {
    const base = logisticData(300, 71);
    const n = base.y.length;
    const X = new Float32Array(2 * n * 5);
    X.set(base.X);
    X.set(base.X.subarray(0, 100 * 5), n * 5);
    const doubled: TrainData = { X: X.subarray(0, (n + 100) * 5), nFeatures: 5, y: Float64Array.from([...base.y, ...base.y.subarray(0, 100)]) };
    const weighted: TrainData = { ...base, weight: Float64Array.from({ length: n }, (_, i) => (i < 100 ? 2 : 1)) };
    const a = trainGbdt(doubled, { kind: 'logistic' }, { ...PARAMS, nTrees: 10, minSamplesLeaf: 0, maxBins: 20 });
    const b = trainGbdt(weighted, { kind: 'logistic' }, { ...PARAMS, nTrees: 10, minSamplesLeaf: 0, maxBins: 20 });
    expect(b.ensemble.base[0]!).toBeCloseTo(a.ensemble.base[0]!, 12);
    const [ta, tb] = [a.ensemble.trees[0]!, b.ensemble.trees[0]!];
    expect([tb.feature, tb.threshold, tb.missingLeft, tb.left, tb.right]).toEqual([ta.feature, ta.threshold, ta.missingLeft, ta.left, ta.right]);
    for (let j = 0; j < ta.value.length; j++) {
      expect(tb.value[j]!).toBeCloseTo(ta.value[j]!, 9);
      expect(tb.cover[j]!).toBeCloseTo(ta.cover[j]!, 9);
    }
    // later trees may break an exact tie in gain differently (sums in another order); the loss is the same
    for (let k = 0; k < 10; k++) expect(b.trainLoss[k]!).toBeCloseTo(a.trainLoss[k]!, 9);
  });

  describe('monotone constraints', () => {
    const MONO: GbdtParams = { ...PARAMS, nTrees: 40, maxDepth: 4, minSamplesLeaf: 5, subsample: 0.8 };
    /** Values of x1 at which the output is checked along x0 (NaN: missing). */
    const X1S = [-1, -0.6, -0.2, 0, 0.35, 0.8, 1, Number.NaN];

    it('keeps every adjacent pair in order along the constrained feature, where the free fit zig-zags', () => {
      for (const objective of ['logistic', 'poisson'] as const) {
        for (const sign of [1, -1] as const) {
          for (const nFeatures of [1, 2] as const) {
            const data = bumpData(objective, sign, nFeatures, 81 + nFeatures);
            const free = trainGbdt(data, { kind: objective }, MONO).ensemble;
            const monotone = nFeatures === 1 ? [sign] : [sign, 0];
            const tied = trainGbdt(data, { kind: objective }, { ...MONO, monotone }).ensemble;
            const at = nFeatures === 1 ? [[0]] : X1S.map((x1) => [0, x1]);
            // the bump makes the unconstrained model go against the trend (else this test could not fail)
            expect(worstViolation(free, 0, sign, at[0]!)).toBeGreaterThan(0.1);
            for (const x of at) {
              expect(worstViolation(tied, 0, sign, x)).toBe(0);
              // and it still follows the trend: the constraint is not met by a flat model
              const lo = predictRaw(tied, [0.02, ...x.slice(1)])[0]!;
              const hi = predictRaw(tied, [0.98, ...x.slice(1)])[0]!;
              expect(sign * (hi - lo)).toBeGreaterThan(0.5);
            }
            if (nFeatures === 2) {
              // x1 stays free: its sin(3·x1) shape goes up and down
              expect(worstViolation(tied, 1, 1, [0.5, 0])).toBeGreaterThan(0.1);
              expect(worstViolation(tied, 1, -1, [0.5, 0])).toBeGreaterThan(0.1);
            }
          }
        }
      }
    });

    it('holds the step cap and has contributions that sum to the raw output', () => {
      const data = bumpData('poisson', 1, 2, 85);
      const { ensemble } = trainGbdt(data, { kind: 'poisson' }, { ...MONO, monotone: [1, 0] });
      for (const t of ensemble.trees) for (const v of t.value) expect(Math.abs(v)).toBeLessThanOrEqual(0.7 * 0.3 + 1e-12);
      for (const x of [
        [0.1, 0.2],
        [0.31, Number.NaN],
        [Number.NaN, -0.7],
      ]) {
        const c = contributions(ensemble, x);
        expect(c.bias + c.perFeature.reduce((a, b) => a + b, 0)).toBeCloseTo(predictRaw(ensemble, x)[0]!, 9);
      }
    });

    it('constrains every softmax target', () => {
      const data = bumpData('logistic', 1, 2, 86);
      const three: TrainData = { ...data, y: Float64Array.from(data.y, (v, i) => v + (data.X[2 * i + 1]! > 0.5 ? 1 : 0)) };
      const { ensemble } = trainGbdt(three, { kind: 'softmax', nClasses: 3 }, { ...MONO, nTrees: 15, monotone: [-1] });
      for (let k = 0; k < 3; k++) for (const x1 of X1S) expect(worstViolation(ensemble, 0, -1, [0, x1], k)).toBe(0);
    });

    it('is deterministic for a seed', () => {
      const data = bumpData('logistic', 1, 2, 87);
      const params = { ...MONO, nTrees: 15, subsample: 0.7, colsample: 0.5, monotone: [1, 0] };
      const a = trainGbdt(data, { kind: 'logistic' }, params);
      expect(trainGbdt(data, { kind: 'logistic' }, params)).toEqual(a);
      expect(trainGbdt(data, { kind: 'logistic' }, { ...params, seed: params.seed + 1 }).ensemble.trees).not.toEqual(a.ensemble.trees);
    });

    it('barely changes the fit where the target truly moves that way', () => {
      // logisticData's log-odds rise with x0 (2·x0), wave with x1, and ignore x2..x4
      const train = logisticData(3000, 88);
      const valid = logisticData(3000, 89);
      const params = { ...MONO, nTrees: 30 };
      const free = trainGbdt(train, { kind: 'logistic' }, params, valid);
      const along = trainGbdt(train, { kind: 'logistic' }, { ...params, monotone: [1] }, valid);
      const against = trainGbdt(train, { kind: 'logistic' }, { ...params, monotone: [-1] }, valid);
      const rise = (r: typeof free, which: 'trainLoss' | 'validLoss'): number => r[which].at(-1)! / free[which].at(-1)! - 1;
      expect(worstViolation(along.ensemble, 0, 1, [0, 0, 0, 0, 0])).toBe(0);
      expect(rise(along, 'trainLoss')).toBeLessThan(0.03);
      expect(rise(along, 'validLoss')).toBeLessThan(0.01);
      // the same constraint the wrong way round costs far more
      expect(rise(against, 'trainLoss')).toBeGreaterThan(0.1);
      expect(rise(against, 'validLoss')).toBeGreaterThan(0.1);
    });

    it('rejects a direction other than 1, -1 or 0, and more directions than features', () => {
      const data = bumpData('logistic', 1, 2, 90);
      expect(() => trainGbdt(data, { kind: 'logistic' }, { ...PARAMS, monotone: [0, 2] })).toThrow(/monotone\[1\] is 2/);
      expect(() => trainGbdt(data, { kind: 'logistic' }, { ...PARAMS, monotone: [1, 0, 1] })).toThrow(/3 entries for 2 features/);
    });
  });

  it('rejects labels the objective cannot take', () => {
    const X = Float32Array.from([1, 2, 3]);
    expect(() => trainGbdt({ X, nFeatures: 1, y: Float64Array.from([0, 2, 1]) }, { kind: 'logistic' }, PARAMS)).toThrow(/label 2/);
    expect(() => trainGbdt({ X, nFeatures: 1, y: Float64Array.from([0, 3, 1]) }, { kind: 'softmax', nClasses: 3 }, PARAMS)).toThrow(/label 3/);
    expect(() => trainGbdt({ X, nFeatures: 2, y: Float64Array.from([0, 1, 1]) }, { kind: 'logistic' }, PARAMS)).toThrow(/rows/);
  });
});
