/**
 * End to end: `gpuhealth pull` (the built CLI, a child process) against a Prometheus HTTP API on
 * 127.0.0.1 that the test starts (fixtures/prom-api/fake-prometheus.js: the label sets of
 * fixtures/prom/, seeded values, Prometheus's response shapes and errors). Covers a pull killed
 * between commits and run again (the same lake as one uninterrupted pull, and only the missing
 * chunks fetched), credentials (401 without them, never printed or stored), 500/503 answers,
 * "status":"error" bodies, dropped connections, server warnings, bad flags and the dry run.
 * Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dcgmFleet,
  recorded,
  startFakePrometheus,
  type Fault,
  type FakePrometheus,
  type FakePrometheusOptions,
} from '../../fixtures/prom-api/fake-prometheus.js';
import { listLakeFiles, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';

const QR = '/api/v1/query_range';
const FROM = '2026-03-01T00:00:00Z';
/** Three days at the default 60 s step: three grid cells. */
const TO = '2026-03-03T23:59:00Z';
/** Three hosts of one GPU, the third labelled `hostname` (dcgm-exporter's 2026 rename): two queries a cell, nine chunks. */
const FLEET = dcgmFleet({ hosts: 3, gpusPerHost: 1, seed: 11, lowercaseEvery: 3 });
const GPUS = 3;
const ROWS = GPUS * 3 * 1440;

const servers: FakePrometheus[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});
async function serve(opts: Partial<FakePrometheusOptions> = {}): Promise<FakePrometheus> {
  const s = await startFakePrometheus({ series: FLEET, ...opts });
  servers.push(s);
  return s;
}

interface Summary {
  server: string;
  hosts: number;
  families: string[];
  chunks: { total: number; already: number; pulled: number; partial: number; remaining: number };
  requests: number;
  retries: number;
  queries: number;
  samples: number;
  rows: number;
  commits: number;
  plan?: { query: string }[];
}

const pullArgs = (url: string, lake: string, ...more: string[]): string[] => ['pull', '--prometheus', url, '--lake', lake, ...more];

/** Every row of a table, every column, in a fixed order. */
const allRows = (lake: string, table = 'metrics'): Promise<Record<string, unknown>[]> => queryLake(lake, `SELECT * FROM {${table}} ORDER BY ALL`);

describe.concurrent('pull, interrupted and resumed', () => {
  it('gives the same lake as one uninterrupted pull, and the second run fetches only what is missing', async () => {
    const whole = await serve();
    const lakeA = tempLake();
    const a = await runCli(pullArgs(whole.url, lakeA, '--from', FROM, '--to', TO, '--json'));
    expect(a.code, a.stderr).toBe(0);
    const sa = parseJson<Summary>(a.stdout);
    expect(sa.chunks).toEqual({ total: 9, already: 0, pulled: 9, partial: 0, remaining: 0 });
    expect(sa.hosts).toBe(3);
    expect(sa.rows).toBe(ROWS);
    expect(sa.queries).toBe(6);
    expect(whole.count(QR)).toBe(6);

    // killed after the commit that brings the recorded chunks to 4 or more, committing every response
    const cut = await serve();
    const lakeB = tempLake();
    const env = { GPUHEALTH_TEST_PULL_BATCH: '1', GPUHEALTH_TEST_KILL_AFTER_CHUNKS: '4' };
    const killed = await runCli(pullArgs(cut.url, lakeB, '--from', FROM, '--to', TO, '--json'), { env });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const rec = await queryLake(
      lakeB,
      `SELECT count(*) AS chunks, count(DISTINCT (range_start, host_label)) AS pieces FROM read_parquet('${lakeB}/_ingest/pulled/*.parquet')`,
    );
    const { chunks, pieces } = rec[0] as { chunks: number; pieces: number };
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(chunks).toBeLessThan(9);
    const rowsKept = (await queryLake(lakeB, 'SELECT count(*) AS n FROM {metrics}'))[0]!['n'];
    expect(rowsKept).toBe(chunks * 1440); // a chunk (a host's day) is recorded iff its rows landed

    const before = cut.count(QR);
    const b = await runCli(pullArgs(cut.url, lakeB, '--from', FROM, '--to', TO, '--json'));
    expect(b.code, b.stderr).toBe(0);
    const sb = parseJson<Summary>(b.stdout);
    expect(sb.chunks).toEqual({ total: 9, already: chunks, pulled: 9 - chunks, partial: 0, remaining: 0 });
    expect(cut.count(QR) - before).toBe(6 - pieces);
    expect(listLakeFiles(lakeB).filter((f) => f.startsWith('_tmp/'))).toEqual([]); // the killed run's responses, removed by recovery

    expect(await allRows(lakeB)).toEqual(await allRows(lakeA));
    const tables = (lake: string): string[] => [...new Set(listLakeFiles(lake).map((f) => f.split('/')[0]!))].sort();
    expect(tables(lakeB)).toEqual(tables(lakeA));

    // and once more: nothing is missing, nothing is asked for
    const c = await runCli(pullArgs(cut.url, lakeB, '--from', FROM, '--to', TO));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe('');
    expect(c.stderr).toContain('0 chunks (9 already in the lake)');
    expect(cut.count(QR) - before).toBe(6 - pieces);
  });

  it('rolls a commit killed midway back with its records: the next run fetches those chunks again', async () => {
    const s = await serve();
    const lake = tempLake();
    const args = pullArgs(s.url, lake, '--from', FROM, '--to', '2026-03-01T01:59:00Z', '--json');
    const killed = await runCli(args, { env: { GPUHEALTH_TEST_KILL_AT: 'rename' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<Summary>(r.stdout).chunks).toMatchObject({ total: 3, already: 0, pulled: 3 });
    const [n] = await queryLake(lake, 'SELECT count(*) AS n, count(DISTINCT (gpu_uuid, time)) AS k FROM {metrics}');
    expect(n).toEqual({ n: GPUS * 120, k: GPUS * 120 });
  });
});

describe.concurrent('pull with credentials', () => {
  const TOKEN = 'tok-7f3a9c1e5b2d';
  const PASSWORD = 'pw-Zq81xK0m';
  const secrets = (text: string): string[] => [TOKEN, PASSWORD, Buffer.from(`reader:${PASSWORD}`).toString('base64')].filter((s) => text.includes(s));
  const lakeText = (lake: string): string =>
    listLakeFiles(lake)
      .map((f) => fs.readFileSync(path.join(lake, f)).toString('latin1'))
      .join('\n');

  it('says a 401 needs credentials and how to pass them; a bearer token works and is never printed or stored', async () => {
    const s = await serve({ auth: `Bearer ${TOKEN}` });
    const lake = tempLake();
    const none = await runCli(pullArgs(s.url, lake, '--since', '1h'));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`Prometheus at ${s.url} answered 401 Unauthorized: it needs credentials`);
    expect(none.stderr).toContain("--header 'Authorization: Bearer <token>'");
    expect(none.stderr).toContain('GPUHEALTH_PROMETHEUS_BASIC_AUTH=user:password');
    expect(fs.existsSync(lake)).toBe(false);

    const wrong = await runCli(pullArgs(s.url, lake, '--since', '1h', '--header', 'Authorization: Bearer not-the-token'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the credentials given were refused');
    expect(wrong.stderr).not.toContain('not-the-token');

    const ok = await runCli(pullArgs(s.url, lake, '--from', FROM, '--to', '2026-03-01T02:00:00Z', '--header', `Authorization: Bearer ${TOKEN}`, '--json'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson<Summary>(ok.stdout).rows).toBe(GPUS * 121);
    expect(secrets(ok.stdout + ok.stderr + none.stderr + wrong.stderr)).toEqual([]);
    expect(secrets(lakeText(lake))).toEqual([]);
  });

  it(`takes basic auth from ${'GPUHEALTH_PROMETHEUS_BASIC_AUTH'} or the URL, and never shows the password`, async () => {
    const s = await serve({ auth: `Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}` });
    const lake = tempLake();
    const env = await runCli(pullArgs(s.url, lake, '--from', FROM, '--to', '2026-03-01T01:00:00Z', '--json'), {
      env: { GPUHEALTH_PROMETHEUS_BASIC_AUTH: `reader:${PASSWORD}` },
    });
    expect(env.code, env.stderr).toBe(0);
    const u = new URL(s.url);
    u.username = 'reader';
    u.password = PASSWORD;
    const inUrl = await runCli(pullArgs(u.toString(), lake, '--from', FROM, '--to', '2026-03-01T02:00:00Z'));
    expect(inUrl.code, inUrl.stderr).toBe(0);
    expect(parseJson<Summary>(env.stdout).server).toBe(s.url);
    expect(secrets(env.stdout + env.stderr + inUrl.stdout + inUrl.stderr)).toEqual([]);
    expect(secrets(lakeText(lake))).toEqual([]);
    const servers = await queryLake(lake, `SELECT DISTINCT server FROM read_parquet('${lake}/_ingest/pulled/*.parquet')`);
    expect(servers).toEqual([{ server: s.url }]);
  });
});

describe.concurrent('pull when the server fails', () => {
  const SHORT = ['--from', FROM, '--to', '2026-03-01T01:00:00Z'];

  it('asks again on 503 (honouring Retry-After) and on a dropped connection', async () => {
    const faults: Fault[] = [{ status: 503, body: recorded('not-ready.txt'), headers: { 'retry-after': '0' } }, 'drop'];
    const s = await serve({ fault: (r) => (r.path === QR ? faults.shift() : undefined) });
    const r = await runCli(pullArgs(s.url, tempLake(), ...SHORT, '--json'));
    expect(r.code, r.stderr).toBe(0);
    const sum = parseJson<Summary>(r.stdout);
    expect(sum.retries).toBe(2);
    expect(sum.rows).toBe(GPUS * 61);
    expect(r.stderr).toContain(`Prometheus at ${s.url} answered 503 Service Unavailable (Service Unavailable); trying again in 0.0 s`);
    // the second try of the request the 503 hit waits 2 s; a first try of another request in flight, 1 s
    expect(r.stderr).toMatch(/connection (closed|failed) mid-body[^;]*; trying again in [12] s/);
  });

  it('fails on a 500 with what the server said, keeps what it committed, and resumes', async () => {
    let broken = true;
    // the second day's queries fail
    const s = await serve({
      fault: (r) =>
        broken && r.path === QR && Number(r.params.get('start')) >= Date.parse('2026-03-02') / 1000
          ? { status: 500, body: recorded('internal-error.json') }
          : undefined,
    });
    const lake = tempLake();
    const twoDays = ['--from', FROM, '--to', '2026-03-02T23:59:00Z'];
    const r = await runCli(pullArgs(s.url, lake, ...twoDays), { env: { GPUHEALTH_TEST_PULL_BATCH: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Error: Prometheus at ${s.url} answered 500 internal: expanding series: read chunk range: get chunk: invalid chunk reference (query_range 2026-03-0`,
    );
    expect(r.stderr).toMatch(/Try: 3 of 6 chunks remain \(3 are in the lake, 3 of them committed by this run\); run the same pull again/);
    expect(stackLines(r.stderr)).toEqual([]);
    expect((await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}'))[0]!['n']).toBe(GPUS * 1440);
    broken = false;
    const again = await runCli(pullArgs(s.url, lake, ...twoDays, '--json'));
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson<Summary>(again.stdout).chunks).toMatchObject({ already: 3, pulled: 3 });
    expect((await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}'))[0]!['n']).toBe(GPUS * 2 * 1440);
  });

  it('explains "status":"error" bodies: the 11,000-point resolution error', async () => {
    const s = await serve({ fault: (r) => (r.path === QR ? { status: 200, body: recorded('resolution-error.json') } : undefined) });
    const lake = tempLake();
    const r = await runCli(pullArgs(s.url, lake, ...SHORT));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad_data: exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    expect(r.stderr).toContain('gpuhealth asks for at most 1440 points per series');
    expect(r.stderr).toContain('3 of 3 chunks remain');
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('gives up on a connection dropped every time, after three tries', async () => {
    const s = await serve({ fault: (r) => (r.path === QR ? 'drop' : undefined) });
    const r = await runCli(pullArgs(s.url, tempLake(), ...SHORT));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error: Prometheus at http:\/\/127\.0\.0\.1:\d+: connection (closed|failed) mid-body.*\(query_range .*; 3 tries\)/);
    expect(s.count(QR)).toBe(3 * 2);
  });

  it('fails when nothing answers', async () => {
    const s = await serve();
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const r = await runCli(pullArgs(url, tempLake(), ...SHORT));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Error: Prometheus at ${url}: connection refused (listing metric names; 3 tries)`);
  });

  it('passes the server warnings on, once, and records no chunk a warned reply brought (it may be partial)', async () => {
    const s = await serve({ warnings: ['PromQL info: metric might not be a counter'] });
    const r = await runCli([...pullArgs(s.url, tempLake(), ...SHORT), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('Prometheus warning: PromQL info: metric might not be a counter').length).toBe(2);
    expect(r.stderr).toMatch(/may be partial: its chunks are written but not recorded/);
    const summary = parseJson<{ rows: number; chunks: { pulled: number; partial: number } }>(r.stdout);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.chunks.pulled).toBe(0);
    expect(summary.chunks.partial).toBeGreaterThan(0);
  });
});

describe.concurrent('pull flags', () => {
  it.each([
    [['--prometheus', 'ftp://example'], 'must be an http or https URL'],
    [['--since', '2d', '--from', FROM], 'cannot also be provided'],
    [['--from', '2026-03-02', '--to', '2026-03-01'], 'is after --to'],
    [['--match', 'DCGM_FI_DEV_GPU_TEMP'], 'is a metric name'],
    [['--match', '{cluster=~"("}'], 'not a valid regular expression'],
    [['--step', '0s'], '--step: duration must be positive'],
    [['--header', 'Bearer abc123secret'], "--header is not 'Name: value'"],
  ])('%j exits 2 without asking the server', async (flags, message) => {
    const s = await serve();
    const lake = tempLake();
    const args = flags[0] === '--prometheus' ? ['pull', ...flags, '--lake', lake] : pullArgs(s.url, lake, ...flags);
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('abc123secret');
    expect(s.requests).toEqual([]);
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('refuses a lake path that is a file before asking the server', async () => {
    const s = await serve();
    const file = path.join(tempDir(), 'lake');
    fs.writeFileSync(file, 'x');
    const r = await runCli(pullArgs(s.url, file, '--since', '1h'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a file, not a lake folder');
    expect(s.requests).toEqual([]);
  });

  it('--match narrows every query; --dry-run lists the queries and fetches nothing', async () => {
    const s = await serve();
    const lake = tempLake();
    const r = await runCli(pullArgs(s.url, lake, '--from', FROM, '--to', TO, '--match', '{Hostname=~"dgx-00[01].*"}', '--dry-run', '--json'));
    expect(r.code, r.stderr).toBe(0);
    const sum = parseJson<Summary>(r.stdout);
    expect(sum.hosts).toBe(2);
    expect(sum.chunks.total).toBe(6);
    expect(sum.plan).toHaveLength(3);
    for (const q of sum.plan!) expect(q.query).toContain('Hostname=~"dgx-00[01].*"');
    expect(s.count(QR)).toBe(0);
    expect(fs.existsSync(lake)).toBe(false);
    const human = await runCli(pullArgs(s.url, lake, '--from', FROM, '--to', TO, '--dry-run'));
    expect(human.stdout.trim().split('\n')).toHaveLength(6);
    expect(human.stderr).toContain('dry run: 11 families, 3 hosts');
  });
});
