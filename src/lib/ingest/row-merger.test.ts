import { describe, expect, it } from 'vitest';
import type { GpuIdentity, MetricRow } from '../schema.js';
import { sampleTimeBounds } from './limits.js';
import { RowMerger } from './row-merger.js';
import type { SourceLine } from './types.js';

const T = Date.UTC(2026, 0, 1);
const BOUNDS = sampleTimeBounds(Date.UTC(2026, 5, 1), false);
const A: GpuIdentity = { gpu_uuid: 'GPU-a', host: 'h', gpu_index: 0, model: 'NVIDIA H100 80GB HBM3', pci_bus_id: '00000000:18:00.0', driver_version: null };
const B: GpuIdentity = { ...A, gpu_uuid: 'GPU-b', gpu_index: 1 };

function merger(maxHeld?: number): { m: RowMerger; out: { row: MetricRow; from?: SourceLine }[] } {
  const out: { row: MetricRow; from?: SourceLine }[] = [];
  return { m: new RowMerger({ row: (r, from) => void out.push({ row: r, from }) }, BOUNDS, maxHeld), out };
}

describe('RowMerger', () => {
  it('folds the series of a GPU into one row per time, keeping the first source line', () => {
    const { m, out } = merger();
    const temp = { line: 1, text: 'result[0]' };
    m.add(m.rowsOf(A), T, 'gpu_temp', 40, temp);
    m.add(m.rowsOf(A), T + 60_000, 'gpu_temp', 42, temp);
    m.add(m.rowsOf(B), T, 'gpu_temp', 41, { line: 1, text: 'result[1]' });
    const power = m.rowsOf({ ...A }); // another series, the same identity
    m.add(power, T, 'power_usage', 300, { line: 1, text: 'result[2]' });
    m.add(power, T + 60_000, 'power_usage', null, { line: 1, text: 'result[2]' });
    expect(out).toEqual([]);
    m.flush();
    expect(out).toEqual([
      { row: { ...A, time_ms: T, values: { gpu_temp: 40, power_usage: 300 } }, from: temp },
      { row: { ...A, time_ms: T + 60_000, values: { gpu_temp: 42, power_usage: null } }, from: temp },
      { row: { ...B, time_ms: T, values: { gpu_temp: 41 } }, from: { line: 1, text: 'result[1]' } },
    ]);
    m.flush();
    expect(out).toHaveLength(3);
  });

  it('sends a repeated or conflicting value after the row it repeats, so the merge sees them in order', () => {
    const { m, out } = merger();
    m.add(m.rowsOf(A), T, 'gpu_temp', 40);
    const again = m.rowsOf(A);
    m.add(again, T, 'power_usage', 300);
    m.add(again, T, 'gpu_temp', 45);
    m.flush();
    expect(out.map((o) => o.row.values)).toEqual([{ gpu_temp: 40, power_usage: 300 }, { gpu_temp: 45 }]);
  });

  it('keeps apart the series of one GPU whose identity differs', () => {
    const { m, out } = merger();
    m.add(m.rowsOf(A), T, 'gpu_temp', 40);
    m.add(m.rowsOf({ ...A, host: 'other' }), T, 'power_usage', 300);
    m.flush();
    expect(out.map((o) => [o.row.host, o.row.values])).toEqual([
      ['h', { gpu_temp: 40 }],
      ['other', { power_usage: 300 }],
    ]);
  });

  it('does not take what the sink refuses: a time outside the bounds, a value too large for its column', () => {
    const { m } = merger();
    expect(m.takes(T, 'gpu_temp', 40)).toBe(true);
    expect(m.takes(T, 'gpu_temp', null)).toBe(true);
    expect(m.takes(Date.UTC(1999, 0, 1), 'gpu_temp', 40)).toBe(false);
    expect(m.takes(Date.UTC(2027, 0, 1), 'gpu_temp', 40)).toBe(false);
    expect(m.takes(T, 'xid_last', 1e12)).toBe(false);
  });

  it('sends everything on when it holds too many rows, and goes on merging after', () => {
    const { m, out } = merger(2);
    const a = m.rowsOf(A);
    for (let k = 0; k < 3; k++) m.add(a, T + k, 'gpu_temp', 40);
    expect(out.map((o) => o.row.time_ms)).toEqual([T, T + 1]);
    m.add(a, T + 2, 'power_usage', 1);
    m.flush();
    expect(out.map((o) => o.row.values)).toEqual([{ gpu_temp: 40 }, { gpu_temp: 40 }, { gpu_temp: 40, power_usage: 1 }]);
  });
});
