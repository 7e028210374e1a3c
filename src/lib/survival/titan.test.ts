/**
 * The fits on real GPU lifetimes: Titan's 30,207 GPU lifetimes (Ostrouchov et al., "GPU Lifetimes on
 * Titan Supercomputer: Survival Analysis and Reliability", SC20), compared with R's fits of the same
 * data (fixtures/survival/titan-reference.R) and with the hazard ratios the paper publishes (its
 * Figure 8, old batch, read off the figure's PDF: the centre of each marker on the log axis, good to
 * about 0.05 %). The data file (4 MB) is not in this repository: set TITAN_CSV to
 * data/gc_summary_loc.csv of github.com/olcf/TitanGPULife to run these; otherwise they are skipped.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coxPH } from './cox.js';
import { buildDesign } from './design.js';
import { kaplanMeier } from './kaplan-meier.js';
import { weibullFit } from './weibull.js';

const FILE = process.env.TITAN_CSV;

interface TitanGpu {
  batch: string;
  days: number;
  seconds: number;
  dead: boolean;
  col: string;
  row: string;
  cage: string;
  slot: string;
  node: string;
}

function load(file: string): TitanGpu[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const h = head!.split(',');
  const at = (name: string): number => h.indexOf(name);
  return lines.map((l) => {
    const f = l.split(',');
    return {
      batch: f[at('batch')]!,
      days: Number(f[at('days')]),
      seconds: Number(f[at('time')]),
      dead: f[at('dead')] === 'TRUE',
      col: f[at('col')]!,
      row: f[at('row')]!,
      cage: f[at('cage')]!,
      slot: f[at('slot')]!,
      node: f[at('node')]!,
    };
  });
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe.skipIf(!FILE)('Titan GPU lifetimes (TITAN_CSV)', () => {
  const gpus = FILE ? load(FILE) : [];
  const batch = (b: string): TitanGpu[] => gpus.filter((g) => g.batch === b);

  it('fits the Weibull of each batch as R survreg does', () => {
    // R: old n 18837, 5027 failures, shape 2.63844652 [2.577479776, 2.700855349], scale 2596.046424 [2559.745708, 2632.861934]
    //    new n 11370, 62 failures, shape 1.021083469 [0.80110346, 1.301469165], scale 133023.7257 [37979.84048, 465913.2678]
    const expected = {
      old: { shape: 2.63844652, shapeCi: [2.577479776, 2.700855349], scale: 2596.046424, scaleCi: [2559.745708, 2632.861934], loglik: -46107.38433 },
      new: { shape: 1.021083469, shapeCi: [0.80110346, 1.301469165], scale: 133023.7257, scaleCi: [37979.84048, 465913.2678], loglik: -800.1043151 },
    };
    for (const [b, e] of Object.entries(expected)) {
      const fit = weibullFit(batch(b).map((g) => ({ time: g.days, event: g.dead })))!;
      expect(rel(fit.shape, e.shape)).toBeLessThan(1e-6);
      expect(rel(fit.scale, e.scale)).toBeLessThan(1e-6);
      expect(rel(fit.shapeCi[0], e.shapeCi[0])).toBeLessThan(1e-5);
      expect(rel(fit.shapeCi[1], e.shapeCi[1])).toBeLessThan(1e-5);
      expect(rel(fit.scaleCi[0], e.scaleCi[0])).toBeLessThan(1e-5);
      expect(rel(fit.scaleCi[1], e.scaleCi[1])).toBeLessThan(1e-5);
      expect(rel(fit.loglik, e.loglik)).toBeLessThan(1e-9);
    }
  });

  it('gives the Kaplan–Meier survival of the old batch at 1, 2 and 3 years as R survfit does', () => {
    const km = kaplanMeier(batch('old').map((g) => ({ time: g.days, event: g.dead })));
    const at = (t: number) => km.points.filter((p) => p.time <= t).at(-1)!;
    const expected = [
      [365, 0.999097233, 0.9985482125, 0.9994386896],
      [730, 0.9909348518, 0.9894721593, 0.9921951262],
      [1095, 0.8765986686, 0.8716996528, 0.8813235985],
    ] as const;
    for (const [t, s, lo, hi] of expected) {
      const p = at(t);
      expect(rel(p.survival, s)).toBeLessThan(1e-9);
      expect(rel(p.lower!, lo)).toBeLessThan(1e-9);
      expect(rel(p.upper!, hi)).toBeLessThan(1e-9);
    }
    expect(km.median).toBeNull();
  });

  it("reproduces the paper's Cox hazard ratios for the old batch (Figure 8) and R's fit", () => {
    const old = batch('old');
    const event = old.map((g) => g.dead);
    // the figure's N and events per level
    const count = (name: 'cage' | 'node', level: string): [number, number] => {
      const at = old.filter((g) => g[name] === level);
      return [at.length, at.filter((g) => g.dead).length];
    };
    expect(['0', '1', '2'].map((l) => count('cage', l))).toEqual([
      [6240, 1107],
      [6275, 1746],
      [6322, 2174],
    ]);
    expect(['0', '1', '2', '3'].map((l) => count('node', l))).toEqual([
      [4712, 1388],
      [4722, 1494],
      [4697, 1195],
      [4706, 950],
    ]);
    const names = ['col', 'row', 'cage', 'slot', 'node'] as const;
    const design = buildDesign(
      names.map((name) => ({ kind: 'categorical' as const, name, values: old.map((g) => g[name]) })),
      event,
    );
    expect(design.references).toEqual({ col: '2', row: '4', cage: '2', slot: '4', node: '1' });
    const fit = coxPH({ time: old.map((g) => g.seconds), event, columns: design.columns, names: design.names });
    // R coxph (timefix = FALSE), the same references: loglik −47007.0665817 → −43789.5898947
    expect(rel(fit.loglik[0], -47007.0665817)).toBeLessThan(1e-10);
    expect(rel(fit.loglik[1], -43789.5898947)).toBeLessThan(1e-10);
    const coef = (name: string, level: string): number =>
      design.references[name] === level ? 0 : fit.coefficients.find((c) => c.name === `${name}=${level}`)!.coef;
    const hr = (name: string, level: string): number => Math.exp(coef(name, level) - coef(name, '0'));
    // R, against gpuhealth's references: cage0 0.0444019846 [0.04041754314, 0.0487792202], node3 0.2382991277
    const cage0 = fit.coefficients.find((c) => c.name === 'cage=0')!;
    expect(rel(cage0.hazardRatio, 0.0444019846)).toBeLessThan(1e-6);
    expect(rel(cage0.ci[0], 0.04041754314)).toBeLessThan(1e-6);
    expect(rel(cage0.ci[1], 0.0487792202)).toBeLessThan(1e-6);
    expect(rel(fit.coefficients.find((c) => c.name === 'node=3')!.hazardRatio, 0.2382991277)).toBeLessThan(1e-6);
    // the paper's figure, each factor against its level 0
    const published: Record<string, number[]> = {
      col: [
        1, 1.1265, 0.6009, 1.5574, 0.5595, 2.0983, 0.814, 2.5552, 1.1838, 2.9565, 1.7903, 2.5486, 2.4615, 2.531, 2.4907, 2.889, 2.4262, 3.1092, 2.9608, 2.9268,
        3.6495, 3.7439, 4.2013, 3.7558, 3.1084,
      ],
      row: [1, 0.772, 0.607, 0.4509, 0.4701, 0.3826, 0.3121, 0.2822],
      cage: [1, 6.106, 22.5218],
      slot: [1, 0.9102, 0.8653, 0.8262, 0.9539, 1.0127, 1.2043, 1.2227],
      node: [1, 1.0817, 0.3491, 0.2578],
    };
    let worst = 0;
    for (const [name, hrs] of Object.entries(published)) {
      for (const [level, h] of hrs.entries()) worst = Math.max(worst, rel(hr(name, String(level)), h));
    }
    // measured: 1.3e-4 at worst, the precision of the figure
    expect(worst).toBeLessThan(0.001);
  });
});
