/**
 * End to end: `gpuhealth collect` against exporters on 127.0.0.1 that this test serves from the
 * recorded scrapes in fixtures/prom/: a good one (behind basic auth and a header), one that times
 * out, one that returns 500, one that drops the connection mid-body, and one restarted on the same
 * port; SIGTERM while a body is on its way; a restart within the hour after a kill cut a block;
 * --keep; and the spool read back by `gpuhealth ingest`. Needs `npm run build` first.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, parseJson, runCli, spawnCli, stackLines, tempDir } from '../helpers/cli.js';

const SCRAPE = fs.readFileSync(path.join(FIXTURES, 'prom', 'h100-single-scrape.prom'));
/** The same scrape from two other GPUs (the restarted exporter's node). */
const OTHER_NODE = Buffer.from(
  SCRAPE.toString('utf8')
    .replace(/GPU-8d1e2f3a/g, 'GPU-8d1e2f3b')
    .replace(/GPU-2f6a9c1d/g, 'GPU-2f6a9c1e'),
);
const SAMPLES_PER_SCRAPE = 24;
const PASSWORD = 's3cret-pass';
const TOKEN = 't0ken-value';

interface Exporter {
  port: number;
  url: string;
  requests: number;
  close(): Promise<void>;
  listen(): Promise<void>;
}

const servers: Exporter[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** An exporter on 127.0.0.1; `listen()` again after `close()` takes the same port (a restart). */
async function exporter(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Exporter> {
  let server: http.Server | null = null;
  const e: Exporter = {
    port: 0,
    url: '',
    requests: 0,
    async listen() {
      server = http.createServer((req, res) => {
        e.requests++;
        handle(req, res);
      });
      await new Promise<void>((r) => server!.listen(e.port, '127.0.0.1', r));
      e.port = (server.address() as AddressInfo).port;
      e.url = `http://127.0.0.1:${e.port}/metrics`;
    },
    async close() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
  await e.listen();
  servers.push(e);
  return e;
}

const serve = (body: Buffer) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end(body);
};

const until = async (what: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** A target's spool files, decompressed and in hour order, as one text. */
function spoolText(spool: string, target: string): string {
  const dir = path.join(spool, target);
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => (f.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(path.join(dir, f))) : fs.readFileSync(path.join(dir, f))).toString('utf8'))
    .join('');
}

/** The scrape blocks of a spool text; throws on a block whose sample count is not its trailer's. */
function blocks(text: string): { ms: number; samples: string[] }[] {
  expect(text.endsWith(' samples\n')).toBe(true);
  const out: { ms: number; samples: string[] }[] = [];
  let samples: string[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const t = /^# gpuhealth-collect scrape \S+ (\d+) (\d+) samples$/.exec(line);
    if (t) {
      expect(samples.length).toBe(Number(t[2]));
      expect(samples.every((s) => s.endsWith(` ${t[1]}`))).toBe(true);
      out.push({ ms: Number(t[1]), samples });
      samples = [];
    } else if (!line.startsWith('#')) samples.push(line);
  }
  expect(samples).toEqual([]);
  return out;
}

interface Summary {
  stop_reason: string;
  scrapes_ok: number;
  bytes_recovered: number;
  hours_deleted: number;
  hours_waiting: number;
  targets: {
    name: string;
    url: string;
    scrapes_ok: number;
    scrapes_failed: number;
    slots_skipped: number;
    samples: number;
    bytes: number;
    last_error: string | null;
  }[];
}

const nameOf = (e: Exporter): string => `127.0.0.1_${e.port}`;

describe('collect', () => {
  const spool = path.join(tempDir(), 'spool');
  let good: Exporter;
  let restarted: Exporter;
  let summary: Summary;

  it('writes only complete scrapes of the good targets, counts the failures, and resumes after an exporter restart', async () => {
    good = await exporter((req, res) => {
      const auth = `Basic ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}`;
      if (req.headers.authorization !== auth || req.headers['x-token'] !== TOKEN) {
        res.statusCode = 401;
        return res.end('unauthorized');
      }
      serve(SCRAPE)(req, res);
    });
    const slow = await exporter((_req, res) => void setTimeout(() => res.end(SCRAPE), 1500));
    const broken = await exporter((_req, res) => {
      res.statusCode = 500;
      res.end('An error has occurred while serving metrics');
    });
    const dropping = await exporter((req, res) => {
      res.setHeader('content-length', String(SCRAPE.length));
      res.write(SCRAPE.subarray(0, 2000));
      setTimeout(() => req.socket.destroy(), 10);
    });
    restarted = await exporter(serve(OTHER_NODE));
    const targetsFile = path.join(tempDir(), 'targets.txt');
    fs.writeFileSync(targetsFile, `# rack 7\n${slow.url}\n\n${broken.url}   # returns 500\n${dropping.url}\n${restarted.url}\n`);
    const goodUrl = good.url.replace('//', `//ann:${PASSWORD}@`);
    const child = spawnCli(
      [
        'collect',
        '--url',
        goodUrl,
        '--targets',
        targetsFile,
        '--header',
        `X-Token: ${TOKEN}`,
        '--interval',
        '250ms',
        '--timeout',
        '200ms',
        '--duration',
        '3500ms',
        '--spool',
        spool,
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    // the exporter restarts: down for ~0.7 s (a few scrapes), then back on the same port
    await until(() => restarted.requests >= 2);
    const downAt = Date.now();
    await restarted.close();
    await new Promise((r) => setTimeout(r, 700));
    await restarted.listen();
    const upAt = Date.now();
    const r = await child.done;
    expect(r.stderr).not.toMatch(/Error:/);
    expect(r.code).toBe(0);
    expect(stackLines(r.stderr)).toEqual([]);
    summary = parseJson<Summary>(r.stdout);
    const t = Object.fromEntries(summary.targets.map((x) => [x.name, x]));
    expect(summary.stop_reason).toBe('duration');
    expect(t[nameOf(good)]).toMatchObject({ url: good.url, scrapes_failed: 0, last_error: null });
    expect(t[nameOf(good)]!.scrapes_ok).toBeGreaterThanOrEqual(5);
    expect(t[nameOf(slow)]).toMatchObject({ scrapes_ok: 0, last_error: `${slow.url}: no complete response within 200 ms` });
    expect(t[nameOf(broken)]).toMatchObject({ scrapes_ok: 0, last_error: `${broken.url}: HTTP 500` });
    expect(t[nameOf(dropping)]!.scrapes_ok).toBe(0);
    expect(t[nameOf(dropping)]!.last_error).toMatch(/mid-body/);
    for (const x of [slow, broken, dropping]) expect(t[nameOf(x)]!.scrapes_failed).toBeGreaterThanOrEqual(3);
    expect(t[nameOf(restarted)]!.scrapes_failed).toBeGreaterThanOrEqual(1);
    expect(t[nameOf(restarted)]!.last_error).toMatch(/connection refused|connection failed|mid-body/);

    // only the targets that answered have spool files, and those hold whole scrapes only
    expect(fs.readdirSync(spool).sort()).toEqual([nameOf(good), nameOf(restarted)].sort());
    const goodBlocks = blocks(spoolText(spool, nameOf(good)));
    expect(goodBlocks).toHaveLength(t[nameOf(good)]!.scrapes_ok);
    for (const b of goodBlocks) expect(b.samples).toHaveLength(SAMPLES_PER_SCRAPE);
    // the restarted exporter was scraped before it went down and after it came back
    const restartBlocks = blocks(spoolText(spool, nameOf(restarted)));
    expect(restartBlocks).toHaveLength(t[nameOf(restarted)]!.scrapes_ok);
    expect(restartBlocks.filter((b) => b.ms < downAt).length).toBeGreaterThanOrEqual(2);
    expect(restartBlocks.filter((b) => b.ms > upAt).length).toBeGreaterThanOrEqual(1);

    // stderr: each failing target once, its return once; no secret anywhere
    for (const x of [slow, broken, dropping, restarted]) expect(r.stderr.split(`${nameOf(x)}: scrape failed`).length - 1).toBe(1);
    expect(r.stderr).toContain(`${nameOf(restarted)}: back after `);
    for (const secret of [PASSWORD, TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('leaves a spool that ingest reads with no reject', async () => {
    const lake = path.join(tempDir(), 'lake');
    const r = await runCli(['ingest', spool, '--lake', lake, '--json']);
    expect(r.code).toBe(0);
    const s = parseJson<{ rejected: number; gpus: number; rows: number; samples: number }>(r.stdout);
    const ok = (e: Exporter): number => summary.targets.find((x) => x.name === nameOf(e))!.scrapes_ok;
    expect(s.rejected).toBe(0);
    expect(s.gpus).toBe(4);
    expect(s.rows).toBe(2 * (ok(good) + ok(restarted)));
    expect(s.samples).toBe(SAMPLES_PER_SCRAPE * (ok(good) + ok(restarted)));
    expect(r.stderr).not.toMatch(/warning|rejected/);
  });

  it('on SIGTERM, finishes the scrape whose body is on its way, writes it and exits 0; a second collect on the spool exits 1', async () => {
    const sigSpool = path.join(tempDir(), 'spool');
    let delayNext = false;
    let halfSent = false;
    let finish: () => void = () => {};
    const delayed = await exporter((req, res) => {
      if (!delayNext) return serve(SCRAPE)(req, res);
      delayNext = false;
      res.setHeader('content-length', String(SCRAPE.length));
      res.write(SCRAPE.subarray(0, 3000));
      halfSent = true;
      finish = () => res.end(SCRAPE.subarray(3000));
    });
    const child = spawnCli(['collect', '--url', delayed.url, '--interval', '1s', '--timeout', '900ms', '--spool', sigSpool, '--json'], { timeoutMs: 30_000 });
    await until(() => delayed.requests >= 1);
    const second = await runCli(['collect', '--url', delayed.url, '--spool', sigSpool]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another gpuhealth collect (pid ${child.child.pid}`);
    delayNext = true;
    await until(() => halfSent);
    child.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    finish();
    const r = await child.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('SIGTERM: finishing the scrapes in flight');
    const s = parseJson<Summary>(r.stdout);
    expect([s.stop_reason, s.targets[0]!.scrapes_failed]).toEqual(['signal', 0]);
    const b = blocks(spoolText(sigSpool, nameOf(delayed)));
    // every scrape is in the spool, the one SIGTERM interrupted included, and whole
    expect(b).toHaveLength(delayed.requests);
    expect(b).toHaveLength(s.scrapes_ok);
    for (const x of b) expect(x.samples).toHaveLength(SAMPLES_PER_SCRAPE);
    expect(fs.existsSync(path.join(sigSpool, '.collect.lock'))).toBe(false);
  });

  it('on a second SIGINT, exits at once, leaving no part of the scrape in flight', async () => {
    const intSpool = path.join(tempDir(), 'spool');
    let stuck = false;
    const e = await exporter((req, res) => {
      if (e.requests === 1) return serve(SCRAPE)(req, res);
      res.setHeader('content-length', String(SCRAPE.length));
      res.write(SCRAPE.subarray(0, 3000)); // and never the rest
      stuck = true;
    });
    const child = spawnCli(['collect', '--url', e.url, '--interval', '1s', '--spool', intSpool], { timeoutMs: 30_000 });
    await until(() => stuck);
    child.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    child.child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    const b = blocks(spoolText(intSpool, nameOf(e)));
    expect(b).toHaveLength(1);
  });

  it('restarted within the hour after a kill cut a block: appends without a duplicate line; --keep deletes only closed, ingested old hours', async () => {
    const keepSpool = path.join(tempDir(), 'spool');
    const e = await exporter(serve(SCRAPE));
    const name = nameOf(e);
    const args = ['collect', '--url', e.url, '--interval', '200ms', '--spool', keepSpool, '--json'];
    const first = await runCli([...args, '--duration', '1s']);
    expect(first.code).toBe(0);
    const dir = path.join(keepSpool, name);
    const current = fs.readdirSync(dir).find((f) => f.endsWith('.prom'));
    // a kill in the middle of a write: half a block, no trailer
    fs.appendFileSync(path.join(dir, current ?? `${name}_${new Date().toISOString().slice(0, 13)}.prom`), SCRAPE.subarray(0, 1500));

    // old hours, made by hand: one closed and ingested, one closed and not ingested, one left open
    const hour = (daysAgo: number, h: number): string => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 11) + String(h).padStart(2, '0');
    const oldHour = (stamp: string): Buffer => {
      const ms = Date.parse(`${stamp}:15:00Z`);
      return Buffer.from(`${SCRAPE.toString('utf8').replace(/^(DCGM.*)$/gm, `$1 ${ms}`)}# gpuhealth-collect scrape ${name} ${ms} 24 samples\n`);
    };
    const ingested = path.join(dir, `${name}_${hour(3, 10)}.prom.gz`);
    const waiting = path.join(dir, `${name}_${hour(3, 11)}.prom.gz`);
    const leftOpen = path.join(dir, `${name}_${hour(3, 12)}.prom`);
    fs.writeFileSync(ingested, zlib.gzipSync(oldHour(hour(3, 10))));
    fs.writeFileSync(waiting, zlib.gzipSync(oldHour(hour(3, 11))));
    fs.writeFileSync(leftOpen, oldHour(hour(3, 12)));
    const lake = path.join(tempDir(), 'lake');
    const ing = await runCli(['ingest', ingested, '--lake', lake, '--json']);
    expect(parseJson<{ rejected: number; rows: number }>(ing.stdout)).toMatchObject({ rejected: 0, rows: 2 });

    const second = await runCli([...args, '--duration', '1s', '--keep', '1d', '--lake', lake]);
    expect(second.code).toBe(0);
    const s = parseJson<Summary>(second.stdout);
    expect(s.bytes_recovered).toBe(1500);
    expect([s.hours_deleted, s.hours_waiting]).toEqual([1, 2]);
    expect(second.stderr).toContain('--keep: kept 2 old spool hours not ingested yet');
    expect(fs.existsSync(ingested)).toBe(false);
    expect(fs.existsSync(waiting)).toBe(true);
    // the hour an earlier run left open was closed at start, and is kept: the lake has not read it
    expect(fs.existsSync(leftOpen)).toBe(false);
    expect(fs.existsSync(`${leftOpen}.gz`)).toBe(true);

    const old = new Set([path.basename(waiting), `${path.basename(leftOpen)}.gz`]);
    const recent = fs
      .readdirSync(dir)
      .filter((f) => !old.has(f))
      .sort();
    const text = recent
      .map((f) => (f.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(path.join(dir, f))) : fs.readFileSync(path.join(dir, f))).toString())
      .join('');
    const all = blocks(text);
    expect(all.length).toBe(parseJson<Summary>(first.stdout).scrapes_ok + s.scrapes_ok);
    const lines = all.flatMap((b) => b.samples);
    expect(new Set(lines).size).toBe(lines.length);
    const times = all.map((b) => b.ms);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
  });

  it('refuses bad flags with exit 2', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, '');
    const url = 'http://127.0.0.1:9/metrics';
    const cases: [string[], RegExp][] = [
      [['collect', '--spool', tempDir()], /no target to scrape/],
      [['collect', '--url', url, '--spool', tempDir(), '--interval', '50ms'], /shorter than 100ms/],
      [['collect', '--url', url, '--spool', tempDir(), '--interval', 'often'], /invalid duration "often"/],
      [['collect', '--url', url, '--spool', tempDir(), '--interval', '1s', '--timeout', '1s'], /--timeout 1s is not shorter than --interval 1s/],
      [['collect', '--targets', path.join(file, 'missing.txt'), '--spool', tempDir()], /cannot read --targets/],
      [['collect', '--url', url, '--spool', file], /is a file, not a folder/],
      [['collect', '--url', 'ftp://x/metrics', '--spool', tempDir()], /only http and https/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(stackLines(r.stderr)).toEqual([]);
    }
  });
});
