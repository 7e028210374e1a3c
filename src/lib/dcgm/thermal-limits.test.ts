import { describe, expect, it } from 'vitest';
import { DEFAULT_THERMAL_LIMITS, thermalLimits } from './thermal-limits.js';

describe('thermalLimits', () => {
  it('matches model names as DCGM and nvidia-smi print them, the specific variant first', () => {
    const part = (model: string): string => thermalLimits(model).part;
    expect(part('NVIDIA A100-SXM4-80GB')).toBe('A100 SXM4 80GB');
    expect(part('NVIDIA A100-SXM4-40GB')).toBe('A100 SXM4 40GB');
    expect(part('NVIDIA A100-PCIE-40GB')).toBe('A100 40GB PCIe');
    expect(part('NVIDIA A100 80GB PCIe')).toBe('A100 80GB PCIe');
    expect(part('NVIDIA H100 80GB HBM3')).toBe('H100 SXM');
    expect(part('NVIDIA H100 PCIe')).toBe('H100 PCIe');
    expect(part('NVIDIA H100 NVL')).toBe('H100 NVL');
    expect(part('NVIDIA H800')).toBe('H100 SXM');
    expect(part('NVIDIA H200')).toBe('H200');
    expect(part('NVIDIA L40S')).toBe('L40S');
    expect(part('NVIDIA L4')).toBe('L4');
    expect(part('NVIDIA A10')).toBe('A10');
    expect(part('NVIDIA A10G')).toBe('A10G');
    expect(part('Tesla T4')).toBe('T4');
    expect(part('Tesla V100-SXM2-32GB')).toBe('V100');
    expect(part('Tesla V100S-PCIE-32GB')).toBe('V100');
  });

  it('gives the limits nvidia-smi reports', () => {
    expect(thermalLimits('NVIDIA A100-SXM4-40GB')).toMatchObject({ max_operating_c: 85, slowdown_c: 89, shutdown_c: 92, memory_max_c: 95, confirmed: true });
    expect(thermalLimits('NVIDIA H100 80GB HBM3')).toMatchObject({ max_operating_c: 87, slowdown_c: 89, shutdown_c: 92, memory_max_c: 95 });
    expect(thermalLimits('Tesla V100-SXM2-16GB')).toMatchObject({ slowdown_c: 87, shutdown_c: 90, memory_max_c: 85 });
    expect(thermalLimits('Tesla T4').memory_max_c).toBeNull();
  });

  it('keeps every part in order: max operating < slowdown < shutdown', () => {
    for (const m of ['A100-SXM4-80GB', 'H100 NVL', 'H200', 'L40S', 'L4', 'A10G', 'T4', 'V100', 'GeForce RTX 4090']) {
      const l = thermalLimits(m);
      expect(l.max_operating_c, m).toBeLessThan(l.slowdown_c);
      expect(l.slowdown_c, m).toBeLessThan(l.shutdown_c);
    }
  });

  it('falls back to the default for an unknown or missing model', () => {
    expect(thermalLimits(null)).toBe(DEFAULT_THERMAL_LIMITS);
    expect(thermalLimits('NVIDIA GH200 480GB')).toBe(DEFAULT_THERMAL_LIMITS);
    expect(thermalLimits('NVIDIA A1000')).toBe(DEFAULT_THERMAL_LIMITS);
  });
});
