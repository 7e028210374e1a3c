import { describe, expect, it } from 'vitest';
import { exposureGpuYears, planFleet } from './fleet.js';
import { FAILURE_TYPES, MODELS, SUDDEN_SHARE } from './hardware.js';

const END = Date.UTC(2026, 0, 15);
const MONTH = (365.25 / 12) * 86_400_000;

describe('planFleet', () => {
  it('is deterministic per seed', () => {
    const a = planFleet({ gpus: 40, days: 10, seed: 3, endMs: END });
    const b = planFleet({ gpus: 40, days: 10, seed: 3, endMs: END });
    const c = planFleet({ gpus: 40, days: 10, seed: 4, endMs: END });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(c.gpus[0]!.uuid).not.toBe(a.gpus[0]!.uuid);
  });

  it('lays out 8-GPU single-model hosts over two datacenters, both models and both field-112 names', () => {
    const plan = planFleet({ gpus: 50, days: 14, seed: 1, endMs: END });
    expect(plan.hosts).toHaveLength(7);
    expect(plan.hosts.map((h) => h.slots)).toEqual([8, 8, 8, 8, 8, 8, 2]);
    expect(new Set(plan.hosts.map((h) => h.model))).toEqual(new Set(['a100', 'h100']));
    expect(new Set(plan.hosts.map((h) => h.datacenter))).toEqual(new Set(['dc-a', 'dc-b']));
    expect(new Set(plan.hosts.map((h) => h.throttleField))).toEqual(new Set(['DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS']));
    expect(new Set(plan.hosts.map((h) => h.profile))).toEqual(new Set(['training', 'inference', 'idle']));
    for (const g of plan.gpus) {
      const h = plan.hosts[g.host]!;
      expect(g.model).toBe(h.model);
      expect(g.uuid).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(g.serial).toMatch(/^\d{13}$/);
      const ageMonths = (END - g.deployedMs) / MONTH;
      expect(ageMonths).toBeGreaterThanOrEqual(0);
      expect(ageMonths).toBeLessThanOrEqual(36.5);
      expect(g.pciBusId).toBe(`00000000:${MODELS[g.model].pciBuses[g.index]}:00.0`);
    }
    expect(new Set(plan.gpus.map((g) => g.uuid)).size).toBe(plan.gpus.length);
  });

  it('plants the default number of known-problematic GPUs', () => {
    expect(planFleet({ gpus: 50, endMs: END }).gpus.filter((g) => g.problematic)).toHaveLength(3);
    expect(planFleet({ gpus: 10, endMs: END }).gpus.filter((g) => g.problematic)).toHaveLength(2);
    expect(planFleet({ gpus: 10, problematic: 0, endMs: END }).gpus.filter((g) => g.problematic)).toHaveLength(0);
  });

  it('fails GPUs at the configured rate over 100,000 GPU-years (±10 %, > 3 sigma)', () => {
    const plan = planFleet({ gpus: 100_000, days: 365.25, intervalMs: 3_600_000, seed: 11, endMs: END, minFailures: 0 });
    const exposure = exposureGpuYears(plan);
    expect(exposure.a100 + exposure.h100).toBeGreaterThan(95_000);
    for (const model of ['a100', 'h100'] as const) {
      const observed = plan.failures.filter((f) => f.model === model).length;
      const expected = exposure[model] * { a100: 0.02, h100: 0.05 }[model];
      expect(Math.abs(observed / expected - 1)).toBeLessThan(0.1);
    }
    const sudden = plan.failures.filter((f) => f.sudden).length / plan.failures.length;
    expect(Math.abs(sudden - SUDDEN_SHARE)).toBeLessThan(0.03);
    for (const t of FAILURE_TYPES) expect(plan.failures.some((f) => f.type === t)).toBe(true);
  });

  it('honours an overridden rate', () => {
    const plan = planFleet({
      gpus: 20_000,
      days: 365.25,
      intervalMs: 3_600_000,
      seed: 5,
      endMs: END,
      minFailures: 0,
      failureRatePerYear: { a100: 0.1, h100: 0 },
    });
    expect(plan.failures.every((f) => f.model === 'a100')).toBe(true);
    const e = exposureGpuYears(plan).a100;
    expect(Math.abs(plan.failures.length / (e * 0.1) - 1)).toBeLessThan(0.15);
  });

  it('plants at least minFailures in a small demo, the first with a precursor', () => {
    const plan = planFleet({ gpus: 16, days: 14, seed: 2, endMs: END });
    expect(plan.failures.length).toBeGreaterThanOrEqual(2);
    const planted = plan.failures.filter((f) => f.planted).sort((a, b) => a.gpu - b.gpu);
    expect(planted.some((f) => !f.sudden && f.type !== 'other')).toBe(true);
    for (const f of plan.failures) {
      expect(f.atMs).toBeGreaterThanOrEqual(plan.startMs);
      expect(f.atMs).toBeLessThan(plan.endMs);
      expect((f.atMs - plan.startMs) % plan.intervalMs).toBe(0);
      expect(f.precursorStartMs).toBeLessThanOrEqual(f.atMs);
      if (f.sudden) expect(f.precursorStartMs).toBe(f.atMs);
    }
  });

  it('replaces some failed GPUs in the same slot with a new UUID and serial', () => {
    const plan = planFleet({ gpus: 400, days: 60, seed: 9, endMs: END, failureRatePerYear: { a100: 2, h100: 2 } });
    const replaced = plan.failures.filter((f) => f.replacementGpu !== null);
    expect(replaced.length).toBeGreaterThan(5);
    expect(replaced.length).toBe(plan.replacements);
    for (const f of replaced) {
      const old = plan.gpus[f.gpu]!;
      const r = plan.gpus[f.replacementGpu!]!;
      expect(r.replaces).toBe(old.id);
      expect([r.host, r.index, r.pciBusId]).toEqual([old.host, old.index, old.pciBusId]);
      expect(r.uuid).not.toBe(old.uuid);
      expect(r.serial).not.toBe(old.serial);
      const days = (r.installedMs - f.atMs) / 86_400_000;
      expect(days).toBeGreaterThanOrEqual(2);
      expect(days).toBeLessThanOrEqual(10.1);
      // The swap is a maintenance window ending in a driver reload.
      expect(plan.hosts[r.host]!.resetsMs).toContain(r.installedMs);
    }
  });

  it('rejects bad options with an input error', () => {
    expect(() => planFleet({ gpus: 0 })).toThrow(/gpus/);
    expect(() => planFleet({ days: -1 })).toThrow(/days/);
    expect(() => planFleet({ days: 0.0001, intervalMs: 60_000 })).toThrow(/interval/);
    expect(() => planFleet({ failureRatePerYear: { a100: -1, h100: 0 } })).toThrow(/failureRatePerYear/);
    expect(() => planFleet({ plant: [{ type: 'cosmic' as never }] })).toThrow(/failure type/);
  });
});
