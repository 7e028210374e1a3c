/**
 * Prometheus text exposition (format 0.0.4) as dcgm-exporter writes it, parsed straight from bytes.
 *
 * This is the hot path of `ingest` (fleets keep years of scrapes), so it allocates nothing per line:
 * metric names are matched against the previous line's name, label sets are found by a sparse hash
 * of their bytes and confirmed with a byte comparison, and numbers are read digit by digit. Work
 * that allocates (decoding labels, the slow number path) happens once per distinct series.
 * Samples of one label set at one instant are pivoted into one canonical row here; rows of the same
 * GPU from different label sets or files are merged later by the ingest query.
 *
 * A file is split into byte ranges at line boundaries so that several workers can parse it at once;
 * a range owns the lines whose first byte lies inside it.
 */
import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
import { gunzipFile } from './gunzip.js';
import { VALUE_COLUMNS } from '../schema.js';
import { DCGM_FIELD_MAP, INT32_BLANK, FP64_BLANK } from '../dcgm/fields.js';
import { decimalShift, scaleReading, ZERO_MEANS_ABSENT_BY_INDEX } from '../dcgm/values.js';
import { seriesInfo, type Labels, type SeriesInfo } from './prom-series.js';
import { BATCH_ROWS, BatchBuilder, OTHER_BATCH_COLUMNS, WIDE_BATCH_COLUMNS, type BatchSink } from './batches.js';
import { LONG_LINE_REASON, MAX_LINE_BYTES, outOfRange, rangeReason, STORABLE_TIMES, timeProblem, type TimeBounds, VALUE_LIMIT_BY_INDEX } from './limits.js';
import { csvText, emptyStats, wideIdentityCsv, type FileStats, type RejectRecord, type StagingFiles } from './staging.js';

const NL = 10,
  CR = 13,
  SP = 32,
  TAB = 9,
  HASH = 35,
  LBRACE = 123,
  RBRACE = 125;
const NCOLS = VALUE_COLUMNS.length;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_REJECTS_KEPT = 10_000;
/** Series and metric-name keys are integers unique across the workers of one run: thread id × 2^32 + a counter. */
let keyCounter = 0;
const nextKey = (): number => threadId * 2 ** 32 + ++keyCounter;

export interface PromTask {
  /** Source file to read (already decompressed unless `gzip`). */
  path: string;
  /** The file as the user named it, for reject records. */
  displayName: string;
  gzip: boolean;
  start: number;
  /** Exclusive end of the byte range; -1 for the whole file. */
  end: number;
  defaultTimeMs: number | null;
  host: string | null;
  /** The sample times taken (limits.ts sampleTimeBounds); every storable time when absent. */
  times?: TimeBounds;
}

export interface PromResult {
  stats: FileStats;
  /** Lines owned by this range (for turning range-relative line numbers into file line numbers). */
  lines: number;
  /** Rejects with range-relative line numbers (1-based); at most MAX_REJECTS_KEPT, the rest counted. */
  rejects: RejectRecord[];
  duplicates: number;
  missingTimestamps: number;
  /** Samples without a timestamp that took the task's defaultTimeMs. */
  defaultedTimes: number;
  migSeries: number;
  /** For gzip sources: the stream ended early; what came before was parsed. */
  truncated: boolean;
}

interface Series {
  bytes: Buffer;
  view: DataView;
  /** Next series in the same hash bucket. */
  next: Series | null;
  /** The series seen right after this one last time (see lookupSeries). */
  succ: Series | null;
  valid: boolean;
  info: SeriesInfo | null;
  /**
   * The series key. Staged rows carry it; the series' identity and labels go to the series file
   * once, so the staging stays small and the merge groups by integers.
   */
  key: number;
  /** The series file line, written on the series' first sample. */
  seriesLine: string | null;
  /** Listed in PromTextParser.open (rows still to flush at the end of the range). */
  inOpen: boolean;
  /** metrics_other names seen for this series at `otherTs` (duplicate detection). */
  otherTs: number;
  otherSeen: Set<MetricName> | null;
  slotTs: number;
  hasSlot: boolean;
  /** The open row's value per column (NaN = null) and whether the column was given at all. */
  vals: Float64Array;
  given: Uint8Array;
}

interface MetricName {
  bytes: Buffer;
  view: DataView;
  next: MetricName | null;
  succ: MetricName | null;
  /** Canonical column index or -1. */
  col: number;
  scale: number;
  /** log10(scale) when the scale is a power of ten (a plain decimal is rescaled exactly), else null. */
  shift: number | null;
  /** The name's key in other samples; its names-file line is written on first use. */
  key: number;
  nameLine: string | null;
}

/** a[0, n) equals b[bs, bs + n); compared from the end, where label sets of one host differ most. */
/**
 * a[0, n) equals b[bs, bs + n), four bytes at a time through DataViews (unaligned reads are fine
 * there and V8 inlines them); compared from the end, where label sets of one host differ most.
 */
function viewsEqual(a: DataView, b: DataView, bs: number, n: number): boolean {
  let i = n - 4;
  for (; i >= 0; i -= 4) if (a.getUint32(i) !== b.getUint32(bs + i)) return false;
  for (i += 3; i >= 0; i--) if (a.getUint8(i) !== b.getUint8(bs + i)) return false;
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array, bs: number, n: number): boolean {
  for (let i = n - 1; i >= 0; i--) if (a[i] !== b[bs + i]) return false;
  return true;
}

/** The first index from i that is not a space or tab (limit at most). */
function skipBlanks(buf: Uint8Array, i: number, limit: number): number {
  while (i < limit && (buf[i] === SP || buf[i] === TAB)) i++;
  return i;
}

/** The end of the token at i: the first space, tab, CR or newline (limit at most). */
function tokenEnd(buf: Uint8Array, i: number, limit: number): number {
  for (; i < limit; i++) {
    const c = buf[i];
    if (c === SP || c === TAB || c === CR || c === NL) break;
  }
  return i;
}

/** buf[ns, …) is the name `m` followed by a label set, a space or a tab (`view` is buf's DataView). */
function nameMatches(m: MetricName, buf: Uint8Array, view: DataView, ns: number, e: number): boolean {
  const len = m.bytes.length;
  if (ns + len >= e) return false;
  const d = buf[ns + len];
  return (d === LBRACE || d === SP || d === TAB) && viewsEqual(m.view, view, ns, len);
}

/** Parses a label set body (between the braces). Null when malformed. */
export function parseLabelBody(text: string): Labels | null {
  const labels: Labels = {};
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) return labels;
    const ks = i;
    while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) i++;
    if (i === ks || /[0-9]/.test(text[ks]!)) return null;
    const key = text.slice(ks, i);
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] !== '=') return null;
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] !== '"') return null;
    i++;
    let v = '';
    for (;;) {
      if (i >= n) return null;
      const c = text[i]!;
      if (c === '\\' && i + 1 < n) {
        const d = text[i + 1]!;
        v += d === 'n' ? '\n' : d;
        i += 2;
        continue;
      }
      if (c === '"') break;
      v += c;
      i++;
    }
    i++;
    labels[key] = v;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) return labels;
    if (text[i] !== ',') return null;
    i++;
  }
}

/** Go's ParseFloat is lenient about special values; so are we. */
function slowNumber(s: string): number | undefined {
  const t = s.toLowerCase();
  if (t === 'nan') return NaN;
  if (t === '+inf' || t === 'inf' || t === '+infinity' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Same rule as isDcgmBlank, inlined for the hot path. */
function isBlank(v: number): boolean {
  return (v >= INT32_BLANK && v < 2147483648) || (v >= FP64_BLANK && v < FP64_BLANK + 16) || (v >= 9.2e18 && v < 9.3e18);
}

export class PromTextParser {
  readonly stats: FileStats = emptyStats();
  readonly rejects: RejectRecord[] = [];
  lines = 0;
  duplicates = 0;
  missingTimestamps = 0;
  defaultedTimes = 0;
  private migKeys = new Set<string>();
  private names = new Map<number, MetricName>();
  private lastName: MetricName | null = null;
  private series = new Map<number, Series>();
  private viewOf: Buffer | null = null;
  private viewCached: DataView | null = null;
  private prevSeries: Series | null = null;
  private open: Series[] = [];
  /** The last timestamp's text and value: the lines of one scrape share it. */
  private readonly tsBytes = new Uint8Array(24);
  private readonly tsView = new DataView(this.tsBytes.buffer);
  private tsLen = -1;
  private tsValue = 0;
  private tMin = Infinity;
  private tMax = -Infinity;

  private readonly wide: BatchBuilder;
  private readonly other: BatchBuilder;
  private readonly times: TimeBounds;

  constructor(
    private readonly out: StagingFiles,
    private readonly task: Pick<PromTask, 'displayName' | 'defaultTimeMs' | 'host' | 'times'>,
    sink: BatchSink,
  ) {
    this.times = task.times ?? STORABLE_TIMES;
    this.wide = new BatchBuilder('wide', WIDE_BATCH_COLUMNS.length, sink);
    this.other = new BatchBuilder('other', OTHER_BATCH_COLUMNS.length, sink);
  }

  get migSeries(): number {
    return this.migKeys.size;
  }

  private reject(lineNo: number, reason: string, buf: Buffer, s: number, e: number): void {
    this.stats.rejected++;
    if (this.rejects.length < MAX_REJECTS_KEPT) {
      const text = buf.toString('utf8', s, Math.min(e, s + 2000));
      this.rejects.push({ file: this.task.displayName, line: lineNo, reason, text });
    }
  }

  /** A DataView of the current read buffer (the same buffer is reused for every read). */
  private view(buf: Buffer): DataView {
    if (this.viewOf !== buf) {
      this.viewOf = buf;
      this.viewCached = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    return this.viewCached!;
  }

  /**
   * The previous line's name, or the name that followed it last time, when buf[ns, …) starts with it
   * and the name ends there (a label set, a space or a tab follows); else null.
   */
  private nameAt(buf: Buffer, ns: number, e: number): MetricName | null {
    const last = this.lastName;
    if (last === null) return null;
    const view = this.view(buf);
    if (nameMatches(last, buf, view, ns, e)) return last;
    const guess = last.succ;
    if (guess !== null && nameMatches(guess, buf, view, ns, e)) {
      this.lastName = guess;
      return guess;
    }
    return null;
  }

  /** Like lookupSeries: the previous name, or the name that followed it last time, is usually next. */
  private lookupName(buf: Buffer, s: number, e: number): MetricName {
    const len = e - s;
    const last = this.lastName;
    if (last !== null) {
      if (last.bytes.length === len && bytesEqual(last.bytes, buf, s, len)) return last;
      const guess = last.succ;
      if (guess !== null && guess.bytes.length === len && bytesEqual(guess.bytes, buf, s, len)) {
        this.lastName = guess;
        return guess;
      }
    }
    const found = this.hashName(buf, s, e);
    if (last !== null) last.succ = found;
    this.lastName = found;
    return found;
  }

  private hashName(buf: Buffer, s: number, e: number): MetricName {
    const len = e - s;
    let h = len | 0;
    for (let p = s; p < e; p++) h = Math.imul(h ^ buf[p]!, 16777619);
    const cand = this.names.get(h);
    for (let c: MetricName | null | undefined = cand; c; c = c.next) {
      if (c.bytes.length === len && bytesEqual(c.bytes, buf, s, len)) return c;
    }
    const text = buf.toString('latin1', s, e);
    const f = DCGM_FIELD_MAP.get(text);
    const bytes = Buffer.from(buf.subarray(s, e));
    const m: MetricName = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length),
      next: cand ?? null,
      succ: null,
      col: f ? VALUE_COLUMNS.findIndex((c) => c.name === f.column) : -1,
      scale: f?.scale ?? 1,
      shift: decimalShift(f?.scale ?? 1),
      key: nextKey(),
      nameLine: null,
    };
    m.nameLine = `${m.key},${csvText(text)}\n`;
    this.names.set(h, m);
    return m;
  }

  /**
   * Exporters print the same label sets in the same order scrape after scrape (per family, or per
   * GPU), so the series that followed the previous one last time is almost always the next one:
   * one byte comparison instead of a hash. A miss falls back to the full hash of the label bytes.
   */
  private lookupSeries(buf: Buffer, s: number, e: number): Series {
    const len = e - s;
    const prev = this.prevSeries;
    const guess = prev === null ? null : prev.succ;
    if (guess !== null && guess.bytes.length === len && viewsEqual(guess.view, this.view(buf), s, len)) {
      this.prevSeries = guess;
      return guess;
    }
    const found = this.hashLookup(buf, s, e);
    if (prev !== null) prev.succ = found;
    this.prevSeries = found;
    return found;
  }

  private hashLookup(buf: Buffer, s: number, e: number): Series {
    const len = e - s;
    let h = len | 0;
    for (let p = s; p < e; p++) h = Math.imul(h ^ buf[p]!, 16777619);
    const cand = this.series.get(h);
    for (let c: Series | null | undefined = cand; c; c = c.next) {
      if (c.bytes.length === len && bytesEqual(c.bytes, buf, s, len)) return c;
    }
    const body = buf.toString('utf8', s, e);
    const labels = parseLabelBody(body);
    const info = labels ? seriesInfo(labels, this.task.host) : null;
    const key = nextKey();
    const bytes = Buffer.from(buf.subarray(s, e));
    const created: Series = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length),
      next: cand ?? null,
      succ: null,
      valid: labels !== null,
      info,
      key,
      seriesLine: `${key},${info?.identity ? wideIdentityCsv(info.identity) : `,${csvText(info?.host ?? this.task.host)},,,,`},${csvText(JSON.stringify(labels ?? {}))}\n`,
      inOpen: false,
      otherTs: NaN,
      otherSeen: null,
      slotTs: NaN,
      hasSlot: false,
      vals: new Float64Array(NCOLS),
      given: new Uint8Array(NCOLS),
    };
    if (info?.mig && info.identity) this.migKeys.add(body);
    this.series.set(h, created);
    return created;
  }

  private writeSeries(se: Series): void {
    if (se.seriesLine !== null) {
      this.out.series.write(se.seriesLine);
      se.seriesLine = null;
    }
  }

  private flushSlot(se: Series): void {
    this.writeSeries(se);
    const b = this.wide;
    const d = b.data;
    const r = b.row;
    d[r] = se.slotTs;
    d[BATCH_ROWS + r] = se.key;
    const vals = se.vals;
    const given = se.given;
    for (let c = 0, o = 2 * BATCH_ROWS + r; c < NCOLS; c++, o += BATCH_ROWS) d[o] = given[c] === 0 ? NaN : vals[c]!;
    b.next();
    given.fill(0);
    this.stats.rows++;
    se.hasSlot = false;
  }

  /** Emits every pivoted row still open; call at the end of a range. */
  finish(): void {
    for (const se of this.open) {
      if (se.hasSlot) this.flushSlot(se);
      se.inOpen = false;
    }
    this.open = [];
    this.wide.flush();
    this.other.flush();
    if (this.tMin <= this.tMax) {
      this.stats.timeMin = this.tMin;
      this.stats.timeMax = this.tMax;
    }
  }

  /** A line too long to buffer, whose first bytes are buf[s, e): counted and rejected; the reader skips the rest. */
  overlong(buf: Buffer, s: number, e: number): void {
    this.reject(++this.lines, LONG_LINE_REASON, buf, s, e);
  }

  /** Parses one line buf[s, e) (no terminator). */
  line(buf: Buffer, s: number, e: number): void {
    const lineNo = ++this.lines;
    if (e - s > MAX_LINE_BYTES) return this.reject(lineNo, LONG_LINE_REASON, buf, s, e);
    if (e > s && buf[e - 1] === CR) e--;
    if (lineNo === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3; // UTF-8 BOM
    let i = s;
    while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i === e || buf[i] === HASH) return;
    const ns = i;
    // Most lines repeat the previous line's metric name (or the one that followed it last time):
    // confirm it with one comparison instead of scanning the name's characters.
    const name = this.nameAt(buf, ns, e);
    if (name !== null) i = ns + name.bytes.length;
    else {
      for (; i < e; i++) {
        const c = buf[i]!;
        if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58)) break;
      }
      if (i === ns || (buf[ns]! >= 48 && buf[ns]! <= 57)) return this.reject(lineNo, 'not a metric sample (no metric name)', buf, s, e);
    }
    const ne = i;
    while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
    let ls = i,
      le = i,
      vs: number,
      ve: number,
      ts0 = 0,
      ts1 = 0;
    if (buf[i] === LBRACE) {
      // Read the value and timestamp backwards from the end: label values may hold spaces, and
      // scanning ~25 bytes back is much cheaper than walking every label byte forward.
      ls = i + 1;
      let k = e;
      while (k > ls && (buf[k - 1] === SP || buf[k - 1] === TAB)) k--;
      const t1e = k;
      while (k > ls && buf[k - 1] !== SP && buf[k - 1] !== TAB) k--;
      const t1s = k;
      if (t1e === t1s || buf[t1e - 1] === RBRACE) return this.reject(lineNo, 'missing value', buf, s, e);
      while (k > ls && (buf[k - 1] === SP || buf[k - 1] === TAB)) k--;
      if (k > ls && buf[k - 1] === RBRACE && !(k - 1 > t1s)) {
        vs = t1s;
        ve = t1e;
        le = k - 1;
      } else {
        const t0e = k;
        while (k > ls && buf[k - 1] !== SP && buf[k - 1] !== TAB) k--;
        const t0s = k;
        while (k > ls && (buf[k - 1] === SP || buf[k - 1] === TAB)) k--;
        if (t0e === t0s || !(k > ls - 1 && buf[k - 1] === RBRACE) || k - 1 < ls) {
          return this.reject(lineNo, buf.lastIndexOf(RBRACE, e) < ls ? 'unterminated label set' : 'unexpected text after the sample', buf, s, e);
        }
        vs = t0s;
        ve = t0e;
        ts0 = t1s;
        ts1 = t1e;
        le = k - 1;
      }
    } else {
      if (i === ne) return this.reject(lineNo, 'not a metric sample (no value)', buf, s, e);
      vs = i;
      while (i < e && buf[i] !== SP && buf[i] !== TAB) i++;
      ve = i;
      while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
      ts0 = i;
      while (i < e && buf[i] !== SP && buf[i] !== TAB) i++;
      ts1 = i;
      while (i < e && (buf[i] === SP || buf[i] === TAB)) i++;
      if (i < e) return this.reject(lineNo, 'not a metric sample (unexpected text after the value)', buf, s, e);
    }
    this.sample(lineNo, buf, s, e, name, ns, ne, null, ls, le, vs, ve, ts0, ts1);
  }

  /**
   * The common line, parsed forwards from its first byte at p with no newline search: the previous
   * line's name (or its successor), `{`, the predicted series' label bytes, `}`, a value, an
   * optional timestamp, and the newline. Returns the newline's index, or -1 (nothing consumed, no
   * state changed) for any other line, which `line` then parses in full.
   */
  private fastLine(buf: Buffer, p: number, limit: number): number {
    if (this.lines === 0) return -1; // a byte-order mark may lead the first line
    const name = this.nameAt(buf, p, limit);
    if (name === null) return -1;
    let i = p + name.bytes.length;
    if (buf[i] !== LBRACE) return -1;
    const ls = i + 1;
    const se = this.prevSeries === null ? null : this.prevSeries.succ;
    if (se === null) return -1;
    const le = ls + se.bytes.length;
    if (le >= limit || buf[le] !== RBRACE || !viewsEqual(se.view, this.view(buf), ls, se.bytes.length)) return -1;
    i = le + 1;
    if (buf[i] !== SP && buf[i] !== TAB) return -1;
    const vs = skipBlanks(buf, i, limit);
    const ve = tokenEnd(buf, vs, limit);
    if (ve === vs) return -1;
    const ts0 = skipBlanks(buf, ve, limit);
    const ts1 = tokenEnd(buf, ts0, limit);
    i = skipBlanks(buf, ts1, limit);
    const e = i; // the line's end without its CR (tokens stop at a CR)
    if (buf[i] === CR) i++;
    if (i >= limit || buf[i] !== NL) return -1;
    // a token ending in `}` is read differently backwards (as the end of the label set): full parse
    if (buf[ve - 1] === RBRACE || (ts1 > ts0 && buf[ts1 - 1] === RBRACE)) return -1;
    this.sample(++this.lines, buf, p, e, name, p, p + name.bytes.length, se, ls, le, vs, ve, ts0, ts1);
    return i;
  }

  /**
   * The rest of a line whose tokens are known: value, timestamp, then the pivoted row or the other
   * sample. `se` is the series when the caller already confirmed it, else it is looked up.
   */
  private sample(
    lineNo: number,
    buf: Buffer,
    s: number,
    e: number,
    name: MetricName | null,
    ns: number,
    ne: number,
    known: Series | null,
    ls: number,
    le: number,
    vs: number,
    ve: number,
    ts0: number,
    ts1: number,
  ): void {
    // value: digits fast path (mant / 10^frac is the correctly rounded decimal), the rest through
    // the lenient slow path
    let v: number;
    let fast = false;
    let neg = false;
    let mant = 0,
      frac = 0;
    let text: string | null = null;
    {
      let p = vs;
      if (buf[p] === 45) {
        neg = true;
        p++;
      }
      let digits = 0,
        dot = false;
      for (; p < ve; p++) {
        const c = buf[p]!;
        if (c >= 48 && c <= 57) {
          mant = mant * 10 + (c - 48);
          digits++;
          if (dot) frac++;
        } else if (c === 46 && !dot) dot = true;
        else break;
      }
      if (p === ve && digits > 0 && digits <= 15) {
        v = frac > 0 ? mant / POW10[frac]! : mant;
        if (neg) v = -v;
        fast = true;
      } else {
        text = buf.toString('latin1', vs, ve);
        const slow = slowNumber(text);
        if (slow === undefined) {
          if (text.startsWith('<<<') && text.endsWith('>>>'))
            v = NaN; // DCGM string blank
          else return this.reject(lineNo, `invalid value "${text.slice(0, 40)}"`, buf, s, e);
        } else v = slow;
      }
    }
    let ts: number;
    if (ts1 - ts0 === this.tsLen && viewsEqual(this.tsView, this.view(buf), ts0, ts1 - ts0))
      ts = this.tsValue; // same scrape as the line before
    else if (ts1 > ts0) {
      let t = 0;
      let p = ts0;
      const neg = buf[p] === 45;
      if (neg) p++;
      if (p === ts1) return this.reject(lineNo, 'invalid timestamp', buf, s, e);
      for (; p < ts1; p++) {
        const c = buf[p]!;
        if (c < 48 || c > 57) return this.reject(lineNo, 'invalid timestamp (expected integer milliseconds)', buf, s, e);
        t = t * 10 + (c - 48);
      }
      ts = neg ? -t : t;
      if (ts1 - ts0 <= this.tsBytes.length) {
        this.tsBytes.set(buf.subarray(ts0, ts1));
        this.tsLen = ts1 - ts0;
        this.tsValue = ts;
      }
    } else {
      if (this.task.defaultTimeMs === null) {
        this.missingTimestamps++;
        return this.reject(lineNo, 'sample has no timestamp and the file has no time (pass --time)', buf, s, e);
      }
      ts = this.task.defaultTimeMs;
      this.defaultedTimes++;
    }
    if (ts < this.times.minMs || ts > this.times.maxMs) return this.reject(lineNo, timeProblem(ts, this.times)!, buf, s, e);

    name ??= this.lookupName(buf, ns, ne);
    let se: Series;
    if (known !== null) this.prevSeries = se = known;
    else se = this.lookupSeries(buf, ls, le);
    if (!se.valid) return this.reject(lineNo, 'malformed label set', buf, s, e);
    const info = se.info!;
    const blank = !Number.isFinite(v) || isBlank(v);
    const col = info.identity !== null && !info.mig ? name.col : -1;
    let x = NaN;
    if (col >= 0) {
      // dcgm/values.ts canonicalValue, inlined: the zero rule by column index, and scaleReading's
      // decimal shift as digit arithmetic (the same double: both round the scaled decimal once)
      if (blank || (v === 0 && ZERO_MEANS_ABSENT_BY_INDEX[col] === 1)) x = NaN;
      else if (name.scale === 1) x = v;
      else if (fast && name.shift !== null) {
        const k = frac - name.shift;
        x = k >= 0 ? mant / POW10[k]! : mant * POW10[-k]!;
        if (neg) x = -x;
      } else x = scaleReading(v, name.scale, text);
      if (outOfRange(x, VALUE_LIMIT_BY_INDEX[col]!)) return this.reject(lineNo, rangeReason(col, text ?? buf.toString('latin1', vs, ve)), buf, s, e);
    }
    this.stats.samples++;
    if (ts < this.tMin) this.tMin = ts;
    if (ts > this.tMax) this.tMax = ts;
    if (col >= 0) {
      if (se.slotTs !== ts) {
        if (se.hasSlot) this.flushSlot(se);
        se.slotTs = ts;
      }
      if (!se.hasSlot) {
        se.hasSlot = true;
        if (!se.inOpen) {
          se.inOpen = true;
          this.open.push(se);
        }
      }
      if (se.given[col] !== 0) this.duplicates++;
      se.given[col] = 1;
      se.vals[col] = x;
    } else {
      this.writeSeries(se);
      // A repeat of the same sample at one time is marked; the merge keeps the last one.
      if (se.otherTs !== ts) {
        se.otherTs = ts;
        se.otherSeen?.clear();
      }
      se.otherSeen ??= new Set();
      const seen = se.otherSeen;
      let dup = 0;
      if (seen.has(name)) dup = ++this.duplicates;
      else seen.add(name);
      if (name.nameLine !== null) {
        this.out.names.write(name.nameLine);
        name.nameLine = null;
      }
      const b = this.other;
      const d = b.data;
      const r = b.row;
      d[r] = ts;
      d[BATCH_ROWS + r] = se.key;
      d[2 * BATCH_ROWS + r] = name.key;
      d[3 * BATCH_ROWS + r] = blank ? NaN : v;
      d[4 * BATCH_ROWS + r] = dup;
      b.next();
      this.stats.others++;
    }
  }

  /**
   * Parses complete lines of buf[0, avail) that start before `rangeEnd` (relative to buf[0]); the
   * last line of the file may lack its newline. Returns the bytes consumed.
   */
  chunkUntil(buf: Buffer, avail: number, rangeEnd: number, atEof: boolean): number {
    let p = 0;
    while (p < avail && p < rangeEnd) {
      const end = this.fastLine(buf, p, avail);
      if (end >= 0) {
        p = end + 1;
        continue;
      }
      const nl = buf.indexOf(NL, p);
      if (nl === -1 || nl >= avail) {
        if (!atEof) return p;
        this.line(buf, p, avail);
        return avail;
      }
      this.line(buf, p, nl);
      p = nl + 1;
    }
    return p;
  }

  /** Parses every complete line in buf[s, e); returns where the unfinished last line starts. */
  chunk(buf: Buffer, s: number, e: number, final: boolean): number {
    let p = s;
    for (;;) {
      const end = p < e ? this.fastLine(buf, p, e) : -1;
      if (end >= 0) {
        p = end + 1;
        continue;
      }
      const nl = buf.indexOf(NL, p);
      if (nl === -1 || nl >= e) break;
      this.line(buf, p, nl);
      p = nl + 1;
    }
    if (final && p < e) {
      this.line(buf, p, e);
      p = e;
    }
    return p;
  }
}

const READ_SIZE = 4 << 20;

/** Parses one task (a byte range of a plain file, or a whole gzip file): rows to `sink`, series and names to the staging files. */
export async function parsePromTask(task: PromTask, out: StagingFiles, sink: BatchSink): Promise<PromResult> {
  const parser = new PromTextParser(out, task, sink);
  let truncated = false;
  if (task.gzip) truncated = await parseGzip(task.path, parser);
  else parseRange(task, parser);
  parser.finish();
  return {
    stats: parser.stats,
    lines: parser.lines,
    rejects: parser.rejects,
    duplicates: parser.duplicates,
    missingTimestamps: parser.missingTimestamps,
    defaultedTimes: parser.defaultedTimes,
    migSeries: parser.migSeries,
    truncated,
  };
}

function parseRange(task: PromTask, parser: PromTextParser): void {
  const fd = fs.openSync(task.path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const end = task.end < 0 ? size : Math.min(task.end, size);
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let pos = task.start;
    // A range that starts mid-line leaves that line to the previous range.
    if (pos > 0) {
      const one = Buffer.alloc(1);
      fs.readSync(fd, one, 0, 1, pos - 1);
      if (one[0] !== NL) pos = nextLineStart(fd, pos, buf);
    }
    let carry = 0;
    let filePos = pos; // file offset of buf[0]
    while (filePos < end) {
      if (carry === buf.length) {
        // a line longer than the buffer (READ_SIZE): rejected from its first bytes, the rest skipped
        // unread, so no line, however long, is held whole
        parser.overlong(buf, 0, carry);
        filePos = nextLineStart(fd, filePos + carry, buf);
        carry = 0;
        continue;
      }
      const n = fs.readSync(fd, buf, carry, buf.length - carry, filePos + carry);
      const avail = carry + n;
      const atEof = filePos + avail >= size;
      const consumed = parser.chunkUntil(buf, avail, end - filePos, atEof);
      filePos += consumed;
      carry = avail - consumed;
      if (carry > 0) buf.copy(buf, 0, consumed, avail);
      if (atEof && carry === 0) break;
      if (n === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function nextLineStart(fd: number, pos: number, buf: Buffer): number {
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return pos;
    const nl = buf.indexOf(NL);
    if (nl !== -1 && nl < n) return pos + nl + 1;
    pos += n;
  }
}

/** Streams a gzip file through the parser; returns true when the stream was damaged or cut short. */
async function parseGzip(file: string, parser: PromTextParser): Promise<boolean> {
  let pending: Buffer = Buffer.alloc(0);
  /** In a line too long to buffer (rejected already): its bytes up to the next newline are dropped. */
  let skipping = false;
  const { damaged } = await gunzipFile(file, (chunk) => {
    let data = chunk;
    if (skipping) {
      const nl = data.indexOf(NL);
      if (nl === -1) return;
      data = data.subarray(nl + 1);
      skipping = false;
    }
    const all = pending.length ? Buffer.concat([pending, data]) : data;
    const consumed = parser.chunk(all, 0, all.length, false);
    pending = Buffer.from(all.subarray(consumed));
    if (pending.length > READ_SIZE) {
      parser.overlong(pending, 0, pending.length);
      pending = Buffer.alloc(0);
      skipping = true;
    }
  });
  // A damaged stream's last line is torn: it is not parsed.
  if (!damaged && pending.length) parser.chunk(pending, 0, pending.length, true);
  return damaged;
}

export const PROM_METRIC_LINE = /^\s*[A-Za-z_:][A-Za-z0-9_:]*\s*(\{.*\})?\s+\S+(\s+-?\d+)?\s*$/;

/** Confidence that `head` is exposition text: mostly sample lines and HELP/TYPE comments. */
export function sniffPromText(head: string): number {
  const lines = head
    .split(/\r?\n/)
    .slice(0, 200)
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return 0;
  let good = 0;
  let samples = 0;
  for (const l of lines) {
    if (/^\s*#\s*(HELP|TYPE)\s/.test(l)) good++;
    else if (PROM_METRIC_LINE.test(l)) {
      good++;
      samples++;
    }
  }
  if (samples === 0) return 0;
  return good / lines.length >= 0.5 ? 0.6 + 0.3 * (good / lines.length) : 0.2;
}
