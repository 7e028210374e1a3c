import { describe, expect, it } from 'vitest';
import { atTopFraction, brier, calibrationTable, prAuc, rocAuc } from './metrics.js';

describe('rare-event metrics', () => {
  it('matches scikit-learn on its documented example', () => {
    // average_precision_score / roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]): 0.8333…, 0.75
    const scores = [0.1, 0.4, 0.35, 0.8];
    const labels = [0, 0, 1, 1];
    expect(prAuc(scores, labels)).toBeCloseTo(5 / 6, 12);
    expect(rocAuc(scores, labels)).toBe(0.75);
  });

  it('steps precision at each positive', () => {
    // positives at ranks 1, 3, 5: AP = (1/3)(1/1 + 2/3 + 3/5); each positive beats the negatives below it
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
    const labels = [1, 0, 1, 0, 1];
    expect(prAuc(scores, labels)).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 12);
    expect(rocAuc(scores, labels)).toBeCloseTo((2 + 1 + 0) / 6, 12);
  });

  it('treats tied scores as one threshold', () => {
    // at 0.5: 2 positives and 1 negative together, precision 2/3 at recall 1; a positive–negative tie counts ½
    const scores = [0.5, 0.5, 0.5, 0.2];
    const labels = [1, 0, 1, 0];
    expect(prAuc(scores, labels)).toBeCloseTo(2 / 3, 12);
    expect(rocAuc(scores, labels)).toBe((2 * 1 + 2 * 0.5) / 4);
    // every score tied: AP is the base rate, AUC ½
    expect(prAuc([1, 1, 1, 1], [1, 0, 0, 0])).toBe(0.25);
    expect(rocAuc([1, 1, 1, 1], [1, 0, 0, 0])).toBe(0.5);
  });

  it('gives 1 to a perfect ranking and 0 AUC to a reversed one', () => {
    const labels = [0, 0, 0, 1, 0, 1, 1, 0];
    const perfect = labels.map((l, i) => l * 10 + i * 0.01);
    expect(prAuc(perfect, labels)).toBe(1);
    expect(rocAuc(perfect, labels)).toBe(1);
    expect(
      rocAuc(
        perfect.map((s) => -s),
        labels,
      ),
    ).toBe(0);
  });

  it('ranks NaN scores last', () => {
    const labels = [1, 0, 0];
    expect(rocAuc([Number.NaN, 0.2, 0.1], labels)).toBe(0);
    expect(prAuc([Number.NaN, 0.2, 0.1], labels)).toBeCloseTo(1 / 3, 12);
    // below −∞ too, and tied with each other
    expect(rocAuc([Number.NaN, Number.NEGATIVE_INFINITY], [0, 1])).toBe(1);
    expect(rocAuc([Number.NaN, Number.NaN, 0], [1, 0, 0])).toBe(0.25);
    expect(atTopFraction([Number.NaN, 0.2, 0.1], labels, 0.5)).toEqual({ n: 2, precision: 0, recall: 0, threshold: 0.1 });
  });

  it('is undefined without both classes', () => {
    expect(prAuc([0.3, 0.2], [0, 0])).toBeNaN();
    expect(rocAuc([0.3, 0.2], [0, 0])).toBeNaN();
    expect(rocAuc([0.3, 0.2], [1, 1])).toBeNaN();
    expect(atTopFraction([0.3, 0.2], [0, 0], 0.5).recall).toBeNaN();
  });

  it('takes the top ceil(fraction · N) rows', () => {
    const scores = [0.1, 0.9, 0.3, 0.8, 0.5, 0.2, 0.7, 0.4, 0.6, 0.05];
    const labels = [0, 1, 1, 0, 0, 0, 1, 0, 0, 1];
    expect(atTopFraction(scores, labels, 0.01)).toEqual({ n: 1, precision: 1, recall: 0.25, threshold: 0.9 });
    expect(atTopFraction(scores, labels, 0.25)).toEqual({ n: 3, precision: 2 / 3, recall: 0.5, threshold: 0.7 });
    expect(atTopFraction(scores, labels, 1)).toEqual({ n: 10, precision: 0.4, recall: 1, threshold: 0.05 });
    // ties at the cut: the earlier row first
    expect(atTopFraction([0.5, 0.5, 0.5], [0, 1, 1], 0.34)).toEqual({ n: 2, precision: 0.5, recall: 0.5, threshold: 0.5 });
  });

  it('scores probabilities by squared error', () => {
    expect(brier([0.1, 0.9, 0.5, 0], [0, 1, 1, 0])).toBeCloseTo((0.01 + 0.01 + 0.25 + 0) / 4, 15);
    expect(brier([], [])).toBeNaN();
  });

  it('bins calibration by equal counts of predicted probability', () => {
    const probs = Array.from({ length: 25 }, (_, i) => (24 - i) / 100);
    const labels = probs.map((_, i) => (i % 5 === 0 ? 1 : 0));
    const table = calibrationTable(probs, labels, 10);
    expect(table).toHaveLength(10);
    expect(table.map((b) => b.n)).toEqual([2, 3, 2, 3, 2, 3, 2, 3, 2, 3]);
    expect(table[0]).toEqual({ lo: 0, hi: 0.01, n: 2, predicted: 0.01, observed: 0 });
    expect(table.at(-1)).toEqual({ lo: 0.22, hi: 0.24, n: 3, predicted: expect.closeTo(0.69, 12), observed: 1 });
    expect(table.reduce((a, b) => a + b.predicted, 0)).toBeCloseTo(3, 12);
    expect(table.reduce((a, b) => a + b.observed, 0)).toBe(5);
    for (let b = 1; b < table.length; b++) expect(table[b]!.lo).toBeGreaterThan(table[b - 1]!.hi);
    // fewer rows than bins: a bin per row; NaN left out
    expect(calibrationTable([0.2, Number.NaN, 0.1], [1, 1, 0], 10)).toEqual([
      { lo: 0.1, hi: 0.1, n: 1, predicted: 0.1, observed: 0 },
      { lo: 0.2, hi: 0.2, n: 1, predicted: 0.2, observed: 1 },
    ]);
  });
});
