/**
 * Ingest merges and writes exposition text a round at a time (ROUND_BYTES of text per round), so a
 * very large run stays within DuckDB's memory. A run split into rounds must leave the same lake as a
 * run in one round: the same rows, no duplicates across rounds, the same registry and rollups, and
 * line formats (last round) still mapped to GPUs that only an earlier round named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { queryLake, tempDir, tempLake } from '../../../test/helpers/cli.js';
import { T0, gpus, instants, scrape } from '../../../test/e2e/scrapes.js';
import { ingest } from './ingest.js';
import type { IngestSummary } from './summary.js';

const DIR = tempDir();
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

const HOUR = 3_600_000;
const G = gpus(2, 'node-1');
const write = (name: string, text: string): string => {
  const file = path.join(DIR, name);
  fs.writeFileSync(file, text);
  return file;
};
// One scrape cut in two files that share an instant (the same samples in both: an overlap across rounds).
const bc = scrape({ gpus: G, times: instants(T0 + HOUR, 5), seed: 2 }).text.split('\n');
const upTo = (lines: string[], keep: (t: number) => boolean): string =>
  `${lines.filter((l) => l.startsWith('#') || (l !== '' && keep(Number(l.split(' ').at(-1))))).join('\n')}\n`;
const inputs = [
  write('a.prom', scrape({ gpus: G, times: instants(T0, 3), seed: 1 }).text),
  write(
    'b.prom',
    upTo(bc, (t) => t <= T0 + HOUR + 20_000),
  ),
  write(
    'c.prom',
    upTo(bc, (t) => t >= T0 + HOUR + 20_000),
  ),
  write('d.prom', scrape({ gpus: gpus(1, 'node-2', 'bbbb'), times: instants(T0 + 2 * HOUR, 2), seed: 4 }).text),
  // pod-labelled families: other samples with labels (untimestamped: dated by --time below)
  path.resolve('fixtures/prom/k8s-pod-labels.prom'),
  // no UUIDs: mapped by host and PCI bus id to node-1's GPUs, which only the first file names
  write('smi.csv', 'timestamp, pci.bus_id, temperature.gpu\n2026/01/01 03:00:00.000, 00000000:19:00.0, 57\n'),
  write('kern.log', '2026-01-01T03:10:00,000000+00:00 NVRM: Xid (PCI:0000:18:00): 79, pid=1, GPU has fallen off the bus.\n'),
];

async function run(roundBytes?: number): Promise<{ lake: string; s: IngestSummary }> {
  const lake = tempLake();
  const s = await ingest({ lake, inputs, roundBytes, host: 'node-1', timeMs: T0 + 3 * HOUR });
  return { lake, s };
}

const dump = async (lake: string): Promise<Record<string, unknown>> => ({
  metrics: await queryLake(lake, 'SELECT * EXCLUDE (date) FROM {metrics} ORDER BY gpu_uuid, time'),
  other: await queryLake(lake, 'SELECT * EXCLUDE (date) FROM {metrics_other} ORDER BY gpu_uuid, time, metric'),
  xids: await queryLake(lake, 'SELECT * EXCLUDE (date) FROM {xid_events} ORDER BY time'),
  gpus: await queryLake(lake, `SELECT * FROM read_parquet('${lake}/gpus/*.parquet') ORDER BY gpu_uuid`),
  // a GPU-hour may have a rollup row per metrics file (features stitches them): compared summed
  rollups: await queryLake(
    lake,
    `SELECT gpu_uuid, hour, sum(samples) AS samples, min(first_time) AS first_time, max(last_time) AS last_time,
            sum(gpu_temp_n) AS gpu_temp_n, sum(gpu_temp_sum) AS gpu_temp_sum
     FROM read_parquet('${lake}/rollups/hour/*/*.parquet') GROUP BY ALL ORDER BY gpu_uuid, hour`,
  ),
});

describe('ingest in rounds', () => {
  it('leaves the same lake in one round and in one round per file', async () => {
    const one = await run();
    const many = await run(1); // every exposition file is a round of its own
    const counts = (s: IngestSummary) => [s.files, s.samples, s.rows, s.gpus, s.other_samples, s.xid_events, s.duplicates_dropped, s.time_min, s.time_max];
    expect(counts(many.s)).toEqual(counts(one.s));
    expect(one.s).toMatchObject({ rows: 2 * 3 + 2 * 5 + 2 + 2 + 1, xid_events: 1, duplicates_dropped: 0 }); // overlaps within a run are merged, not dropped
    const a = await dump(one.lake);
    const b = await dump(many.lake);
    expect(b).toEqual(a);
    // the line formats found node-1's GPUs although only the first round named them
    const smi = (a.metrics as Record<string, unknown>[]).find((r) => r.gpu_temp === 57);
    expect(smi?.gpu_uuid).toBe(G[1]!.uuid);
    expect((a.xids as Record<string, unknown>[])[0]!.gpu_uuid).toBe(G[0]!.uuid);
    // no (gpu_uuid, time) twice, though the overlap spans two rounds
    const dups = await queryLake(many.lake, 'SELECT gpu_uuid, time FROM {metrics} GROUP BY ALL HAVING count(*) > 1');
    expect(dups).toEqual([]);
    // rounds write files of their own; each has its rollup
    const files = (lake: string, table: string): string[] =>
      fs
        .readdirSync(path.join(lake, table))
        .filter((d) => d.startsWith('date='))
        .flatMap((d) => fs.readdirSync(path.join(lake, table, d)).map((f) => `${d}/${f}`))
        .sort();
    expect(files(many.lake, 'metrics').length).toBeGreaterThan(files(one.lake, 'metrics').length);
    expect(files(many.lake, 'rollups/hour')).toEqual(files(many.lake, 'metrics'));
    // each file is sorted by (gpu_uuid, time), and its gpu_uuid statistics hold its own GPUs only
    // (the merge carries GPUs as ENUMs of the run's values; gpu_uuid is written as text)
    for (const f of files(one.lake, 'metrics')) {
      const file = path.join(one.lake, 'metrics', f);
      const [order] = await queryLake(
        one.lake,
        `WITH f AS (SELECT gpu_uuid, time, file_row_number AS rn FROM read_parquet('${file}', file_row_number = true))
         SELECT count(*) FILTER (WHERE rn <> w) AS misplaced FROM (SELECT rn, row_number() OVER (ORDER BY gpu_uuid, time) - 1 AS w FROM f)`,
      );
      expect(order!.misplaced).toBe(0);
      const stats = await queryLake(
        one.lake,
        `SELECT stats_min_value AS lo, stats_max_value AS hi, typeof(lo) AS t FROM parquet_metadata('${file}') WHERE path_in_schema = 'gpu_uuid'`,
      );
      const own = await queryLake(one.lake, `SELECT min(gpu_uuid) AS lo, max(gpu_uuid) AS hi FROM read_parquet('${file}')`);
      expect(stats.map((r) => [r.lo, r.hi])).toEqual(own.map((r) => [r.lo, r.hi])); // one row group here
      // host and model keep the run's ENUM statistics: wider than the file's values, never narrower
      const [h] = await queryLake(
        one.lake,
        `SELECT (SELECT stats_min_value FROM parquet_metadata('${file}') WHERE path_in_schema = 'host') <= min(host)
            AND (SELECT stats_max_value FROM parquet_metadata('${file}') WHERE path_in_schema = 'host') >= max(host) AS covers
         FROM read_parquet('${file}')`,
      );
      expect(h!.covers).toBe(true);
    }
  });
});

describe('ENUM columns in the written files', () => {
  // The merge carries label sets (and GPUs, hosts, metric names) as ENUMs of the run's values. A
  // small ENUM is written as it is; a large one as text, so that each file's dictionary and
  // statistics hold its own values rather than all of the run's.
  const DAY = 24 * HOUR;
  const podScrape = (pods: number): string => {
    const lines: string[] = [];
    for (let p = 0; p < pods; p++) {
      const t = p < pods / 2 ? T0 : T0 + DAY; // half the pods on each of two days: two files
      lines.push(`custom_pod_metric{pod="p${String(p).padStart(4, '0')}",UUID="${G[p % 2]!.uuid}",Hostname="node-1"} ${p} ${t}`);
    }
    return `${lines.join('\n')}\n`;
  };
  const labelStats = async (lake: string) => {
    const out: { file: string; lo: unknown; hi: unknown; ownLo: unknown; ownHi: unknown }[] = [];
    const dir = path.join(lake, 'metrics_other');
    for (const d of fs.readdirSync(dir)) {
      for (const f of fs.readdirSync(path.join(dir, d))) {
        const file = path.join(dir, d, f);
        const [s] = await queryLake(
          lake,
          `SELECT min(stats_min_value) AS lo, max(stats_max_value) AS hi FROM parquet_metadata('${file}') WHERE path_in_schema = 'labels'`,
        );
        const [own] = await queryLake(lake, `SELECT min(labels) AS lo, max(labels) AS hi FROM read_parquet('${file}')`);
        out.push({ file: d, lo: s!.lo, hi: s!.hi, ownLo: own!.lo, ownHi: own!.hi });
      }
    }
    return out;
  };

  it('writes more than 1024 label sets as text: each file has statistics of its own', async () => {
    const lake = tempLake();
    await ingest({ lake, inputs: [write('pods-1100.prom', podScrape(1100))] });
    const stats = await labelStats(lake);
    expect(stats).toHaveLength(2);
    for (const s of stats) expect([s.lo, s.hi]).toEqual([s.ownLo, s.ownHi]);
  });

  it('writes a few label sets as an ENUM: statistics cover each file (they may span the run)', async () => {
    const lake = tempLake();
    await ingest({ lake, inputs: [write('pods-10.prom', podScrape(10))] });
    const stats = await labelStats(lake);
    expect(stats).toHaveLength(2);
    for (const s of stats) expect(String(s.lo) <= String(s.ownLo) && String(s.hi) >= String(s.ownHi)).toBe(true);
    const [n] = await queryLake(lake, 'SELECT count(*) AS n, count(DISTINCT labels) AS d FROM {metrics_other}');
    expect(n).toEqual({ n: 10, d: 10 });
  });
});
