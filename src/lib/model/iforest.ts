/**
 * Isolation forest (Liu, Ting & Zhou 2008): rows that random axis-aligned cuts isolate in few steps are
 * unlike the rest. Each tree is grown on a small seeded subsample to a depth of ceil(log2(ψ)); a leaf
 * holding m > 1 rows is charged c(m), the mean path length an unbuilt subtree of m rows would add.
 *
 * The forest is written in tree.ts's format so it exports to ONNX like the boosted models: each leaf's
 * value is (depth + c(size)) / nTrees, so the ensemble's raw output (base 0) is the mean path length
 * E[h(x)], and the anomaly score 2^(−E[h]/c(ψ)) is a post-transform.
 */
import { mulberry32 } from './random.js';
import { addLeaf, fillInternalValues, nextUpF32, type Ensemble, type Tree } from './tree.js';

const EULER_GAMMA = 0.5772156649;

/** c(n): the mean path length of an unsuccessful search in a binary search tree of n rows. */
export function averagePathLengthC(n: number): number {
  if (n <= 1) return 0;
  // the harmonic-number approximation is poor at 2 (0.15); the exact value is 1, as scikit-learn uses
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** The anomaly score in (0, 1] of a mean path length: near 1 anomalous, about 0.5 or below ordinary. */
export function anomalyScore(meanPath: number, c: number): number {
  return 2 ** (-meanPath / c);
}

/**
 * Trains `nTrees` isolation trees on rows of `X` (row-major, nFeatures per row; no NaN expected, the
 * caller imputes). Returns the forest and c(ψ), the normaliser of its anomaly score.
 */
export function trainIsolationForest(
  X: Float32Array,
  nFeatures: number,
  opts: { nTrees?: number; sampleSize?: number; seed: number },
): { ensemble: Ensemble; c: number } {
  const nTrees = opts.nTrees ?? 100;
  if (!(Number.isInteger(nFeatures) && nFeatures >= 1) || X.length % nFeatures !== 0)
    throw new RangeError(`iforest: ${X.length} values are not rows of ${nFeatures}`);
  if (!(Number.isInteger(nTrees) && nTrees >= 1)) throw new RangeError(`iforest: nTrees ${nTrees} must be a positive integer`);
  const n = X.length / nFeatures;
  if (n === 0) throw new RangeError('iforest: no rows');
  const psi = Math.min(opts.sampleSize ?? 256, n);
  if (!(Number.isInteger(psi) && psi >= 1)) throw new RangeError(`iforest: sampleSize ${opts.sampleSize} must be a positive integer`);
  const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
  const rnd = mulberry32(opts.seed);
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  const idx = new Uint32Array(psi);
  const tmp = new Uint32Array(psi);
  const lo = new Float64Array(nFeatures);
  const hi = new Float64Array(nFeatures);
  const candidates = new Int32Array(nFeatures);
  const trees: Tree[] = [];

  for (let t = 0; t < nTrees; t++) {
    // ψ rows without replacement: a partial Fisher–Yates shuffle of the row ids
    for (let j = 0; j < psi; j++) {
      const r = j + Math.floor(rnd() * (n - j));
      const a = perm[j]!;
      perm[j] = perm[r]!;
      perm[r] = a;
      idx[j] = perm[j]!;
    }
    const tree: Tree = { target: 0, feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], cover: [] };
    const addNode = (cover: number): number => addLeaf(tree, cover);
    const grow = (node: number, start: number, end: number, depth: number): void => {
      const size = end - start;
      const leaf = (): void => {
        tree.value[node] = (depth + averagePathLengthC(size)) / nTrees;
      };
      if (depth >= maxDepth || size <= 1) return leaf();
      // the features that still vary among the node's rows (NaN ignored)
      let nc = 0;
      for (let f = 0; f < nFeatures; f++) {
        let a = Number.POSITIVE_INFINITY;
        let b = Number.NEGATIVE_INFINITY;
        for (let p = start; p < end; p++) {
          const v = X[idx[p]! * nFeatures + f]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
        lo[f] = a;
        hi[f] = b;
        if (a < b) candidates[nc++] = f;
      }
      if (nc === 0) return leaf();
      const f = candidates[Math.floor(rnd() * nc)]!;
      const a = lo[f]!;
      const b = hi[f]!;
      // uniform in (a, b), as a float32 with a < t ≤ b so both sides keep at least one row
      let thr = Math.fround(a + rnd() * (b - a));
      if (!(thr > a)) thr = nextUpF32(a);
      if (thr > b || !Number.isFinite(thr)) thr = b;
      let w = start;
      let r = 0;
      for (let p = start; p < end; p++) {
        const i = idx[p]!;
        // NaN compares false, so goes right, as missingLeft = false sends it at prediction
        if (X[i * nFeatures + f]! < thr) idx[w++] = i;
        else tmp[r++] = i;
      }
      idx.set(tmp.subarray(0, r), w);
      const left = addNode(w - start);
      const right = addNode(end - w);
      tree.feature[node] = f;
      tree.threshold[node] = thr;
      tree.left[node] = left;
      tree.right[node] = right;
      grow(left, start, w, depth + 1);
      grow(right, w, end, depth + 1);
    };
    grow(addNode(psi), 0, psi, 0);
    fillInternalValues(tree);
    trees.push(tree);
  }
  return { ensemble: { nFeatures, nTargets: 1, base: [0], trees }, c: averagePathLengthC(psi) };
}
