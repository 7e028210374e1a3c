/**
 * Values of `assets import` / `failures import` rows: checked strictly, so that a value DuckDB cannot
 * store (or would store as another day) is a per-row reject with its line instead of aborting the
 * import or being shifted silently.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/cli.js';
import { readRegistryCsv } from './import.js';
import { ASSETS_SPEC, FAILURES_SPEC } from './specs.js';

async function rowsOf(spec: typeof ASSETS_SPEC, text: string) {
  const file = path.join(tempDir(), 'in.csv');
  fs.writeFileSync(file, text);
  return readRegistryCsv(file, spec);
}

describe('registry values', () => {
  it.each([
    ['2024-02-29', '2024-02-29'],
    ['2023-02-28', '2023-02-28'],
    ['2023-02-29', null],
    ['2026-04-31', null],
    ['2026-13-01', null],
    ['2026-00-10', null],
    ['10000-01-01', null],
    ['0050-01-01', null],
    ['2026-1-5', null],
  ])('deployed_date %s', async (text, want) => {
    const r = await rowsOf(ASSETS_SPEC, `gpu_uuid,deployed_date\nGPU-0,2026-01-01\nGPU-1,${text}\n`);
    if (want === null) {
      expect(r.rows).toHaveLength(1);
      expect(r.rejects).toEqual([{ line: 3, reason: `deployed_date: "${text}" is not a date (YYYY-MM-DD)`, text: `GPU-1,${text}` }]);
    } else expect(r.rows[1]!.deployed_date).toBe(want);
  });

  it.each([
    ['2026-02-30T10:00:00Z', null],
    ['2026-01-12T25:00:00Z', null],
    ['2026-01-12T23:60:00Z', null],
    ['2026-01-12T23:59:60Z', null],
    ['2026-01-12T10:00:00+25:00', null],
    ['yesterday', null],
    ['2026-01-12', '2026-01-12T00:00:00.000Z'],
    ['2026-01-12 10:30', '2026-01-12T10:30:00.000Z'],
    ['2026-01-12T10:30:15.25Z', '2026-01-12T10:30:15.250Z'],
    ['2024-02-29T23:59:59+02:00', '2024-02-29T21:59:59.000Z'],
    ['2026-01-12T10:00:00-0530', '2026-01-12T15:30:00.000Z'],
  ])('failed_at %s', async (text, want) => {
    const r = await rowsOf(FAILURES_SPEC, `gpu_uuid,failed_at,failure_type\nGPU-0,2026-01-01T00:00:00Z,memory\nGPU-1,${text},memory\n`);
    if (want === null) {
      expect(r.rows).toHaveLength(1);
      expect(r.rejects[0]).toMatchObject({ line: 3, reason: `failed_at: "${text}" is not an ISO-8601 time` });
    } else expect(r.rows[1]!.failed_at).toBe(want);
  });

  it.each([
    ['79', 79],
    ['-1', null],
    ['2147483647', 2147483647],
    ['2147483648', null],
    ['99999999999', null],
    ['79.5', null],
  ])('xid %s', async (text, want) => {
    const r = await rowsOf(
      FAILURES_SPEC,
      `gpu_uuid,failed_at,failure_type,xid\nGPU-0,2026-01-01T00:00:00Z,memory,\nGPU-1,2026-01-01T00:00:00Z,memory,${text}\n`,
    );
    if (want === null) expect(r.rejects[0]).toMatchObject({ line: 3, reason: expect.stringMatching(/^xid: /) });
    else expect(r.rows[1]!.xid).toBe(want);
  });

  it.each([
    ['30000', 30000],
    ['"$31,500.50"', 31500.5],
    ['0', 0],
    ['-5', null],
    ['1e99', null],
    ['1e9', null],
    ['Infinity', null],
  ])('purchase_price %s', async (text, want) => {
    const r = await rowsOf(ASSETS_SPEC, `gpu_uuid,purchase_price\nGPU-0,\nGPU-1,${text}\n`);
    if (want === null) expect(r.rejects[0]).toMatchObject({ line: 3, reason: expect.stringMatching(/^purchase_price: /) });
    else expect(r.rows[1]!.purchase_price).toBe(want);
  });
});
