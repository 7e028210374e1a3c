/**
 * `gpuhealth collect`: scrape dcgm-exporter endpoints on an interval into the spool that `ingest`
 * and `nightly --spool` read (spool-file.ts has the layout and its crash rules).
 *
 * Each target runs its own loop on its own slot grid (schedule.ts): wait for the slot, GET with a
 * timeout below the interval, stamp the body and append it as one block (stamp.ts), move to the
 * next slot. Targets never wait for each other; a failed scrape writes nothing and is counted; a
 * target's first failure and its recovery are noted, not every failed scrape. Closing an hour (gzip)
 * and --keep run one at a time in the background, so a slow disk never holds up a scrape.
 *
 * Stopping (the signal, or --duration) starts no new scrape, lets the ones in flight finish and be
 * written (their timeout bounds the wait), finishes the gzip in progress and closes the files; the
 * current hour stays a `.prom` that the next start appends to.
 */
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { GpuhealthError, InputError } from '../errors.js';
import { acquireLock, LakeLockedError, type LakeLock } from '../lake/lock.js';
import { HttpFailure, httpGet, keepAliveAgents, type HttpGetOptions, type HttpResponse } from '../net/http.js';
import { pruneSpool, type PruneResult } from './retention.js';
import { firstSlot, nextSlot, slotOffsetMs, slotTime, type SlotGrid } from './schedule.js';
import { appendBlock, closeHourFile, hourFile, hourStart, listHourFiles, openHourFile, removeTempFiles, type OpenedHourFile } from './spool-file.js';
import { stampScrape } from './stamp.js';
import type { CollectTarget } from './targets.js';

/** The spool's lock file: one collect per spool. A dot file, so ingest's folder walk skips it. */
export const SPOOL_LOCK = '.collect.lock';

/** A response larger than this fails the scrape: an exporter of a big node serves a few MB. */
export const MAX_SCRAPE_BYTES = 64 << 20;

/** The clock the loops run on; tests give one that needs no waiting. */
export interface Clock {
  now(): number;
  /** Resolves at `ms` (never before it), or at once when `signal` aborts. */
  sleepUntil(ms: number, signal: AbortSignal): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleepUntil(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      let timer: NodeJS.Timeout;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // a timer may fire a millisecond early: wait again until the slot's time has come
      const arm = (): void => {
        const wait = ms - Date.now();
        if (wait <= 0) return done();
        timer = setTimeout(arm, wait);
      };
      signal.addEventListener('abort', done, { once: true });
      arm();
    });
  },
};

export type HttpGetFn = (url: string, opts: HttpGetOptions) => Promise<HttpResponse>;

export interface CollectOptions {
  targets: readonly CollectTarget[];
  spool: string;
  intervalMs: number;
  timeoutMs: number;
  /** Stop after this long (ms); null or absent: until the signal. */
  durationMs?: number | null;
  /** --keep: delete closed hours older than this once the lake has ingested them. */
  keepMs?: number | null;
  /** The lake whose manifest --keep reads. */
  lake: string;
  /** Sent to every target (their values never appear in a message). */
  headers?: Readonly<Record<string, string>>;
  /** Stops the run (SIGTERM, SIGINT). */
  signal?: AbortSignal;
  /** Notes for stderr. */
  note?: (text: string) => void;
  clock?: Clock;
  /** The GET; tests replace it. */
  get?: HttpGetFn;
}

/** One target's figures (the `targets` rows of `collect --json`; docs/collect.md). */
export interface TargetSummary {
  name: string;
  /** Without user-info. */
  url: string;
  scrapes_ok: number;
  scrapes_failed: number;
  /** Slots passed over because the scrape before was still running (or its write was slow). */
  slots_skipped: number;
  samples: number;
  /** Bytes appended to the spool. */
  bytes: number;
  /** The last failure's message; null when none failed. */
  last_error: string | null;
  /** The last successful scrape's time (ISO-8601 UTC); null when none succeeded. */
  last_scrape_at: string | null;
}

/** What `collect --json` prints (the contract in docs/collect.md). */
export interface CollectSummary {
  spool: string;
  interval_ms: number;
  timeout_ms: number;
  started_at: string;
  stopped_at: string;
  stop_reason: 'signal' | 'duration';
  scrapes_ok: number;
  scrapes_failed: number;
  slots_skipped: number;
  samples: number;
  bytes: number;
  /** Hour files gzipped (left by an earlier run, or closed when their hour ended). */
  files_closed: number;
  /** Bytes cut from the end of hour files at start: blocks a kill left half written. */
  bytes_recovered: number;
  /** --keep: hour files deleted, and old ones kept because the lake has not ingested them yet. */
  hours_deleted: number;
  hours_waiting: number;
  targets: TargetSummary[];
}

interface TargetState {
  target: CollectTarget;
  grid: SlotGrid;
  summary: TargetSummary;
  /** The hour file being appended to. */
  open: (OpenedHourFile & { file: string; hourMs: number }) | null;
  /** The last scrape the spool holds at start (from the trailer of the current hour's file). */
  lastAtStart: number | null;
  /** Failures since the last success. */
  failing: number;
  /** The hour of its last slot (a failing target is reminded of once an hour). */
  hourMs: number;
}

/** One job at a time, in order (gzip of closed hours, --keep): bounded memory and disk load. */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;
  constructor(private readonly onError: (e: unknown) => void) {}
  push(job: () => Promise<void>): void {
    this.tail = this.tail.then(() => (this.stopped ? undefined : job().catch(this.onError)));
  }
  /** Drops the jobs not started; resolves when the one running is done. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.tail;
  }
  drain(): Promise<void> {
    return this.tail;
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Runs until the signal or the duration; returns the figures. */
export async function collect(opts: CollectOptions): Promise<CollectSummary> {
  const clock = opts.clock ?? SYSTEM_CLOCK;
  const note = opts.note ?? (() => {});
  const get = opts.get ?? httpGet;
  const spool = path.resolve(opts.spool);
  if (opts.targets.length === 0) throw new InputError('no target to scrape', ['--url http://HOST:9400/metrics, or --targets FILE']);
  if (opts.timeoutMs >= opts.intervalMs) throw new InputError(`--timeout (${opts.timeoutMs} ms) must be shorter than --interval (${opts.intervalMs} ms)`);
  prepareSpool(spool);
  const lock = await lockSpool(spool);
  const startedMs = clock.now();
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every target's wait listens to it
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    stop.abort();
  };
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener('abort', onSignal, { once: true });
  const stopAt = opts.durationMs ? startedMs + opts.durationMs : null;
  let durationTimer: Promise<void> | null = null;
  if (stopAt !== null) {
    durationTimer = clock.sleepUntil(stopAt, stop.signal).then(() => stop.abort());
  }
  const agents = keepAliveAgents();
  // text format 0.0.4, as Prometheus asks for it when it does not speak OpenMetrics; --header overrides
  const headers = { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', 'user-agent': 'gpuhealth-collect', ...opts.headers };
  const totals = { filesClosed: 0, recovered: 0, deleted: 0, waiting: 0 };
  const queue = new SerialQueue((e) => note(`warning: ${(e as Error).message}`));
  const states: TargetState[] = opts.targets.map((target) => ({
    target,
    grid: { intervalMs: opts.intervalMs, offsetMs: slotOffsetMs(target.name, opts.intervalMs) },
    summary: {
      name: target.name,
      url: target.shown,
      scrapes_ok: 0,
      scrapes_failed: 0,
      slots_skipped: 0,
      samples: 0,
      bytes: 0,
      last_error: null,
      last_scrape_at: null,
    },
    open: null,
    lastAtStart: null,
    failing: 0,
    hourMs: hourStart(clock.now()),
  }));

  const closeLater = (file: string, target: string): void =>
    queue.push(async () => {
      const outcome = await closeHourFile(file, target);
      if (outcome === 'gzipped' || outcome === 'merged' || outcome === 'already-gzipped') totals.filesClosed++;
      if (outcome === 'merged') note(`${target}: ${path.basename(file)}.gz held other scrapes of that hour (was the clock set back?); both are kept in it`);
    });
  let prunedHour = -1;
  const pruneLater = (): void => {
    if (!opts.keepMs) return;
    const keepMs = opts.keepMs;
    queue.push(async () => {
      const r = await pruneSpool({ spool, lake: opts.lake, keepMs, nowMs: clock.now() });
      reportPrune(r, note);
      totals.deleted += r.deleted.length;
      totals.waiting = r.waiting.length;
    });
  };

  try {
    // a gzip cut short by a kill is redone from its .prom, which is still there
    removeTempFiles(spool);
    const hourNow = hourStart(clock.now());
    for (const st of states) {
      const opened = await openHourFile(hourFile(spool, st.target.name, hourNow), st.target.name, false);
      if (!opened) continue;
      st.open = { ...opened, file: hourFile(spool, st.target.name, hourNow), hourMs: hourNow };
      st.lastAtStart = opened.last?.ms ?? null;
      totals.recovered += opened.cut;
      if (opened.cut > 0) note(`${st.target.name}: removed a scrape cut short at the end of ${path.basename(st.open.file)} (${plural(opened.cut, 'byte')})`);
    }
    // hours an earlier run left open (it was stopped, or killed) are closed now
    for (const f of listHourFiles(spool)) if (!f.gz && f.hourMs < hourNow) closeLater(f.path, f.target);
    prunedHour = hourNow;
    pruneLater();

    /** Closes the target's hour file when its hour is over (and queues its gzip). */
    const rollHour = async (st: TargetState, nowMs: number): Promise<void> => {
      const hour = hourStart(nowMs);
      if (st.open && st.open.hourMs !== hour) {
        await st.open.fh.close();
        // an hour ahead of the clock (the clock went back) is left for a later start to close
        if (st.open.hourMs < hour) closeLater(st.open.file, st.target.name);
        st.open = null;
      }
      if (hour > st.hourMs) {
        st.hourMs = hour;
        if (st.failing > 0) note(`${st.target.name}: still failing (${plural(st.failing, 'failed scrape')}; last: ${st.summary.last_error})`);
      }
      if (hour > prunedHour) {
        prunedHour = hour;
        pruneLater();
      }
    };

    const fail = (st: TargetState, message: string): void => {
      st.summary.scrapes_failed++;
      st.summary.last_error = message;
      if (st.failing++ === 0) note(`${st.target.name}: scrape failed: ${message} (noted again when it is back)`);
    };

    const scrape = async (st: TargetState, sentMs: number): Promise<void> => {
      let res: HttpResponse;
      try {
        res = await get(st.target.url, { timeoutMs: opts.timeoutMs, headers, agent: agents, maxBytes: MAX_SCRAPE_BYTES });
      } catch (e) {
        return fail(st, e instanceof HttpFailure ? e.message : `${st.target.shown}: ${(e as Error).message}`);
      }
      if (res.status < 200 || res.status > 299) return fail(st, `${st.target.shown}: HTTP ${res.status}`);
      const stamped = stampScrape(res.body, st.target.name, sentMs);
      if (stamped.samples === 0) return fail(st, `${st.target.shown}: no samples in the response (${plural(res.body.length, 'byte')})`);
      const hour = hourStart(sentMs);
      const file = hourFile(spool, st.target.name, hour);
      try {
        if (st.open && st.open.hourMs !== hour) await rollHour(st, sentMs);
        if (!st.open) {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          st.open = { ...(await openHourFile(file, st.target.name, true))!, file, hourMs: hour };
        }
        await appendBlock(st.open.fh, st.open.size, stamped.block);
        st.open.size += stamped.block.length;
      } catch (e) {
        return fail(st, `cannot write ${path.relative(spool, file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      st.summary.scrapes_ok++;
      st.summary.samples += stamped.samples;
      st.summary.bytes += stamped.block.length;
      st.summary.last_scrape_at = new Date(sentMs).toISOString();
      if (st.failing > 0) note(`${st.target.name}: back after ${plural(st.failing, 'failed scrape')}`);
      st.failing = 0;
    };

    const loop = async (st: TargetState): Promise<void> => {
      let k = firstSlot(st.grid, clock.now(), st.lastAtStart);
      for (;;) {
        const t = slotTime(st.grid, k);
        if (stopAt !== null && t >= stopAt) break;
        await clock.sleepUntil(t, stop.signal);
        if (stop.signal.aborted) break;
        const sentMs = clock.now();
        await scrape(st, sentMs);
        const endMs = clock.now();
        await rollHour(st, endMs);
        const next = nextSlot(st.grid, k, endMs);
        st.summary.slots_skipped += next.skipped;
        k = next.k;
      }
    };

    // an unexpected error in one loop stops them all, and is raised once they have ended
    const ended = await Promise.allSettled(
      states.map((st) =>
        loop(st).catch((e: unknown) => {
          stop.abort();
          throw e;
        }),
      ),
    );
    stop.abort();
    await durationTimer;
    const broken = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (broken) throw broken.reason;
    // the current hour stays open for the next start; an hour that ended meanwhile is closed
    const hourAtStop = hourStart(clock.now());
    for (const st of states) {
      if (!st.open) continue;
      await st.open.fh.close();
      if (st.open.hourMs < hourAtStop) closeLater(st.open.file, st.target.name);
      st.open = null;
    }
    // a one-shot capture finishes its gzips; a service being stopped leaves them to its next start
    if (!signalled) await queue.drain();
    else await queue.stop();
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
    stop.abort();
    await queue.stop();
    for (const st of states) await st.open?.fh.close();
    agents.http.destroy();
    agents.https.destroy();
    lock.release();
  }
  const rows = states.map((s) => s.summary);
  const sum = (k: 'scrapes_ok' | 'scrapes_failed' | 'slots_skipped' | 'samples' | 'bytes'): number => rows.reduce((a, r) => a + r[k], 0);
  return {
    spool,
    interval_ms: opts.intervalMs,
    timeout_ms: opts.timeoutMs,
    started_at: new Date(startedMs).toISOString(),
    stopped_at: new Date(clock.now()).toISOString(),
    stop_reason: signalled ? 'signal' : 'duration',
    scrapes_ok: sum('scrapes_ok'),
    scrapes_failed: sum('scrapes_failed'),
    slots_skipped: sum('slots_skipped'),
    samples: sum('samples'),
    bytes: sum('bytes'),
    files_closed: totals.filesClosed,
    bytes_recovered: totals.recovered,
    hours_deleted: totals.deleted,
    hours_waiting: totals.waiting,
    targets: rows,
  };
}

/** The spool folder, created when missing: a path that is a file is the user's mistake (2), one that cannot be written a failure (1). */
function prepareSpool(spool: string): void {
  const st = fs.statSync(spool, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new InputError(`--spool ${spool} is a file, not a folder`);
  try {
    fs.mkdirSync(spool, { recursive: true });
    fs.accessSync(spool, fs.constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new InputError(`--spool ${spool}: a part of the path is a file`);
    throw new GpuhealthError(`cannot write the spool ${spool} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, [
      'give a --spool folder this user may write',
    ]);
  }
}

/** Takes the spool's lock; a live holder is a failure (1) that names it. A lock of a dead pid is taken over. */
async function lockSpool(spool: string): Promise<LakeLock> {
  const file = path.join(spool, SPOOL_LOCK);
  try {
    return await acquireLock(file, { waitMs: 0 });
  } catch (e) {
    if (!(e instanceof LakeLockedError)) throw e;
    const since = fs.statSync(file, { throwIfNoEntry: false })?.mtime.toISOString();
    throw new GpuhealthError(`another gpuhealth collect (pid ${e.holder}${since ? `, since ${since}` : ''}) is writing the spool ${spool}`, [
      `stop it first, or give this one another --spool (remove ${file} only if pid ${e.holder} is no gpuhealth collect)`,
    ]);
  }
}

function reportPrune(r: PruneResult, note: (text: string) => void): void {
  if (r.deleted.length > 0) note(`--keep: deleted ${plural(r.deleted.length, 'spool hour')} the lake has ingested`);
  if (r.waiting.length > 0) {
    note(`--keep: kept ${plural(r.waiting.length, 'old spool hour')} not ingested yet${r.problem ? ` (${r.problem})` : ''}; run gpuhealth ingest on the spool`);
  }
}
