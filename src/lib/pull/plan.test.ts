import { describe, expect, it } from 'vitest';
import { parseSelector } from '../../../fixtures/prom-api/fake-prometheus.js';
import {
  alignedRange,
  CHUNK_POINTS,
  cellPieces,
  familiesMatcher,
  gridCells,
  halve,
  isFresh,
  MAX_POINTS_PER_RESPONSE,
  MAX_POINTS_PER_SERIES,
  MAX_SELECTOR_CHARS,
  mergeRanges,
  pieceSelector,
  pointsIn,
  queryRangeParams,
  splitRange,
  uncovered,
  unitKey,
  type Piece,
  type TimeRange,
  type Unit,
} from './plan.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);

describe('time grid', () => {
  it('aligns the start down to the step and makes the end exclusive, one step past the last point', () => {
    expect(alignedRange(T0 + 30_000, T0 + 10 * MIN + 5_000, MIN)).toEqual({ start: T0, end: T0 + 11 * MIN });
    expect(pointsIn(alignedRange(T0, T0 + DAY, MIN), MIN)).toBe(1441);
  });

  it('cuts cells on a fixed grid of CHUNK_POINTS steps, so that different ranges share cells', () => {
    const a = gridCells(alignedRange(T0 - 3 * DAY, T0 + DAY / 2, MIN), MIN);
    const b = gridCells(alignedRange(T0 - DAY, T0 + 2 * DAY, MIN), MIN);
    const key = (r: TimeRange): string => `${r.start}-${r.end}`;
    expect(a.map(key)).toContain(`${T0 - DAY}-${T0}`);
    expect(b.map(key)).toContain(`${T0 - DAY}-${T0}`);
    for (const c of [...a, ...b]) {
      expect(pointsIn(c, MIN)).toBeLessThanOrEqual(CHUNK_POINTS);
      expect(CHUNK_POINTS).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    }
    // a partial first and last cell are clipped to the range
    expect(a[0]!.start).toBe(T0 - 3 * DAY);
    expect(a.at(-1)!.end).toBe(T0 + DAY / 2 + MIN);
    // 10 s steps: 4 h cells
    expect(gridCells({ start: T0, end: T0 + DAY }, 10_000)).toHaveLength(6);
  });

  it('asks query_range for the cell without its boundary point: consecutive cells never share one', () => {
    const cells = gridCells({ start: T0, end: T0 + 2 * DAY }, MIN);
    const params = cells.map((c) => Object.fromEntries(queryRangeParams('{x="1"}', c, MIN)));
    expect(params[0]).toMatchObject({ start: String(T0 / 1000), end: String((T0 + DAY - MIN) / 1000), step: '60' });
    expect(Number(params[1]!['start'])).toBe(Number(params[0]!['end']) + 60);
  });
});

describe('coverage', () => {
  it('merges records and finds what they leave out', () => {
    const covered = mergeRanges([
      { start: 10, end: 20 },
      { start: 0, end: 5 },
      { start: 20, end: 30 },
      { start: 40, end: 40 },
    ]);
    expect(covered).toEqual([
      { start: 0, end: 5 },
      { start: 10, end: 30 },
    ]);
    expect(uncovered({ start: 0, end: 50 }, covered)).toEqual([
      { start: 5, end: 10 },
      { start: 30, end: 50 },
    ]);
    expect(uncovered({ start: 10, end: 30 }, covered)).toEqual([]);
    expect(uncovered({ start: 12, end: 35 }, covered)).toEqual([{ start: 30, end: 35 }]);
    expect(uncovered({ start: 0, end: 10 }, [])).toEqual([{ start: 0, end: 10 }]);
  });

  it('calls a range fresh while its end is within 5 minutes of now', () => {
    expect(isFresh({ start: 0, end: T0 }, T0 + 4 * MIN)).toBe(true);
    expect(isFresh({ start: 0, end: T0 }, T0 + 5 * MIN)).toBe(false);
  });
});

describe('pieces', () => {
  const hosts = (n: number, label = 'Hostname'): Unit[] => Array.from({ length: n }, (_, i) => ({ label, value: `gpu-${String(i).padStart(3, '0')}.example` }));
  const missingOf = (units: Unit[], ranges: TimeRange[]): Map<string, { unit: Unit; ranges: TimeRange[] }> =>
    new Map(units.map((unit) => [unitKey(unit), { unit, ranges }]));
  const cell = { start: T0, end: T0 + DAY };

  it('batches hosts so that a response stays within the point bound', () => {
    const pieces = cellPieces(missingOf(hosts(100), [cell]), MIN, 2 * 30, 900);
    // 2 GPUs × 30 families × 1440 points = 86,400 points a host: 5 hosts a query
    expect(pieces).toHaveLength(20);
    for (const p of pieces) expect(p.units.length * 2 * 30 * pointsIn(p, MIN)).toBeLessThanOrEqual(MAX_POINTS_PER_RESPONSE);
    expect(new Set(pieces.flatMap((p) => p.units.map((u) => u.value))).size).toBe(100);
  });

  it('keeps the selector under MAX_SELECTOR_CHARS however small the hosts', () => {
    const pieces = cellPieces(missingOf(hosts(2000), [cell]), MIN, 1, 900);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(pieceSelector([familiesMatcher(['DCGM_FI_DEV_GPU_TEMP'])], p).length).toBeLessThanOrEqual(MAX_SELECTOR_CHARS + 900);
  });

  it('cuts the range of a host too large for one response', () => {
    const pieces = cellPieces(missingOf(hosts(1), [cell]), MIN, 1000, 100);
    // 1000 series × 1440 points = 1.44 M points: three parts
    expect(pieces).toHaveLength(3);
    expect(pieces[0]!.start).toBe(T0);
    expect(pieces.at(-1)!.end).toBe(T0 + DAY);
    for (const [i, p] of pieces.entries()) if (i > 0) expect(p.start).toBe(pieces[i - 1]!.end);
  });

  it('groups units by label and by the ranges they miss; the unit without a host label goes alone', () => {
    const part = { start: T0 + DAY / 2, end: T0 + DAY };
    const missing = new Map([
      ...missingOf(hosts(3), [cell]),
      ...missingOf([{ label: 'hostname', value: 'new-style' }], [cell]),
      ...missingOf([{ label: 'Hostname', value: 'late' }], [part]),
      ...missingOf([{ label: null, value: null }], [cell]),
    ]);
    const pieces = cellPieces(missing, MIN, 16, 100);
    const shape = pieces.map((p) => [p.label, p.units.length, p.start]);
    expect(shape).toEqual([
      ['Hostname', 3, T0],
      ['hostname', 1, T0],
      [null, 1, T0],
      ['Hostname', 1, T0 + DAY / 2],
    ]);
  });

  it('renders unit selectors that pick each series exactly once', () => {
    const base = [familiesMatcher(['DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_POWER_USAGE'])];
    const p = (label: string | null, values: string[]): Pick<Piece, 'label' | 'units'> => ({ label, units: values.map((value) => ({ label, value })) });
    expect(pieceSelector(base, p('Hostname', ['a.b', 'c']))).toBe('{Hostname=~"a\\\\.b|c",__name__=~"DCGM_FI_DEV_GPU_TEMP|DCGM_FI_DEV_POWER_USAGE"}');
    expect(pieceSelector(base, p('hostname', ['x']))).toBe('{Hostname="",__name__=~"DCGM_FI_DEV_GPU_TEMP|DCGM_FI_DEV_POWER_USAGE",hostname="x"}');
    expect(pieceSelector(base, { label: null, units: [{ label: null, value: null }] })).toBe(
      '{Hostname="",__name__=~"DCGM_FI_DEV_GPU_TEMP|DCGM_FI_DEV_POWER_USAGE",hostname="",instance=""}',
    );
    // the fake server's parser reads the escaped regex back as the host name
    const m = parseSelector(pieceSelector(base, p('Hostname', ['a.b', 'c']))).find((x) => x.label === 'Hostname')!;
    expect(m.value).toBe('a\\.b|c');
  });

  it('halves a piece: its hosts first, then its range; one host over one step cannot be cut', () => {
    const two: Piece = { ...cell, label: 'Hostname', units: hosts(2), seriesPerUnit: 10 };
    expect(halve(two, MIN)!.map((h) => h.units.length)).toEqual([1, 1]);
    const one: Piece = { ...cell, label: 'Hostname', units: hosts(1), seriesPerUnit: 10 };
    const [a, b] = halve(one, MIN)!;
    expect([a.start, a.end, b.start, b.end]).toEqual([T0, T0 + DAY / 2, T0 + DAY / 2, T0 + DAY]);
    expect(halve({ ...one, end: T0 + MIN }, MIN)).toBeNull();
  });

  it('splits a range into whole steps', () => {
    expect(splitRange({ start: 0, end: 7 * MIN }, MIN, 3).map((r) => pointsIn(r, MIN))).toEqual([3, 3, 1]);
    expect(splitRange({ start: 0, end: 2 * MIN }, MIN, 5)).toHaveLength(2);
  });
});
