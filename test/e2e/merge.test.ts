/**
 * End-to-end tests of the column-wise merge (issue 10, "data lost or mixed silently"): a row that
 * arrives again for a (gpu_uuid, time) the lake holds fills the columns the lake's row lacks, and the
 * lake file is rewritten in the run's commit; a conflicting value keeps the lake's and is counted. Under
 * the old first-row-wins rule each of these tests lost values for good. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLakeFiles, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { T0, gpus, instants, scrape, truncatedGzip } from './scrapes.js';

interface Summary {
  rows: number;
  rejected: number;
  duplicates_dropped: number;
  rows_filled: number;
  conflicting_values: Record<string, number>;
  sources: { file: string; status: string; samples: number; message?: string }[];
}

async function ingest(lake: string, args: string[]): Promise<{ s: Summary; stderr: string }> {
  const res = await runCli(['ingest', ...args, '--lake', lake, '--json']);
  expect(res.code, res.stderr).toBe(0);
  expect(stackLines(res.stderr)).toEqual([]);
  return { s: parseJson<Summary>(res.stdout), stderr: res.stderr };
}

/** An hour ago: files older than the pending-line window, as a finished spool file is. */
function age(file: string): void {
  const t = new Date(Date.now() - 3600_000);
  fs.utimesSync(file, t, t);
}

/**
 * Just written: within the pending-line window for as long as the test runs. The mtime is set a
 * minute ahead, so that a CLI slow to start on a loaded machine cannot age the file past the window.
 */
function fresh(file: string): void {
  const t = new Date(Date.now() + 60_000);
  fs.utimesSync(file, t, t);
}

/** What the lake holds per (GPU, time), sorted. */
async function lakeRows(lake: string) {
  return queryLake(lake, `SELECT gpu_uuid, epoch_ms(time) AS t, gpu_temp, power_usage, sm_active FROM {metrics} ORDER BY gpu_uuid, time`);
}

/** Every metrics file has its hourly rollup and no rollup is left without its file. */
function expectRollupsMatch(lake: string): void {
  const files = listLakeFiles(lake);
  const metrics = files.filter((f) => f.startsWith('metrics/')).map((f) => f.slice('metrics/'.length));
  const rollups = files.filter((f) => f.startsWith('rollups/hour/') && f.endsWith('.parquet')).map((f) => f.slice('rollups/hour/'.length));
  expect(rollups.sort()).toEqual(metrics.sort());
}

const G = gpus(4);
const FULL = scrape({ gpus: G, times: instants(T0, 12), seed: 5 });
const expected = FULL.samples
  .map((s) => ({ gpu_uuid: s.uuid, t: s.timeMs, gpu_temp: s.gpu_temp, power_usage: s.power_usage, sm_active: +(s.sm_active * 100).toFixed(4) }))
  .sort((a, b) => a.gpu_uuid.localeCompare(b.gpu_uuid) || a.t - b.t);

/** The lake's rows with sm_active rounded as `expected` has it. */
async function rounded(lake: string) {
  return (await lakeRows(lake)).map((r) => ({ ...r, sm_active: +(r.sm_active as number).toFixed(4) }));
}

describe.concurrent('a (gpu, time) row that arrives again fills what the lake lacks', () => {
  it('a spool file ingested half-written, then finished: every row complete, the rollups rebuilt', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-1.prom');
    const lines = FULL.text.split('\n');
    // cut in the middle of an instant's families: its last GPUs lack temperature or power
    fs.writeFileSync(file, `${lines.slice(0, Math.floor(lines.length * 0.55)).join('\n')}\n`);
    age(file);
    const lake = tempLake();
    await ingest(lake, [file]);
    const partial = await lakeRows(lake);
    expect(partial.some((r) => r.power_usage === null || r.sm_active === null)).toBe(true);

    fs.writeFileSync(file, FULL.text);
    age(file);
    const { s } = await ingest(lake, [file]);
    expect(s.rows_filled).toBeGreaterThan(0);
    expect(s.conflicting_values).toEqual({});
    expect(await rounded(lake)).toEqual(expected);
    expectRollupsMatch(lake);
    // the rollups hold the merged rows: every sample's power counted
    const [r] = await queryLake(lake, `SELECT sum(power_usage_n) AS n FROM read_parquet('${path.join(lake, 'rollups', 'hour', '*', '*.parquet')}')`);
    expect(r!.n).toBe(expected.length);

    // nothing more to do: the same file again adds nothing, and compact keeps every value
    const again = await ingest(lake, [file]);
    expect(again.s.rows + again.s.rows_filled).toBe(0);
    const c = await runCli(['compact', '--lake', lake]);
    expect(c.code, c.stderr).toBe(0);
    expect(await rounded(lake)).toEqual(expected);
  });

  it('a truncated .gz ingested before its full version', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-1.prom.gz');
    fs.writeFileSync(file, truncatedGzip(FULL.text, 0.6));
    age(file);
    const lake = tempLake();
    await ingest(lake, [file]);
    fs.writeFileSync(file, (await import('node:zlib')).gzipSync(FULL.text));
    age(file);
    const { s } = await ingest(lake, [file]);
    expect(s.rows_filled).toBeGreaterThan(0);
    expect(await rounded(lake)).toEqual(expected);
  });

  it('two exports split by metric families, ingested in two runs, make whole rows', async () => {
    const dir = tempDir();
    const lines = FULL.text.split('\n').filter((l) => l && !l.startsWith('#'));
    const temps = path.join(dir, 'temps.prom');
    const rest = path.join(dir, 'power-sm.prom');
    fs.writeFileSync(temps, `${lines.filter((l) => l.startsWith('DCGM_FI_DEV_GPU_TEMP')).join('\n')}\n`);
    fs.writeFileSync(rest, `${lines.filter((l) => !l.startsWith('DCGM_FI_DEV_GPU_TEMP')).join('\n')}\n`);
    const lake = tempLake();
    await ingest(lake, [temps]);
    const { s } = await ingest(lake, [rest]);
    expect(s).toMatchObject({ rows: 0, rows_filled: 48, duplicates_dropped: 0 });
    expect(await rounded(lake)).toEqual(expected);
    expectRollupsMatch(lake);
  });

  it('a conflicting value keeps the lake’s and is counted in a warning', async () => {
    const dir = tempDir();
    const first = path.join(dir, 'a.prom');
    fs.writeFileSync(first, FULL.text);
    const lake = tempLake();
    await ingest(lake, [first]);
    const g = G[1]!;
    const other = path.join(dir, 'b.prom');
    const line = FULL.text.split('\n').find((l) => l.startsWith('DCGM_FI_DEV_GPU_TEMP') && l.includes(g.uuid))!;
    fs.writeFileSync(other, `${line.replace(/} \d+ /, '} 99 ')}\n`);
    const { s, stderr } = await ingest(lake, [other]);
    expect(s).toMatchObject({ rows: 0, rows_filled: 0, duplicates_dropped: 1, conflicting_values: { gpu_temp: 1 } });
    expect(stderr).toMatch(/1 value\(s\) differ from the lake's .*gpu_temp 1.*kept the lake's/);
    expect(await rounded(lake)).toEqual(expected);
  });
});

describe.concurrent('a last line still being written', () => {
  it('is left for the next run, which reads it once it is finished', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-1.prom');
    const lines = FULL.text.trimEnd().split('\n');
    const last = lines.at(-1)!;
    // the writer has written all but the end of the last line, just now
    fs.writeFileSync(file, `${lines.slice(0, -1).join('\n')}\n${last.slice(0, 40)}`);
    fresh(file);
    const lake = tempLake();
    const { s, stderr } = await ingest(lake, [file]);
    expect(stderr).toMatch(/last line \(40 bytes\) is still being written; left for the next run/);
    const rows = await lakeRows(lake);
    expect(rows).toHaveLength(48);
    expect(rows.filter((r) => r.sm_active === null)).toHaveLength(1);
    expect(s.rejected).toBe(0);

    fs.appendFileSync(file, `${last.slice(40)}\n`);
    const next = await ingest(lake, [file]);
    expect(next.s.rows_filled).toBe(1);
    expect(await rounded(lake)).toEqual(expected);
  });

  it('a file of one line still being written is pending: exit 0, nothing ingested, no lake', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-1.prom');
    fs.writeFileSync(file, 'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-1"} 4');
    fresh(file);
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/pending .*still being written/);
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('an old file without a final newline is read whole', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-1.prom');
    fs.writeFileSync(file, FULL.text.trimEnd());
    age(file);
    const lake = tempLake();
    await ingest(lake, [file]);
    expect(await rounded(lake)).toEqual(expected);
  });
});
