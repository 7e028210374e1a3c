/**
 * Ranking and calibration metrics for rare events (evaluate.ts), unweighted, as scikit-learn defines
 * them so a reader can check a model card's figures there. Labels are 0/1 (any value > 0 counts as a
 * positive). A NaN score ranks below every number, all NaN scores tied with one another.
 */

/** The rows by score, highest first, NaN last; ties by row order so cut-offs are deterministic. */
function rankDescending(scores: ArrayLike<number>): Uint32Array {
  const n = scores.length;
  const key = new Float64Array(n);
  const missing = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    key[i] = scores[i]!;
    missing[i] = Number.isNaN(key[i]!) ? 1 : 0;
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => missing[a]! - missing[b]! || (missing[a] ? 0 : key[b]! - key[a]!) || a - b);
  return order;
}

/**
 * Per distinct score, highest first (NaN as the last group): how many positives and negatives share it.
 * Ranking metrics only depend on these counts, which is how scikit-learn treats ties.
 */
function tieGroups(scores: ArrayLike<number>, labels: ArrayLike<number>): { pos: number[]; neg: number[] } {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores for ${labels.length} labels`);
  const order = rankDescending(scores);
  const pos: number[] = [];
  const neg: number[] = [];
  let prev = Number.NaN;
  let prevNaN = false;
  for (let r = 0; r < order.length; r++) {
    const i = order[r]!;
    const s = scores[i]!;
    const missing = Number.isNaN(s);
    if (r === 0 || missing !== prevNaN || (!missing && s !== prev)) {
      pos.push(0);
      neg.push(0);
    }
    if (labels[i]! > 0) pos[pos.length - 1]!++;
    else neg[neg.length - 1]!++;
    prev = s;
    prevNaN = missing;
  }
  return { pos, neg };
}

/**
 * Average precision (scikit-learn's average_precision_score): Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct scores
 * taken as thresholds, highest first. NaN when there is no positive.
 */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { pos, neg } = tieGroups(scores, labels);
  const P = pos.reduce((a, b) => a + b, 0);
  if (P === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let g = 0; g < pos.length; g++) {
    tp += pos[g]!;
    fp += neg[g]!;
    if (pos[g]! > 0) ap += (pos[g]! / P) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * ROC-AUC as the Mann–Whitney statistic: the share of (positive, negative) pairs the score orders
 * correctly, a tie counting ½. NaN without both classes.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { pos, neg } = tieGroups(scores, labels);
  const P = pos.reduce((a, b) => a + b, 0);
  const N = neg.reduce((a, b) => a + b, 0);
  if (P === 0 || N === 0) return Number.NaN;
  let negBelow = N;
  let pairs = 0;
  for (let g = 0; g < pos.length; g++) {
    negBelow -= neg[g]!;
    pairs += pos[g]! * (negBelow + neg[g]! / 2);
  }
  return pairs / (P * N);
}

/**
 * Precision and recall among the top ceil(fraction·N) rows by score (ties broken by row order), and
 * the lowest score taken (the threshold a "flag the top x %" rule would use). Recall is NaN without
 * positives; precision NaN when nothing is taken.
 */
export function atTopFraction(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fraction: number,
): { n: number; precision: number; recall: number; threshold: number } {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores for ${labels.length} labels`);
  const N = scores.length;
  const k = Math.min(N, Math.max(0, Math.ceil(fraction * N)));
  const order = rankDescending(scores);
  let total = 0;
  for (let i = 0; i < N; i++) if (labels[i]! > 0) total++;
  let hit = 0;
  for (let r = 0; r < k; r++) if (labels[order[r]!]! > 0) hit++;
  return {
    n: k,
    precision: k > 0 ? hit / k : Number.NaN,
    recall: total > 0 ? hit / total : Number.NaN,
    threshold: k > 0 ? scores[order[k - 1]!]! : Number.POSITIVE_INFINITY,
  };
}

/** Mean squared difference between probability and outcome. NaN without rows. */
export function brier(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (probs.length !== labels.length) throw new RangeError(`${probs.length} probabilities for ${labels.length} labels`);
  let s = 0;
  for (let i = 0; i < probs.length; i++) {
    const d = probs[i]! - (labels[i]! > 0 ? 1 : 0);
    s += d * d;
  }
  return probs.length > 0 ? s / probs.length : Number.NaN;
}

/**
 * Equal-count bins of the predicted probability (deciles by default), lowest first: each bin's range,
 * rows, Σ predicted and Σ observed, so a reader sees whether the predicted failures match the real ones
 * where the model is confident as well as overall. Rows with a NaN probability are left out; with fewer
 * rows than bins, each row is a bin.
 */
export function calibrationTable(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): { lo: number; hi: number; n: number; predicted: number; observed: number }[] {
  if (probs.length !== labels.length) throw new RangeError(`${probs.length} probabilities for ${labels.length} labels`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`bins ${bins} must be a positive integer`);
  const rows: number[] = [];
  for (let i = 0; i < probs.length; i++) if (!Number.isNaN(probs[i]!)) rows.push(i);
  rows.sort((a, b) => probs[a]! - probs[b]! || a - b);
  const m = rows.length;
  const nb = Math.min(bins, m);
  const out: { lo: number; hi: number; n: number; predicted: number; observed: number }[] = [];
  for (let b = 0; b < nb; b++) {
    const start = Math.floor((b * m) / nb);
    const end = Math.floor(((b + 1) * m) / nb);
    let predicted = 0;
    let observed = 0;
    for (let r = start; r < end; r++) {
      predicted += probs[rows[r]!]!;
      observed += labels[rows[r]!]! > 0 ? 1 : 0;
    }
    out.push({ lo: probs[rows[start]!]!, hi: probs[rows[end - 1]!]!, n: end - start, predicted, observed });
  }
  return out;
}
