import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CoxConvergenceError, coxPH, type CoxFit } from './cox.js';
import { buildDesign } from './design.js';
import { mulberry32 } from '../model/random.js';

/** R survival's `lung` and `veteran` (fixtures/survival/README.md) and R's coxph fits of them (reference.json). */
const DIR = fileURLToPath(new URL('../../../fixtures/survival/', import.meta.url));
const csv = (name: string): string[][] =>
  fs
    .readFileSync(`${DIR}${name}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
const lung = csv('lung.csv').map(([time, event, age, sex]) => ({ time: Number(time), event: event === '1', age: Number(age), sex: Number(sex) }));
const veteran = csv('veteran.csv').map(([time, event, trt, celltype, karno, age]) => ({
  time: Number(time),
  event: event === '1',
  trt: Number(trt),
  celltype: celltype!,
  karno: Number(karno),
  age: Number(age),
}));
interface RCox {
  names: string[];
  coef: number[];
  se: number[];
  hazard_ratio: number[];
  lower: number[];
  upper: number[];
  p: number[];
  loglik: [number, number];
  n: number;
  events: number;
}
const ref = JSON.parse(fs.readFileSync(`${DIR}reference.json`, 'utf8')) as Record<string, RCox>;

/** Measured: hazard ratios, intervals and p-values agree with R's to 2e-13 relative (R prints 15 digits). */
const close = (actual: number, expected: number, rel = 1e-9): void => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected));
};

/** Compares a fit with R's, matching coefficients by name (R writes celltypeadeno where we write celltype=adeno). */
function expectLikeR(fit: CoxFit, r: RCox, rName: (ours: string) => string): void {
  expect(fit.n).toBe(r.n);
  expect(fit.events).toBe(r.events);
  close(fit.loglik[0], r.loglik[0], 1e-12);
  close(fit.loglik[1], r.loglik[1], 1e-9);
  expect(fit.coefficients.map((c) => rName(c.name)).sort()).toEqual([...r.names].sort());
  for (const c of fit.coefficients) {
    const j = r.names.indexOf(rName(c.name));
    close(c.coef, r.coef[j]!);
    close(c.se, r.se[j]!);
    close(c.hazardRatio, r.hazard_ratio[j]!);
    close(c.ci[0], r.lower[j]!);
    close(c.ci[1], r.upper[j]!);
    close(c.p, r.p[j]!);
  }
}

describe('coxPH against R coxph (Efron ties)', () => {
  it('reproduces lung ~ age + sex', () => {
    const fit = coxPH({
      time: lung.map((r) => r.time),
      event: lung.map((r) => r.event),
      columns: [lung.map((r) => r.age), lung.map((r) => r.sex)],
      names: ['age', 'sex'],
    });
    expectLikeR(fit, ref.lung_cox_age_sex!, (n) => n);
  });

  it('reproduces veteran ~ trt + celltype + karno + age, celltype one-hot against its most common level', () => {
    const event = veteran.map((r) => r.event);
    const design = buildDesign(
      [
        { kind: 'numeric', name: 'trt', values: veteran.map((r) => r.trt) },
        { kind: 'categorical', name: 'celltype', values: veteran.map((r) => r.celltype) },
        { kind: 'numeric', name: 'karno', values: veteran.map((r) => r.karno) },
        { kind: 'numeric', name: 'age', values: veteran.map((r) => r.age) },
      ],
      event,
    );
    expect(design.references).toEqual({ celltype: 'smallcell' });
    expect(design.notes).toEqual([]);
    const fit = coxPH({ time: veteran.map((r) => r.time), event, columns: design.columns, names: design.names });
    expectLikeR(fit, ref.veteran_cox!, (n) => n.replace('=', ''));
    // karno's p-value is 1.5e-9: the tail must be computed, not looked up
    const karno = fit.coefficients.find((c) => c.name === 'karno')!;
    expect(karno.p).toBeGreaterThan(1.4e-9);
    expect(karno.p).toBeLessThan(1.6e-9);
  });
});

describe('coxPH', () => {
  it('recovers a planted hazard ratio', () => {
    const rand = mulberry32(3);
    const n = 4000;
    const x = Array.from({ length: n }, () => [rand() < 0.5 ? 1 : 0]);
    // exponential lifetimes, rate doubled where x = 1; censored at 1
    const time = x.map(([v]) => Math.min(1, -Math.log(1 - rand()) / (0.5 * (v ? 2 : 1))));
    const event = time.map((t) => t < 1);
    const [c] = coxPH({ time, event, columns: [x.map(([v]) => v!)], names: ['x'] }).coefficients;
    expect(c!.ci[0]).toBeLessThan(2);
    expect(c!.ci[1]).toBeGreaterThan(2);
    expect(c!.p).toBeLessThan(1e-10);
  });

  it('handles tied failure times (Efron), and no covariates at all', () => {
    const fit = coxPH({ time: [1, 1, 1, 2, 2, 3], event: [true, true, false, true, true, false], columns: [], names: [] });
    expect(fit.coefficients).toEqual([]);
    expect(fit.loglik[0]).toBe(fit.loglik[1]);
  });

  it('refuses a singular design instead of printing nonsense', () => {
    expect(() =>
      coxPH({
        time: [1, 2, 3, 4],
        event: [true, true, false, true],
        columns: [
          [1, 0, 1, 0],
          [2, 0, 2, 0],
        ],
        names: ['a', 'b'],
      }),
    ).toThrow(CoxConvergenceError);
  });
});
