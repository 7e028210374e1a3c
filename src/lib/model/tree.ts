/**
 * The tree-ensemble format every gpuhealth model uses (gradient-boosted trees and isolation forests):
 * trained in TypeScript (gbdt.ts, iforest.ts), evaluated here for per-feature contributions, and
 * written to ONNX (onnx-export.ts) as an ai.onnx.ml TreeEnsembleRegressor, which onnxruntime runs.
 *
 * Semantics match the ONNX operator with `BRANCH_LT` nodes: a row goes to the left ("true") child when
 * its value, as float32, is below the node's threshold; a missing value (NaN) goes left when the node's
 * `missingLeft` is set, else right. Thresholds are float32 values (Math.fround), as ONNX stores them.
 */

export interface Tree {
  /** The output (regression target, or class for softmax) this tree adds to. */
  target: number;
  /** Per node: the feature index split on, or -1 at a leaf. Node 0 is the root. */
  feature: number[];
  /** Per node: the split threshold (a float32 value); 0 at a leaf. */
  threshold: number[];
  /** Per node: whether a missing value (NaN) goes to the left child. */
  missingLeft: boolean[];
  /** Per node: left and right child ids; -1 at a leaf. */
  left: number[];
  right: number[];
  /**
   * Per node: at a leaf, what the tree adds to its target's output. At an internal node, the
   * cover-weighted mean of the leaf values below it (what the tree would add if it stopped there),
   * used for per-feature path attribution.
   */
  value: number[];
  /** Per node: the training weight (sum of hessians, or rows) that reached the node. */
  cover: number[];
}

export interface Ensemble {
  nFeatures: number;
  nTargets: number;
  /** Per target: the constant added to the sum of its trees. */
  base: number[];
  trees: Tree[];
}

/** Appends a leaf (no split yet, value 0) with this cover; returns its id. Trainers split it later. */
export function addLeaf(t: Tree, cover = 0): number {
  t.feature.push(-1);
  t.threshold.push(0);
  t.missingLeft.push(false);
  t.left.push(-1);
  t.right.push(-1);
  t.value.push(0);
  t.cover.push(cover);
  return t.feature.length - 1;
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The smallest float32 above x (x a finite float32): thresholds sit between float32 values. */
export function nextUpF32(x: number): number {
  if (x === 0) return 1.401298464324817e-45;
  F32[0] = x;
  I32[0]! += x > 0 ? 1 : -1;
  return F32[0]!;
}

/** The leaf a row lands in. */
export function leafOf(tree: Tree, x: ArrayLike<number>): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    const v = x[tree.feature[node]!]!;
    const goLeft = Number.isNaN(v) ? tree.missingLeft[node]! : Math.fround(v) < tree.threshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

/** The raw output per target: base + the sum of each target's trees. */
export function predictRaw(e: Ensemble, x: ArrayLike<number>): number[] {
  const out = e.base.slice();
  for (const t of e.trees) out[t.target]! += t.value[leafOf(t, x)]!;
  return out;
}

/**
 * Per-feature contributions to one target's raw output, by exact path attribution (Saabas): along
 * each tree's path, the change in node value at a split is charged to the split's feature. The bias
 * (base + every tree's root value) plus the contributions equals the raw output exactly.
 */
export function contributions(e: Ensemble, x: ArrayLike<number>, target = 0): { bias: number; perFeature: Float64Array } {
  const perFeature = new Float64Array(e.nFeatures);
  let bias = e.base[target]!;
  for (const t of e.trees) {
    if (t.target !== target) continue;
    let node = 0;
    bias += t.value[0]!;
    while (t.feature[node]! >= 0) {
      const f = t.feature[node]!;
      const v = x[f]!;
      const goLeft = Number.isNaN(v) ? t.missingLeft[node]! : Math.fround(v) < t.threshold[node]!;
      const child = goLeft ? t.left[node]! : t.right[node]!;
      perFeature[f]! += t.value[child]! - t.value[node]!;
      node = child;
    }
  }
  return { bias, perFeature };
}

/** Sets each internal node's value to the cover-weighted mean of its children (leaves first). */
export function fillInternalValues(t: Tree): void {
  const visit = (n: number): void => {
    if (t.feature[n]! < 0) return;
    const l = t.left[n]!;
    const r = t.right[n]!;
    visit(l);
    visit(r);
    const c = t.cover[l]! + t.cover[r]!;
    t.value[n] = c > 0 ? (t.value[l]! * t.cover[l]! + t.value[r]! * t.cover[r]!) / c : (t.value[l]! + t.value[r]!) / 2;
  };
  visit(0);
}
