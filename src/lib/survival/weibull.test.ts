import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Lifetime } from './kaplan-meier.js';
import { mulberry32 } from '../model/random.js';
import { hazardPattern, weibullFit } from './weibull.js';

/** R survival's `lung` and `veteran` (fixtures/survival/README.md) and R's survreg fits of them (reference.json). */
const DIR = fileURLToPath(new URL('../../../fixtures/survival/', import.meta.url));
const csv = (name: string): string[][] =>
  fs
    .readFileSync(`${DIR}${name}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
const lung = csv('lung.csv').map(([time, event, , sex]) => ({ time: Number(time), event: event === '1', sex: Number(sex) }));
const veteran = csv('veteran.csv').map(([time, event]) => ({ time: Number(time), event: event === '1' }));
interface RWeibull {
  shape: number;
  scale: number;
  shape_ci: [number, number];
  scale_ci: [number, number];
  se_log_shape: number;
  se_log_scale: number;
  cov_log_scale_log_shape: number;
  loglik: number;
}
const ref = JSON.parse(fs.readFileSync(`${DIR}reference.json`, 'utf8')) as Record<string, RWeibull>;

/** Measured: estimates and intervals agree with R's to 2e-12 relative (R prints 15 digits). */
const close = (actual: number, expected: number, rel = 1e-9): void => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected));
};

describe('weibullFit against R survreg(dist = "weibull")', () => {
  for (const [key, rows] of [
    ['lung_weibull_all', lung],
    ['lung_weibull_sex1', lung.filter((r) => r.sex === 1)],
    ['lung_weibull_sex2', lung.filter((r) => r.sex === 2)],
    ['veteran_weibull', veteran],
  ] as const) {
    it(`reproduces ${key}: shape, scale, their intervals and the log-likelihood`, () => {
      const r = ref[key]!;
      const fit = weibullFit(rows)!;
      close(fit.shape, r.shape);
      close(fit.scale, r.scale);
      close(fit.shapeCi[0], r.shape_ci[0]);
      close(fit.shapeCi[1], r.shape_ci[1]);
      close(fit.scaleCi[0], r.scale_ci[0]);
      close(fit.scaleCi[1], r.scale_ci[1]);
      close(fit.seLogShape, r.se_log_shape);
      close(fit.seLogScale, r.se_log_scale);
      expect(Math.abs(fit.covLogShapeLogScale - r.cov_log_scale_log_shape)).toBeLessThan(1e-12);
      close(fit.loglik, r.loglik, 1e-12);
    });
  }

  it('reads lung as wear-out and veteran as infant mortality, from the intervals', () => {
    expect(hazardPattern(weibullFit(lung)!.shapeCi)).toBe('wear_out');
    expect(hazardPattern(weibullFit(veteran)!.shapeCi)).toBe('infant_mortality');
  });
});

describe('weibullFit', () => {
  /** n Weibull(k, λ) lifetimes, censored at `end`. */
  function sample(n: number, k: number, lambda: number, end: number, seed: number): Lifetime[] {
    const rand = mulberry32(seed);
    return Array.from({ length: n }, () => {
      const t = lambda * (-Math.log(1 - rand())) ** (1 / k);
      return t < end ? { time: t, event: true } : { time: end, event: false };
    });
  }

  it('recovers the shape and scale of censored samples within their intervals', () => {
    for (const [k, lambda] of [
      [0.6, 2000],
      [1, 800],
      [3, 500],
    ] as const) {
      const fit = weibullFit(sample(3000, k, lambda, 700, 7))!;
      expect(fit.shapeCi[0]).toBeLessThan(k);
      expect(fit.shapeCi[1]).toBeGreaterThan(k);
      expect(fit.scaleCi[0]).toBeLessThan(lambda);
      expect(fit.scaleCi[1]).toBeGreaterThan(lambda);
    }
  });

  it('calls a shape whose interval holds 1 random', () => {
    expect(hazardPattern([0.8, 1.1])).toBe('random');
    expect(hazardPattern([0.5, 0.9])).toBe('infant_mortality');
    expect(hazardPattern([1.2, 2])).toBe('wear_out');
  });

  it('has no fit without failures or when every failure is at one age', () => {
    expect(weibullFit([{ time: 5, event: false }])).toBeNull();
    expect(
      weibullFit([
        { time: 5, event: true },
        { time: 5, event: true },
        { time: 5, event: true },
      ]),
    ).toBeNull();
  });

  it('refuses a lifetime of zero (ln 0): the stage gives those a floor', () => {
    expect(() => weibullFit([{ time: 0, event: true }])).toThrow(RangeError);
  });
});
