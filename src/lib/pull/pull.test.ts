/**
 * The pull stage in process, against the fake Prometheus of fixtures/prom-api: splitting what the
 * server finds too large, chunks with no samples, chunks too recent to record, hosts that appear
 * midway, series without a host label, and the dry run. The CLI's behaviour (resume after a kill,
 * auth, errors, exit codes) is in test/e2e/pull.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { dcgmFleet, recorded, startFakePrometheus, type FakeSeries } from '../../../fixtures/prom-api/fake-prometheus.js';
import { pull, type PullOptions } from './pull.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);
const STEP = 600_000; // 10 min: a cell is 10 days
const QR = '/api/v1/query_range';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tempLake = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-pull-'));
  dirs.push(d);
  return path.join(d, 'lake');
};

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql))
      .getRowObjectsJS()
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
const metrics = (lake: string): string => `read_parquet('${lake}/metrics/*/*.parquet', hive_partitioning = true)`;
const pulled = (lake: string): string => `read_parquet('${lake}/_ingest/pulled/*.parquet')`;

const base = (lake: string, url: string, extra: Partial<PullOptions> = {}): PullOptions => ({
  lake,
  server: url,
  fromMs: T0,
  toMs: T0 + 2 * DAY,
  stepMs: STEP,
  nowMs: T0 + 30 * DAY,
  retryBaseMs: 1,
  ...extra,
});

describe('pull', () => {
  it('splits a query the server finds too large, and lands every row once', async () => {
    const series = dcgmFleet({ hosts: 4, gpusPerHost: 1, seed: 2 });
    // a Prometheus with a tiny --query.max-samples: any query over two hosts is refused
    const server = await startFakePrometheus({
      series,
      fault: (r) => {
        const q = r.params.get('query') ?? '';
        return r.path === QR && (q.match(/\|/g) ?? []).length > 11 ? { status: 422, body: recorded('too-many-samples.json') } : undefined;
      },
    });
    const lake = tempLake();
    const notes: string[] = [];
    const s = await pull(base(lake, server.url, { onNote: (n) => notes.push(n) }));
    await server.close();
    expect(
      notes.some((n) => n.includes('asking for less at a time')),
      notes.join('\n'),
    ).toBe(true);
    expect(s.chunks).toEqual({ total: 4, already: 0, pulled: 4, partial: 0, remaining: 0 });
    const points = 2 * 144 + 1;
    expect(s.rows).toBe(4 * points);
    const [r] = await query(`SELECT count(*) AS n, count(DISTINCT (gpu_uuid, time)) AS k FROM ${metrics(lake)}`);
    expect(r).toEqual({ n: 4 * points, k: 4 * points });
  });

  it('records chunks without samples, commits them, and skips them the next time', async () => {
    // the data ends a day before the range does
    const series = dcgmFleet({ hosts: 2, gpusPerHost: 1, window: () => ({ from: T0, to: T0 + DAY }) });
    const server = await startFakePrometheus({ series });
    const lake = tempLake();
    const range = { fromMs: T0 + 20 * DAY, toMs: T0 + 21 * DAY };
    // no host in that range: one unit, the series without a host label, which has none either
    const first = await pull(base(lake, server.url, range));
    expect(first.hosts).toBe(0);
    expect(first.samples).toBe(0);
    expect(first.commits).toBe(1);
    expect(first.chunks).toMatchObject({ total: 1, pulled: 1 });
    const before = server.count(QR);
    const again = await pull(base(lake, server.url, range));
    expect(server.count(QR)).toBe(before);
    expect(again.chunks).toMatchObject({ total: 1, already: 1, pulled: 0 });
    await server.close();
    const [r] = await query(`SELECT count(*) AS n, sum(samples) AS s FROM ${pulled(lake)}`);
    expect(r).toEqual({ n: 1, s: 0 });
  });

  it('writes chunks that end within 5 minutes of now but does not record them', async () => {
    const series = dcgmFleet({ hosts: 2, gpusPerHost: 1 });
    const server = await startFakePrometheus({ series });
    const lake = tempLake();
    const now = T0 + DAY + 2 * 60_000;
    const first = await pull(base(lake, server.url, { fromMs: T0, toMs: now, nowMs: now }));
    expect(first.chunks).toMatchObject({ total: 2, pulled: 0, partial: 2 });
    expect(first.rows).toBe(2 * 145);
    // an hour later, the same range and one step more: nothing is fresh any more
    const second = await pull(base(lake, server.url, { fromMs: T0, toMs: T0 + DAY + STEP, nowMs: now + 3_600_000 }));
    // fetched again, its rows already in the lake except the new step
    expect(second.chunks).toMatchObject({ total: 2, already: 0, pulled: 2 });
    expect(second.rows).toBe(2);
    expect(second.duplicates_dropped).toBe(2 * 145);
    await server.close();
  });

  it('pulls hosts that appear midway, series without a host label, and `hostname` hosts', async () => {
    const series: FakeSeries[] = [
      ...dcgmFleet({ hosts: 3, gpusPerHost: 1, seed: 5, lowercaseEvery: 3, window: (h) => ({ from: h === 1 ? T0 + DAY : T0, to: Infinity }) }),
      // a recording rule's output: no Hostname, hostname or instance
      {
        labels: { __name__: 'DCGM_FI_DEV_GPU_TEMP', UUID: 'GPU-00000000-0000-4000-8000-00000000beef', gpu: '0' },
        from: T0,
        to: Infinity,
        value: () => '41',
      },
    ];
    const server = await startFakePrometheus({ series });
    const lake = tempLake();
    const s = await pull(base(lake, server.url));
    await server.close();
    expect(s.hosts).toBe(3);
    expect(s.chunks.total).toBe(4);
    const rows = await query(`SELECT host, count(*) AS n FROM ${metrics(lake)} GROUP BY host ORDER BY host NULLS LAST`);
    expect(rows).toEqual([
      { host: 'dgx-000.cluster-a', n: 289 },
      { host: 'dgx-001.cluster-a', n: 145 },
      { host: 'dgx-002.cluster-a', n: 289 },
      { host: null, n: 289 },
    ]);
    const units = await query(`SELECT host_label, host FROM ${pulled(lake)} ORDER BY host NULLS LAST`);
    expect(units).toEqual([
      { host_label: 'Hostname', host: 'dgx-000.cluster-a' },
      { host_label: 'Hostname', host: 'dgx-001.cluster-a' },
      { host_label: 'hostname', host: 'dgx-002.cluster-a' },
      { host_label: null, host: null },
    ]);
  });

  it('plans without fetching data or writing anything on a dry run', async () => {
    const server = await startFakePrometheus({ series: dcgmFleet({ hosts: 2, gpusPerHost: 1 }) });
    const lake = tempLake();
    const s = await pull(base(lake, server.url, { dryRun: true, toMs: T0 + 15 * DAY }));
    expect(server.count(QR)).toBe(0);
    await server.close();
    expect(fs.existsSync(lake)).toBe(false);
    // 10-day cells on the epoch grid: a boundary at 2026-03-08 (day 20520 since 1970)
    expect(s.plan!.map((q) => [q.start, q.end, q.hosts])).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-07T23:50:00.000Z', 2],
      ['2026-03-08T00:00:00.000Z', '2026-03-16T00:00:00.000Z', 2],
    ]);
    expect(s.plan![0]!.query).toMatch(/^\{Hostname=~"dgx-000\\\\.cluster-a\|dgx-001\\\\.cluster-a",__name__=~"DCGM_FI_DEV_FB_FREE\|/);
  });
});
