import { describe, expect, it } from 'vitest';
import { VALUE_COLUMNS } from '../schema.js';
import { FP64_BLANK, INT32_BLANK, INT64_BLANK } from './fields.js';
import { absentAtZero, canonicalValue, decimalShift, scaleReading, ZERO_MEANS_ABSENT, ZERO_MEANS_ABSENT_BY_INDEX } from './values.js';

describe('canonical value rules', () => {
  it('scales a printed decimal by moving its point, not by multiplying the double', () => {
    expect(0.058619 * 100).not.toBe(5.8619);
    expect(scaleReading(0.058619, 100, '0.058619')).toBe(5.8619);
    expect(scaleReading(0.058619, 100, '5.8619e-02')).toBe(5.8619);
    expect(scaleReading(0.058619, 100, ' +0.058619 ')).toBe(5.8619);
    expect(scaleReading(-0.5, 100, '-0.5')).toBe(-50);
    expect(scaleReading(69830, 1e-3, '69830')).toBe(69.83);
    expect(scaleReading(1.59, 1e3, '1.59')).toBe(1590);
  });

  it('multiplies when the scale is no power of ten or the text is unknown', () => {
    expect(scaleReading(2, 1024, '2')).toBe(2048);
    expect(scaleReading(0.058619, 100)).toBe(0.058619 * 100);
    expect(scaleReading(7, 1, 'ignored')).toBe(7);
  });

  it('knows powers of ten from 1e-6 to 1e6', () => {
    expect(decimalShift(100)).toBe(2);
    expect(decimalShift(1)).toBe(0);
    expect(decimalShift(1e-3)).toBe(-3);
    expect(decimalShift(1e6)).toBe(6);
    expect(decimalShift(1024)).toBeNull();
    expect(decimalShift(1e7)).toBeNull();
  });

  it('nulls a memory temperature of 0 and nothing else at 0', () => {
    expect(absentAtZero('memory_temp', 0)).toBe(true);
    expect(absentAtZero('memory_temp', 47)).toBe(false);
    expect(absentAtZero('gpu_temp', 0)).toBe(false);
    const byIndex = VALUE_COLUMNS.filter((_, i) => ZERO_MEANS_ABSENT_BY_INDEX[i] === 1).map((c) => c.name);
    expect(byIndex).toEqual([...ZERO_MEANS_ABSENT]);
  });

  it('makes an exporter reading canonical: blanks, NaN, ±Inf and absent readings null, ratios percent', () => {
    const ratio = { column: 'sm_active', scale: 100 } as const;
    const memTemp = { column: 'memory_temp', scale: 1 } as const;
    expect(canonicalValue(ratio, 0.058619, '0.058619')).toBe(5.8619);
    expect(canonicalValue(ratio, 0, '0')).toBe(0);
    expect(canonicalValue(memTemp, 0, '0')).toBeNull();
    expect(canonicalValue(memTemp, 52, '52')).toBe(52);
    for (const v of [Number.NaN, Infinity, -Infinity, INT32_BLANK, 2147483647, FP64_BLANK, INT64_BLANK]) {
      expect(canonicalValue(memTemp, v), String(v)).toBeNull();
    }
  });
});
