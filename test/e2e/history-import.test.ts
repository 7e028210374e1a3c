/**
 * End-to-end tests of moving history into the lake (`gpuhealth ingest` of CSV exports spanning
 * months): the built CLI on throw-away lakes, read back with DuckDB. Needs `npm run build` first.
 *
 * A year of one GPU at hourly samples is only 8,784 rows but 366 date partitions; DuckDB's
 * partitioned write held a buffer per partition, so such a file ran out of memory at any limit
 * ingest would set (1 GB was not enough). Ingest now writes a group of dates at a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/lib/model/random.js';
import { countRows, listLakeFiles, parseJson, queryLake, runCli, tempDir, tempLake } from '../helpers/cli.js';

const HEADER = 'time,gpu_uuid,host,gpu_index,model,gpu_temp,memory_temp,power_usage,gpu_util,fb_used_mib,throttle_reasons,ecc_sbe_volatile';
const GPU = 'GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80';
/** 2024 is a leap year: 366 dates. */
const YEAR_START = Date.UTC(2024, 0, 1);
const HOURS = 366 * 24;

/** `2024-01-01 00:00:00+00`, as PostgreSQL's `\copy … CSV` prints a timestamptz. */
function pgTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+00`;
}

/** A seeded year of one GPU at hourly samples, as a TimescaleDB export in the lake's column names. */
function yearOfOneGpu(seed: number): { text: string; rows: number; tempSum: number } {
  const rnd = mulberry32(seed);
  const lines = [HEADER];
  let tempSum = 0;
  for (let h = 0; h < HOURS; h++) {
    const temp = 40 + Math.floor(rnd() * 40);
    tempSum += temp;
    const power = (100 + rnd() * 600).toFixed(3);
    lines.push(
      `${pgTime(YEAR_START + h * 3_600_000)},${GPU},node-a01,0,NVIDIA H100 80GB HBM3,${temp},${50 + Math.floor(rnd() * 20)},${power},${Math.floor(rnd() * 100)},${Math.floor(rnd() * 80000)},${rnd() < 0.1 ? 4 : 0},${Math.floor(h / 1000)}`,
    );
  }
  return { text: `${lines.join('\n')}\n`, rows: HOURS, tempSum };
}

interface Summary {
  rows: number;
  rejected: number;
  rejects_file: string | null;
  sources: { file: string; status: string; rejected: number }[];
}

describe('history import: a CSV export spanning a year', () => {
  it('ingests a year of one GPU within a 256 MB DuckDB limit: every row, one file per date and table', async () => {
    const year = yearOfOneGpu(1);
    const file = path.join(tempDir(), 'node-a01-2024.csv');
    fs.writeFileSync(file, year.text);
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake, '--json'], { env: { GPUHEALTH_MEMORY_LIMIT: '256MB' }, timeoutMs: 120_000 });
    expect(res.code, res.stderr).toBe(0);
    const s = parseJson<Summary>(res.stdout);
    expect(s.rows).toBe(year.rows);
    expect(s.rejected).toBe(0);
    expect(await countRows(lake)).toBe(year.rows);

    const files = listLakeFiles(lake);
    const perDate = (table: string): Map<string, number> => {
      const m = new Map<string, number>();
      for (const f of files.filter((x) => x.startsWith(`${table}/date=`))) {
        const date = f.slice(table.length + 6, table.length + 16);
        m.set(date, (m.get(date) ?? 0) + 1);
      }
      return m;
    };
    for (const table of ['metrics', 'rollups/hour']) {
      const dates = perDate(table);
      expect(dates.size, table).toBe(366);
      expect(
        [...dates.values()].every((n) => n === 1),
        table,
      ).toBe(true);
    }

    const [check] = await queryLake(
      lake,
      `SELECT count(DISTINCT date) AS dates, min(time) AS t0, max(time) AS t1, sum(gpu_temp) AS temp_sum,
              count(*) FILTER (WHERE CAST(time AS DATE) <> date) AS misplaced
       FROM {metrics}`,
    );
    expect(check).toEqual({ dates: 366, t0: '2024-01-01T00:00:00.000Z', t1: '2024-12-31T23:00:00.000Z', temp_sum: year.tempSum, misplaced: 0 });
  });

  it('a gzipped export with bad lines: the rest ingested, each reject with its file and line number', async () => {
    const year = yearOfOneGpu(2);
    const lines = year.text.trimEnd().split('\n');
    // line numbers are 1-based and count the header
    lines[1000 - 1] = lines[1000 - 1]!.replace(/^[^,]+/, '2024-02-30 12:00:00+00');
    lines[5000 - 1] = `${lines[5000 - 1]!},extra`;
    lines[8000 - 1] = lines[8000 - 1]!.replace(/,NVIDIA H100 80GB HBM3,\d+,/, ',NVIDIA H100 80GB HBM3,hot,');
    const dir = tempDir();
    const file = path.join(dir, 'node-a01-2024.csv.gz');
    fs.writeFileSync(file, zlib.gzipSync(`${lines.join('\n')}\n`));
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake, '--json'], { timeoutMs: 120_000 });
    expect(res.code, res.stderr).toBe(0);
    const s = parseJson<Summary>(res.stdout);
    expect(s.rows).toBe(year.rows - 3);
    expect(s.rejected).toBe(3);
    expect(await countRows(lake)).toBe(year.rows - 3);
    const rejects = fs
      .readFileSync(s.rejects_file!, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; line: number; reason: string });
    expect(rejects.map((r) => [path.basename(r.file), r.line, r.reason])).toEqual([
      ['node-a01-2024.csv.gz', 1000, 'time: cannot read "2024-02-30 12:00:00+00"'],
      ['node-a01-2024.csv.gz', 5000, 'expected 12 fields, found 13'],
      ['node-a01-2024.csv.gz', 8000, 'gpu_temp: "hot" is not a number'],
    ]);
  });
});
