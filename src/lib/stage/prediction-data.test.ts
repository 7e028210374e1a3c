import { describe, expect, it } from 'vitest';
import { DAY_MS, labelRow, type GpuOutcome } from './prediction-data.js';

const T0 = Date.UTC(2026, 5, 1);
const at = (days: number): number => T0 + days * DAY_MS;

describe('labelRow', () => {
  const failed: GpuOutcome = { failures: [{ atMs: at(20), type: 'memory' }], lastSampleMs: at(19.9) };
  const alive: GpuOutcome = { failures: [], lastSampleMs: at(200) };
  const removed: GpuOutcome = { failures: [], lastSampleMs: at(10) };

  it('labels a failure within the horizon with its time and type', () => {
    expect(labelRow(failed, at(5), 90, at(100))).toEqual({ days: 15, event: true, type: 'memory', daysToFailure: 15 });
  });

  it('censors at the horizon when the failure comes later', () => {
    expect(labelRow(failed, at(5), 7, at(100))).toEqual({ days: 7, event: false, type: null, daysToFailure: 15 });
  });

  it('does not see a failure after the end of what is known', () => {
    // training rows before a validation split must not learn from failures after it
    expect(labelRow(failed, at(5), 90, at(12))).toEqual({ days: 7, event: false, type: null, daysToFailure: null });
  });

  it('censors a GPU without a failure at its last sample or at the end', () => {
    expect(labelRow(alive, at(5), 90, at(50))).toEqual({ days: 45, event: false, type: null, daysToFailure: null });
    expect(labelRow(removed, at(5), 90, at(50))).toEqual({ days: 5, event: false, type: null, daysToFailure: null });
    expect(labelRow(removed, at(11), 90, at(50))).toBeNull();
  });

  it('looks only at failures after the cut-off', () => {
    const twice: GpuOutcome = {
      failures: [
        { atMs: at(3), type: 'power' },
        { atMs: at(40), type: 'thermal' },
      ],
      lastSampleMs: at(39),
    };
    expect(labelRow(twice, at(5), 90, at(100))).toMatchObject({ event: true, type: 'thermal', days: 35 });
  });
});
