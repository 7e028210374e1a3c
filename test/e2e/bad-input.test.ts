/**
 * End-to-end tests of issue 10, "one bad input stops everything" and the smaller cases around it:
 * under cron each of these inputs used to fail every later run until a person removed it. Each must
 * now become a rejected line or row (or a skipped source) with its reason while the rest of the run
 * goes on; the large inputs (2 MB labels, 10 MB lines) are generated here, not committed. Needs
 * `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, countRows, listLakeFiles, parseJson, queryLake, runCli, stackLines, tempDir, tempLake, type CliResult } from '../helpers/cli.js';
import { T0, gpus, instants, scrape } from './scrapes.js';

interface Summary {
  run_id: string;
  files: number;
  rows: number;
  rejected: number;
  skipped_files: number;
  rejects_file: string | null;
  sources: { file: string; format: string | null; status: string; samples: number; rejected: number; message?: string }[];
}

interface RejectRecord {
  file: string;
  line: number;
  reason: string;
  text: string;
}

const G2 = gpus(2);
const GOOD = scrape({ gpus: G2, times: instants(T0, 3), seed: 31 });
const U = G2[0]!.uuid;
const LABELS = `gpu="0",UUID="${U}",Hostname="node-1"`;

function writeInput(name: string, text: string | Buffer, dir = tempDir()): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function ingestJson(lake: string, args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<{ res: CliResult; s: Summary }> {
  const res = await runCli(['ingest', ...args, '--lake', lake, '--json'], opts);
  expect(res.code, res.stderr).toBe(0);
  expect(stackLines(res.stderr)).toEqual([]);
  return { res, s: parseJson<Summary>(res.stdout) };
}

function rejectsOf(lake: string, s: Summary): RejectRecord[] {
  expect(s.rejects_file).not.toBeNull();
  expect(listLakeFiles(lake)).toContain(`_ingest/rejects/${s.run_id}.jsonl`);
  return fs
    .readFileSync(s.rejects_file!, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RejectRecord);
}

/** A C0/C1 control character other than tab and newline: what a terminal would act on. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe.concurrent('one bad input does not stop the run', () => {
  it('a label value over 2 MB: that line is rejected, the other files of the folder ingested', async () => {
    const dir = tempDir();
    writeInput('good.prom', GOOD.text, dir);
    const big = `DCGM_FI_DEV_GPU_TEMP{${LABELS}} 40 ${T0 + 60_000}\nDCGM_FI_DEV_GPU_TEMP{${LABELS},pod="${'x'.repeat(2_200_000)}"} 41 ${T0 + 70_000}\n`;
    writeInput('big-label.prom', big, dir);
    const lake = tempLake();
    const { s } = await ingestJson(lake, [dir]);
    expect(s).toMatchObject({ files: 2, rows: 6 + 1, rejected: 1 });
    const [r] = rejectsOf(lake, s);
    expect(r).toMatchObject({ file: expect.stringMatching(/big-label\.prom$/), line: 2 });
    expect(r!.reason).toMatch(/longer than 64 KiB/);
    expect(r!.text.length).toBeLessThan(10_000);
  });

  it('an Xid gauge of 99999999999, a counter of -1e19 and a time in year 10000 (fixtures/prom/out-of-range-values.prom): rejected lines', async () => {
    const lake = tempLake();
    const { res, s } = await ingestJson(lake, [path.join(FIXTURES, 'prom', 'out-of-range-values.prom')]);
    expect(s).toMatchObject({ files: 1, rows: 2, rejected: 3 });
    const rejects = rejectsOf(lake, s);
    expect(rejects.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(rejects[0]!.reason).toMatch(/xid_last.*out of range/);
    expect(rejects[1]!.reason).toMatch(/ecc_sbe_volatile.*out of range/);
    expect(rejects[2]!.reason).toMatch(/timestamp.*year 10000/);
    expect(res.stderr).not.toMatch(/Conversion Error|JSON transform/);
    const rows = await queryLake(lake, 'SELECT epoch_ms(time) AS ms, gpu_temp, xid_last, ecc_sbe_volatile FROM {metrics} ORDER BY time');
    expect(rows).toEqual([
      { ms: T0, gpu_temp: 51, xid_last: null, ecc_sbe_volatile: null },
      { ms: T0 + 10_000, gpu_temp: 53, xid_last: 79, ecc_sbe_volatile: null },
    ]);
    const manifest = await queryLake(lake, 'SELECT time_max FROM {manifest}');
    expect(manifest).toEqual([{ time_max: '2026-01-01T00:00:10.000Z' }]);
  });

  it('an xid_last of 99999999999 in a CSV export: the row is rejected with its line, the others ingested', async () => {
    const lake = tempLake();
    const csv = `gpu_uuid,time,host,gpu_temp,xid_last\n${U},2026-01-01T00:00:00Z,node-1,50,\n${U},2026-01-01T00:00:10Z,node-1,51,99999999999\n${U},2026-01-01T00:00:20Z,node-1,52,79\n`;
    const { s } = await ingestJson(lake, [writeInput('export.csv', csv)]);
    expect(s).toMatchObject({ rows: 2, rejected: 1 });
    const [r] = rejectsOf(lake, s);
    expect(r).toMatchObject({ line: 3 });
    expect(r!.reason).toMatch(/xid_last.*out of range/);
    expect(await countRows(lake)).toBe(2);
  });

  it('a Prometheus JSON file of one line with a 2 MB label (metrics_other keeps labels): that sample is rejected, the others ingested', async () => {
    const lake = tempLake();
    const series = (name: string, pod: string, v: string) => ({
      metric: { __name__: name, UUID: U, Hostname: 'node-1', gpu: '0', pod },
      value: [T0 / 1000, v],
    });
    const result = [
      series('DCGM_FI_DEV_POWER_USAGE', 'a', '100'),
      series('DCGM_FI_DEV_ENC_UTIL', 'a', '1'),
      series('DCGM_FI_DEV_ENC_UTIL', 'x'.repeat(2_100_000), '2'),
    ];
    const { s } = await ingestJson(lake, [writeInput('query.json', JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }))]);
    expect(s).toMatchObject({ rows: 1, rejected: 1 });
    expect(s.sources[0]).toMatchObject({ format: 'prom-json', samples: 2 });
    const [r] = rejectsOf(lake, s);
    expect(r).toMatchObject({ line: 1, text: 'result[2].value' });
    expect(r!.reason).toMatch(/longer than 1 MB/);
  });

  it('an unreadable file in a folder is skipped and reported; the others are ingested', async (ctx) => {
    const dir = tempDir();
    writeInput('good.prom', GOOD.text, dir);
    const locked = writeInput('locked.prom', scrape({ gpus: G2, times: instants(T0 + 3_600_000, 2), seed: 32 }).text, dir);
    fs.chmodSync(locked, 0);
    // root reads a file whatever its mode: there the case is covered by src/lib/ingest/unreadable.test.ts
    let readable = true;
    try {
      fs.closeSync(fs.openSync(locked, 'r'));
    } catch {
      readable = false;
    }
    if (readable) ctx.skip();
    const lake = tempLake();
    const { res, s } = await ingestJson(lake, [dir]);
    expect(s).toMatchObject({ files: 1, rows: 6, skipped_files: 1 });
    expect(s.sources.find((x) => x.file.endsWith('locked.prom'))).toMatchObject({ status: 'unreadable', message: expect.stringMatching(/EACCES/) });
    expect(res.stderr).toMatch(/skipped .*locked\.prom: cannot read it/);
  });

  it.each([
    ['10 MB of junk', (): string => 'junk 0123456789 '.repeat(10_000_000 / 16)],
    ['a 300 KB label', (): string => `DCGM_FI_DEV_GPU_TEMP{${LABELS},pod="${'p'.repeat(300_000)}"} 40 ${T0 - 10_000}`],
  ])('a first line of %s: detected as exposition text by the lines after it; the long line rejected', async (_what, firstLine) => {
    const first = firstLine();
    const lake = tempLake();
    const { s } = await ingestJson(lake, [writeInput('long-first-line.prom', `${first}\n${GOOD.text}`)]);
    expect(s.sources[0]).toMatchObject({ format: 'prom', status: 'ingested', rejected: 1 });
    expect(s).toMatchObject({ rows: 6, rejected: 1 });
    const [r] = rejectsOf(lake, s);
    expect(r).toMatchObject({ line: 1, reason: expect.stringMatching(/longer than 64 KiB/) });
  });
});

describe.concurrent('assets import / failures import: bad rows are rejects, the rest is imported', () => {
  it('assets: an impossible date (2023-02-29, 2026-04-31) and a price of 1e99 are rejected by line', async () => {
    const lake = tempLake();
    const res = await runCli(['assets', 'import', path.join(FIXTURES, 'registry', 'assets-bad-values.csv'), '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const s = parseJson<{ imported: number; rejected: number; rejects: { line: number; reason: string }[] }>(res.stdout);
    expect(s).toMatchObject({ imported: 2, rejected: 3 });
    expect(s.rejects.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(s.rejects[0]!.reason).toMatch(/deployed_date.*2023-02-29.*not a date/);
    expect(s.rejects[1]!.reason).toMatch(/purchase_price/);
    expect(s.rejects[2]!.reason).toMatch(/warranty_expiry.*2026-04-31/);
    const rows = await queryLake(
      lake,
      `SELECT gpu_uuid, CAST(deployed_date AS VARCHAR) AS d, purchase_price AS p FROM read_parquet('${path.join(lake, 'assets', '*.parquet')}') ORDER BY 1`,
    );
    expect(rows.map((r) => [String(r.gpu_uuid).slice(-1), r.d, r.p])).toEqual([
      ['1', '2023-01-15', 30000],
      ['5', '2024-02-29', 31500],
    ]);
  });

  it('failures: 2026-02-30T10:00:00Z, hour 25 and an xid of 99999999999 are rejected, not stored as March 2', async () => {
    const lake = tempLake();
    const res = await runCli(['failures', 'import', path.join(FIXTURES, 'registry', 'failures-bad-values.csv'), '--lake', lake]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/rejected .*failures-bad-values\.csv:3: failed_at: "2026-02-30T10:00:00Z" is not/);
    expect(res.stderr).toMatch(/rejected .*:4: xid/);
    expect(res.stderr).toMatch(/rejected .*:5: failed_at/);
    expect(res.stderr).toMatch(/imported 2 failures/);
    const rows = await queryLake(
      lake,
      `SELECT strftime(failed_at, '%Y-%m-%dT%H:%M:%S') AS t, xid FROM read_parquet('${path.join(lake, 'failures', '*.parquet')}') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { t: '2024-02-29T21:59:59', xid: null },
      { t: '2026-01-10T08:30:00', xid: 79 },
    ]);
  });
});

describe.concurrent('the time given to an untimestamped source is part of its identity', () => {
  it('ingest - twice with the same bytes and a different --time ingests both; the same --time again adds nothing', async () => {
    const lake = tempLake();
    const untimed = scrape({ gpus: G2, times: [T0], seed: 33, timestamps: false }).text;
    const a = await ingestJson(lake, ['-', '--time', '2026-01-01T00:00:00Z'], { input: untimed });
    expect(a.s.rows).toBe(2);
    const b = await ingestJson(lake, ['-', '--time', '2026-01-01T00:05:00Z'], { input: untimed });
    expect(b.s).toMatchObject({ files: 1, rows: 2, skipped_files: 0 });
    const again = await ingestJson(lake, ['-', '--time', '2026-01-01T00:05:00Z'], { input: untimed });
    expect(again.s).toMatchObject({ files: 0, rows: 0, skipped_files: 1 });
    expect(await countRows(lake)).toBe(4);
    const manifest = await queryLake(lake, 'SELECT path, given_time FROM {manifest} ORDER BY given_time');
    expect(manifest).toEqual([
      { path: '-', given_time: '2026-01-01T00:00:00.000Z' },
      { path: '-', given_time: '2026-01-01T00:05:00.000Z' },
    ]);
  });

  it('a timestamped source stays the same source whatever --time is given', async () => {
    const lake = tempLake();
    const file = writeInput('timed.prom', GOOD.text);
    await ingestJson(lake, [file, '--time', '2026-01-01T00:00:00Z']);
    const again = await ingestJson(lake, [writeInput('copy.prom', GOOD.text), '--time', '2026-01-02T00:00:00Z']);
    expect(again.s).toMatchObject({ files: 0, rows: 0, skipped_files: 1 });
  });
});

describe.concurrent('smaller things', () => {
  it('a lake path that is a regular file: ingest and lake info exit 2, the file untouched', async () => {
    const file = writeInput('not-a-lake', 'hello\n');
    const ing = await runCli(['ingest', writeInput('a.prom', GOOD.text), '--lake', file]);
    expect(ing.code, ing.stderr).toBe(2);
    expect(ing.stderr).toMatch(/^Error: .*not-a-lake is a file, not a lake folder/m);
    const info = await runCli(['lake', 'info', '--lake', file]);
    expect(info.code, info.stderr).toBe(2);
    expect(info.stderr).toMatch(/is a file, not a lake folder/);
    for (const r of [ing, info]) expect(stackLines(r.stderr)).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe('hello\n');
  });

  it('score and compact on a folder that is not a lake: exit 2, nothing created in it', async () => {
    const dir = tempDir();
    writeInput('notes.txt', 'my files\n', dir);
    for (const args of [['score', '--since', '1d'], ['compact'], ['features', '--since', '1d']]) {
      const r = await runCli([...args, '--lake', dir]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/is not a gpuhealth lake/);
      expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    }
  });

  it('rejected lines with terminal escape sequences are shown escaped (fixtures/prom/terminal-escapes.prom)', async () => {
    const lake = tempLake();
    const { res, s } = await ingestJson(lake, [path.join(FIXTURES, 'prom', 'terminal-escapes.prom')]);
    expect(s).toMatchObject({ rows: 2, rejected: 1 });
    expect(res.stderr).toMatch(/terminal-escapes\.prom:3/);
    expect(res.stderr).not.toMatch(CONTROL);
    expect(res.stderr).toContain('\\x1b]0;pwned\\x07');
    // the rejects file keeps the line as it was
    expect(rejectsOf(lake, s)[0]!.text).toContain('\u001b]0;pwned\u0007');
  });

  it('escape sequences in an import reject and in an error message are shown escaped', async () => {
    const csv = writeInput('failures.csv', `gpu_uuid,failed_at,failure_type\n${U},2026-01-01T00:00:00Z,memory\n${U},2026-01-02T00:00:00Z,\u001b[2Jboom\n`);
    const imp = await runCli(['failures', 'import', csv, '--lake', tempLake()]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toContain('\\x1b[2Jboom');
    expect(imp.stderr).not.toMatch(CONTROL);
    const only = writeInput('only.csv', `gpu_uuid,failed_at,failure_type\n${U},2026-01-02T00:00:00Z,\u001b[2Jboom\n`);
    const err = await runCli(['failures', 'import', only, '--lake', tempLake()]);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^Error: nothing to import/m);
    expect(err.stderr).not.toMatch(CONTROL);
  });

  it('--format-in on a binary file: skipped as binary, no bytes of it on stderr, the path named once', async () => {
    const dir = tempDir();
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR\n\u001b[31m'), Buffer.alloc(256, 7)]);
    writeInput('logo.png', png, dir);
    for (const format of ['nvidia-smi', 'prom', 'csv']) {
      const r = await runCli(['ingest', path.join(dir, 'logo.png'), '--format-in', format, '--lake', tempLake()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr, format).not.toMatch(CONTROL);
      expect(r.stderr, format).toMatch(/logo\.png: binary file/);
      expect(r.stderr, format).not.toMatch(/logo\.png: \S*logo\.png/);
    }
    writeInput('good.prom', GOOD.text, dir);
    const both = await ingestJson(tempLake(), [dir, '--format-in', 'prom']);
    expect(both.s).toMatchObject({ files: 1, rows: 6, skipped_files: 1 });
  });

  it('a folder with no files: exit 0 with a note, no lake created; a path that does not exist: exit 2', async () => {
    const spool = path.join(tempDir(), 'spool');
    fs.mkdirSync(spool);
    const lake = tempLake();
    const empty = await runCli(['ingest', spool, '--lake', lake]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).toMatch(/no files to ingest in .*spool/);
    expect(fs.existsSync(lake)).toBe(false);
    const json = await runCli(['ingest', spool, '--lake', lake, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(parseJson<Summary>(json.stdout)).toMatchObject({ files: 0, rows: 0, sources: [] });
    const missing = await runCli(['ingest', path.join(spool, 'nope'), '--lake', lake]);
    expect(missing.code).toBe(2);
  });

  it('a glob over an empty spool folder, or a spool of one zero-byte file, exits 0; a glob whose folder is missing exits 2', async () => {
    const spool = path.join(tempDir(), 'spool');
    fs.mkdirSync(spool);
    const lake = tempLake();
    const glob = await runCli(['ingest', path.join(spool, '*.prom'), '--lake', lake]);
    expect(glob.code, glob.stderr).toBe(0);
    expect(fs.existsSync(lake)).toBe(false);
    fs.writeFileSync(path.join(spool, 'node-1_2026010100.prom'), '');
    const zero = await runCli(['ingest', path.join(spool, '*.prom'), '--lake', lake]);
    expect(zero.code, zero.stderr).toBe(0);
    expect(zero.stderr).toMatch(/empty file/);
    const missing = await runCli(['ingest', path.join(spool, 'nope', '*.prom'), '--lake', lake]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no files match .*is not a folder/);
  });

  it('--at more than a day past the newest sample is refused with a hint; --force-at scores it anyway', async () => {
    const lake = tempLake();
    await ingestJson(lake, [writeInput('a.prom', GOOD.text)]);
    const far = await runCli(['score', '--lake', lake, '--since', '7d', '--at', '2100-01-01T00:00:00Z']);
    expect(far.code, far.stderr).toBe(2);
    expect(far.stderr).toMatch(/--at 2100-01-01T00:00 is more than a day past the newest data \(2026-01-01\)/);
    expect(far.stderr).toMatch(/--force-at/);
    expect(listLakeFiles(lake).some((f) => f.startsWith('scores/'))).toBe(false);
    const near = await runCli(['score', '--lake', lake, '--since', '2d', '--at', '2026-01-02T12:00:00Z', '--json']);
    expect(near.code, near.stderr).toBe(0);
    const forced = await runCli(['score', '--lake', lake, '--since', '7d', '--at', '2026-01-05T00:00:00Z', '--force-at', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(listLakeFiles(lake).some((f) => f.startsWith('scores/date=2026-01-05/'))).toBe(true);
  });
});
