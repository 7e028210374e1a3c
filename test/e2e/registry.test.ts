/**
 * End-to-end tests of `assets import` and `failures import` past their bad values: the lot and
 * removed_date columns, dates no GPU can have (before 2000, a deployment, removal or failure still to
 * come) as rejects by line, and warnings (stderr and --json, exit 0) for an unknown header column, a
 * key twice in the file and failures whose serial no asset has. The old import took 1999 and next
 * year alike, ignored unknown columns without a word and kept the last of two rows silently. And a
 * re-import of some columns (`gpu_uuid,removed_date`) sets those and keeps the others: the old one
 * replaced the whole row, wiping deployed_date, purchase_price and the rest. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, queryLake, runCli, stackLines, tempDir, tempLake, type CliResult } from '../helpers/cli.js';

interface Warning {
  kind: string;
  message: string;
  [k: string]: unknown;
}

interface Summary {
  columns: string[];
  imported: number;
  replaced: number;
  total: number;
  rejected: number;
  rejects: { line: number; reason: string; text: string }[];
  warnings: Warning[];
}

const DAY_MS = 86_400_000;
/** A date a few days ahead of the clock: more than the day of slack the import allows. */
const IN_3_DAYS = new Date(Date.now() + 3 * DAY_MS).toISOString().slice(0, 10);
const U = (n: number): string => `GPU-7a1c2d3e-4f50-4a61-8b72-9c83d4e5f6${String(n).padStart(2, '0')}`;

function write(name: string, text: string): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, text);
  return file;
}

async function importJson(topic: 'assets' | 'failures', file: string, lake: string): Promise<{ res: CliResult; s: Summary }> {
  const res = await runCli([topic, 'import', file, '--lake', lake, '--json']);
  expect(res.code, res.stderr).toBe(0);
  expect(stackLines(res.stderr)).toEqual([]);
  return { res, s: parseJson<Summary>(res.stdout) };
}

const sqlPath = (p: string): string => `'${p.replace(/'/g, "''")}'`;

describe.concurrent('assets import', () => {
  it('stores lot and removed_date; rejects impossible dates by line; warns about an unknown column and a repeated GPU', async () => {
    const lake = tempLake();
    const file = write(
      'assets.csv',
      [
        'gpu_uuid,serial,deployed_date,warranty_expiry,lot,removed_date,deploy_date',
        `${U(1)},S-1,2024-01-10,2029-01-10,PO-2023-117,2026-03-01,2024-01-10`,
        `${U(2)},S-2,1999-12-31,2029-01-10,PO-2023-117,,`,
        `${U(3)},S-3,2024-01-10,2029-01-10,PO-2024-002,2023-12-01,`,
        `${U(4)},S-4,${IN_3_DAYS},2029-01-10,PO-2024-002,,`,
        `${U(5)},S-5,2024-01-10,2029-01-10,,${IN_3_DAYS},`,
        `${U(6)},S-6,2024-01-10,1970-01-01,,,`,
        `${U(7)},S-7a,2024-01-10,2029-01-10,,,`,
        `${U(7)},S-7b,2024-02-10,2029-01-10,PO-2024-002,,`,
      ].join('\n'),
    );
    const { res, s } = await importJson('assets', file, lake);
    expect(s).toMatchObject({ imported: 2, total: 2, rejected: 5 });
    expect(s.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'deployed_date: "1999-12-31" is before 2000-01-01'],
      [4, 'removed_date is before deployed_date'],
      [5, expect.stringMatching(new RegExp(`^deployed_date: "${IN_3_DAYS}" is more than a day in the future`))],
      [6, expect.stringMatching(new RegExp(`^removed_date: "${IN_3_DAYS}" is more than a day in the future`))],
      [7, 'warranty_expiry: "1970-01-01" is before 2000-01-01'],
    ]);
    expect(s.warnings).toEqual([
      expect.objectContaining({ kind: 'unknown_column', line: 1, column: 'deploy_date', suggestion: 'deployed_date' }),
      expect.objectContaining({ kind: 'duplicate_key', key: { gpu_uuid: U(7) }, lines: [8, 9], kept_line: 9 }),
    ]);
    expect(res.stderr).toMatch(/warning: .*assets\.csv:1: unknown column deploy_date \(did you mean deployed_date\?\): its values were ignored/);
    expect(res.stderr).toMatch(new RegExp(`warning: .*assets\\.csv: gpu_uuid ${U(7)} is on lines 8, 9: line 9 is kept`));
    const rows = await queryLake(
      lake,
      `SELECT gpu_uuid, serial, lot, CAST(removed_date AS VARCHAR) AS removed_date, CAST(deployed_date AS VARCHAR) AS deployed_date
       FROM read_parquet(${sqlPath(path.join(lake, 'assets', '*.parquet'))}) ORDER BY gpu_uuid`,
    );
    expect(rows).toEqual([
      { gpu_uuid: U(1), serial: 'S-1', lot: 'PO-2023-117', removed_date: '2026-03-01', deployed_date: '2024-01-10' },
      { gpu_uuid: U(7), serial: 'S-7b', lot: 'PO-2024-002', removed_date: null, deployed_date: '2024-02-10' },
    ]);
  });

  it('warnings are notes: on stderr without --json, exit 0, silenced by --quiet', async () => {
    const file = write('assets.csv', `gpu_uuid,serail\n${U(1)},S-1\n${U(1)},S-1\n`);
    const human = await runCli(['assets', 'import', file, '--lake', tempLake()]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/warning: .*unknown column serail \(did you mean serial\?\)/);
    expect(human.stderr).toMatch(/warning: .*is on lines 2, 3: line 3 is kept/);
    expect(human.stderr).toMatch(/imported 1 assets/);
    const quiet = await runCli(['assets', 'import', file, '--lake', tempLake(), '--quiet']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it('a lake whose assets file predates lot and removed_date: the import merges it, its GPUs read with both empty', async () => {
    const lake = tempLake();
    fs.mkdirSync(path.join(lake, 'assets'), { recursive: true });
    await queryLake(
      lake,
      `COPY (SELECT '${U(1)}' AS gpu_uuid, 'S-1' AS serial, 'NVIDIA H100 80GB HBM3' AS model, 'node-1' AS host, 'dc-1' AS datacenter, 'r1' AS rack,
               DATE '2023-05-01' AS deployed_date, DATE '2026-05-01' AS warranty_expiry, 30000.0 AS purchase_price)
       TO ${sqlPath(path.join(lake, 'assets', 'assets-old.parquet'))} (FORMAT parquet)`,
    );
    const { s } = await importJson('assets', write('assets.csv', `gpu_uuid,serial,lot\n${U(2)},S-2,PO-9\n`), lake);
    expect(s).toMatchObject({ imported: 1, replaced: 0, total: 2, rejected: 0, warnings: [] });
    const rows = await queryLake(
      lake,
      `SELECT gpu_uuid, serial, host, lot, removed_date FROM read_parquet(${sqlPath(path.join(lake, 'assets', '*.parquet'))}) ORDER BY gpu_uuid`,
    );
    expect(rows).toEqual([
      { gpu_uuid: U(1), serial: 'S-1', host: 'node-1', lot: null, removed_date: null },
      { gpu_uuid: U(2), serial: 'S-2', host: null, lot: 'PO-9', removed_date: null },
    ]);
    // the old file's serial counts for failures import too
    const f = await importJson('failures', write('failures.csv', 'serial,failed_at,failure_type\nS-1,2026-01-10T08:30:00Z,memory\n'), lake);
    expect(f.s.warnings).toEqual([]);
  });
});

/** Every column of the lake's assets (dates as text), by gpu_uuid. */
const assetRows = (lake: string) =>
  queryLake(
    lake,
    `SELECT gpu_uuid, serial, model, host, datacenter, rack, CAST(deployed_date AS VARCHAR) AS deployed_date,
            CAST(warranty_expiry AS VARCHAR) AS warranty_expiry, purchase_price, lot, CAST(removed_date AS VARCHAR) AS removed_date
     FROM read_parquet(${sqlPath(path.join(lake, 'assets', '*.parquet'))}) ORDER BY gpu_uuid`,
  );

describe.concurrent('assets import of some columns', () => {
  it('gpu_uuid,removed_date records removals and keeps every other column; an empty removed_date clears one', async () => {
    const lake = tempLake();
    const full = [
      'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price,lot,removed_date',
      `${U(1)},S-1,NVIDIA H100 80GB HBM3,node-1,dc-1,r1,2024-01-10,2029-01-10,30000,PO-1,`,
      `${U(2)},S-2,NVIDIA H100 80GB HBM3,node-1,dc-1,r1,2024-01-10,2029-01-10,30500,PO-1,`,
      `${U(3)},S-3,NVIDIA H100 80GB HBM3,node-2,dc-1,r2,2024-03-01,2029-03-01,31000,PO-2,`,
      `${U(4)},S-4,NVIDIA A100-SXM4-80GB,node-3,dc-2,r7,2022-06-01,2025-06-01,15000,PO-0,`,
    ].join('\n');
    await importJson('assets', write('assets.csv', full), lake);
    const before = await assetRows(lake);
    expect(before).toHaveLength(4);
    const set = (rows: typeof before, gpu: string, patch: Record<string, unknown>) => rows.map((r) => (r.gpu_uuid === gpu ? { ...r, ...patch } : r));

    const res = await runCli(['assets', 'import', write('removed.csv', `gpu_uuid,removed_date\n${U(2)},2026-03-01\n${U(4)},2026-05-15\n`), '--lake', lake]);
    expect(res.code, res.stderr).toBe(0);
    const removed = set(set(before, U(2), { removed_date: '2026-03-01' }), U(4), { removed_date: '2026-05-15' });
    expect(await assetRows(lake)).toEqual(removed);
    expect(res.stderr).toMatch(/imported 2 assets \(2 already there: removed_date set, other columns kept\), registry now 4; 0 rows rejected/);

    // U(2) is back in service: the empty cell clears its removed_date; U(4) stays removed
    const { s } = await importJson('assets', write('back.csv', `gpu_uuid,removed_date\n${U(2)},\n`), lake);
    expect(await assetRows(lake)).toEqual(set(removed, U(2), { removed_date: null }));
    expect(s).toMatchObject({ columns: ['gpu_uuid', 'removed_date'], imported: 1, replaced: 1, total: 4, rejected: 0 });

    // a removal dated before the deployment the lake holds is a reject, like one in a full file
    const early = await importJson('assets', write('early.csv', `gpu_uuid,removed_date\n${U(3)},2024-02-01\n${U(1)},2026-04-01\n`), lake);
    expect(early.s.rejects.map((r) => [r.line, r.reason])).toEqual([[2, "removed_date is before deployed_date (the lake's deployed_date 2024-03-01)"]]);
    expect((await assetRows(lake)).map((r) => [r.gpu_uuid, r.removed_date, r.purchase_price])).toEqual([
      [U(1), '2026-04-01', 30000],
      [U(2), null, 30500],
      [U(3), null, 31000],
      [U(4), '2026-05-15', 15000],
    ]);
  });
});

describe.concurrent('failures import', () => {
  it('a later file with description and no xid keeps the stored xid', async () => {
    const lake = tempLake();
    const failures = `SELECT gpu_uuid, serial, failure_type, xid, description FROM read_parquet(${sqlPath(path.join(lake, 'failures', '*.parquet'))}) ORDER BY gpu_uuid`;
    await importJson(
      'failures',
      write(
        'failures.csv',
        `gpu_uuid,serial,failed_at,failure_type,xid,description\n${U(1)},S-1,2026-01-10T08:30:00Z,memory,48,\n${U(2)},S-2,2026-02-10T08:30:00Z,power,79,PSU\n`,
      ),
      lake,
    );
    const { s } = await importJson(
      'failures',
      write('rma.csv', `gpu_uuid,serial,failed_at,failure_type,description\n${U(1)},S-1,2026-01-10 09:30:00+01:00,memory,RMA 77: row remap failed\n`),
      lake,
    );
    expect(await queryLake(lake, failures)).toEqual([
      { gpu_uuid: U(1), serial: 'S-1', failure_type: 'memory', xid: 48, description: 'RMA 77: row remap failed' },
      { gpu_uuid: U(2), serial: 'S-2', failure_type: 'power', xid: 79, description: 'PSU' },
    ]);
    expect(s).toMatchObject({ imported: 1, replaced: 1, total: 2, rejected: 0 });
  });

  it('rejects a failed_at before 2000 or more than a day ahead; warns about a failure twice in the file', async () => {
    const lake = tempLake();
    const ahead = new Date(Date.now() + 2 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const file = write(
      'failures.csv',
      [
        'gpu_uuid,serial,failed_at,failure_type,xid',
        `${U(1)},,2026-01-10T08:30:00Z,memory,79`,
        `${U(2)},,1999-12-31T23:00:00Z,memory,`,
        `${U(3)},,${ahead},thermal,`,
        `${U(1)},,2026-01-10 10:30:00+02:00,memory,48`,
      ].join('\n'),
    );
    const { res, s } = await importJson('failures', file, lake);
    expect(s).toMatchObject({ imported: 1, total: 1, rejected: 2 });
    expect(s.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'failed_at: "1999-12-31T23:00:00Z" is before 2000-01-01'],
      [4, expect.stringMatching(/^failed_at: ".*" is more than a day in the future \(now is /)],
    ]);
    expect(s.warnings).toEqual([expect.objectContaining({ kind: 'duplicate_key', lines: [2, 5], kept_line: 5 })]);
    expect(res.stderr).toMatch(/rejected .*failures\.csv:4: failed_at: .* is more than a day in the future/);
    const rows = await queryLake(lake, `SELECT xid FROM read_parquet(${sqlPath(path.join(lake, 'failures', '*.parquet'))})`);
    expect(rows).toEqual([{ xid: 48 }]);
  });

  it('failures named by a serial no asset has: stored, with a warning naming how many and the first serials', async () => {
    const lake = tempLake();
    await importJson('assets', write('assets.csv', `gpu_uuid,serial\n${U(1)},S-1\n`), lake);
    const lines = ['gpu_uuid,serial,failed_at,failure_type', ',S-1,2026-01-01T00:00:00Z,memory'];
    for (let i = 0; i < 8; i++) lines.push(`,X-${i},2026-01-0${i + 2}T00:00:00Z,power`);
    lines.push(',X-0,2026-02-01T00:00:00Z,power');
    const { res, s } = await importJson('failures', write('failures.csv', lines.join('\n')), lake);
    expect(s).toMatchObject({ imported: 10, total: 10, rejected: 0 });
    expect(s.warnings).toEqual([expect.objectContaining({ kind: 'unmatched_serial', count: 9, serials: ['X-0', 'X-1', 'X-2', 'X-3', 'X-4'] })]);
    expect(res.stderr).toMatch(
      /warning: .*failures\.csv: 9 failures name only a serial \(X-0, X-1, X-2, X-3, X-4 and 3 more\) that no asset in the lake has: they are stored/,
    );
    const n = await queryLake(lake, `SELECT count(*) AS n FROM read_parquet(${sqlPath(path.join(lake, 'failures', '*.parquet'))}) WHERE serial LIKE 'X-%'`);
    expect(n).toEqual([{ n: 9 }]);
  });
});

describe.concurrent('--help', () => {
  it.each([
    [
      'assets',
      [
        /lot: purchase lot or batch/,
        /removed_date: YYYY-MM-DD the GPU left service without failing/,
        /before 2000-01-01/,
        /last line kept/,
        /keeps its other columns: a file of gpu_uuid,removed_date records removals/,
        /An empty cell of a column the header has sets it empty \(NULL\): that is how a removed_date is cleared/,
      ],
    ],
    [
      'failures',
      [
        /failed_at: ISO-8601/,
        /before 2000-01-01 or more than a day in the future/,
        /serial that no asset in the lake has/,
        /keeps its other columns \(a file without xid leaves the stored xids as they are\)/,
      ],
    ],
  ] as const)('%s import documents the columns and the rules', async (topic, wants) => {
    const r = await runCli([topic, 'import', '--help']);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const w of wants) expect(text).toMatch(w);
  });
});
