import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kaplanMeier, type Lifetime } from './kaplan-meier.js';

/** R survival's `lung` (fixtures/survival/README.md) and what R made of it (reference.R → reference.json). */
const DIR = fileURLToPath(new URL('../../../fixtures/survival/', import.meta.url));
const lung = fs
  .readFileSync(`${DIR}lung.csv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',').map(Number))
  .map(([time, event, , sex]) => ({ time: time!, event: event === 1, sex: sex! }));
interface RKm {
  time: number[];
  n_risk: number[];
  n_event: number[];
  survival: number[];
  std_err: number[];
  lower: number[];
  upper: number[];
  median: number;
}
const ref = JSON.parse(fs.readFileSync(`${DIR}reference.json`, 'utf8')) as Record<string, RKm>;

const close = (actual: number | null, expected: number, rel = 1e-10): void => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
};

describe('kaplanMeier against R survfit(conf.type = "log-log")', () => {
  for (const [key, rows] of [
    ['lung_km_all', lung],
    ['lung_km_sex1', lung.filter((r) => r.sex === 1)],
    ['lung_km_sex2', lung.filter((r) => r.sex === 2)],
  ] as const) {
    it(`reproduces ${key}: every step, its Greenwood error and band, and the median`, () => {
      const r = ref[key]!;
      const km = kaplanMeier(rows);
      expect(km.points.map((p) => p.time)).toEqual(r.time);
      expect(km.points.map((p) => p.atRisk)).toEqual(r.n_risk);
      expect(km.points.map((p) => p.failures)).toEqual(r.n_event);
      km.points.forEach((p, i) => {
        close(p.survival, r.survival[i]!);
        close(p.stdErr, r.std_err[i]!);
        close(p.lower, r.lower[i]!);
        close(p.upper, r.upper[i]!);
      });
      expect(km.median).toBe(r.median);
      expect(km.n).toBe(rows.length);
      expect(km.failures).toBe(rows.filter((x) => x.event).length);
    });
  }
});

describe('kaplanMeier', () => {
  const life = (time: number, event: boolean): Lifetime => ({ time, event });

  it('steps only at failures; censored lifetimes leave the risk set after their time', () => {
    const km = kaplanMeier([life(1, true), life(2, false), life(3, true), life(4, false)]);
    expect(km.points.map((p) => [p.time, p.atRisk, p.survival])).toEqual([
      [1, 4, 0.75],
      [3, 2, 0.375],
    ]);
    expect(km.end).toBe(4);
    expect(km.median).toBe(3);
  });

  it('counts a censoring at a failure time as at risk at that time (R, and the usual convention)', () => {
    const km = kaplanMeier([life(2, true), life(2, false), life(5, true)]);
    expect(km.points[0]).toMatchObject({ time: 2, atRisk: 3, failures: 1 });
    expect(km.points[1]).toMatchObject({ time: 5, atRisk: 1, survival: 0 });
  });

  it('takes the middle of a step at exactly one half as the median, as R does', () => {
    const km = kaplanMeier([life(1, true), life(2, true), life(3, true), life(4, true)]);
    expect(km.points[1]!.survival).toBe(0.5);
    expect(km.median).toBe(2.5);
  });

  it('has no median while survival stays above one half, and no band once every GPU has failed', () => {
    expect(kaplanMeier([life(1, true), life(5, false), life(6, false)]).median).toBeNull();
    const all = kaplanMeier([life(1, true), life(2, true)]);
    expect(all.points.at(-1)).toMatchObject({ survival: 0, stdErr: 0, lower: null, upper: null });
  });

  it('keeps log-log bands inside (0, 1) where a log band would pass 1', () => {
    const rows = Array.from({ length: 20 }, (_, i) => life(i + 1, i % 7 === 0));
    for (const p of kaplanMeier(rows).points) {
      expect(p.lower!).toBeGreaterThan(0);
      expect(p.upper!).toBeLessThan(1);
      expect(p.lower!).toBeLessThan(p.survival);
      expect(p.upper!).toBeGreaterThan(p.survival);
    }
  });

  it('is empty for no lifetimes', () => {
    expect(kaplanMeier([])).toEqual({ points: [], median: null, end: 0, n: 0, failures: 0 });
  });
});
