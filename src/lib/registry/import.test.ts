/**
 * Values of `assets import` / `failures import` rows: checked strictly, so that a value DuckDB cannot
 * store (or would store as another day) is a per-row reject with its line instead of aborting the
 * import or being shifted silently; dates no GPU can have are rejects too. What is imported but looks
 * wrong (an unknown header column, a key twice in the file, a serial no asset has) is a warning.
 * A re-import of some columns sets those and keeps the lake's others (the old merge replaced rows whole).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/cli.js';
import { withDb } from '../db/duckdb.js';
import { lakeLayout } from '../lake/layout.js';
import { createLakeViews } from '../sql/lake-views.js';
import { closestColumn, duplicateKeys, importSummaryLine, importTable, readRegistryCsv } from './import.js';
import { ASSETS_SPEC, FAILURES_SPEC } from './specs.js';

/** The clock of these tests: dates up to a day after it are in the past enough. */
const NOW = Date.UTC(2026, 5, 15, 12);

async function rowsOf(spec: typeof ASSETS_SPEC, text: string, nowMs = NOW) {
  const file = path.join(tempDir(), 'in.csv');
  fs.writeFileSync(file, text);
  return readRegistryCsv(file, spec, { nowMs });
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

describe('lot and removed_date (assets)', () => {
  it('are read when the header has them, NULL when it does not', async () => {
    const r = await rowsOf(ASSETS_SPEC, 'gpu_uuid,deployed_date,lot,removed_date\nGPU-0,2024-01-10,PO-2023-117,2026-03-01\nGPU-1,2024-01-10,,\n');
    expect(r.rejects).toEqual([]);
    expect(r.rows.map((x) => [x.lot, x.removed_date])).toEqual([
      ['PO-2023-117', '2026-03-01'],
      [null, null],
    ]);
    const old = await rowsOf(ASSETS_SPEC, 'gpu_uuid,serial,deployed_date\nGPU-0,S-1,2024-01-10\n');
    expect(old.warnings).toEqual([]);
    expect(old.rows[0]).toMatchObject({ serial: 'S-1', lot: null, removed_date: null });
  });

  it('a removed_date before deployed_date is a reject; the same day is not', async () => {
    const r = await rowsOf(ASSETS_SPEC, 'gpu_uuid,deployed_date,removed_date\nGPU-0,2024-01-10,2024-01-09\nGPU-1,2024-01-10,2024-01-10\nGPU-2,,2024-01-01\n');
    expect(r.rejects).toEqual([{ line: 2, reason: 'removed_date is before deployed_date', text: 'GPU-0,2024-01-10,2024-01-09' }]);
    expect(r.rows.map((x) => x.gpu_uuid)).toEqual(['GPU-1', 'GPU-2']);
  });
});

describe('dates no GPU can have', () => {
  it.each([
    ['deployed_date', '1999-12-31', /^deployed_date: "1999-12-31" is before 2000-01-01$/],
    ['deployed_date', '1970-01-01', /is before 2000-01-01/],
    ['warranty_expiry', '1900-01-01', /^warranty_expiry: "1900-01-01" is before 2000-01-01$/],
    ['removed_date', '1999-06-30', /^removed_date: "1999-06-30" is before 2000-01-01$/],
    ['deployed_date', '2026-06-17', /^deployed_date: "2026-06-17" is more than a day in the future \(now is 2026-06-15T12:00:00Z\)$/],
    ['removed_date', '2027-01-01', /^removed_date: "2027-01-01" is more than a day in the future/],
    ['deployed_date', '2000-01-01', null],
    ['deployed_date', '2026-06-16', null],
    ['removed_date', '2026-06-16', null],
    ['warranty_expiry', '2031-06-15', null],
  ])('%s %s', async (column, text, reason) => {
    const r = await rowsOf(ASSETS_SPEC, `gpu_uuid,${column}\nGPU-0,\nGPU-1,${text}\n`);
    if (reason === null) expect(r.rows[1]![column]).toBe(text);
    else {
      expect(r.rows).toHaveLength(1);
      expect(r.rejects).toEqual([{ line: 3, reason: expect.stringMatching(reason), text: `GPU-1,${text}` }]);
    }
  });

  it.each([
    ['1999-12-31T23:59:59Z', /^failed_at: "1999-12-31T23:59:59Z" is before 2000-01-01$/],
    ['2000-01-01T01:00:00+02:00', /is before 2000-01-01/],
    ['2000-01-01T00:00:00Z', null],
    ['2026-06-16T11:59:00Z', null],
    ['2026-06-16T12:01:00Z', /^failed_at: "2026-06-16T12:01:00Z" is more than a day in the future \(now is 2026-06-15T12:00:00Z\)$/],
    ['2026-06-16T14:00:00+05:00', null],
    ['2030-01-01', /more than a day in the future/],
  ])('failed_at %s', async (text, reason) => {
    const r = await rowsOf(FAILURES_SPEC, `gpu_uuid,failed_at,failure_type\nGPU-0,2026-01-01T00:00:00Z,memory\nGPU-1,${text},memory\n`);
    if (reason === null) expect(r.rows).toHaveLength(2);
    else expect(r.rejects).toEqual([{ line: 3, reason: expect.stringMatching(reason), text: `GPU-1,${text},memory` }]);
  });

  it('"now" is the one given: the same row is a reject a year earlier', async () => {
    const text = 'gpu_uuid,deployed_date\nGPU-0,2024-01-10\nGPU-1,2026-01-10\n';
    expect((await rowsOf(ASSETS_SPEC, text)).rejects).toEqual([]);
    const early = await rowsOf(ASSETS_SPEC, text, Date.UTC(2025, 5, 15));
    expect(early.rejects.map((x) => x.line)).toEqual([3]);
  });
});

describe('header columns the table does not know', () => {
  it.each([
    ['deploy_date', 'deployed_date'],
    ['Deployed Date', 'deployed_date'],
    ['deployed-date', 'deployed_date'],
    ['warranty_expiry_date', 'warranty_expiry'],
    ['rak', 'rack'],
    ['modle', 'model'],
    ['uuid', 'gpu_uuid'],
    ['serial_number', 'serial'],
    ['hostname', 'host'],
    ['batch', 'lot'],
    ['lot_number', 'lot'],
    ['removal_date', 'removed_date'],
    ['decommissioned_date', 'removed_date'],
    ['date', null],
    ['colour', null],
    ['', null],
  ])('assets: %s → %s', (name, want) => {
    expect(closestColumn(name, ASSETS_SPEC.fields)).toBe(want);
  });

  it.each([
    ['failure_date', 'failed_at'],
    ['failed', 'failed_at'],
    ['type', 'failure_type'],
    ['xid_code', 'xid'],
    ['notes', 'description'],
  ])('failures: %s → %s', (name, want) => {
    expect(closestColumn(name, FAILURES_SPEC.fields)).toBe(want);
  });

  it('are warnings naming the closest column, and their values are ignored', async () => {
    const r = await rowsOf(ASSETS_SPEC, 'gpu_uuid,deploy_date,colour,serial,serial,\nGPU-0,2024-01-10,red,S-1,S-2,x\n');
    expect(r.rows).toEqual([expect.objectContaining({ gpu_uuid: 'GPU-0', deployed_date: null, serial: 'S-1' })]);
    expect(r.warnings).toEqual([
      {
        kind: 'unknown_column',
        line: 1,
        column: 'deploy_date',
        suggestion: 'deployed_date',
        message: 'unknown column deploy_date (did you mean deployed_date?): its values were ignored',
      },
      { kind: 'unknown_column', line: 1, column: 'colour', suggestion: null, message: 'unknown column colour: its values were ignored' },
      { kind: 'repeated_column', line: 1, column: 'serial', message: 'column serial appears twice in the header; only the first (column 4) is read' },
      { kind: 'unknown_column', line: 1, column: '', suggestion: null, message: 'column 6 has no name: its values were ignored' },
    ]);
  });

  it('a required column misspelt: the error says which column to rename', async () => {
    await expect(rowsOf(FAILURES_SPEC, 'gpu_uuid,failure_date,failure_type\nGPU-0,2026-01-01,memory\n')).rejects.toMatchObject({
      message: expect.stringMatching(/header lacks failed_at$/),
      suggestions: ['rename the column failure_date to failed_at', expect.stringMatching(/^the header is: /)],
    });
    await expect(rowsOf(FAILURES_SPEC, 'gpu_uid,failed_at,failure_type\nGPU-0,2026-01-01,memory\n')).rejects.toMatchObject({
      message: expect.stringMatching(/nothing to import .*gpu_uuid or serial is required/),
      suggestions: ['rename the column gpu_uid to gpu_uuid'],
    });
  });
});

describe('a key on several lines of one file', () => {
  it('assets: one warning per repeated gpu_uuid, with its lines and the last one kept', async () => {
    const r = await rowsOf(ASSETS_SPEC, 'gpu_uuid,serial\nGPU-0,S-1\nGPU-1,S-2\nGPU-0,S-3\nGPU-0,S-4\nGPU-2,S-5\n');
    expect(duplicateKeys(ASSETS_SPEC, r.rows, r.lines)).toEqual([
      {
        kind: 'duplicate_key',
        key: { gpu_uuid: 'GPU-0' },
        lines: [2, 4, 5],
        kept_line: 5,
        message: 'gpu_uuid GPU-0 is on lines 2, 4, 5: line 5 is kept (the last row of a key wins)',
      },
    ]);
    // a row that could not be stored is not the one kept
    expect(duplicateKeys(ASSETS_SPEC, r.rows, r.lines, new Set([3]))[0]).toMatchObject({ lines: [2, 4], kept_line: 4 });
  });

  it('failures: the same GPU at the same instant (written two ways) is one key; another instant is not', async () => {
    const r = await rowsOf(
      FAILURES_SPEC,
      'gpu_uuid,serial,failed_at,failure_type\nGPU-0,,2026-01-10T08:30:00Z,memory\nGPU-0,,2026-01-10 10:30+02:00,thermal\nGPU-0,,2026-01-11T08:30:00Z,memory\n,S-9,2026-01-10T08:30:00Z,power\n,S-9,2026-01-10T08:30:00Z,power\n',
    );
    expect(duplicateKeys(FAILURES_SPEC, r.rows, r.lines).map((w) => w.message)).toEqual([
      'gpu_uuid GPU-0, failed_at 2026-01-10T08:30:00.000Z is on lines 2, 3: line 3 is kept (the last row of a key wins)',
      'serial S-9, failed_at 2026-01-10T08:30:00.000Z is on lines 5, 6: line 6 is kept (the last row of a key wins)',
    ]);
  });
});

describe('importTable into a lake', () => {
  function write(dir: string, name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it('the last row of a repeated key is the one stored', async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    const s = await importTable(lake, write(dir, 'a.csv', 'gpu_uuid,lot\nGPU-0,L1\nGPU-1,L2\nGPU-0,L3\n'), ASSETS_SPEC, { nowMs: NOW });
    expect(s).toMatchObject({ imported: 2, total: 2, rejected: 0 });
    expect(s.warnings).toEqual([expect.objectContaining({ kind: 'duplicate_key', lines: [2, 4], kept_line: 4 })]);
    const rows = await withDb(async (db) => {
      await createLakeViews(db, lakeLayout(lake));
      return db.query('assets', 'SELECT gpu_uuid, lot FROM assets ORDER BY gpu_uuid');
    });
    expect(rows).toEqual([
      { gpu_uuid: 'GPU-0', lot: 'L3' },
      { gpu_uuid: 'GPU-1', lot: 'L2' },
    ]);
  });

  it('an assets file written before lot and removed_date: merged and read with both NULL', async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    fs.mkdirSync(path.join(lake, 'assets'), { recursive: true });
    const old = path.join(lake, 'assets', 'assets-old.parquet');
    await withDb((db) =>
      db.exec(
        'old assets',
        `COPY (SELECT 'GPU-0' AS gpu_uuid, 'S-0' AS serial, CAST(NULL AS VARCHAR) AS model, CAST(NULL AS VARCHAR) AS host, CAST(NULL AS VARCHAR) AS datacenter,
           CAST(NULL AS VARCHAR) AS rack, DATE '2024-01-10' AS deployed_date, CAST(NULL AS DATE) AS warranty_expiry, 30000.0 AS purchase_price)
         TO '${old.replace(/'/g, "''")}' (FORMAT parquet)`,
      ),
    );
    const view = async () =>
      withDb(async (db) => {
        await createLakeViews(db, lakeLayout(lake));
        return db.query('assets', 'SELECT gpu_uuid, serial, lot, CAST(removed_date AS VARCHAR) AS removed_date FROM assets ORDER BY gpu_uuid');
      });
    expect(await view()).toEqual([{ gpu_uuid: 'GPU-0', serial: 'S-0', lot: null, removed_date: null }]);
    const s = await importTable(lake, write(dir, 'a.csv', 'gpu_uuid,deployed_date,lot,removed_date\nGPU-1,2024-02-01,L7,2026-05-01\n'), ASSETS_SPEC, {
      nowMs: NOW,
    });
    expect(s).toMatchObject({ imported: 1, replaced: 0, total: 2 });
    expect(await view()).toEqual([
      { gpu_uuid: 'GPU-0', serial: 'S-0', lot: null, removed_date: null },
      { gpu_uuid: 'GPU-1', serial: null, lot: 'L7', removed_date: '2026-05-01' },
    ]);
  });

  it('failures whose serial no asset has: stored, and one warning with their count and first serials', async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    const failures =
      'gpu_uuid,serial,failed_at,failure_type\n,S-0,2026-01-01T00:00:00Z,memory\n,S-9,2026-01-02T00:00:00Z,memory\n,S-8,2026-01-03T00:00:00Z,power\n,S-9,2026-01-04T00:00:00Z,memory\nGPU-5,S-7,2026-01-05T00:00:00Z,other\n';
    const before = await importTable(lake, write(dir, 'f.csv', failures), FAILURES_SPEC, { nowMs: NOW });
    expect(before.warnings).toEqual([
      {
        kind: 'unmatched_serial',
        count: 4,
        serials: ['S-0', 'S-9', 'S-8'],
        message:
          '4 failures name only a serial (S-0, S-9, S-8) that no asset in the lake has (the lake has no asset registry yet): they are stored, and count for a GPU once gpuhealth assets import brings those serials',
      },
    ]);
    expect(before.total).toBe(5);
    await importTable(lake, write(dir, 'a.csv', 'gpu_uuid,serial\nGPU-0,S-0\nGPU-9,S-9\n'), ASSETS_SPEC, { nowMs: NOW });
    const after = await importTable(lake, write(dir, 'f.csv', failures), FAILURES_SPEC, { nowMs: NOW });
    expect(after.warnings).toEqual([
      expect.objectContaining({
        kind: 'unmatched_serial',
        count: 1,
        serials: ['S-8'],
        message: expect.stringMatching(/^1 failure names only a serial \(S-8\) that no asset in the lake has: it is stored/),
      }),
    ]);
    expect(after).toMatchObject({ total: 5, replaced: 5 });
  });

  /** The lake's assets (dates as text), by gpu_uuid. */
  const assetsOf = (lake: string) =>
    withDb(async (db) => {
      await createLakeViews(db, lakeLayout(lake));
      return db.query(
        'assets',
        `SELECT gpu_uuid, serial, model, host, datacenter, rack, CAST(deployed_date AS VARCHAR) AS deployed_date,
                CAST(warranty_expiry AS VARCHAR) AS warranty_expiry, purchase_price, lot, CAST(removed_date AS VARCHAR) AS removed_date
         FROM assets ORDER BY gpu_uuid`,
      );
    });

  const FULL_ASSETS = [
    'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price,lot,removed_date',
    'GPU-0,S-0,H100,node-1,dc-1,r1,2024-01-10,2029-01-10,30000,L1,',
    'GPU-1,S-1,H100,node-1,dc-1,r1,2024-01-10,2029-01-10,31000,L1,',
    'GPU-2,S-2,H100,node-2,dc-1,r2,2024-02-10,2029-02-10,32000,L2,',
    'GPU-3,S-3,A100,node-3,dc-2,r3,2023-05-01,2026-05-01,15000,L3,2026-01-15',
  ].join('\n');

  it('a file of some columns sets those for the GPUs it names and keeps the rest; an empty cell clears', async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    await importTable(lake, write(dir, 'full.csv', FULL_ASSETS), ASSETS_SPEC, { nowMs: NOW });
    const before = await assetsOf(lake);
    expect(before).toHaveLength(4);

    const removals = await importTable(lake, write(dir, 'removed.csv', 'gpu_uuid,removed_date\nGPU-1,2026-03-01\nGPU-2,2026-04-01\n'), ASSETS_SPEC, {
      nowMs: NOW,
    });
    const set = (rows: typeof before, gpu: string, patch: Record<string, unknown>) => rows.map((r) => (r.gpu_uuid === gpu ? { ...r, ...patch } : r));
    const removed = set(set(before, 'GPU-1', { removed_date: '2026-03-01' }), 'GPU-2', { removed_date: '2026-04-01' });
    expect(await assetsOf(lake)).toEqual(removed);
    expect(removals).toMatchObject({ columns: ['gpu_uuid', 'removed_date'], imported: 2, replaced: 2, total: 4, rejected: 0, warnings: [] });
    expect(importSummaryLine(removals, ASSETS_SPEC, { rows: 'assets', table: 'registry' })).toBe(
      'imported 2 assets (2 already there: removed_date set, other columns kept), registry now 4; 0 rows rejected',
    );

    // an empty cell of a column the header has is NULL: GPU-1 is back in service, GPU-2 stays removed
    await importTable(lake, write(dir, 'back.csv', 'gpu_uuid,removed_date\nGPU-1,\n'), ASSETS_SPEC, { nowMs: NOW });
    expect(await assetsOf(lake)).toEqual(set(removed, 'GPU-1', { removed_date: null }));

    // lots for two GPUs, one of them new: the new one has the file's columns and nothing else
    const lots = await importTable(lake, write(dir, 'lots.csv', 'gpu_uuid,lot\nGPU-3,L9\nGPU-9,L9\n'), ASSETS_SPEC, { nowMs: NOW });
    const after = await assetsOf(lake);
    expect(after.slice(0, 4)).toEqual(set(set(removed, 'GPU-1', { removed_date: null }), 'GPU-3', { lot: 'L9' }));
    expect(lots).toMatchObject({ imported: 2, replaced: 1, total: 5 });
    expect(after[4]).toEqual({
      gpu_uuid: 'GPU-9',
      serial: null,
      model: null,
      host: null,
      datacenter: null,
      rack: null,
      deployed_date: null,
      warranty_expiry: null,
      purchase_price: null,
      lot: 'L9',
      removed_date: null,
    });

    // a file of every column still sets every column: empty cells clear them
    const whole = await importTable(
      lake,
      write(dir, 'again.csv', 'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price,lot,removed_date\nGPU-3,S-3,,,,,,,,,\n'),
      ASSETS_SPEC,
      { nowMs: NOW },
    );
    expect((await assetsOf(lake))[3]).toMatchObject({ gpu_uuid: 'GPU-3', serial: 'S-3', model: null, deployed_date: null, purchase_price: null, lot: null });
    expect(importSummaryLine(whole, ASSETS_SPEC, { rows: 'assets', table: 'registry' })).toBe(
      'imported 1 assets (1 replaced), registry now 5; 0 rows rejected',
    );
  });

  it("a removed_date before the lake's deployed_date is a reject, checked on the merged row", async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    await importTable(lake, write(dir, 'full.csv', FULL_ASSETS), ASSETS_SPEC, { nowMs: NOW });
    const before = await assetsOf(lake);
    const s = await importTable(lake, write(dir, 'removed.csv', 'gpu_uuid,removed_date\nGPU-0,2024-01-09\nGPU-1,2024-01-10\n'), ASSETS_SPEC, {
      nowMs: NOW,
    });
    expect(s).toMatchObject({ imported: 1, replaced: 1, total: 4, rejected: 1 });
    expect(s.rejects).toEqual([{ line: 2, reason: "removed_date is before deployed_date (the lake's deployed_date 2024-01-10)", text: 'GPU-0,2024-01-09' }]);
    const after = await assetsOf(lake);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]).toEqual({ ...before[1], removed_date: '2024-01-10' });
    // every row refused: nothing to import, and the lake is as it was
    await expect(importTable(lake, write(dir, 'bad.csv', 'gpu_uuid,removed_date\nGPU-0,2024-01-09\n'), ASSETS_SPEC, { nowMs: NOW })).rejects.toMatchObject({
      message: expect.stringMatching(/^nothing to import: no row could be stored \(first: removed_date is before deployed_date/),
    });
    expect(await assetsOf(lake)).toEqual(after);
  });

  it('failures: a later file of description keeps the xid; an empty xid clears it; a file without serial matches the failures stored without one', async () => {
    const dir = tempDir();
    const lake = path.join(dir, 'lake');
    const failuresOf = () =>
      withDb(async (db) => {
        await createLakeViews(db, lakeLayout(lake));
        return db.query('failures', 'SELECT gpu_uuid, serial, failure_type, xid, description FROM failures ORDER BY gpu_uuid, serial');
      });
    await importTable(
      lake,
      write(
        dir,
        'f.csv',
        'gpu_uuid,serial,failed_at,failure_type,xid,description\nGPU-0,,2026-01-10T08:30:00Z,memory,79,fell off the bus\nGPU-1,S-1,2026-02-01T00:00:00Z,thermal,48,ECC DBE\n',
      ),
      FAILURES_SPEC,
      { nowMs: NOW },
    );
    const notes = await importTable(
      lake,
      write(dir, 'notes.csv', 'gpu_uuid,serial,failed_at,failure_type,description\nGPU-1,S-1,2026-02-01T00:00:00Z,memory,RMA 1234: HBM\n'),
      FAILURES_SPEC,
      { nowMs: NOW },
    );
    expect(await failuresOf()).toEqual([
      { gpu_uuid: 'GPU-0', serial: null, failure_type: 'memory', xid: 79, description: 'fell off the bus' },
      { gpu_uuid: 'GPU-1', serial: 'S-1', failure_type: 'memory', xid: 48, description: 'RMA 1234: HBM' },
    ]);
    expect(notes).toMatchObject({ columns: ['gpu_uuid', 'serial', 'failed_at', 'failure_type', 'description'], imported: 1, replaced: 1, total: 2 });
    // no serial column: the key's serial is NULL, which is GPU-0's failure (and not GPU-1's)
    const xids = await importTable(lake, write(dir, 'xid.csv', 'gpu_uuid,failed_at,failure_type,xid\nGPU-0,2026-01-10T08:30:00Z,memory,\n'), FAILURES_SPEC, {
      nowMs: NOW,
    });
    expect(await failuresOf()).toEqual([
      { gpu_uuid: 'GPU-0', serial: null, failure_type: 'memory', xid: null, description: 'fell off the bus' },
      { gpu_uuid: 'GPU-1', serial: 'S-1', failure_type: 'memory', xid: 48, description: 'RMA 1234: HBM' },
    ]);
    expect(xids).toMatchObject({ imported: 1, replaced: 1, total: 2 });
    expect(importSummaryLine(xids, FAILURES_SPEC, { rows: 'failures', table: 'history' })).toBe(
      'imported 1 failures (1 already there: failure_type, xid set, other columns kept), history now 2; 0 rows rejected',
    );
  });

  it('a clean assets import has no warnings', async () => {
    const dir = tempDir();
    const s = await importTable(path.join(dir, 'lake'), write(dir, 'a.csv', 'gpu_uuid,serial\nGPU-0,S-0\n'), ASSETS_SPEC, { nowMs: NOW });
    expect(s.warnings).toEqual([]);
  });
});
