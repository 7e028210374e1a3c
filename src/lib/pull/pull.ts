/**
 * `gpuhealth pull`: DCGM telemetry read from a Prometheus HTTP API into the lake, resumably.
 *
 *   1. discover: the DCGM families the server has (`/api/v1/label/__name__/values`), and the host
 *      units in the range (label values of BATCH_LABELS, plan.ts);
 *   2. skip what the lake's pulled-chunk records cover for this server, selector and step (records.ts);
 *   3. fetch the missing (unit, range) pairs a grid cell at a time, PULL_CONCURRENCY queries at once,
 *      each response sized by plan.ts and cut again when the server finds it too large;
 *   4. write: every response is saved as it came (Prometheus JSON) in a folder of the lake's `_tmp/`,
 *      and each batch of them goes through `ingest` (format prom-json: one code path with
 *      `gpuhealth ingest file.json`) as one atomic commit, with the records of its chunks staged into
 *      that same commit. A chunk that ends within FRESH_LAG_MS of now is written but not recorded, so
 *      the next pull asks for it again (ingest drops the rows the lake has).
 *
 * A pull killed at any point leaves the commits it made; run again, it asks only for what no record
 * covers. A pull that fails (server or network, after retries) commits what it fetched, then says how
 * many chunks remain.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DCGM_FIELD_MAP } from '../dcgm/fields.js';
import { GpuhealthError, InputError } from '../errors.js';
import { ingest } from '../ingest/ingest.js';
import { XID_COUNT_METRIC } from '../ingest/prom-json.js';
import { lakeLayout, newRunId } from '../lake/layout.js';
import { checkLakePath, type LakeRun } from '../lake/run.js';
import type { CommitHooks } from '../lake/txn.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { PromApiError, PromClient, TooLargeError } from './client.js';
import {
  alignedRange,
  cellPieces,
  familiesMatcher,
  GPUS_PER_HOST_GUESS,
  gridCells,
  halve,
  isFresh,
  pieceSelector,
  queryRangeParams,
  secondsText,
  uncovered,
  unitKey,
  unitMatchers,
  BATCH_LABELS,
  type Piece,
  type TimeRange,
  type Unit,
} from './plan.js';
import { pulledRanges, stagePulledRecords, type PulledRecord } from './records.js';
import { renderSelector, type Matcher } from './selector.js';

/** Queries in flight at once: Prometheus evaluates each on one core; four keep a puller busy without crowding the server's other users. */
export const PULL_CONCURRENCY = 4;
/**
 * Response bytes per commit: ~1.3 M samples, a few seconds of ingest, so an interrupted pull loses
 * little; larger batches were no faster (bench/pull.js, 64 MiB: the same rate).
 */
export const COMMIT_BYTES = 32 << 20;
/** Responses per commit at most, so that a pull of many small responses still commits every few seconds. */
export const COMMIT_PIECES = 64;

/**
 * The families a pull asks for: every dcgm-exporter name the lake has a column for (2.x–4.x and the
 * 1.x `dcgm_*` names; the server's own list decides which exist), and the windowed Xid count, which
 * ingest turns into Xid events.
 */
export const PULL_FAMILIES: readonly string[] = [...DCGM_FIELD_MAP.keys(), XID_COUNT_METRIC];

export interface PullOptions {
  lake: string;
  /** The Prometheus base URL (options.ts serverUrl). */
  server: string;
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** --match: label matchers added to every query. */
  matchers?: readonly Matcher[];
  /** Request headers, credentials included (never shown). */
  headers?: Readonly<Record<string, string>>;
  /** Discover and plan, fetch no data, write nothing. */
  dryRun?: boolean;
  /** The time now (ms): what is too fresh to record; tests set it. */
  nowMs?: number;
  timeoutMs?: number;
  concurrency?: number;
  /** Responses per commit at most (default COMMIT_PIECES); tests lower it to commit often. */
  piecesPerCommit?: number;
  /** Response bytes per commit (default COMMIT_BYTES). */
  commitBytes?: number;
  retryBaseMs?: number;
  progress?: ProgressFn;
  /** One-line notes for stderr: retries, server warnings, what ingest warned about. */
  onNote?: (text: string) => void;
  /** Called after each commit with the chunks recorded so far (tests kill the process here). */
  afterCommit?: (chunksRecorded: number) => void;
  lockWaitMs?: number;
  commitHooks?: CommitHooks;
}

/** One query of a dry run's plan. */
export interface PlannedQuery {
  start: string;
  end: string;
  step_s: number;
  query: string;
  hosts: number;
}

export interface PullSummary {
  server: string;
  lake: string;
  from: string;
  to: string;
  step_s: number;
  selector: string;
  families: string[];
  /** Host units in the range (values of Hostname, hostname or instance). */
  hosts: number;
  /** (host unit, grid cell) pairs: in the range, already in the lake, pulled and recorded, pulled but too fresh to record, left (after a failure). */
  chunks: { total: number; already: number; pulled: number; partial: number; remaining: number };
  requests: number;
  retries: number;
  queries: number;
  samples: number;
  rows: number;
  duplicates_dropped: number;
  commits: number;
  rows_per_s: number;
  elapsed_s: number;
  dry_run: boolean;
  /** A dry run's queries (the first cell's batching; later cells are sized from the responses). */
  plan?: PlannedQuery[];
}

/** A failed pull: the cause, and what was kept and remains. Exit 1. */
export class PullFailedError extends GpuhealthError {}

interface Fetched {
  piece: Piece;
  cell: number;
  file: string | null;
  bytes: number;
  records: PulledRecord[];
  fresh: boolean;
}

export async function pull(opts: PullOptions): Promise<PullSummary> {
  const started = Date.now();
  const nowMs = opts.nowMs ?? Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const note = opts.onNote ?? (() => {});
  const layout = lakeLayout(opts.lake);
  const lakeMissing = checkLakePath(layout, { create: true }).missing; // a lake path that is a file: exit 2 before any request
  const step = opts.stepMs;
  const range = alignedRange(opts.fromMs, opts.toMs, step);
  const noted = new Set<string>();
  const noteOnce = (text: string): void => {
    if (noted.has(text)) return;
    noted.add(text);
    note(text);
  };
  const client = new PromClient({
    server: opts.server,
    headers: opts.headers ?? {},
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
    onRetry: (why) => note(why),
  });
  const summary: PullSummary = {
    server: client.shown,
    lake: layout.root,
    from: new Date(range.start).toISOString(),
    to: new Date(range.end - step).toISOString(),
    step_s: step / 1000,
    selector: '',
    families: [],
    hosts: 0,
    chunks: { total: 0, already: 0, pulled: 0, partial: 0, remaining: 0 },
    requests: 0,
    retries: 0,
    queries: 0,
    samples: 0,
    rows: 0,
    duplicates_dropped: 0,
    commits: 0,
    rows_per_s: 0,
    elapsed_s: 0,
    dry_run: Boolean(opts.dryRun),
  };
  const finish = (): PullSummary => {
    summary.requests = client.requests;
    summary.retries = client.retries;
    summary.elapsed_s = (Date.now() - started) / 1000;
    summary.rows_per_s = summary.elapsed_s > 0 ? Math.round(summary.rows / summary.elapsed_s) : 0;
    return summary;
  };
  let spool: string | null = null;
  try {
    // 1. discover
    progress(`asking ${client.shown} for its DCGM families`);
    const user = opts.matchers ?? [];
    const rangeSec = { start: secondsText(range.start), end: secondsText(range.end - step) };
    // over the range: some servers (VictoriaMetrics) answer only for the last day without one; a range
    // with none is asked again over all time, so that "no DCGM metrics at all" is told from "none then"
    const namesSelector = renderSelector([familiesMatcher(PULL_FAMILIES), ...user]);
    let names = await client.labelValues('__name__', namesSelector, rangeSec, 'listing metric names');
    if (names.values.length === 0) names = await client.labelValues('__name__', namesSelector, null, 'listing metric names');
    for (const n of names.notes) noteOnce(n);
    const have = new Set(names.values);
    const families = PULL_FAMILIES.filter((f) => have.has(f));
    if (families.length === 0) {
      throw new PromApiError(
        `Prometheus at ${client.shown} has no DCGM metrics${user.length ? ' matching --match' : ''} (none of the dcgm-exporter families the lake stores)`,
        [
          'check that it scrapes dcgm-exporter (curl <server>/api/v1/label/__name__/values | grep DCGM_FI_DEV_GPU_TEMP)',
          ...(user.length ? ['loosen --match'] : []),
        ],
      );
    }
    const base: Matcher[] = [familiesMatcher(families), ...user];
    const selector = renderSelector(base);
    summary.families = families;
    summary.selector = selector;
    progress(`listing hosts at ${client.shown}`);
    const units: Unit[] = [];
    for (const [i, label] of BATCH_LABELS.entries()) {
      const outside = BATCH_LABELS.slice(0, i).map((l): Matcher => ({ label: l, op: '=', value: '' }));
      const r = await client.labelValues(label, renderSelector([...base, ...outside]), rangeSec, `listing ${label} values`);
      for (const v of [...new Set(r.values)].sort()) if (v !== '') units.push({ label, value: v });
    }
    const hostless =
      units.length === 0 ||
      (await client.seriesExist(renderSelector([...base, ...unitMatchers(null, [])]), rangeSec, 'looking for series without a host label'));
    summary.hosts = units.length;
    if (hostless) units.push({ label: null, value: null });

    // 2. what the lake has
    const covered = lakeMissing ? new Map<string, TimeRange[]>() : await pulledRanges(layout, client.shown, selector, step);
    const cells = gridCells(range, step);
    const missing: Map<string, { unit: Unit; ranges: TimeRange[] }>[] = cells.map((cell) => {
      const m = new Map<string, { unit: Unit; ranges: TimeRange[] }>();
      for (const unit of units) {
        const key = unitKey(unit);
        const ranges = uncovered(cell, covered.get(key) ?? []);
        if (ranges.length > 0) m.set(key, { unit, ranges });
      }
      return m;
    });
    summary.chunks.total = cells.length * units.length;
    summary.chunks.already = summary.chunks.total - missing.reduce((a, m) => a + m.size, 0);
    let seriesPerUnit = families.length * GPUS_PER_HOST_GUESS;
    let observed = false;

    if (opts.dryRun) {
      summary.plan = cells.flatMap((_, c) =>
        cellPieces(missing[c]!, step, seriesPerUnit, selector.length).map((p) => ({
          start: new Date(p.start).toISOString(),
          end: new Date(p.end - step).toISOString(),
          step_s: step / 1000,
          query: pieceSelector(base, p),
          hosts: p.label === null ? 0 : p.units.length,
        })),
      );
      summary.queries = summary.plan.length;
      summary.chunks.remaining = summary.chunks.total - summary.chunks.already;
      return finish();
    }

    // 3 and 4. fetch and commit
    // per (cell, unit): its pieces not yet fetched, not yet committed, and whether one was too fresh to record
    const pending = new Map<string, { unfetched: number; uncommitted: number; fresh: boolean }>();
    const pairKey = (cell: number, u: Unit): string => `${cell}|${unitKey(u)}`;
    // named as a run, so that recovery leaves it alone while this process lives and removes it after
    spool = path.join(layout.tmpDir, newRunId());
    fs.mkdirSync(spool, { recursive: true });
    let queue: { piece: Piece; cell: number }[] = [];
    let nextCell = 0;
    const track = (cell: number, p: Piece, delta: number): void => {
      for (const u of p.units) {
        const k = pairKey(cell, u);
        const s = pending.get(k) ?? { unfetched: 0, uncommitted: 0, fresh: false };
        s.unfetched += delta;
        s.uncommitted += delta;
        pending.set(k, s);
      }
    };
    const take = (): { piece: Piece; cell: number } | undefined => {
      while (queue.length === 0 && nextCell < cells.length) {
        const c = nextCell++;
        const pieces = cellPieces(missing[c]!, step, seriesPerUnit, selector.length);
        for (const p of pieces) track(c, p, 1);
        queue = pieces.map((piece) => ({ piece, cell: c }));
      }
      return queue.shift();
    };
    const toFetch = summary.chunks.total - summary.chunks.already;
    let fetchedPairs = 0;
    let failure: unknown = null;
    let batch: Fetched[] = [];
    let batchBytes = 0;
    let committing: Promise<void> = Promise.resolve();
    let seq = 0;
    const show = (): void =>
      progress(
        `pulling from ${client.shown}: ${fetchedPairs}/${toFetch} chunks, ${summary.samples.toLocaleString('en-US')} samples, ${summary.commits} commits`,
      );

    const commitBatch = async (items: Fetched[]): Promise<void> => {
      const files = items.flatMap((f) => (f.file ? [f.file] : []));
      const records = items.flatMap((f) => f.records);
      if (files.length > 0 || records.length > 0) {
        const r = await ingest({
          lake: opts.lake,
          inputs: files,
          cwd: spool!,
          formatIn: 'prom-json',
          host: null,
          tz: 'UTC',
          nowMs,
          ...(opts.lockWaitMs !== undefined ? { lockWaitMs: opts.lockWaitMs } : {}),
          ...(opts.commitHooks ? { commitHooks: opts.commitHooks } : {}),
          onWarning: (m) => noteOnce(m.replace(/^p\d+\.json: /, '')),
          onReject: (rej) => noteOnce(`rejected a sample: ${rej.reason}`),
          beforeCommit: (run: LakeRun) => stagePulledRecords(run, records),
        });
        summary.rows += r.rows;
        summary.duplicates_dropped += r.duplicates_dropped;
        summary.commits++;
        for (const f of files) fs.rmSync(path.join(spool!, f), { force: true });
      }
      for (const f of items) {
        for (const u of f.piece.units) {
          const s = pending.get(pairKey(f.cell, u))!;
          s.uncommitted--;
          s.fresh ||= f.fresh;
          if (s.uncommitted === 0) {
            if (s.fresh) summary.chunks.partial++;
            else summary.chunks.pulled++;
          }
        }
      }
      opts.afterCommit?.(summary.chunks.pulled);
      show();
    };

    const flush = async (force: boolean): Promise<void> => {
      const limit = opts.piecesPerCommit ?? COMMIT_PIECES;
      if (batch.length === 0 || (!force && batchBytes < (opts.commitBytes ?? COMMIT_BYTES) && batch.length < limit)) return;
      const items = batch;
      batch = [];
      batchBytes = 0;
      // one commit at a time, in order; fetching goes on meanwhile
      const run = committing.then(() => commitBatch(items));
      committing = run.catch(() => {});
      await run;
    };

    const fetchPiece = async (piece: Piece, cell: number): Promise<Fetched> => {
      const query = pieceSelector(base, piece);
      const what = `query_range ${new Date(piece.start).toISOString().slice(0, 16)}Z…${new Date(piece.end - step).toISOString().slice(0, 16)}Z, ${piece.label === null ? 'series without a host label' : `${piece.units.length} host${piece.units.length === 1 ? '' : 's'}`}`;
      const reply = await client.get('/api/v1/query_range', queryRangeParams(query, piece, step), what);
      for (const n of reply.notes) noteOnce(n);
      const data = reply.json.data as { resultType?: unknown; result?: unknown };
      if (data === null || typeof data !== 'object' || data.resultType !== 'matrix' || !Array.isArray(data.result)) {
        throw new PromApiError(`Prometheus at ${client.shown} answered query_range without a matrix result (${what})`);
      }
      const perUnit = new Map<string, { series: number; samples: number }>(piece.units.map((u) => [unitKey(u), { series: 0, samples: 0 }]));
      let samples = 0;
      for (const item of data.result as { metric?: Record<string, string>; values?: unknown[] }[]) {
        const n = Array.isArray(item.values) ? item.values.length : 0;
        samples += n;
        const value = piece.label === null ? null : (item.metric?.[piece.label] ?? null);
        const c = perUnit.get(unitKey({ label: piece.label, value }));
        if (c) {
          c.series++;
          c.samples += n;
        }
      }
      const most = Math.max(0, ...[...perUnit.values()].map((c) => c.series));
      if (most > 0) {
        seriesPerUnit = observed ? Math.max(seriesPerUnit, most) : most;
        observed = true;
      }
      summary.samples += samples;
      summary.queries++;
      let file: string | null = null;
      if (samples > 0) {
        file = `p${seq++}.json`;
        fs.writeFileSync(path.join(spool!, file), reply.body);
      }
      // a reply with warnings may be partial (Thanos answers a store that is down that way, unless
      // partial_response=false is honoured): written, but not recorded, so the next pull asks again
      const warned = reply.notes.some((n) => n.startsWith('Prometheus warning'));
      if (warned) noteOnce('a reply came with warnings, so it may be partial: its chunks are written but not recorded, and the next pull asks for them again');
      const fresh = isFresh(piece, nowMs) || warned;
      const records: PulledRecord[] = fresh
        ? []
        : piece.units.map((unit) => {
            const c = perUnit.get(unitKey(unit))!;
            return {
              server: client.shown,
              selector,
              unit,
              range: { start: piece.start, end: piece.end },
              stepMs: step,
              series: c.series,
              samples: c.samples,
              pulledAtMs: Date.now(),
            };
          });
      return { piece, cell, file, bytes: samples > 0 ? reply.body.length : 0, records, fresh };
    };

    const worker = async (): Promise<void> => {
      while (failure === null) {
        const next = take();
        if (next === undefined) break;
        try {
          const f = await fetchPiece(next.piece, next.cell);
          batch.push(f);
          batchBytes += f.bytes;
          for (const u of next.piece.units) if (--pending.get(pairKey(next.cell, u))!.unfetched === 0) fetchedPairs++;
          show();
          await flush(false);
        } catch (e) {
          if (e instanceof TooLargeError) {
            const halves = halve(next.piece, step);
            if (halves !== null) {
              noteOnce(`${e.message}; asking for less at a time`);
              track(next.cell, next.piece, -1);
              for (const h of halves) track(next.cell, h, 1);
              queue.unshift(...halves.map((piece) => ({ piece, cell: next.cell })));
              continue;
            }
          }
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? PULL_CONCURRENCY) }, worker));
    // what was fetched is committed also when the pull failed: it is complete, and kept
    try {
      await flush(true);
    } catch (e) {
      failure ??= e;
    }
    await committing;
    summary.chunks.remaining = summary.chunks.total - summary.chunks.already - summary.chunks.pulled - summary.chunks.partial;
    if (failure !== null) throw failedPull(failure, summary);
    if (summary.queries > 0 && summary.samples === 0)
      note(`Prometheus at ${client.shown} has no samples of these families from ${summary.from} to ${summary.to}`);
    return finish();
  } finally {
    client.close();
    if (spool) fs.rmSync(spool, { recursive: true, force: true });
    // a lake this pull created and never committed to is removed, as ingest does; but not when
    // another run (an ingest into the same new path) has put files into it meanwhile
    if (lakeMissing && summary.commits === 0 && holdsNoFiles(layout.root)) fs.rmSync(layout.root, { recursive: true, force: true });
  }
}

/** True when a folder tree holds folders only (or does not exist). */
function holdsNoFiles(dir: string): boolean {
  if (!fs.existsSync(dir)) return true;
  return fs.readdirSync(dir, { withFileTypes: true }).every((e) => e.isDirectory() && holdsNoFiles(path.join(dir, e.name)));
}

/** The error a failed pull ends with: its cause, then what was kept and what remains. */
function failedPull(cause: unknown, s: PullSummary): Error {
  if (!(cause instanceof GpuhealthError) || cause instanceof InputError) return cause as Error;
  const kept = s.chunks.pulled + s.chunks.already;
  return new PullFailedError(cause.message, [
    ...cause.suggestions,
    `${s.chunks.remaining} of ${s.chunks.total} chunks remain (${kept} are in the lake${s.commits > 0 ? `, ${s.chunks.pulled} of them committed by this run` : ''}); run the same pull again to fetch only those`,
  ]);
}
