import { describe, expect, it } from 'vitest';
import { cumulativeHazard, failureProbability, failureQuantileDays, poissonRows, segmentBounds } from './survival.js';

describe('piecewise-exponential survival', () => {
  it('cuts the horizon into 0–7, 7–30, 30–horizon days', () => {
    expect(segmentBounds(90)).toEqual([0, 7, 30, 90]);
    expect(segmentBounds(30)).toEqual([0, 7, 30]);
    expect(segmentBounds(14)).toEqual([0, 7, 14]);
    expect(segmentBounds(365)).toEqual([0, 7, 30, 90, 180, 365]);
  });

  it('splits an outcome into the segments it reached', () => {
    const b = [0, 7, 30, 90];
    expect(poissonRows(3, true, b)).toEqual([{ segment: 0, exposure: 3, event: true }]);
    expect(poissonRows(12, true, b)).toEqual([
      { segment: 0, exposure: 7, event: false },
      { segment: 1, exposure: 5, event: true },
    ]);
    expect(poissonRows(90, false, b)).toEqual([
      { segment: 0, exposure: 7, event: false },
      { segment: 1, exposure: 23, event: false },
      { segment: 2, exposure: 60, event: false },
    ]);
    // a failure on a boundary belongs to the segment it closes
    expect(poissonRows(7, true, b).at(-1)).toEqual({ segment: 0, exposure: 7, event: true });
  });

  it('gives monotone probabilities for any rates', () => {
    const b = [0, 7, 30, 90];
    for (const rates of [
      [0.1, 0.001, 0.0001],
      [1e-5, 1e-3, 0.2],
      [0, 0, 0],
    ]) {
      const p7 = failureProbability(rates, b, 7);
      const p30 = failureProbability(rates, b, 30);
      const p90 = failureProbability(rates, b, 90);
      expect(p7).toBeLessThanOrEqual(p30);
      expect(p30).toBeLessThanOrEqual(p90);
    }
    expect(cumulativeHazard([0.01, 0.02, 0.03], b, 30)).toBeCloseTo(0.07 + 0.46, 12);
    expect(failureProbability([0.01, 0.02, 0.03], b, 30)).toBeCloseTo(1 - Math.exp(-0.53), 12);
  });

  it('finds the day a probability is reached, null beyond the horizon', () => {
    const b = [0, 7, 30, 90];
    const rates = [0.05, 0.05, 0.05];
    // constant hazard: median = ln 2 / λ
    expect(failureQuantileDays(rates, b, 0.5)).toBeCloseTo(Math.log(2) / 0.05, 9);
    expect(failureQuantileDays([1e-4, 1e-4, 1e-4], b, 0.5)).toBeNull();
    const d = failureQuantileDays([0.001, 0.1, 0.001], b, 0.5)!;
    expect(failureProbability([0.001, 0.1, 0.001], b, d)).toBeCloseTo(0.5, 9);
    expect(d).toBeGreaterThan(7);
    expect(d).toBeLessThan(30);
  });
});
