/**
 * The grade an operator expects for each case the grading review raised: a failed subsystem is never
 * averaged away, events that need a reset or a replacement cap the grade and name the action, coverage
 * lowers the confidence and not the health, and healthy GPUs in every normal mode of work stay
 * excellent with no factor.
 */
import { describe, expect, it } from 'vitest';
import type { GpuFeatures } from '../features/feature-list.js';
import { healthy } from '../../../test/helpers/healthy-gpu.js';
import { GRADES, type HealthGrade, scoreGpu } from './score.js';

const A100 = 'NVIDIA A100-SXM4-80GB';

const atOrWorse = (grade: HealthGrade | null, floor: HealthGrade): boolean => grade !== null && GRADES.indexOf(grade) >= GRADES.indexOf(floor);

describe('a failed subsystem is not averaged away', () => {
  it('grades failing memory (3 UEs in 24 h, Xid 48, 4 UE-remapped rows) degraded or worse, and asks for a reset', () => {
    const s = scoreGpu(healthy({ dbe_delta: 3, xid_counts: { 48: 1 }, remapped_rows_uncorrectable: 4, remapped_rows_uncorrectable_new: 3 }));
    expect(atOrWorse(s.health_grade, 'degraded'), `${s.health_grade} ${s.overall_score}`).toBe(true);
    expect(['reset_gpu', 'reboot_host', 'drain_and_diagnose']).toContain(s.recommended_action);
    const ue = s.factor_details.find((d) => d.factor === 'uncorrectable_ecc_errors')!;
    expect(ue).toMatchObject({ dimension: 'memory', points: 60, value: 3, unit: 'errors' });
    expect(ue.evidence).toContain('DBE +3');
    expect(ue.evidence).toContain('Xid 48');
    expect(ue.evidence).toMatch(/→ −60 memory$/);
  });

  it('grades a thermal fault (throttled 40 % of loaded time, HW thermal slowdown) degraded or worse', () => {
    const s = scoreGpu(healthy({ share_thermal_throttled: 0.4, hw_thermal_slowdown_samples: 6_000, temp_max: 88, temp_mean: 80 }));
    expect(atOrWorse(s.health_grade, 'degraded'), `${s.health_grade} ${s.overall_score}`).toBe(true);
    expect(s.recommended_action).toBe('drain_and_diagnose');
  });

  it('grades a HW power brake in half the samples degraded or worse', () => {
    const s = scoreGpu(healthy({ hw_power_brake_samples: 30_240 }));
    expect(atOrWorse(s.health_grade, 'degraded'), `${s.health_grade} ${s.overall_score}`).toBe(true);
    expect(s.recommended_action).toBe('drain_and_diagnose');
  });

  it('grades an SM clock stuck far below its cohort under load (z −58) degraded or worse', () => {
    const s = scoreGpu(healthy({ sm_clock_under_load_z: -58 }));
    expect(atOrWorse(s.health_grade, 'degraded'), `${s.health_grade} ${s.overall_score}`).toBe(true);
    expect(s.factor_details[0]!.evidence).toContain('-58');
  });

  it('never improves a failing GPU by adding a healthy measurement', () => {
    const failing = { dbe_delta: 3, xid_counts: { 48: 1 } };
    const without = scoreGpu(healthy({ ...failing, sm_clock_under_load_z: null, sm_clock_std_pct_under_load: null }));
    const withPerf = scoreGpu(healthy(failing));
    expect(GRADES.indexOf(withPerf.health_grade!)).toBeGreaterThanOrEqual(GRADES.indexOf(without.health_grade!));
  });
});

describe('reset-class and RMA-class events cap the grade', () => {
  it('caps Xid 79 (fell off the bus) ×5 at poor and asks for a drain and diagnosis', () => {
    const s = scoreGpu(healthy({ xid_counts: { 79: 5 } }));
    expect(atOrWorse(s.health_grade, 'poor'), `${s.health_grade}`).toBe(true);
    expect(s.recommended_action).toBe('drain_and_diagnose');
    expect(s.grade_caps.join(' ')).toMatch(/repeated_resets/);
  });

  it('caps a pending row remap at degraded and asks for a reset', () => {
    const s = scoreGpu(healthy({ row_remap_pending: 1 }));
    expect(atOrWorse(s.health_grade, 'degraded')).toBe(true);
    expect(s.recommended_action).toBe('reset_gpu');
    expect(s.degradation_factors).toContain('row_remap_pending');
  });

  it('caps a UE with a pending remap at degraded', () => {
    const s = scoreGpu(healthy({ dbe_delta: 1, row_remap_pending: 1, remapped_rows_uncorrectable: 1, remapped_rows_uncorrectable_new: 1 }));
    expect(atOrWorse(s.health_grade, 'degraded')).toBe(true);
  });

  it('infers a pending repair from Xid 63 when the pending fields are not exported', () => {
    const s = scoreGpu(healthy({ row_remap_pending: null, retired_pages_pending: null, xid_counts: { 63: 1 } }));
    expect(atOrWorse(s.health_grade, 'degraded')).toBe(true);
    expect(s.recommended_action).toBe('reset_gpu');
  });

  it('charges an uncontained error (Xid 95) more than a contained one', () => {
    const contained = scoreGpu(healthy({ xid_counts: { 94: 1 } }));
    const uncontained = scoreGpu(healthy({ xid_counts: { 95: 1 }, uncontained_ue_incidents: 1 } as Partial<GpuFeatures>));
    expect(uncontained.memory_health!).toBeLessThan(contained.memory_health!);
  });

  it('counts Xid 48 and 94 of one error as one incident when the features group them', () => {
    const s = scoreGpu(healthy({ dbe_delta: null, xid_counts: { 48: 1, 94: 1 }, ue_incidents: 1 } as Partial<GpuFeatures>));
    expect(s.factor_details.find((d) => d.factor === 'uncorrectable_ecc_errors')!.points).toBe(20);
  });

  it('keeps RMA-grade faults critical', () => {
    const s = scoreGpu(healthy({ model: A100, row_remap_failure: 1 }));
    expect(s.health_grade).toBe('critical');
    expect(s.recommended_action).toBe('rma');
  });

  it('clears the reset cap once a reset is seen after the last event, keeping the points', () => {
    const capped = scoreGpu(healthy({ dbe_delta: 1, last_reset_required_at: '2026-11-19T10:00:00.000Z' } as Partial<GpuFeatures>));
    expect(capped.health_grade).toBe('degraded');
    const after = scoreGpu(
      healthy({ dbe_delta: 1, last_reset_required_at: '2026-11-19T10:00:00.000Z', volatile_reset_last_at: '2026-11-19T11:00:00.000Z' } as Partial<GpuFeatures>),
    );
    expect(GRADES.indexOf(after.health_grade!)).toBeLessThan(GRADES.indexOf('degraded'));
    expect(after.memory_health).toBe(80);
    expect(after.grade_caps.join(' ')).toMatch(/reset_seen/);
    expect(after.recommended_action).toBe('monitor');
    const before = scoreGpu(
      healthy({ dbe_delta: 1, last_reset_required_at: '2026-11-19T10:00:00.000Z', volatile_reset_last_at: '2026-11-19T09:00:00.000Z' } as Partial<GpuFeatures>),
    );
    expect(before.health_grade).toBe('degraded');
  });

  it('follows the driver asking for a reset or reboot (Xid 154)', () => {
    const s = scoreGpu(healthy({ recovery_action_last: 'reboot_host', xid_counts: { 154: 1 } } as Partial<GpuFeatures>));
    expect(atOrWorse(s.health_grade, 'degraded')).toBe(true);
    expect(s.recommended_action).toBe('reboot_host');
  });
});

describe('coverage lowers the confidence, not the health', () => {
  it('keeps a GPU with a flaky exporter excellent, at lower confidence', () => {
    const s = scoreGpu(healthy({ samples: 30_000, gaps_over_5min: 12 }));
    expect(s.health_grade).toBe('excellent');
    expect(s.reliability_health).toBe(100);
    expect(s.degradation_factors).toEqual([]);
    expect(s.confidence).toBe('low');
    expect(s.confidence_reasons.join(' ')).toMatch(/expected samples/);
    expect(s.confidence_reasons.join(' ')).toMatch(/12 telemetry gaps/);
  });

  it('says which signals are missing', () => {
    const s = scoreGpu(
      healthy({
        sbe_delta: null,
        dbe_delta: null,
        retired_pages_dbe: null,
        retired_pages_sbe: null,
        retired_pages_pending: null,
        remapped_rows_correctable: null,
        remapped_rows_uncorrectable: null,
        row_remap_failure: null,
        row_remap_pending: null,
      }),
    );
    expect(s.confidence).toBe('medium');
    expect(s.confidence_reasons[0]).toMatch(/memory unknown/);
    expect(s.health_grade).toBe('excellent');
  });
});

describe('healthy GPUs in every normal mode of work stay excellent with no factor', () => {
  const cases: [string, Partial<GpuFeatures>][] = [
    ['busy training', {}],
    [
      'idle',
      {
        loaded_samples: 0,
        sm_clock_under_load_z: null,
        sm_clock_std_pct_under_load: null,
        sm_active_mean: 2,
        temp_mean: 35,
        temp_max: 41,
        power_mean: 70,
        power_cv: null,
        sw_power_cap_share: null,
      },
    ],
    ['light inference', { sm_active_mean: 15, sm_occupancy_mean: 8, loaded_samples: 20_000, power_mean: 180, dram_activity_per_load_z: -1 }],
    // application clocks pin the SM clock (CLOCKS_SETTING): the clock rules see no free-to-boost samples
    ['application clocks', { sm_clock_under_load_z: null, sm_clock_std_pct_under_load: null }],
    ['power-capped at TDP', { sw_power_cap_share: 0.95, power_mean: 690 }],
  ];
  for (const [name, over] of cases) {
    it(name, () => {
      const s = scoreGpu(healthy(over));
      expect(s.health_grade).toBe('excellent');
      expect(s.degradation_factors).toEqual([]);
      expect(s.recommended_action).toBe('none');
      expect(s.grade_caps).toEqual([]);
    });
  }
});
