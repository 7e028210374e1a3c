/**
 * The collect loop with a GET that needs no server and a clock set where a test needs it (a second
 * before an hour ends): hour files rolled and gzipped, restarts that neither repeat a slot nor keep a
 * half-written block, slots skipped behind a slow scrape, failures noted once, the lock.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../../../test/helpers/cli.js';
import { GpuhealthError, InputError } from '../errors.js';
import { HttpFailure, type HttpResponse } from '../net/http.js';
import { collect, SYSTEM_CLOCK, type Clock, type CollectOptions, type HttpGetFn } from './collect.js';
import { HOUR_MS, hourStart } from './spool-file.js';
import { parseTrailer } from './stamp.js';
import { nameTargets } from './targets.js';

const BODY = fs.readFileSync(path.join(FIXTURES, 'prom', 'h100-single-scrape.prom'));
const ok = (): Promise<HttpResponse> => Promise.resolve({ status: 200, headers: {}, body: BODY });
const targets = nameTargets(['http://node-17:9400/metrics']);

/** The real clock moved by `shiftMs`: runs in real time, but at the hour a test needs. */
function shiftedClock(shiftMs: number): Clock {
  return {
    now: () => Date.now() + shiftMs,
    sleepUntil: (ms, signal) => SYSTEM_CLOCK.sleepUntil(ms - shiftMs, signal),
  };
}

const run = (spool: string, over: Partial<CollectOptions> = {}): ReturnType<typeof collect> =>
  collect({ targets, spool, intervalMs: 100, timeoutMs: 80, durationMs: 450, lake: path.join(spool, 'no-lake'), get: ok, ...over });

/** Every file of the target's folder, decompressed, in hour order. */
function spoolText(spool: string, target = 'node-17_9400'): { files: string[]; text: string } {
  const dir = path.join(spool, target);
  const files = fs.readdirSync(dir).sort();
  const text = files
    .map((f) => (f.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(path.join(dir, f))) : fs.readFileSync(path.join(dir, f))).toString('utf8'))
    .join('');
  return { files, text };
}

const trailers = (text: string): number[] =>
  text
    .split('\n')
    .map((l) => parseTrailer(l))
    .filter((t) => t !== null)
    .map((t) => t.ms);

describe('collect', () => {
  it('rolls to the next hour file and gzips the hour that ended', async () => {
    const spool = tempDir();
    const end = hourStart(Date.now()) + HOUR_MS;
    const clock = shiftedClock(end - 300 - Date.now()); // 0.3 s before the hour ends
    const notes: string[] = [];
    const down: HttpGetFn = async (url) => {
      if (url.includes('node-18')) throw new HttpFailure('connection', `${url}: connection refused`);
      return ok();
    };
    const both = nameTargets(['http://node-17:9400/metrics', 'http://node-18:9400/metrics']);
    const s = await run(spool, { clock, durationMs: 700, get: down, targets: both, note: (t) => notes.push(t) });
    // a target still down when the hour ends is reminded of, once
    expect(notes.filter((n) => n.startsWith('node-18_9400: still failing ('))).toHaveLength(1);
    expect(fs.existsSync(path.join(spool, 'node-18_9400'))).toBe(false);
    const { files, text } = spoolText(spool);
    const hourName = (ms: number): string => `node-17_9400_${new Date(ms).toISOString().slice(0, 13)}`;
    expect(files).toEqual([`${hourName(end - 1)}.prom.gz`, `${hourName(end)}.prom`]);
    expect(s.files_closed).toBe(1);
    const times = trailers(text);
    expect(times.length).toBe(s.scrapes_ok);
    expect(times.some((t) => t < end) && times.some((t) => t >= end)).toBe(true);
    // each block went to the file of its own hour
    const before = zlib.gunzipSync(fs.readFileSync(path.join(spool, 'node-17_9400', files[0]!))).toString();
    expect(trailers(before).every((t) => t < end)).toBe(true);
    expect(s.stop_reason).toBe('duration');
  });

  it('restarted, appends to the same hour file without repeating a slot or keeping a cut block', async () => {
    const spool = tempDir();
    const clock = shiftedClock(hourStart(Date.now()) + 10 * 60_000 - Date.now()); // mid-hour: no roll
    const first = await run(spool, { clock });
    const file = path.join(spool, 'node-17_9400', spoolText(spool).files[0]!);
    fs.appendFileSync(file, BODY.subarray(0, 700)); // a block a kill cut short
    const second = await run(spool, { clock });
    await run(spool, { clock });
    const { files, text } = spoolText(spool);
    expect(files).toHaveLength(1);
    expect(second.bytes_recovered).toBe(700);
    const times = trailers(text);
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times.length).toBeGreaterThanOrEqual(first.scrapes_ok + second.scrapes_ok);
    // every sample line carries its block's time; none is left over from the cut block
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.every((l) => /\s\d{13}$/.test(l))).toBe(true);
  });

  it('skips and counts the slots a slow scrape runs past, and keeps to the grid', async () => {
    // a clock that jumps to each slot at once and that the GET moves on by 330 ms: no waiting, no timing
    let now = Date.UTC(2026, 11, 5, 21, 10, 0, 17);
    const clock: Clock = {
      now: () => now,
      sleepUntil: async (ms) => {
        now = Math.max(now, ms);
      },
    };
    const stop = new AbortController();
    const sent: number[] = [];
    const slow: HttpGetFn = async () => {
      sent.push(now);
      now += 330;
      if (sent.length === 6) stop.abort();
      return ok();
    };
    const s = await run(tempDir(), { get: slow, clock, intervalMs: 200, timeoutMs: 150, durationMs: null, signal: stop.signal });
    const offset = sent[0]! % 200;
    // each scrape sent on a slot of the grid, every other slot (the one it ran past skipped)
    expect(sent.map((t) => t - sent[0]!)).toEqual([0, 400, 800, 1200, 1600, 2000]);
    for (const t of sent) expect(t % 200).toBe(offset);
    expect(s.targets[0]).toMatchObject({ scrapes_ok: 6, slots_skipped: 6 });
  });

  it('notes a target’s first failure and its return, not every failed scrape', async () => {
    const spool = tempDir();
    let calls = 0;
    const flaky: HttpGetFn = async (url) => {
      calls++;
      if (calls <= 3) throw new HttpFailure('timeout', `${url}: no complete response within 80 ms`);
      if (calls === 4) return { status: 500, headers: {}, body: Buffer.from('oops') };
      return ok();
    };
    const notes: string[] = [];
    const s = await run(spool, { get: flaky, durationMs: 800, note: (t) => notes.push(t) });
    expect(notes.filter((n) => n.includes('scrape failed'))).toEqual([
      'node-17_9400: scrape failed: http://node-17:9400/metrics: no complete response within 80 ms (noted again when it is back)',
    ]);
    expect(notes.filter((n) => n.includes('back after'))).toEqual(['node-17_9400: back after 4 failed scrapes']);
    expect(s.targets[0]).toMatchObject({ scrapes_failed: 4, last_error: 'http://node-17:9400/metrics: HTTP 500' });
    expect(trailers(spoolText(spool).text)).toHaveLength(s.scrapes_ok);
  });

  it('writes nothing for a response without samples', async () => {
    const spool = tempDir();
    const html: HttpGetFn = async () => ({ status: 200, headers: {}, body: Buffer.from('\n\n# nothing here\n') });
    const s = await run(spool, { get: html, durationMs: 250 });
    expect(s.scrapes_ok).toBe(0);
    expect(s.targets[0]!.last_error).toMatch(/no samples in the response/);
    expect(fs.existsSync(path.join(spool, 'node-17_9400'))).toBe(false);
  });

  it('on stop, finishes and writes the scrape in flight', async () => {
    const spool = tempDir();
    const stop = new AbortController();
    const inFlight: HttpGetFn = async () => {
      stop.abort(); // the signal comes while the body is still on its way
      await new Promise((r) => setTimeout(r, 120));
      return ok();
    };
    const s = await run(spool, { get: inFlight, durationMs: null, signal: stop.signal });
    expect([s.scrapes_ok, s.stop_reason]).toEqual([1, 'signal']);
    expect(trailers(spoolText(spool).text)).toHaveLength(1);
  });

  it('lets one collect write a spool at a time', async () => {
    const spool = tempDir();
    const stop = new AbortController();
    const first = run(spool, { durationMs: null, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 100));
    const err = await run(spool).catch((e: unknown) => e);
    stop.abort();
    await first;
    expect(err).toBeInstanceOf(GpuhealthError);
    expect(err).not.toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect(fs.existsSync(path.join(spool, '.collect.lock'))).toBe(false);
  });

  it('refuses a spool that is a file and a timeout not below the interval', async () => {
    const file = path.join(tempDir(), 'spool');
    fs.writeFileSync(file, '');
    await expect(run(file)).rejects.toThrow(InputError);
    await expect(run(tempDir(), { timeoutMs: 100 })).rejects.toThrow(/--timeout/);
  });
});
