import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../model/random.js';
import { cumulativeHazardCurve, DAYS_PER_MONTH, monthlyFailureProbs, monthlyFailureRisks } from './hazard.js';

const D = 365.25 / 12;

describe('cumulativeHazardCurve', () => {
  it('passes through the three predictions and starts at survival 1', () => {
    const c = cumulativeHazardCurve(0.01, 0.05, 0.2);
    expect(c.survival(0)).toBe(1);
    expect(c.survival(7)).toBeCloseTo(0.99, 14);
    expect(c.survival(30)).toBeCloseTo(0.95, 14);
    expect(c.survival(90)).toBeCloseTo(0.8, 14);
  });

  it('is linear in H between the points and goes on at the 30–90-day rate beyond 90 days', () => {
    const c = cumulativeHazardCurve(0.01, 0.05, 0.2);
    const h7 = -Math.log(0.99);
    const h30 = -Math.log(0.95);
    const h90 = -Math.log(0.8);
    const tail = (h90 - h30) / 60;
    expect(c.cumulativeHazard(3.5)).toBeCloseTo(h7 / 2, 14);
    expect(c.cumulativeHazard(18.5)).toBeCloseTo((h7 + h30) / 2, 14);
    expect(c.cumulativeHazard(60)).toBeCloseTo(h30 + 30 * tail, 14);
    expect(c.cumulativeHazard(200)).toBeCloseTo(h90 + 110 * tail, 14);
    expect(c.survival(200)).toBeCloseTo(Math.exp(-(h90 + 110 * tail)), 14);
  });

  it('takes a running maximum when a longer horizon has a smaller probability', () => {
    const c = cumulativeHazardCurve(0.1, 0.05, 0.2);
    expect(c.survival(30)).toBeCloseTo(0.9, 14);
    expect(c.cumulativeHazard(20)).toBeCloseTo(-Math.log(0.9), 14);
  });

  it('keeps P = 1 finite and treats negative or missing probabilities as 0', () => {
    const c = cumulativeHazardCurve(1, 1, 1);
    expect(c.survival(7)).toBeGreaterThan(0);
    expect(c.survival(7)).toBeLessThan(1e-11);
    expect(Number.isFinite(c.cumulativeHazard(3650))).toBe(true);
    const z = cumulativeHazardCurve(-0.1, Number.NaN, 0);
    expect(z.survival(365)).toBe(1);
  });
});

describe('monthly failure probabilities', () => {
  // A constant hazard λ: P(t) = 1 − e^(−λt) at every t, so H(t) = λt exactly.
  const lambda = 0.002;
  const constant = cumulativeHazardCurve(1 - Math.exp(-7 * lambda), 1 - Math.exp(-30 * lambda), 1 - Math.exp(-90 * lambda));

  it('gives q_m = e^(−λ t_{m−1}) − e^(−λ t_m) for the first failure on a constant hazard', () => {
    const q = monthlyFailureProbs(constant, 24);
    expect(q).toHaveLength(24);
    for (let m = 1; m <= 24; m++) expect(q[m - 1], `month ${m}`).toBeCloseTo(Math.exp(-lambda * (m - 1) * D) - Math.exp(-lambda * m * D), 14);
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1 - Math.exp(-lambda * 24 * D), 14);
  });

  it('gives the same 1 − e^(−λ·30.44) every month for a GPU in service at the month start', () => {
    const r = monthlyFailureRisks(constant, 24);
    for (const p of r) expect(p).toBeCloseTo(1 - Math.exp(-lambda * D), 14);
  });

  it('takes the month length from the caller', () => {
    const q = monthlyFailureProbs(constant, 3, 30);
    expect(q[2]).toBeCloseTo(Math.exp(-lambda * 60) - Math.exp(-lambda * 90), 14);
    expect(DAYS_PER_MONTH).toBe(D);
  });

  it('puts all of a flat curve’s risk in the first month (nothing more after day 7)', () => {
    const flat = cumulativeHazardCurve(0.03, 0.03, 0.03);
    expect(monthlyFailureRisks(flat, 3)).toEqual([expect.closeTo(0.03, 14), 0, 0]);
    expect(monthlyFailureProbs(flat, 3)).toEqual([expect.closeTo(0.03, 14), 0, 0]);
  });

  it('keeps q_m ≥ 0, Σ q_m ≤ 1 and every monthly risk in [0, 1] for P7 ≤ P30 ≤ P90 (seeded)', () => {
    const rnd = mulberry32(14);
    for (let i = 0; i < 500; i++) {
      const scale = [1e-4, 0.01, 0.3, 1][i % 4]!;
      const [p7, p30, p90] = [rnd() * scale, rnd() * scale, rnd() * scale].sort((a, b) => a - b) as [number, number, number];
      const c = cumulativeHazardCurve(p7, p30, p90);
      const months = 1 + Math.floor(rnd() * 60);
      const q = monthlyFailureProbs(c, months);
      for (const x of q) expect(x, `${p7} ${p30} ${p90}`).toBeGreaterThanOrEqual(0);
      // The sum telescopes to 1 − S(t_months); adding the months can overshoot 1 by rounding only.
      const sum = q.reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(1 + 1e-12);
      expect(sum).toBeCloseTo(1 - c.survival(months * D), 12);
      for (const x of monthlyFailureRisks(c, months)) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
    }
  });
});
