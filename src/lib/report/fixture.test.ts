import { describe, expect, it } from 'vitest';
import { GRADES } from '../health/score.js';
import { sampleReport } from './fixture.js';
import { AT_RISK_LIMIT } from './types.js';

describe('sampleReport', () => {
  it('is a function of its seed', () => {
    expect(JSON.stringify(sampleReport({ gpus: 200, seed: 7 }))).toBe(JSON.stringify(sampleReport({ gpus: 200, seed: 7 })));
    expect(JSON.stringify(sampleReport({ gpus: 200, seed: 8 }))).not.toBe(JSON.stringify(sampleReport({ gpus: 200, seed: 7 })));
  });

  it('holds what the renderers must show: bad GPUs, every risk level, sales and decommissions, gaps', () => {
    const r = sampleReport({ gpus: 1000, seed: 1 });
    expect(r.gpus).toHaveLength(1000);
    expect(r.fleet.grades.critical + r.fleet.grades.poor).toBeGreaterThan(0);
    expect(r.fleet.grades.excellent).toBeGreaterThan(r.gpus.length / 2);
    for (const level of ['low', 'medium', 'high', 'critical'] as const) expect(r.fleet.risk_levels[level]).toBeGreaterThan(0);
    expect(r.economics!.decisions.sell).toBeGreaterThan(0);
    expect(r.economics!.decisions.decommission).toBeGreaterThan(0);
    expect(r.economics!.decisions.none).toBeGreaterThan(0);
    expect(r.trend).toHaveLength(10);
    expect(r.trend.at(-1)!.health_index).toBe(r.fleet.health_index);
    expect(r.at_risk).toHaveLength(AT_RISK_LIMIT);
    expect(r.events.xids.length).toBeGreaterThan(0);
    expect(r.coverage.silent_hosts).toHaveLength(1);
    expect(r.coverage.missing_signals.length).toBeGreaterThan(0);
    expect(r.racks.length).toBeGreaterThan(1);
    expect(r.gpus.some((g) => g.memory_health === null && g.overall_score !== null)).toBe(true);
  });

  it('is consistent with itself, as report/data.ts must be', () => {
    const r = sampleReport({ gpus: 500, seed: 3 });
    expect([...GRADES, 'unknown' as const].reduce((s, g) => s + r.fleet.grades[g], 0)).toBe(r.fleet.gpus);
    expect(r.fleet.not_reporting).toBe(r.gpus.filter((g) => g.not_reporting).length);
    expect(r.racks.reduce((s, k) => s + k.gpus, 0)).toBe(r.gpus.filter((g) => g.failure_prob_30d !== null).length);
    const scores = r.gpus.map((g) => g.overall_score).filter((s): s is number => s !== null);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    const e = r.economics!;
    expect(e.for_sale.gpus).toBe(e.decisions.sell);
    expect(e.fleet_value).toBe(r.gpus.reduce((s, g) => s + (g.expected_value ?? 0), 0));
    for (const g of r.gpus) {
      if (g.failure_prob_7d === null) continue;
      expect(g.failure_prob_7d).toBeLessThanOrEqual(g.failure_prob_30d!);
      expect(g.failure_prob_30d).toBeLessThanOrEqual(g.failure_prob_90d!);
    }
    const down = r.grade_changes.findIndex((c) => c.direction === 'up');
    expect(r.grade_changes.slice(down).every((c) => c.direction === 'up')).toBe(true);
  });
});
