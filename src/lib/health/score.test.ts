import { describe, expect, it } from 'vitest';
import { thermalLimits } from '../dcgm/thermal-limits.js';
import { DIMENSIONS, gradeOf, GRADES, memoryRepairKind, overallScore, scoreGpu, TEMP_PEAK_PENALTY_BASE, TEMP_PEAK_PENALTY_PER_C, WEIGHTS } from './score.js';
import type { GpuFeatures } from '../features/feature-list.js';
import { H100, healthy, WEEK_S } from '../../../test/helpers/healthy-gpu.js';
import { expectedSamples } from '../dcgm/sampling.js';
import { mergeXidOverrides, XID_CLASSES } from '../dcgm/xid.js';

const A100 = 'NVIDIA A100-SXM4-80GB';
const V100 = 'Tesla V100-SXM2-32GB';

/** No ECC, retired-page or remapped-row signal at all (dcgm-exporter's defaults on a pre-Ampere GPU). */
const NO_MEMORY_SIGNALS: Partial<GpuFeatures> = {
  sbe_delta: null,
  dbe_delta: null,
  sbe_accel: null,
  retired_pages_dbe: null,
  retired_pages_sbe: null,
  retired_pages_pending: null,
  remapped_rows_correctable: null,
  remapped_rows_uncorrectable: null,
  row_remap_failure: null,
  row_remap_pending: null,
};

describe('enumerations', () => {
  it('has five dimensions whose weights sum to 1', () => {
    expect(DIMENSIONS).toEqual(['memory', 'thermal', 'performance', 'power', 'reliability']);
    expect(WEIGHTS).toEqual({ memory: 0.3, thermal: 0.25, performance: 0.2, power: 0.15, reliability: 0.1 });
    expect(Object.values(WEIGHTS).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(GRADES).toEqual(['excellent', 'good', 'fair', 'degraded', 'poor', 'critical']);
  });
});

describe('gradeOf', () => {
  it('puts the boundaries 90/80/70/60/50 in the better grade', () => {
    const cases: [number, string][] = [
      [100, 'excellent'],
      [90, 'excellent'],
      [89.9, 'good'],
      [80, 'good'],
      [79.9, 'fair'],
      [70, 'fair'],
      [69.9, 'degraded'],
      [60, 'degraded'],
      [59.9, 'poor'],
      [50, 'poor'],
      [49.9, 'critical'],
      [0, 'critical'],
    ];
    for (const [score, grade] of cases) expect(gradeOf(score), String(score)).toBe(grade);
  });

  it('grades the shown (rounded) value, so 89.96 shown as 90.0 is excellent', () => {
    expect(gradeOf(89.96)).toBe('excellent');
    expect(gradeOf(89.94)).toBe('good');
  });
});

describe('overallScore', () => {
  it('is the weighted mean when every dimension is known', () => {
    expect(overallScore({ memory: 50, thermal: 100, performance: 100, power: 100, reliability: 100 })).toBeCloseTo(85, 10);
  });

  it('spreads the weight of an unknown dimension over the others in proportion', () => {
    const v = overallScore({ memory: null, thermal: 80, performance: 100, power: 100, reliability: 100 });
    expect(v).toBeCloseTo((0.25 * 80 + 0.45 * 100) / 0.7, 10);
  });

  it('is null when nothing is known', () => {
    expect(overallScore({})).toBeNull();
  });
});

describe('scoreGpu: a healthy GPU', () => {
  it('scores 100 everywhere with no factors and carries the DESIGN §5 fields', () => {
    const s = scoreGpu(healthy());
    expect(s).toMatchObject({
      memory_health: 100,
      thermal_health: 100,
      performance_health: 100,
      power_health: 100,
      reliability_health: 100,
      overall_score: 100,
      health_grade: 'excellent',
      degradation_factors: [],
      unknown_dimensions: [],
      rma_grade: false,
      hardware_xids: [],
    });
  });
});

describe('memory', () => {
  it('takes 20 per uncorrectable error in the window, at most 60', () => {
    // one UE needs a reset: degraded until one is seen (grades.test.ts), the weighted mean capped to the band
    expect(scoreGpu(healthy({ dbe_delta: 1 }))).toMatchObject({
      memory_health: 80,
      overall_score: 69.9,
      health_grade: 'degraded',
      degradation_factors: ['uncorrectable_ecc_errors'],
    });
    expect(scoreGpu(healthy({ dbe_delta: 3 })).memory_health).toBe(40);
    expect(scoreGpu(healthy({ dbe_delta: 10 })).memory_health).toBe(40);
  });

  it('judges correctable errors as a weekly rate above 100, on a log scale up to 50', () => {
    expect(scoreGpu(healthy({ sbe_delta: 100 })).memory_health).toBe(100);
    // 5 + 15 × log10(rate / 100)
    expect(scoreGpu(healthy({ sbe_delta: 150 }))).toMatchObject({ memory_health: 92.4, degradation_factors: ['high_correctable_ecc_errors'] });
    expect(scoreGpu(healthy({ sbe_delta: 1_000 })).memory_health).toBe(80);
    expect(scoreGpu(healthy({ sbe_delta: 100_000 })).memory_health).toBe(50);
    expect(scoreGpu(healthy({ sbe_delta: 1_000_000 })).memory_health).toBe(50);
    // The same 100 errors in one day are 700 a week.
    expect(scoreGpu(healthy({ window_s: 86_400, span_s: 86_400, sbe_delta: 100 })).memory_health).toBe(82.3);
    expect(scoreGpu(healthy({ window_s: 86_400, span_s: 86_400, sbe_delta: 14 })).memory_health).toBe(100);
    // A span under a day is not extrapolated: 20 errors in an hour count as 20 in a day.
    expect(scoreGpu(healthy({ window_s: 86_400, span_s: 3_600, sbe_delta: 20 })).memory_health).toBe(92.8);
  });

  it('penalises correctable errors that accelerate, given enough of them', () => {
    expect(scoreGpu(healthy({ sbe_delta: 50, sbe_accel: 4 }))).toMatchObject({
      memory_health: 90,
      degradation_factors: ['accelerating_correctable_ecc_errors'],
    });
    expect(scoreGpu(healthy({ sbe_delta: 50, sbe_accel: 2.5 })).memory_health).toBe(100);
    expect(scoreGpu(healthy({ sbe_delta: 5, sbe_accel: 10 })).memory_health).toBe(100);
  });

  it('reads retired pages on page-retirement GPUs as cumulative state', () => {
    const v100 = (over: Partial<GpuFeatures>): GpuFeatures => healthy({ model: V100, ...over });
    expect(scoreGpu(v100({ retired_pages_dbe: 2 }))).toMatchObject({ memory_health: 90, degradation_factors: ['retired_memory_pages'] });
    expect(scoreGpu(v100({ retired_pages_dbe: 10 })).memory_health).toBe(70);
    expect(scoreGpu(v100({ retired_pages_sbe: 3 })).memory_health).toBe(97);
    expect(scoreGpu(v100({ retired_pages_dbe: 2, retired_pages_sbe: 3 })).memory_health).toBe(87);
    expect(scoreGpu(v100({ retired_pages_pending: 1 }))).toMatchObject({
      memory_health: 90,
      health_grade: 'degraded',
      degradation_factors: ['retired_pages_pending'],
    });
  });

  it('makes 60 retired pages (DCGM limit) RMA-grade', () => {
    const s = scoreGpu(healthy({ model: V100, retired_pages_dbe: 20, retired_pages_sbe: 40 }));
    expect(s).toMatchObject({ memory_health: 0, rma_grade: true, overall_score: 49.9, health_grade: 'critical', recommended_action: 'rma' });
    expect(s.degradation_factors).toContain('retired_pages_limit');
  });

  it('ignores remapped-row fields on page-retirement GPUs and retired pages on row-remapping GPUs', () => {
    expect(scoreGpu(healthy({ model: V100, remapped_rows_uncorrectable: 5, row_remap_failure: 1 })).memory_health).toBe(100);
    expect(scoreGpu(healthy({ model: A100, retired_pages_dbe: 5, retired_pages_pending: 2 })).memory_health).toBe(100);
  });

  it('reads remapped rows on A100/H100', () => {
    const a100 = (over: Partial<GpuFeatures>): GpuFeatures => healthy({ model: A100, ...over });
    expect(scoreGpu(a100({ remapped_rows_uncorrectable: 2 }))).toMatchObject({ memory_health: 90, degradation_factors: ['remapped_memory_rows'] });
    expect(scoreGpu(a100({ remapped_rows_uncorrectable: 9 })).memory_health).toBe(70);
    expect(scoreGpu(a100({ remapped_rows_correctable: 3 })).memory_health).toBe(97);
    expect(scoreGpu(a100({ row_remap_pending: 1 }))).toMatchObject({ memory_health: 90, health_grade: 'degraded', degradation_factors: ['row_remap_pending'] });
  });

  it('treats a row-remap failure as RMA-grade: memory 0, critical', () => {
    const s = scoreGpu(healthy({ row_remap_failure: 1 }));
    expect(s).toMatchObject({ memory_health: 0, thermal_health: 100, rma_grade: true, overall_score: 49.9, health_grade: 'critical' });
    expect(s.degradation_factors).toEqual(['row_remap_failure', 'memory_degradation']);
  });

  it('reports memory as unknown, not 100, when the ECC signals are absent, and spreads its weight', () => {
    const s = scoreGpu(healthy({ model: V100, ...NO_MEMORY_SIGNALS, temp_excess_at_power: 18 }));
    expect(s.memory_health).toBeNull();
    expect(s.unknown_dimensions).toEqual(['memory']);
    expect(s.thermal_health).toBe(80);
    // (0.25×80 + 0.45×100) / 0.7; scoring memory 100 by default would have given 95.
    expect(s.overall_score).toBe(92.9);
  });

  it('knows memory from remapped rows alone (dcgm-exporter default on an H100)', () => {
    const s = scoreGpu(healthy({ ...NO_MEMORY_SIGNALS, remapped_rows_correctable: 0, remapped_rows_uncorrectable: 0, row_remap_failure: 0 }));
    expect(s.memory_health).toBe(100);
    expect(s.unknown_dimensions).toEqual([]);
  });

  it('does not read DRAM activity against peers as a fault: job mix moves it (a feature, not a rule)', () => {
    expect(scoreGpu(healthy({ dram_activity_per_load_z: -12 }))).toMatchObject({ memory_health: 100, degradation_factors: [] });
    // DRAM activity alone does not make memory known.
    expect(scoreGpu(healthy({ ...NO_MEMORY_SIGNALS, dram_activity_per_load_z: -5 })).memory_health).toBeNull();
  });
});

describe('counter deltas (made by the counter_increase rule, dcgm/counters.test.ts)', () => {
  it('scores a GPU with a large lifetime count and no new errors as healthy', () => {
    // volatile SBE 4812 throughout; volatile DBE 3, 3, then 0, 0 after a driver reload: no new errors
    const s = scoreGpu(healthy({ sbe_delta: 0, dbe_delta: 0 }));
    expect(s.memory_health).toBe(100);
  });

  it('counts the error that came with a reset', () => {
    // DBE readings 2, 2, 0, 1: the reset to 0 adds nothing, the 1 after it is one new error
    const s = scoreGpu(healthy({ dbe_delta: 1 }));
    expect(s.memory_health).toBe(80);
  });
});

describe('thermal', () => {
  it('penalises a mean above 85 °C by 2 per °C and a peak at the part’s slowdown temperature', () => {
    expect(scoreGpu(healthy({ temp_mean: 88 }))).toMatchObject({ thermal_health: 94, degradation_factors: ['elevated_temperature'] });
    expect(scoreGpu(healthy({ temp_mean: 120 })).thermal_health).toBe(70);
    const slowdown = thermalLimits(H100).slowdown_c;
    expect(scoreGpu(healthy({ temp_max: slowdown - 1 })).thermal_health).toBe(100);
    expect(scoreGpu(healthy({ temp_max: slowdown })).thermal_health).toBe(100 - TEMP_PEAK_PENALTY_BASE);
    expect(scoreGpu(healthy({ temp_max: slowdown + 2 })).thermal_health).toBe(100 - TEMP_PEAK_PENALTY_BASE - 2 * TEMP_PEAK_PENALTY_PER_C);
  });

  it('scores HBM above the part’s memory maximum', () => {
    const max = thermalLimits(A100).memory_max_c!;
    expect(scoreGpu(healthy({ model: A100, memory_temp_max: max })).thermal_health).toBe(100);
    const s = scoreGpu(healthy({ model: A100, memory_temp_max: 104 }));
    expect(s.degradation_factors).toContain('hbm_overtemperature');
    expect(s.thermal_health).toBeLessThan(60);
    expect(s.health_grade).not.toBe('excellent');
  });

  it('does not penalise a busy GPU at 80 °C, a cool one at 25 °C, or temperature swings that follow the load', () => {
    expect(scoreGpu(healthy({ temp_mean: 80, temp_max: 85 })).thermal_health).toBe(100);
    expect(scoreGpu(healthy({ temp_mean: 25, temp_max: 35 })).thermal_health).toBe(100);
    expect(scoreGpu(healthy({ temp_std: 20 })).thermal_health).toBe(100);
  });

  it('penalises running hotter than the model at equal power', () => {
    expect(scoreGpu(healthy({ temp_excess_at_power: 6 })).thermal_health).toBe(100);
    expect(scoreGpu(healthy({ temp_excess_at_power: 12 }))).toMatchObject({ thermal_health: 92, degradation_factors: ['poor_cooling'] });
  });

  it('penalises thermal throttling above 1 % of loaded samples by 1 per percent, at most 60', () => {
    expect(scoreGpu(healthy({ share_thermal_throttled: 0.01 })).thermal_health).toBe(100);
    expect(scoreGpu(healthy({ share_thermal_throttled: 0.11 }))).toMatchObject({ thermal_health: 90, degradation_factors: ['thermal_throttling'] });
    expect(scoreGpu(healthy({ share_thermal_throttled: 0.9 }))).toMatchObject({
      thermal_health: 40,
      degradation_factors: ['thermal_throttling', 'thermal_issues'],
    });
  });

  it('reads DCGM’s thermal violation time when the clock-event bits are absent', () => {
    const s = scoreGpu(healthy({ throttle_samples: 0, share_thermal_throttled: null, thermal_violation_share: 0.21 }));
    expect(s).toMatchObject({ thermal_health: 80, degradation_factors: ['thermal_throttling'] });
  });

  it('takes 20 for any HW thermal slowdown', () => {
    expect(scoreGpu(healthy({ hw_thermal_slowdown_samples: 3 }))).toMatchObject({ thermal_health: 80, degradation_factors: ['hw_thermal_slowdown'] });
  });

  it('charges SW power capping to neither thermal nor power: power-bound training runs at its cap', () => {
    const s = scoreGpu(healthy({ sw_power_cap_share: 0.8 }));
    expect(s).toMatchObject({ thermal_health: 100, power_health: 100, degradation_factors: [] });
  });
});

describe('performance', () => {
  it('does not penalise an idle GPU (GPU_IDLE bits, no load): performance is unknown, not poor', () => {
    const idle = healthy({
      loaded_samples: 0,
      sm_active_mean: 0.4,
      sm_occupancy_mean: 0,
      temp_mean: 31,
      temp_max: 36,
      temp_excess_at_power: null,
      share_thermal_throttled: null,
      sw_power_cap_share: null,
      power_cv: null,
      power_mean: 70,
      sm_clock_under_load_z: null,
      sm_clock_std_pct_under_load: null,
      dram_activity_per_load_z: null,
    });
    const s = scoreGpu(idle);
    expect(s).toMatchObject({ performance_health: null, thermal_health: 100, power_health: 100, overall_score: 100, degradation_factors: [] });
    expect(s.unknown_dimensions).toEqual(['performance']);
  });

  it('does not penalise a light inference load for low occupancy', () => {
    const s = scoreGpu(healthy({ sm_active_mean: 25, sm_occupancy_mean: 5, sm_clock_under_load_z: -0.8, sm_clock_std_pct_under_load: 2.5 }));
    expect(s.performance_health).toBe(100);
    expect(s.degradation_factors).toEqual([]);
  });

  it('compares SM clock with peers at the same load', () => {
    expect(scoreGpu(healthy({ sm_clock_under_load_z: -2.5 })).performance_health).toBe(100);
    expect(scoreGpu(healthy({ sm_clock_under_load_z: -4 }))).toMatchObject({ performance_health: 80, degradation_factors: ['low_clock_under_load'] });
    expect(scoreGpu(healthy({ sm_clock_under_load_z: -9 }))).toMatchObject({
      performance_health: 30,
      degradation_factors: ['low_clock_under_load', 'performance_degradation'],
    });
    expect(scoreGpu(healthy({ sm_clock_under_load_z: -58 })).performance_health).toBe(20);
  });

  it('penalises SM clock spread above 5 % under load', () => {
    expect(scoreGpu(healthy({ sm_clock_std_pct_under_load: 4.9 })).performance_health).toBe(100);
    expect(scoreGpu(healthy({ sm_clock_std_pct_under_load: 7 }))).toMatchObject({ performance_health: 90, degradation_factors: ['clock_instability'] });
  });
});

describe('power', () => {
  it('penalises power variability at equal load above 0.2', () => {
    expect(scoreGpu(healthy({ power_cv: 0.2 })).power_health).toBe(100);
    expect(scoreGpu(healthy({ power_cv: 0.3 }))).toMatchObject({ power_health: 90, degradation_factors: ['power_instability'] });
    expect(scoreGpu(healthy({ power_cv: 0.9 })).power_health).toBe(80);
  });

  it('takes 15 for any HW power brake, 15 more and 1.5 per percent of samples when it is sustained, at most 80', () => {
    expect(scoreGpu(healthy({ hw_power_brake_samples: 10 }))).toMatchObject({ power_health: 85, degradation_factors: ['power_brake'] });
    // 1,000 of 60,480 samples: 1.65 % → 15 + 15 + 2.5
    expect(scoreGpu(healthy({ hw_power_brake_samples: 1_000 })).power_health).toBe(67.5);
    expect(scoreGpu(healthy({ hw_power_brake_samples: 60_480 })).power_health).toBe(20);
  });

  it('takes 10 for an HW slowdown no other bit explains', () => {
    expect(scoreGpu(healthy({ hw_slowdown_samples: 5 }))).toMatchObject({ power_health: 90, degradation_factors: ['hw_slowdown'] });
  });

  it('does not penalise power capping, however often: a power-bound job runs at its limit', () => {
    expect(scoreGpu(healthy({ sw_power_cap_share: 0.99 })).power_health).toBe(100);
  });
});

describe('confidence (coverage is not health)', () => {
  it('is high for a complete 60 s-interval GPU', () => {
    const s = scoreGpu(healthy({ interval_s: 60, samples: 10_080, expected_samples: expectedSamples(WEEK_S, 60) }));
    expect(s).toMatchObject({ reliability_health: 100, confidence: 'high', confidence_reasons: [], degradation_factors: [] });
  });

  it('is medium below 95 % of expected samples and low below half', () => {
    expect(scoreGpu(healthy({ interval_s: 60, samples: 9_000, expected_samples: 10_080 }))).toMatchObject({
      reliability_health: 100,
      confidence: 'medium',
      confidence_reasons: ['89.3 % of expected samples'],
      degradation_factors: [],
    });
    expect(scoreGpu(healthy({ samples: 20_000 })).confidence).toBe('low');
    expect(scoreGpu(healthy({ samples: 70_000 })).confidence).toBe('high');
  });

  it('is medium with three gaps or more, and never charges them to reliability', () => {
    expect(scoreGpu(healthy({ gaps_over_5min: 2 })).confidence).toBe('high');
    expect(scoreGpu(healthy({ gaps_over_5min: 10 }))).toMatchObject({ reliability_health: 100, confidence: 'medium', degradation_factors: [] });
  });

  it('is low on a handful of samples', () => {
    expect(scoreGpu(healthy({ samples: 12 })).confidence).toBe('low');
  });
});

describe('reliability', () => {
  it('caps a GPU that stopped reporting before the window end at poor, whatever its older samples say', () => {
    const silent = scoreGpu(healthy({ silent_before_end_s: 2 * 3600, gaps_over_5min: 1 }));
    expect(silent).toMatchObject({ reliability_health: 0, overall_score: 59.9, health_grade: 'poor' });
    expect(silent.degradation_factors).toContain('not_reporting');
    // an hour of silence at a 10 s interval is not yet "not reporting"; a 30-min exporter needs 3 intervals
    expect(scoreGpu(healthy({ silent_before_end_s: 3000 })).degradation_factors).not.toContain('not_reporting');
    expect(scoreGpu(healthy({ silent_before_end_s: 4000, interval_s: 1800, expected_samples: 336, samples: 336 })).degradation_factors).not.toContain(
      'not_reporting',
    );
  });

  it('uses DCGM’s PCIe replay and NVLink CRC limits', () => {
    expect(scoreGpu(healthy({ pcie_replay_peak_per_min: 8 })).reliability_health).toBe(100);
    expect(scoreGpu(healthy({ pcie_replay_peak_per_min: 12 }))).toMatchObject({ reliability_health: 85, degradation_factors: ['pcie_replay_errors'] });
    expect(scoreGpu(healthy({ nvlink_crc_peak_per_s: 150 }))).toMatchObject({ reliability_health: 85, degradation_factors: ['nvlink_crc_errors'] });
  });

  it('is unknown without link error counters or hardware events', () => {
    const s = scoreGpu(healthy({ pcie_replay_delta: null, pcie_replay_peak_per_min: null, nvlink_crc_delta: null, nvlink_crc_peak_per_s: null }));
    expect(s.reliability_health).toBeNull();
    expect(s.unknown_dimensions).toEqual(['reliability']);
    expect(s.health_grade).toBe('excellent');
  });
});

describe('Xids', () => {
  it('does not lower any score for application Xids', () => {
    const s = scoreGpu(healthy({ xid_counts: { 13: 50, 31: 10, 43: 3, 45: 2, 68: 1, 154: 4 } }));
    expect(s).toMatchObject({ overall_score: 100, degradation_factors: [], hardware_xids: [] });
  });

  it('lowers reliability for GPU, link and firmware Xids', () => {
    // fell off the bus: capped at poor (grades.test.ts)
    expect(scoreGpu(healthy({ xid_counts: { 79: 1 } }))).toMatchObject({
      reliability_health: 80,
      health_grade: 'poor',
      degradation_factors: ['xid_gpu_hardware_errors'],
      hardware_xids: [79],
    });
    expect(scoreGpu(healthy({ xid_counts: { 74: 2 } }))).toMatchObject({
      reliability_health: 60,
      health_grade: 'degraded',
      degradation_factors: ['xid_interconnect_errors', 'reliability_issues'],
    });
    expect(scoreGpu(healthy({ xid_counts: { 74: 5 } })).reliability_health).toBe(40);
    const mixed = scoreGpu(healthy({ xid_counts: { 119: 1, 74: 1 } }));
    expect(mixed.reliability_health).toBe(60);
    expect(mixed.degradation_factors).toEqual(['xid_firmware_errors', 'xid_interconnect_errors', 'reliability_issues']);
    // Xid 109 (context-switch timeout) is reset-class in NVIDIA's catalog
    expect(scoreGpu(healthy({ xid_counts: { 109: 1 } }))).toMatchObject({ reliability_health: 80, health_grade: 'degraded', recommended_action: 'reset_gpu' });
  });

  it('watches an unclassified Xid', () => {
    expect(scoreGpu(healthy({ xid_counts: { 9999: 1 } }))).toMatchObject({ reliability_health: 95, hardware_xids: [9999] });
  });

  it('counts a DBE once whether the counter, the Xid or both saw it', () => {
    expect(scoreGpu(healthy({ dbe_delta: 1, xid_counts: { 48: 1 } })).memory_health).toBe(80);
    expect(scoreGpu(healthy({ dbe_delta: 0, xid_counts: { 48: 2 } })).memory_health).toBe(60);
    expect(scoreGpu(healthy({ dbe_delta: 2, xid_counts: { 48: 1, 94: 1 } })).memory_health).toBe(60);
  });

  it('scores memory from a DBE Xid when ECC counters are absent', () => {
    const s = scoreGpu(healthy({ model: V100, ...NO_MEMORY_SIGNALS, xid_counts: { 48: 1 } }));
    expect(s).toMatchObject({ memory_health: 80, degradation_factors: ['uncorrectable_ecc_errors'], unknown_dimensions: [] });
  });

  it('makes Xid 64 RMA-grade, named for the repair mechanism, and counts it once with the flag', () => {
    const h100 = scoreGpu(healthy({ xid_counts: { 64: 1 } }));
    expect(h100).toMatchObject({ memory_health: 0, rma_grade: true, health_grade: 'critical' });
    expect(h100.degradation_factors).toContain('row_remap_failure');
    const v100 = scoreGpu(healthy({ model: V100, xid_counts: { 64: 1 } }));
    expect(v100.degradation_factors).toContain('page_retirement_failure');
    const both = scoreGpu(healthy({ row_remap_failure: 1, xid_counts: { 64: 1 } }));
    expect(both.factor_details.map((d) => [d.factor, d.dimension, d.points])).toEqual([['row_remap_failure', 'memory', 100]]);
  });

  it('does not charge retirement or SBE Xids twice when their counters are present', () => {
    expect(scoreGpu(healthy({ xid_counts: { 63: 2, 92: 1 } })).memory_health).toBe(100);
    // without the pending fields, a retirement/remap Xid is the only sign that a repair waits for a reset
    expect(scoreGpu(healthy({ ...NO_MEMORY_SIGNALS, xid_counts: { 63: 1 } }))).toMatchObject({
      memory_health: 85,
      health_grade: 'degraded',
      degradation_factors: ['row_remap_pending', 'xid_memory_errors'],
    });
    expect(scoreGpu(healthy({ sbe_delta: null, xid_counts: { 92: 1 } })).memory_health).toBe(95);
  });

  it('follows a config override of the classification', () => {
    const xidClasses = mergeXidOverrides(XID_CLASSES, { '13': { class: 'gpu_hardware', severity: 'watch' } });
    expect(scoreGpu(healthy({ xid_counts: { 13: 2 } }), { xidClasses })).toMatchObject({ reliability_health: 90, hardware_xids: [13] });
    const quiet = mergeXidOverrides(XID_CLASSES, { '74': { severity: 'none' } });
    expect(scoreGpu(healthy({ xid_counts: { 74: 3 } }), { xidClasses: quiet }).reliability_health).toBe(100);
  });
});

describe('overall', () => {
  it('orders factors by points, then adds summary factors of dimensions below 70', () => {
    const s = scoreGpu(healthy({ dbe_delta: 2, temp_mean: 88, gaps_over_5min: 1, sm_clock_under_load_z: -7 }));
    expect(s.degradation_factors).toEqual([
      'low_clock_under_load',
      'uncorrectable_ecc_errors',
      'elevated_temperature',
      'memory_degradation',
      'performance_degradation',
    ]);
    expect(s.factor_details[0]).toMatchObject({ factor: 'low_clock_under_load', dimension: 'performance', points: 50, value: -7, unit: 'σ', threshold: -3 });
    expect(s.factor_details[0]!.evidence).toMatch(/^SM clock under load -7 robust σ .* → −50 performance$/);
  });

  it('bounds the grade at one band better than the worst dimension, and caps the ranking number to the grade', () => {
    // memory 40 (critical band for the dimension) → at best poor, however healthy the rest
    const s = scoreGpu(healthy({ sbe_delta: null, retired_pages_dbe: null, dbe_delta: 0, temp_excess_at_power: 38 }));
    expect(s.thermal_health).toBe(70);
    expect(s.health_grade).toBe('good');
    expect(s.grade_caps).toEqual(['worst_dimension: thermal 70 (fair)']);
    expect(s.overall_score).toBe(89.9);
  });

  it('rounds to one decimal', () => {
    const s = scoreGpu(healthy({ share_thermal_throttled: 0.0333 }));
    expect(s.thermal_health).toBe(97.7);
  });

  it('is null, with no grade, when no dimension is known', () => {
    const s = scoreGpu(
      healthy({
        ...NO_MEMORY_SIGNALS,
        samples: 1,
        interval_s: null,
        expected_samples: null,
        throttle_samples: 0,
        loaded_samples: 0,
        temp_mean: null,
        temp_max: null,
        temp_std: null,
        temp_excess_at_power: null,
        share_thermal_throttled: null,
        power_mean: null,
        power_std: null,
        power_cv: null,
        sw_power_cap_share: null,
        sm_clock_under_load_z: null,
        sm_clock_std_pct_under_load: null,
        dram_activity_per_load_z: null,
        memory_temp_max: null,
        pcie_replay_delta: null,
        pcie_replay_peak_per_min: null,
        nvlink_crc_delta: null,
        nvlink_crc_peak_per_s: null,
      }),
    );
    expect(s).toMatchObject({ overall_score: null, health_grade: null, unknown_dimensions: [...DIMENSIONS], confidence: 'low' });
  });
});

describe('memoryRepairKind', () => {
  it('knows which generations remap rows and which retire pages', () => {
    for (const m of [
      A100,
      H100,
      'NVIDIA A10G',
      'NVIDIA A30',
      'NVIDIA RTX A6000',
      'NVIDIA L4',
      'NVIDIA L40S',
      'NVIDIA H200',
      'NVIDIA GH200 480GB',
      'NVIDIA B200',
      'NVIDIA RTX 6000 Ada Generation',
    ]) {
      expect(memoryRepairKind(m), m).toBe('row_remap');
    }
    for (const m of [V100, 'Tesla T4', 'Tesla P100-PCIE-16GB', 'Tesla K80', 'Quadro RTX 8000', 'NVIDIA TITAN V']) {
      expect(memoryRepairKind(m), m).toBe('page_retirement');
    }
    expect(memoryRepairKind(null)).toBeNull();
    expect(memoryRepairKind('Some Future GPU')).toBeNull();
  });
});
