import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../model/random.js';
import {
  conditionalFailureProb,
  conditionalQuantileDays,
  fitLifetimePriors,
  type LifetimePrior,
  MIN_MODEL_PRIOR_FAILURES,
  type ModelLifetime,
  priorFor,
} from './prior.js';

const curve = (shape: number, scale_days: number): LifetimePrior => ({ basis: 'test', shape, scale_days, gpus: 0, failures: 0 });

describe('conditionalFailureProb', () => {
  it('is memoryless for shape 1', () => {
    const p = curve(1, 1000);
    const want = 1 - Math.exp(-30 / 1000);
    expect(conditionalFailureProb(p, 0, 30)).toBeCloseTo(want, 12);
    expect(conditionalFailureProb(p, 700, 30)).toBeCloseTo(want, 12);
  });

  it('reads the curve at the GPU age (hand-computed, shape 2)', () => {
    // (50/100)² = 0.25, (80/100)² = 0.64: 1 − e^(0.25 − 0.64)
    expect(conditionalFailureProb(curve(2, 100), 50, 30)).toBeCloseTo(1 - Math.exp(-0.39), 12);
  });

  it('falls with age under infant mortality and rises under wear-out', () => {
    expect(conditionalFailureProb(curve(0.5, 2000), 10, 30)).toBeGreaterThan(conditionalFailureProb(curve(0.5, 2000), 700, 30));
    expect(conditionalFailureProb(curve(3, 1500), 10, 30)).toBeLessThan(conditionalFailureProb(curve(3, 1500), 1200, 30));
  });

  it('inverts to the quantile', () => {
    for (const [k, age] of [
      [0.6, 20],
      [1, 300],
      [2.5, 900],
    ] as const) {
      const p = curve(k, 1500);
      const t = conditionalQuantileDays(p, age, 0.5);
      expect(conditionalFailureProb(p, age, t)).toBeCloseTo(0.5, 10);
    }
  });
});

describe('fitLifetimePriors', () => {
  /** Seeded Weibull lifetimes, censored at `follow` days. */
  function draw(model: string, n: number, shape: number, scale: number, follow: number, seed: number): ModelLifetime[] {
    const rand = mulberry32(seed);
    return Array.from({ length: n }, () => {
      const t = scale * (-Math.log(1 - rand())) ** (1 / shape);
      return { model, time: Math.min(t, follow), event: t < follow };
    });
  }

  it('gives a model with enough failures its own curve and the others the fleet curve', () => {
    const many = draw('H100', 2000, 3, 800, 900, 1);
    const few = draw('A100', 200, 1, 1e6, 400, 2);
    expect(few.filter((l) => l.event).length).toBeLessThan(MIN_MODEL_PRIOR_FAILURES);
    const priors = fitLifetimePriors([...many, ...few]);
    const h100 = priorFor(priors, 'H100')!;
    expect(h100.basis).toBe('H100');
    expect(h100.shape).toBeGreaterThan(2.7);
    expect(h100.shape).toBeLessThan(3.3);
    expect(priorFor(priors, 'A100')!.basis).toBe('fleet');
    expect(priorFor(priors, null)!.basis).toBe('fleet');
  });

  it('has no curve without failures', () => {
    const priors = fitLifetimePriors(draw('H100', 100, 1, 1e7, 100, 3));
    expect(priors.fleet).toBeNull();
    expect(priorFor(priors, 'H100')).toBeNull();
  });
});
