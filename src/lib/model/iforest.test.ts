import { describe, expect, it } from 'vitest';
import { anomalyScore, averagePathLengthC, trainIsolationForest } from './iforest.js';
import { mulberry32 } from './random.js';
import { leafOf, predictRaw } from './tree.js';

/** 2-D standard normal inliers (Box–Muller) followed by `outliers` rows on a circle of radius 6–8. */
function planted(inliers: number, outliers: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const X = new Float32Array((inliers + outliers) * 2);
  for (let i = 0; i < inliers; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rnd()));
    const a = 2 * Math.PI * rnd();
    X[2 * i] = r * Math.cos(a);
    X[2 * i + 1] = r * Math.sin(a);
  }
  for (let j = 0; j < outliers; j++) {
    const r = 6 + 2 * rnd();
    const a = 2 * Math.PI * rnd();
    X[2 * (inliers + j)] = r * Math.cos(a);
    X[2 * (inliers + j) + 1] = r * Math.sin(a);
  }
  return X;
}

describe('isolation forest', () => {
  it('has the average path length of an unsuccessful BST search', () => {
    expect(averagePathLengthC(256)).toBeCloseTo(10.2448, 3);
    expect(averagePathLengthC(1)).toBe(0);
    expect(averagePathLengthC(2)).toBe(1);
    expect(averagePathLengthC(3)).toBeCloseTo(2 * (Math.log(2) + 0.5772156649) - 4 / 3, 12);
    expect(anomalyScore(averagePathLengthC(256), averagePathLengthC(256))).toBe(0.5);
  });

  it('ranks planted outliers above the gaussian cloud', () => {
    const X = planted(1000, 10, 1);
    const { ensemble, c } = trainIsolationForest(X, 2, { seed: 2 });
    expect(c).toBe(averagePathLengthC(256));
    const scores = Array.from({ length: 1010 }, (_, i) => anomalyScore(predictRaw(ensemble, X.subarray(2 * i, 2 * i + 2))[0]!, c));
    const top15 = scores
      .map((s, i) => [s, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 15)
      .map(([, i]) => i);
    for (let j = 1000; j < 1010; j++) expect(top15).toContain(j);
    expect(Math.min(...scores.slice(1000))).toBeGreaterThan(0.6);
  });

  it('outputs the mean path length: depth plus c(leaf size), over the trees', () => {
    const X = planted(500, 5, 3);
    const nTrees = 40;
    const { ensemble } = trainIsolationForest(X, 2, { nTrees, sampleSize: 128, seed: 4 });
    expect(ensemble.trees.length).toBe(nTrees);
    expect(ensemble.base).toEqual([0]);
    for (let i = 0; i < 505; i += 7) {
      const x = X.subarray(2 * i, 2 * i + 2);
      let sum = 0;
      for (const t of ensemble.trees) {
        const leaf = leafOf(t, x);
        let depth = 0;
        for (let node = leaf; node !== 0; depth++) node = t.left.indexOf(node) >= 0 ? t.left.indexOf(node) : t.right.indexOf(node);
        expect(depth).toBeLessThanOrEqual(7);
        sum += depth + averagePathLengthC(t.cover[leaf]!);
      }
      expect(predictRaw(ensemble, x)[0]!).toBeCloseTo(sum / nTrees, 12);
    }
  });

  it('grows each tree on the subsample, with float32 thresholds inside the node’s range', () => {
    const X = planted(300, 0, 5);
    const { ensemble } = trainIsolationForest(X, 2, { nTrees: 10, sampleSize: 64, seed: 6 });
    for (const t of ensemble.trees) {
      expect(t.cover[0]).toBe(64);
      t.feature.forEach((f, j) => {
        if (f < 0) return;
        expect(Math.fround(t.threshold[j]!)).toBe(t.threshold[j]);
        expect(t.missingLeft[j]).toBe(false);
        expect(t.cover[t.left[j]!]! + t.cover[t.right[j]!]!).toBe(t.cover[j]);
        expect(t.cover[t.left[j]!]!).toBeGreaterThan(0);
        expect(t.cover[t.right[j]!]!).toBeGreaterThan(0);
      });
    }
    // missing values go right, deterministically
    const t = ensemble.trees[0]!;
    let node = 0;
    while (t.feature[node]! >= 0) node = t.right[node]!;
    expect(leafOf(t, [Number.NaN, Number.NaN])).toBe(node);
  });

  it('skips constant features and stops where every feature is constant', () => {
    const X = new Float32Array(200 * 3);
    for (let i = 0; i < 200; i++) {
      X[3 * i] = 5;
      X[3 * i + 1] = i % 2;
      X[3 * i + 2] = -1;
    }
    const { ensemble } = trainIsolationForest(X, 3, { nTrees: 5, sampleSize: 100, seed: 7 });
    for (const t of ensemble.trees) {
      expect(t.feature.filter((f) => f >= 0)).toEqual([1]);
      // two leaves of identical rows, each valued as an unbuilt subtree of its size
      const [l, r] = [t.left[0]!, t.right[0]!];
      expect(t.value[l]).toBeCloseTo((1 + averagePathLengthC(t.cover[l]!)) / 5, 12);
      expect(t.value[r]).toBeCloseTo((1 + averagePathLengthC(t.cover[r]!)) / 5, 12);
    }
  });

  it('is deterministic for a seed', () => {
    const X = planted(400, 4, 8);
    expect(trainIsolationForest(X, 2, { nTrees: 10, seed: 9 })).toEqual(trainIsolationForest(X, 2, { nTrees: 10, seed: 9 }));
    expect(trainIsolationForest(X, 2, { nTrees: 10, seed: 10 }).ensemble.trees).not.toEqual(trainIsolationForest(X, 2, { nTrees: 10, seed: 9 }).ensemble.trees);
  });
});
