/**
 * Histogram-based gradient-boosted trees (the XGBoost "hist" / LightGBM scheme), in plain TypeScript so
 * training needs no native library and its output is exactly the tree.ts format that onnx-export.ts
 * writes.
 *
 * Each feature is cut once into at most `maxBins` weighted-quantile bins of the training values, plus
 * one bin for missing values; the trees then only ever see bin indices (a column-major Uint8Array).
 * A node's split search reads a per-bin histogram of gradient, hessian and row count; the larger child's
 * histogram is the parent's minus the smaller child's, so each level scans at most half its rows.
 *
 * A split "bins < k go left" is written as a float32 threshold that lies strictly above every training
 * value of bin k−1 and at or below every value of bin k, so tree.ts's `leafOf` (value < threshold, as
 * float32) sends every training row to the leaf it trained in: the reported training loss is the loss
 * of the exported model.
 *
 * Monotone constraints follow XGBoost's "basic" method: a split on a constrained feature is taken only
 * if its children's steps are in order, and it bounds the steps of everything below it by their mean, so
 * each tree, and hence their sum, is monotone in that feature over present values. Missing values are
 * not ordered: they still go to whichever side fits them.
 */
import { mulberry32, sampleSorted } from './random.js';
import { addLeaf, fillInternalValues, nextUpF32, type Ensemble, type Tree } from './tree.js';

export interface GbdtParams {
  nTrees: number;
  learningRate: number;
  maxDepth: number;
  /** Minimum hessian sum per leaf. */
  minChildWeight: number;
  minSamplesLeaf: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Share of rows drawn (without replacement, seeded) for each boosting round. */
  subsample: number;
  /** Share of features drawn for each tree. */
  colsample: number;
  /** Bins per feature for its non-missing values (2–255); missing values get one more. */
  maxBins: number;
  seed: number;
  /** Stop when the validation loss has not improved for this many rounds (needs `valid`). */
  earlyStoppingRounds?: number;
  /** Cap on a leaf's Newton step before the learning rate (poisson default 0.7). */
  maxDeltaStep?: number;
  /** Per feature: 1 = the output never decreases as the feature grows, -1 = never increases, 0 (or absent) = free. Applies to every target. */
  monotone?: readonly number[];
}

export type GbdtObjective =
  /** y = event count, offset = log(exposure); raw f = log rate; loss = exp(f+offset) − y(f+offset). */
  | { kind: 'poisson' }
  /** y ∈ {0, 1}; raw f = log-odds. */
  | { kind: 'logistic' }
  /** y = class index; one tree per class per round, Tree.target = class. */
  | { kind: 'softmax'; nClasses: number };

export interface TrainData {
  /** Row-major n × nFeatures; NaN = missing. */
  X: Float32Array;
  nFeatures: number;
  y: Float64Array;
  weight?: Float64Array;
  /** Poisson only: log(exposure) per row. */
  offset?: Float64Array;
}

export interface GbdtResult {
  ensemble: Ensemble;
  /** The 0-based round whose validation loss was lowest (the last round without early stopping). */
  bestIteration: number;
  /** Weighted mean training loss after each round (every round trained, also those early stopping dropped). */
  trainLoss: number[];
  validLoss: number[];
}

/**
 * Poisson's default step cap, as XGBoost's: the first trees start from the pooled rate, and a leaf of
 * rows with no events would otherwise take a Newton step towards log(0).
 */
const POISSON_MAX_DELTA_STEP = 0.7;
/** Floor on a probability or rate that seeds the base score, so a class or event never seen starts finite. */
const MIN_BASE_PROB = 1e-6;
/** Floor on a hessian, so a row the model is already sure of still has a defined Newton step. */
const MIN_HESSIAN = 1e-16;
/** A split must improve the objective by more than this share of the parent's score (rounding noise otherwise splits). */
const MIN_RELATIVE_GAIN = 1e-12;
/** Nodes with fewer rows scan into one histogram: merging a second costs more than it saves. */
const PAIRED_SCAN_MIN_ROWS = 2048;

const nTargetsOf = (o: GbdtObjective): number => (o.kind === 'softmax' ? o.nClasses : 1);

// ---------------------------------------------------------------------------------------------------
// Binning

interface Binned {
  n: number;
  nFeatures: number;
  /** Column-major: bins[f·n + i]; a feature's missing bin is nBins[f]. */
  bins: Uint8Array;
  /** Per feature: the number of non-missing bins. */
  nBins: Int32Array;
  /** Per feature: nBins+1 float32 thresholds; cut k (bins < k go left) uses edges[k]. */
  edges: Float64Array[];
  /** Per feature: whether cut nBins (every value left) has a threshold above the top value (false when it is +∞). */
  topCutOk: Uint8Array;
  /** Per feature: where its (nBins+1) × [gradient, hessian, count] block starts in a histogram. */
  histOffset: Int32Array;
  histSize: number;
}

/** A float32 t with lo < t ≤ hi (both float32, lo < hi): their midpoint, or hi when the midpoint rounds onto lo. */
function thresholdBetween(lo: number, hi: number): number {
  const t = Math.fround(lo / 2 + hi / 2);
  return t > lo && t <= hi ? t : hi;
}

/**
 * Cuts the distinct values (ascending, with their weights) into at most `maxBins` bins of about equal
 * weight; returns, per bin, the index of its last distinct value. The target is recomputed after each
 * bin so a heavy value (a common 0) takes one bin and the rest still spread over the others.
 */
function quantileCuts(weights: Float64Array, maxBins: number): number[] {
  const d = weights.length;
  const ends: number[] = [];
  if (d <= maxBins) {
    for (let j = 0; j < d; j++) ends.push(j);
    return ends;
  }
  let remaining = 0;
  for (let j = 0; j < d; j++) remaining += weights[j]!;
  let acc = 0;
  let target = remaining / maxBins;
  for (let j = 0; j < d - 1; j++) {
    acc += weights[j]!;
    const binsLeft = maxBins - ends.length;
    // never more bins than distinct values left, and the last bin takes the rest
    if (binsLeft > 1 && (acc >= target || d - 1 - j < binsLeft)) {
      ends.push(j);
      remaining -= acc;
      acc = 0;
      target = remaining / (binsLeft - 1);
    }
  }
  ends.push(d - 1);
  return ends;
}

function binFeatures(X: Float32Array, n: number, nFeatures: number, maxBins: number, weight?: Float64Array): Binned {
  const bins = new Uint8Array(n * nFeatures);
  const nBins = new Int32Array(nFeatures);
  const edges: Float64Array[] = [];
  const topCutOk = new Uint8Array(nFeatures);
  const histOffset = new Int32Array(nFeatures);
  let histSize = 0;
  const present = new Uint32Array(n);
  for (let f = 0; f < nFeatures; f++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = X[i * nFeatures + f]!;
      if (!Number.isNaN(v)) present[m++] = i;
    }
    // distinct values ascending (a native sort), each with its rows' weight, or their count
    const sorted = new Float32Array(m);
    for (let j = 0; j < m; j++) sorted[j] = X[present[j]! * nFeatures + f]!;
    sorted.sort();
    const values: number[] = [];
    const wts: number[] = [];
    for (let j = 0; j < m; j++) {
      const v = sorted[j]!;
      // === treats −0 and 0 as one value, as the float32 comparisons in leafOf do
      if (values.length > 0 && values[values.length - 1] === v) wts[wts.length - 1]!++;
      else {
        values.push(v);
        wts.push(1);
      }
    }
    if (weight) {
      wts.fill(0);
      for (let j = 0; j < m; j++) {
        const i = present[j]!;
        const v = X[i * nFeatures + f]!;
        let lo = 0;
        let hi = values.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (values[mid]! < v) lo = mid + 1;
          else hi = mid;
        }
        wts[lo]! += weight[i]!;
      }
    }
    const ends = quantileCuts(Float64Array.from(wts), maxBins);
    const nb = ends.length;
    const e = new Float64Array(nb + 1);
    if (nb > 0) {
      e[0] = values[0]!;
      for (let k = 1; k < nb; k++) e[k] = thresholdBetween(values[ends[k - 1]!]!, values[ends[k - 1]! + 1]!);
      const top = values[values.length - 1]!;
      const up = top === Number.POSITIVE_INFINITY ? top : nextUpF32(top);
      e[nb] = up;
      topCutOk[f] = up > top ? 1 : 0;
    }
    nBins[f] = nb;
    edges.push(e);
    histOffset[f] = histSize;
    histSize += (nb + 1) * 3;
    // a value's bin: how many inner edges (1..nb−1) lie at or below it
    const col = f * n;
    for (let i = 0; i < n; i++) {
      const v = X[i * nFeatures + f]!;
      if (Number.isNaN(v)) {
        bins[col + i] = nb;
        continue;
      }
      let lo = 1;
      let hi = nb;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (e[mid]! <= v) lo = mid + 1;
        else hi = mid;
      }
      bins[col + i] = lo - 1;
    }
  }
  return { n, nFeatures, bins, nBins, edges, topCutOk, histOffset, histSize };
}

// ---------------------------------------------------------------------------------------------------
// Growing one tree

interface GrowParams {
  maxDepth: number;
  minChildWeight: number;
  minLeaf: number;
  lambda: number;
  learningRate: number;
  /** 0 = no cap. */
  maxDeltaStep: number;
  /** Per feature: 1, −1 or 0 (see GbdtParams.monotone). */
  monotone: Int8Array;
  /** Whether any feature is constrained. */
  constrained: boolean;
}

/** A candidate cut of feature f: the left child's sums; missingLeft null when the node has no missing value. */
type ConsiderCut = (f: number, cut: number, gl: number, hl: number, cl: number, missingLeft: boolean | null) => void;

interface Split {
  gain: number;
  feature: number;
  cut: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  cl: number;
}

/** A tree under construction: the tree.ts arrays plus each split's bin cut, for routing binned rows. */
interface GrownTree {
  tree: Tree;
  cut: number[];
  /** Per leaf: its sample rows, as [start, end) positions in the grower's `rows`. */
  leafNodes: number[];
  leafStart: number[];
  leafEnd: number[];
}

class TreeGrower {
  /** The sample's row ids, each node's rows contiguous (after `grow`, each leaf's). */
  readonly rows: Uint32Array;
  /** Per position in `rows`: [gradient, hessian] interleaved, moved with the rows so histogram scans read it in order. */
  private readonly gh: Float64Array;
  private readonly tmpRows: Uint32Array;
  private readonly tmpGh: Float64Array;
  private readonly pool: Float64Array[] = [];
  /** The second histogram of a paired scan (see buildHist). */
  private readonly spare: Float64Array;
  private features: Int32Array = new Int32Array(0);
  private out: GrownTree = emptyGrown(0);

  constructor(
    private readonly d: Binned,
    private readonly p: GrowParams,
  ) {
    this.rows = new Uint32Array(d.n);
    this.gh = new Float64Array(2 * d.n);
    this.tmpRows = new Uint32Array(d.n);
    this.tmpGh = new Float64Array(2 * d.n);
    this.spare = new Float64Array(d.histSize);
  }

  /** One tree on `sample` (sorted row ids) with gradients g, hessians h (weights applied), using `features`. */
  grow(sample: Uint32Array, g: Float64Array, h: Float64Array, features: Int32Array, target: number): GrownTree {
    this.features = features;
    this.out = emptyGrown(target);
    const m = sample.length;
    let G = 0;
    let H = 0;
    for (let p = 0; p < m; p++) {
      const i = sample[p]!;
      this.rows[p] = i;
      this.gh[2 * p] = g[i]!;
      this.gh[2 * p + 1] = h[i]!;
      G += g[i]!;
      H += h[i]!;
    }
    const root = this.addNode();
    const hist = this.needsSplitSearch(0, m, H) ? this.buildHist(0, m) : null;
    // the step cap is the root's bounds; monotone splits only narrow them
    const cap = this.p.maxDeltaStep > 0 ? this.p.maxDeltaStep : Number.POSITIVE_INFINITY;
    this.growNode(root, 0, m, 0, hist, G, H, m, -cap, cap);
    fillInternalValues(this.out.tree);
    return this.out;
  }

  private addNode(): number {
    this.out.cut.push(-1);
    return addLeaf(this.out.tree);
  }

  private needsSplitSearch(depth: number, count: number, hess: number): boolean {
    return depth < this.p.maxDepth && count >= 2 * this.p.minLeaf && hess >= 2 * this.p.minChildWeight;
  }

  private acquire(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.d.histSize);
  }

  private buildHist(start: number, end: number): Float64Array {
    const hist = this.acquire();
    const { bins, n, nBins, histOffset } = this.d;
    const { rows, gh, spare } = this;
    // Consecutive rows often share a bin (a feature with few values), and each add then waits for the
    // store before it; alternating rows between two histograms lets those adds overlap (~15 % faster).
    const paired = end - start >= PAIRED_SCAN_MIN_ROWS;
    for (const f of this.features) {
      const off = histOffset[f]!;
      const stop = off + (nBins[f]! + 1) * 3;
      hist.fill(0, off, stop);
      const col = f * n;
      let p = start;
      if (paired) {
        spare.fill(0, off, stop);
        for (; p + 1 < end; p += 2) {
          const b = off + bins[col + rows[p]!]! * 3;
          const c = off + bins[col + rows[p + 1]!]! * 3;
          hist[b]! += gh[2 * p]!;
          hist[b + 1]! += gh[2 * p + 1]!;
          hist[b + 2]!++;
          spare[c]! += gh[2 * p + 2]!;
          spare[c + 1]! += gh[2 * p + 3]!;
          spare[c + 2]!++;
        }
        for (let j = off; j < stop; j++) hist[j]! += spare[j]!;
      }
      for (; p < end; p++) {
        const b = off + bins[col + rows[p]!]! * 3;
        hist[b]! += gh[2 * p]!;
        hist[b + 1]! += gh[2 * p + 1]!;
        hist[b + 2]!++;
      }
    }
    return hist;
  }

  /** The regularised objective reduction of a node with sums G, H (with maxDeltaStep, of its capped step). */
  private score(G: number, H: number): number {
    const denom = H + this.p.lambda;
    if (denom <= 0) return 0;
    const cap = this.p.maxDeltaStep;
    const w = -G / denom;
    if (cap > 0 && Math.abs(w) > cap) {
      const wc = w > 0 ? cap : -cap;
      return -(2 * G * wc + denom * wc * wc);
    }
    return (G * G) / denom;
  }

  /** A node's Newton step before the learning rate, held in its bounds (which include the step cap). */
  private step(G: number, H: number, lower: number, upper: number): number {
    const denom = H + this.p.lambda;
    return Math.max(lower, Math.min(upper, denom > 0 ? -G / denom : 0));
  }

  /**
   * The best split of a node whose steps must lie in [lower, upper]. Without constraints the bounds are
   * the step cap, which `score` applies; with them, `findMonotoneSplit` scores clipped steps.
   */
  private findSplit(hist: Float64Array, G: number, H: number, C: number, lower: number, upper: number): Split | null {
    if (this.p.constrained) return this.findMonotoneSplit(hist, G, H, C, lower, upper);
    const { minLeaf, minChildWeight } = this.p;
    const parent = this.score(G, H);
    let best: Split | null = null;
    let bestGain = MIN_RELATIVE_GAIN * Math.max(1, Math.abs(parent));
    this.scanCuts(hist, (f, cut, gl, hl, cl, missingLeft) => {
      const cr = C - cl;
      const hr = H - hl;
      if (cl < minLeaf || cr < minLeaf || hl < minChildWeight || hr < minChildWeight) return;
      const gain = this.score(gl, hl) + this.score(G - gl, hr) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        // no missing value in the node: unseen missing values follow the bigger side
        best = { gain, feature: f, cut, missingLeft: missingLeft ?? hl >= hr, gl, hl, cl };
      }
    });
    return best;
  }

  /**
   * findSplit under monotone constraints: the children's steps are clipped into the node's bounds before
   * their gain is scored, and on a constrained feature a cut whose children are out of order is skipped.
   */
  private findMonotoneSplit(hist: Float64Array, G: number, H: number, C: number, lower: number, upper: number): Split | null {
    const { minLeaf, minChildWeight, monotone, lambda } = this.p;
    // a node taking step w reduces the objective by −(2Gw + (H+λ)w²); `step` is written out in the
    // callback, which runs for every cut: V8 did not inline the calls, and they cost ~20 % of training
    const w = this.step(G, H, lower, upper);
    const parent = -(2 * G * w + (H + lambda) * w * w);
    let best: Split | null = null;
    let bestGain = MIN_RELATIVE_GAIN * Math.max(1, Math.abs(parent));
    this.scanCuts(hist, (f, cut, gl, hl, cl, missingLeft) => {
      const cr = C - cl;
      const hr = H - hl;
      if (cl < minLeaf || cr < minLeaf || hl < minChildWeight || hr < minChildWeight) return;
      const gr = G - gl;
      const dl = hl + lambda;
      const dr = hr + lambda;
      const wl = Math.max(lower, Math.min(upper, dl > 0 ? -gl / dl : 0));
      const wr = Math.max(lower, Math.min(upper, dr > 0 ? -gr / dr : 0));
      if (monotone[f]! * (wr - wl) < 0) return;
      const gain = -(2 * gl * wl + dl * wl * wl) - (2 * gr * wr + dr * wr * wr) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        best = { gain, feature: f, cut, missingLeft: missingLeft ?? hl >= hr, gl, hl, cl };
      }
    });
    return best;
  }

  /**
   * Calls `consider` with the left child's sums for every cut of every feature; where the node has
   * missing values, twice per cut (missing right, then left), else once with missingLeft null.
   */
  private scanCuts(hist: Float64Array, consider: ConsiderCut): void {
    const { nBins, histOffset, topCutOk } = this.d;
    for (const f of this.features) {
      const nb = nBins[f]!;
      if (nb === 0) continue;
      const off = histOffset[f]!;
      const gm = hist[off + nb * 3]!;
      const hm = hist[off + nb * 3 + 1]!;
      const cm = hist[off + nb * 3 + 2]!;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      // cut k: non-missing bins < k go left; k = 0 and k = nb split missing from present values
      for (let k = 0; k <= nb; k++) {
        if (k > 0) {
          const c = hist[off + (k - 1) * 3 + 2]!;
          // an empty bin gives the same partition as the cut before it
          if (c === 0) continue;
          gl += hist[off + (k - 1) * 3]!;
          hl += hist[off + (k - 1) * 3 + 1]!;
          cl += c;
        }
        if (k === nb && !topCutOk[f]) break;
        if (cm > 0) {
          consider(f, k, gl, hl, cl, false);
          consider(f, k, gl + gm, hl + hm, cl + cm, true);
        } else consider(f, k, gl, hl, cl, null);
      }
    }
  }

  /** Moves the rows of [start, end) that go left to the front, keeping order; returns where the right ones start. */
  private partition(start: number, end: number, feature: number, cut: number, missingLeft: boolean): number {
    const { bins, n, nBins } = this.d;
    const { rows, gh, tmpRows, tmpGh } = this;
    const col = feature * n;
    const miss = nBins[feature]!;
    let w = start;
    let t = 0;
    for (let p = start; p < end; p++) {
      const r = rows[p]!;
      const b = bins[col + r]!;
      if (b === miss ? missingLeft : b < cut) {
        rows[w] = r;
        gh[2 * w] = gh[2 * p]!;
        gh[2 * w + 1] = gh[2 * p + 1]!;
        w++;
      } else {
        tmpRows[t] = r;
        tmpGh[2 * t] = gh[2 * p]!;
        tmpGh[2 * t + 1] = gh[2 * p + 1]!;
        t++;
      }
    }
    rows.set(tmpRows.subarray(0, t), w);
    gh.set(tmpGh.subarray(0, 2 * t), 2 * w);
    return w;
  }

  /**
   * Grows `node` over rows [start, end), its steps held in [lower, upper]; owns `hist` (returned to the
   * pool or handed to a child).
   */
  private growNode(
    node: number,
    start: number,
    end: number,
    depth: number,
    hist: Float64Array | null,
    G: number,
    H: number,
    C: number,
    lower: number,
    upper: number,
  ): void {
    const t = this.out.tree;
    t.cover[node] = H;
    const split = hist ? this.findSplit(hist, G, H, C, lower, upper) : null;
    if (!split) {
      t.value[node] = this.step(G, H, lower, upper) * this.p.learningRate;
      this.out.leafNodes.push(node);
      this.out.leafStart.push(start);
      this.out.leafEnd.push(end);
      if (hist) this.pool.push(hist);
      return;
    }
    const mid = this.partition(start, end, split.feature, split.cut, split.missingLeft);
    const left = this.addNode();
    const right = this.addNode();
    t.feature[node] = split.feature;
    t.threshold[node] = this.d.edges[split.feature]![split.cut]!;
    t.missingLeft[node] = split.missingLeft;
    t.left[node] = left;
    t.right[node] = right;
    this.out.cut[node] = split.cut;

    const cl = mid - start;
    const cr = end - mid;
    const gr = G - split.gl;
    const hr = H - split.hl;
    const needL = this.needsSplitSearch(depth + 1, cl, split.hl);
    const needR = this.needsSplitSearch(depth + 1, cr, hr);
    let histL: Float64Array | null = null;
    let histR: Float64Array | null = null;
    if (hist && (needL || needR)) {
      // histogram subtraction: scan the smaller child, the parent's histogram minus it is the larger's
      const leftSmaller = cl <= cr;
      const small = leftSmaller ? this.buildHist(start, mid) : this.buildHist(mid, end);
      const { nBins, histOffset } = this.d;
      for (const f of this.features) {
        const off = histOffset[f]!;
        const stop = off + (nBins[f]! + 1) * 3;
        for (let j = off; j < stop; j++) hist[j]! -= small[j]!;
      }
      histL = leftSmaller ? small : hist;
      histR = leftSmaller ? hist : small;
      if (!needL) {
        this.pool.push(histL);
        histL = null;
      }
      if (!needR) {
        this.pool.push(histR);
        histR = null;
      }
    } else if (hist) this.pool.push(hist);
    // a monotone split parts the bounds at its children's mean step: every leaf below the left child
    // then sits on the ordered side of every leaf below the right one, whatever splits follow
    let upperL = upper;
    let lowerL = lower;
    let upperR = upper;
    let lowerR = lower;
    const dir = this.p.monotone[split.feature]!;
    if (dir !== 0) {
      const between = (this.step(split.gl, split.hl, lower, upper) + this.step(gr, hr, lower, upper)) / 2;
      if (dir > 0) {
        upperL = Math.min(upper, between);
        lowerR = Math.max(lower, between);
      } else {
        lowerL = Math.max(lower, between);
        upperR = Math.min(upper, between);
      }
    }
    this.growNode(left, start, mid, depth + 1, histL, split.gl, split.hl, cl, lowerL, upperL);
    this.growNode(right, mid, end, depth + 1, histR, gr, hr, cr, lowerR, upperR);
  }
}

function emptyGrown(target: number): GrownTree {
  return {
    tree: { target, feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], cover: [] },
    cut: [],
    leafNodes: [],
    leafStart: [],
    leafEnd: [],
  };
}

/** The leaf a training row lands in, by its bins (the same leaf as `leafOf` on its values). */
function binnedLeaf(g: GrownTree, d: Binned, i: number): number {
  const t = g.tree;
  let node = 0;
  while (t.feature[node]! >= 0) {
    const f = t.feature[node]!;
    const b = d.bins[f * d.n + i]!;
    const goLeft = b === d.nBins[f]! ? t.missingLeft[node]! : b < g.cut[node]!;
    node = goLeft ? t.left[node]! : t.right[node]!;
  }
  return node;
}

/** The leaf of row i of a row-major matrix, as tree.ts's leafOf, without a subarray per row. */
function rowLeaf(t: Tree, X: Float32Array, nFeatures: number, i: number): number {
  let node = 0;
  while (t.feature[node]! >= 0) {
    const v = X[i * nFeatures + t.feature[node]!]!;
    const goLeft = Number.isNaN(v) ? t.missingLeft[node]! : v < t.threshold[node]!;
    node = goLeft ? t.left[node]! : t.right[node]!;
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------
// Objectives

const softplus = (f: number): number => (f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f)));

function rowsOf(data: TrainData): number {
  const n = data.y.length;
  if (data.nFeatures < 1 || data.X.length !== n * data.nFeatures)
    throw new RangeError(`X has ${data.X.length} values, not ${n} rows × ${data.nFeatures} features`);
  if (data.weight && data.weight.length !== n) throw new RangeError(`weight has ${data.weight.length} values for ${n} rows`);
  if (data.offset && data.offset.length !== n) throw new RangeError(`offset has ${data.offset.length} values for ${n} rows`);
  return n;
}

/**
 * The weighted mean loss of raw outputs `raw` (row-major n × nTargets, without the offset) on `data`:
 * poisson exp(f+o) − y(f+o), logistic log(1+e^f) − y·f, softmax logΣe^f − f_y.
 */
export function lossOf(objective: GbdtObjective, data: TrainData, raw: ArrayLike<number>): number {
  const n = rowsOf(data);
  const K = nTargetsOf(objective);
  if (raw.length !== n * K) throw new RangeError(`raw has ${raw.length} values, not ${n} rows × ${K} targets`);
  const { y, weight, offset } = data;
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = weight ? weight[i]! : 1;
    if (w === 0) continue;
    let l: number;
    if (objective.kind === 'poisson') {
      const f = raw[i]! + (offset ? offset[i]! : 0);
      l = Math.exp(f) - y[i]! * f;
    } else if (objective.kind === 'logistic') {
      l = softplus(raw[i]!) - y[i]! * raw[i]!;
    } else {
      let mx = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) mx = Math.max(mx, raw[i * K + k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(raw[i * K + k]! - mx);
      l = mx + Math.log(s) - raw[i * K + y[i]!]!;
    }
    sum += w * l;
    wsum += w;
  }
  return wsum > 0 ? sum / wsum : Number.NaN;
}

function baseScore(objective: GbdtObjective, data: TrainData): number[] {
  const { y, weight, offset } = data;
  const n = y.length;
  if (objective.kind === 'poisson') {
    let events = 0;
    let exposure = 0;
    for (let i = 0; i < n; i++) {
      const w = weight ? weight[i]! : 1;
      events += w * y[i]!;
      exposure += w * Math.exp(offset ? offset[i]! : 0);
    }
    const rate = exposure > 0 ? events / exposure : 0;
    return [Math.log(Math.max(rate, MIN_BASE_PROB * MIN_BASE_PROB))];
  }
  const K = nTargetsOf(objective);
  const mass = new Float64Array(objective.kind === 'softmax' ? K : 2);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weight ? weight[i]! : 1;
    mass[y[i]!]! += w;
    total += w;
  }
  const prob = (m: number): number => Math.min(1 - MIN_BASE_PROB, Math.max(MIN_BASE_PROB, total > 0 ? m / total : 0));
  if (objective.kind === 'logistic') {
    const p = prob(mass[1]!);
    return [Math.log(p / (1 - p))];
  }
  return Array.from(mass, (m) => Math.log(prob(m)));
}

function checkLabels(objective: GbdtObjective, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    const ok =
      objective.kind === 'poisson'
        ? v >= 0 && Number.isFinite(v)
        : objective.kind === 'logistic'
          ? v === 0 || v === 1
          : Number.isInteger(v) && v >= 0 && v < objective.nClasses;
    if (!ok) throw new RangeError(`label ${v} at row ${i} is not valid for the ${objective.kind} objective`);
  }
}

/**
 * Per row, the gradient and hessian (times the row's weight) of target `k`'s raw output. Softmax uses
 * `prob` (the row's class probabilities) and scales its diagonal hessian by K/(K−1), as LightGBM does,
 * since the K trees of a round each take a full Newton step on a shared softmax.
 */
function gradients(objective: GbdtObjective, data: TrainData, raw: Float64Array, prob: Float64Array | null, k: number, g: Float64Array, h: Float64Array): void {
  const { y, weight, offset } = data;
  const n = y.length;
  const K = nTargetsOf(objective);
  for (let i = 0; i < n; i++) {
    const w = weight ? weight[i]! : 1;
    let gi: number;
    let hi: number;
    if (objective.kind === 'poisson') {
      const mu = Math.exp(raw[i]! + (offset ? offset[i]! : 0));
      gi = mu - y[i]!;
      hi = mu;
    } else if (objective.kind === 'logistic') {
      const p = 1 / (1 + Math.exp(-raw[i]!));
      gi = p - y[i]!;
      hi = p * (1 - p);
    } else {
      const p = prob![i * K + k]!;
      gi = p - (y[i] === k ? 1 : 0);
      hi = (K / (K - 1)) * p * (1 - p);
    }
    g[i] = w * gi;
    h[i] = w * Math.max(hi, MIN_HESSIAN);
  }
}

function softmaxInto(raw: Float64Array, n: number, K: number, prob: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) mx = Math.max(mx, raw[i * K + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(raw[i * K + k]! - mx);
      prob[i * K + k] = e;
      s += e;
    }
    for (let k = 0; k < K; k++) prob[i * K + k]! /= s;
  }
}

function checkParams(p: GbdtParams, objective: GbdtObjective): void {
  const bad = (what: string): never => {
    throw new RangeError(`gbdt: ${what}`);
  };
  if (!(Number.isInteger(p.nTrees) && p.nTrees >= 1)) bad(`nTrees ${p.nTrees} must be a positive integer`);
  if (!(p.learningRate > 0)) bad(`learningRate ${p.learningRate} must be positive`);
  if (!(Number.isInteger(p.maxDepth) && p.maxDepth >= 1)) bad(`maxDepth ${p.maxDepth} must be a positive integer`);
  if (!(p.lambda >= 0) || !(p.minChildWeight >= 0) || !(p.minSamplesLeaf >= 0)) bad('lambda, minChildWeight and minSamplesLeaf must be ≥ 0');
  if (!(p.subsample > 0 && p.subsample <= 1) || !(p.colsample > 0 && p.colsample <= 1)) bad('subsample and colsample must be in (0, 1]');
  if (!(Number.isInteger(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255)) bad(`maxBins ${p.maxBins} must be an integer in 2–255`);
  if (p.maxDeltaStep !== undefined && !(p.maxDeltaStep >= 0)) bad('maxDeltaStep must be ≥ 0');
  if (objective.kind === 'softmax' && !(Number.isInteger(objective.nClasses) && objective.nClasses >= 2)) bad('softmax needs nClasses ≥ 2');
}

/** Per feature 1, −1 or 0; a list shorter than the features leaves the rest free. */
function monotoneOf(monotone: readonly number[] | undefined, nFeatures: number): Int8Array {
  const out = new Int8Array(nFeatures);
  if (!monotone) return out;
  if (monotone.length > nFeatures) throw new RangeError(`gbdt: monotone has ${monotone.length} entries for ${nFeatures} features`);
  monotone.forEach((d, f) => {
    if (d !== 1 && d !== -1 && d !== 0) throw new RangeError(`gbdt: monotone[${f}] is ${d}, not 1, -1 or 0`);
    out[f] = d;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Boosting

/**
 * Boosts `params.nTrees` rounds (one tree per round, K for softmax) on `train`. With `valid` and
 * `earlyStoppingRounds`, stops once the validation loss has not improved for that many rounds and keeps
 * the rounds up to its lowest.
 */
export function trainGbdt(train: TrainData, objective: GbdtObjective, params: GbdtParams, valid?: TrainData): GbdtResult {
  checkParams(params, objective);
  const n = rowsOf(train);
  if (n === 0) throw new RangeError('gbdt: no training rows');
  checkLabels(objective, train.y);
  const nv = valid ? rowsOf(valid) : 0;
  if (valid) {
    if (valid.nFeatures !== train.nFeatures) throw new RangeError(`valid has ${valid.nFeatures} features, train ${train.nFeatures}`);
    checkLabels(objective, valid.y);
  }
  const F = train.nFeatures;
  const K = nTargetsOf(objective);
  const binned = binFeatures(train.X, n, F, params.maxBins, train.weight);
  const monotone = monotoneOf(params.monotone, F);
  const grower = new TreeGrower(binned, {
    maxDepth: params.maxDepth,
    minChildWeight: params.minChildWeight,
    minLeaf: Math.max(1, params.minSamplesLeaf),
    lambda: params.lambda,
    learningRate: params.learningRate,
    maxDeltaStep: params.maxDeltaStep ?? (objective.kind === 'poisson' ? POISSON_MAX_DELTA_STEP : 0),
    monotone,
    constrained: monotone.some((d) => d !== 0),
  });
  const rnd = mulberry32(params.seed);

  const base = baseScore(objective, train);
  const raw = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) raw[i * K + k] = base[k]!;
  const rawValid = new Float64Array(nv * K);
  for (let i = 0; i < nv; i++) for (let k = 0; k < K; k++) rawValid[i * K + k] = base[k]!;
  const prob = objective.kind === 'softmax' ? new Float64Array(n * K) : null;
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const rowsPerRound = Math.max(1, Math.round(params.subsample * n));
  const featuresPerTree = Math.max(1, Math.round(params.colsample * F));
  const allRows = rowsPerRound >= n ? Uint32Array.from({ length: n }, (_, i) => i) : null;
  const allFeatures = featuresPerTree >= F ? Int32Array.from({ length: F }, (_, f) => f) : null;

  const inSample = new Uint8Array(n);
  const trees: Tree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  const stopAfter = valid && params.earlyStoppingRounds !== undefined ? params.earlyStoppingRounds : null;
  let best = -1;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (let round = 0; round < params.nTrees; round++) {
    const sample = allRows ?? sampleSorted(n, rowsPerRound, rnd);
    if (prob) softmaxInto(raw, n, K, prob);
    for (let k = 0; k < K; k++) {
      gradients(objective, train, raw, prob, k, g, h);
      const features = allFeatures ?? Int32Array.from(sampleSorted(F, featuresPerTree, rnd));
      const grown = grower.grow(sample, g, h, features, k);
      const t = grown.tree;
      // the sample's rows by the leaf they trained in, the others routed by their bins
      for (let l = 0; l < grown.leafNodes.length; l++) {
        const v = t.value[grown.leafNodes[l]!]!;
        for (let p = grown.leafStart[l]!; p < grown.leafEnd[l]!; p++) raw[grower.rows[p]! * K + k]! += v;
      }
      if (sample.length < n) {
        inSample.fill(0);
        for (const i of sample) inSample[i] = 1;
        for (let i = 0; i < n; i++) if (!inSample[i]) raw[i * K + k]! += t.value[binnedLeaf(grown, binned, i)]!;
      }
      if (valid) for (let i = 0; i < nv; i++) rawValid[i * K + k]! += t.value[rowLeaf(t, valid.X, F, i)]!;
      trees.push(t);
    }
    trainLoss.push(lossOf(objective, train, raw));
    if (valid) {
      const vl = lossOf(objective, valid, rawValid);
      validLoss.push(vl);
      if (vl < bestLoss) {
        bestLoss = vl;
        best = round;
      } else if (stopAfter !== null && round - best >= stopAfter) break;
    }
  }
  if (stopAfter === null || best < 0) best = trainLoss.length - 1;
  return {
    ensemble: { nFeatures: F, nTargets: K, base, trees: trees.slice(0, (best + 1) * K) },
    bestIteration: best,
    trainLoss,
    validLoss,
  };
}
