/**
 * CSV exports of a telemetry table → canonical rows, for teams moving history into the lake.
 *
 * Two header shapes share one column map: the lake's own columns (schema.ts METRIC_COLUMNS) and the
 * proof-of-concept TimescaleDB table `gpu_health_metrics` as `\copy … csv header` writes it. The
 * reader is RFC 4180 (quotes, doubled quotes, separators and line breaks inside quotes); a line is
 * used whole or rejected whole, with a reason naming the column. docs/formats.md ("CSV export")
 * lists every mapping and rule. `ingest` reads export files through the byte path at the end of this
 * module (CsvExportStager), which stages what `parse` would have staged, much faster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { RecordReader, splitRecord, type CsvRecord } from '../csv.js';
import type { Db } from '../db/duckdb.js';
import { absentAtZero, ZERO_MEANS_ABSENT_BY_INDEX } from '../dcgm/values.js';
import { InputError } from '../errors.js';
import type { ProgressFn } from '../progress.js';
import {
  normalizePciBusId,
  VALUE_COLUMN_NAMES,
  VALUE_COLUMNS,
  VALUE_INDEX,
  type GpuIdentity,
  type MetricRow,
  type OtherSample,
  type ValueColumn,
} from '../schema.js';
import { parseIsoUtc } from '../time.js';
import { BatchAppender } from './batch-appender.js';
import { BATCH_ROWS, BatchBuilder, OTHER_BATCH_COLUMNS, WIDE_BATCH_COLUMNS, type BatchSink } from './batches.js';
import { gunzipFile } from './gunzip.js';
import type { SourceFile } from './inputs.js';
import { MAX_INTEGER, outOfRange, rangeReason, STORABLE_TIMES, timeProblem, VALUE_LIMIT_BY_INDEX, type TimeBounds } from './limits.js';
import type { Planned, SourceStats } from './sources.js';
import { BufferedFile, csvText, emptyStats, rejectRecord, stagedLineProblem, wideIdentityCsv, type FileStats, type RejectRecord } from './staging.js';
import type { GpuResolver, IngestSink, ParseContext, Parser, SourceLine } from './types.js';

type Role =
  | { kind: 'time' }
  | { kind: 'uuid'; rank: number }
  | { kind: 'host'; rank: number }
  | { kind: 'index' }
  | { kind: 'model' }
  | { kind: 'pci' }
  | { kind: 'driver' }
  | { kind: 'value'; column: ValueColumn }
  | { kind: 'throttle' }
  | { kind: 'memory-total' }
  | { kind: 'other'; metric: string; unit: string | null };

/** Canonical columns that hold a 0/1 state; PostgreSQL booleans (`t`/`f`) and words are read too. */
const FLAG_COLUMNS: ReadonlySet<ValueColumn> = new Set(['retired_pages_pending', 'row_remap_failure', 'row_remap_pending']);

/** Header name (lower case) → role. Lake names map to themselves; PoC names per docs/formats.md. */
const KNOWN_COLUMNS: ReadonlyMap<string, Role> = new Map<string, Role>([
  ['time', { kind: 'time' }],
  ['gpu_uuid', { kind: 'uuid', rank: 0 }],
  ['gpu_id', { kind: 'uuid', rank: 1 }],
  ['host', { kind: 'host', rank: 0 }],
  ['host_id', { kind: 'host', rank: 1 }],
  ['gpu_index', { kind: 'index' }],
  ['model', { kind: 'model' }],
  ['pci_bus_id', { kind: 'pci' }],
  ['driver_version', { kind: 'driver' }],
  ...VALUE_COLUMN_NAMES.map((c): [string, Role] => [c, c === 'throttle_reasons' ? { kind: 'throttle' } : { kind: 'value', column: c }]),
  // gpu_health_metrics (the PoC TimescaleDB table)
  ['temp_gpu', { kind: 'value', column: 'gpu_temp' }],
  ['temp_memory', { kind: 'value', column: 'memory_temp' }],
  ['temp_hotspot', { kind: 'other', metric: 'temp_hotspot', unit: '°C' }],
  ['power_draw', { kind: 'value', column: 'power_usage' }],
  ['util_gpu', { kind: 'value', column: 'gpu_util' }],
  ['util_memory', { kind: 'value', column: 'mem_copy_util' }],
  ['memory_used', { kind: 'value', column: 'fb_used_mib' }],
  ['memory_total', { kind: 'memory-total' }],
  // The PoC stored the latest volatile counter reading, not a delta or the aggregate.
  ['ecc_correctable', { kind: 'value', column: 'ecc_sbe_volatile' }],
  ['ecc_uncorrectable', { kind: 'value', column: 'ecc_dbe_volatile' }],
  ['clock_gpu', { kind: 'value', column: 'sm_clock_mhz' }],
  ['clock_memory', { kind: 'value', column: 'mem_clock_mhz' }],
  ['throttle_reason', { kind: 'throttle' }],
]);

/**
 * Clock event reason names → bits (REFERENCE.md "Clock throttle / clock event reason bits"), keyed
 * by the name lower-cased with `_`, `-` and spaces removed, so `sw_power_cap`, `SwPowerCap` and
 * `SW_POWER_CAP` meet; the dcgm-exporter label names (`power_cap`, `sw_thermal`, …) are included.
 */
const REASON_BITS: ReadonlyMap<string, number> = new Map([
  ['none', 0],
  ['gpuidle', 0x001],
  ['idle', 0x001],
  ['clockssetting', 0x002],
  ['applicationsclockssetting', 0x002],
  ['applicationclockssetting', 0x002],
  ['swpowercap', 0x004],
  ['powercap', 0x004],
  ['hwslowdown', 0x008],
  ['syncboost', 0x010],
  ['swthermal', 0x020],
  ['swthermalslowdown', 0x020],
  ['hwthermal', 0x040],
  ['hwthermalslowdown', 0x040],
  ['hwpowerbrake', 0x080],
  ['hwpowerbrakeslowdown', 0x080],
  ['displayclocks', 0x100],
  ['displayclocksetting', 0x100],
  ['displayclock', 0x100],
]);

/** `DCGM_CLOCKS_EVENT_REASON_SW_POWER_CAP`, `nvmlClocksThrottleReasonSwPowerCap`, `SW Power Cap` → `swpowercap`. */
function reasonKey(name: string): string {
  return name
    .replace(/^(?:dcgm_)?clocks?_(?:event|throttle)_reasons?_/i, '')
    .replace(/^(?:nvml)?Clocks?(?:Event|Throttle)Reason(?=[A-Z])/, '')
    .toLowerCase()
    .replace(/[\s_-]/g, '');
}

/**
 * A throttle value: an integer, `0x…` hex, a reason name, or a `,`/`|` list of them OR-ed together
 * (BigInt, so 64-bit masks survive the OR).
 */
export function parseThrottle(text: string): number | { error: string } {
  let mask = 0n;
  for (const part of text.split(/[,|]/)) {
    const p = part.trim();
    if (p === '') continue;
    if (/^\d+(?:\.0*)?$/.test(p)) mask |= BigInt(p.replace(/\..*$/, ''));
    else if (/^0x[0-9a-f]+$/i.test(p)) mask |= BigInt(p);
    else {
      const bit = REASON_BITS.get(reasonKey(p));
      if (bit === undefined) return { error: `unknown clock event reason "${p}"` };
      mask |= BigInt(bit);
    }
  }
  return Number(mask);
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Spellings of "no value" that exporters write: PostgreSQL's text NULL, pandas/NumPy NaN. */
const NULL_TOKENS: ReadonlySet<string> = new Set(['', '\\n', 'null', 'nan', 'n/a', 'infinity', '+infinity', '-infinity', 'inf', '-inf']);
const FLAG_WORDS: ReadonlyMap<string, 0 | 1> = new Map([
  ['t', 1],
  ['f', 0],
  ['true', 1],
  ['false', 0],
  ['yes', 1],
  ['no', 0],
]);

function isNull(text: string): boolean {
  return NULL_TOKENS.has(text.toLowerCase());
}

/**
 * A time as PostgreSQL, DuckDB or pandas write it: `2025-03-01 12:00:00+00`, `…12:00:00.123456+00:00`,
 * ISO `…T…Z`, no zone (UTC), or epoch seconds / milliseconds. Null when unreadable.
 */
export function parseExportTime(text: string): number | null {
  if (/^\d{9,10}(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{12,13}$/.test(text)) return Number(text);
  // PostgreSQL prints whole-hour offsets as `+00`; parseIsoUtc wants `+00:00`.
  const normalised = text.replace(/(:\d{2}(?:\.\d+)?)\s*([+-]\d{2})$/, '$1$2:00');
  const ms = parseIsoUtc(normalised);
  if (ms === null) return null;
  const d = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(normalised)!;
  const [y, mo, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || day < 1 || day > daysInMonth) return null;
  if (Number(d[4] ?? 0) > 23 || Number(d[5] ?? 0) > 59 || Number(d[6] ?? 0) > 59) return null;
  return ms;
}

/** The metrics_other sample a `memory_total` column becomes. */
const MEMORY_TOTAL = { metric: 'memory_total_mib', labels: { unit: 'MiB' } as Record<string, string> };

function otherLabels(role: { unit: string | null }): Record<string, string> {
  return role.unit ? { unit: role.unit } : {};
}

interface Column {
  readonly name: string;
  readonly role: Role | null;
}

interface Parsed {
  row: MetricRow;
  others: OtherSample[];
}

function readNumber(text: string, column: string): number | null | { error: string } {
  if (isNull(text)) return null;
  if (!NUMBER.test(text)) return { error: `${column}: "${text}" is not a number` };
  return Number(text);
}

/** What fieldNumber gives for text in a column the map does not know (not kept; named in a warning). */
const IGNORED = Symbol('ignored');

/**
 * The number a field of a numeric role holds (`text` trimmed): a value, null, a reject reason, or
 * IGNORED for text in an unknown column. One definition for parseRow and the byte path.
 */
function fieldNumber(role: Role | null, name: string, text: string): number | null | { error: string } | typeof IGNORED {
  if (role === null) {
    if (isNull(text)) return null;
    return NUMBER.test(text) ? Number(text) : IGNORED;
  }
  switch (role.kind) {
    case 'value': {
      const flag = FLAG_COLUMNS.has(role.column) && !isNull(text) ? FLAG_WORDS.get(text.toLowerCase()) : undefined;
      return flag ?? readNumber(text, name);
    }
    case 'throttle': {
      if (isNull(text)) return null;
      const v = parseThrottle(text);
      return typeof v === 'object' ? { error: `${name}: ${v.error}` } : v;
    }
    default:
      return readNumber(text, name);
  }
}

function parseRow(cols: readonly Column[], fields: readonly string[], ctx: ParseContext, ignored: Set<string>): Parsed | { error: string } {
  let time: number | null = null;
  const uuid: (string | null)[] = [];
  const host: (string | null)[] = [];
  const id = { index: null as number | null, model: null as string | null, pci: null as string | null, driver: null as string | null };
  const values: Partial<Record<ValueColumn, number | null>> = {};
  let memoryTotal: number | null | undefined;
  const others: { metric: string; value: number; labels: Record<string, string> }[] = [];

  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    const text = fields[i]!.trim();
    const role = col.role;
    if (role === null) {
      const v = fieldNumber(null, col.name, text);
      if (v === IGNORED) ignored.add(col.name);
      else if (typeof v === 'number') others.push({ metric: col.name, value: v, labels: {} });
      continue;
    }
    const str = isNull(text) ? null : text;
    switch (role.kind) {
      case 'time':
        if (str === null) return { error: 'time: no value' };
        time = parseExportTime(str);
        if (time === null) return { error: `time: cannot read "${str}"` };
        break;
      case 'uuid':
        uuid[role.rank] = str;
        break;
      case 'host':
        host[role.rank] = str;
        break;
      case 'index':
        if (str !== null && !/^\d+(?:\.0*)?$/.test(str)) return { error: `${col.name}: "${str}" is not a GPU index` };
        id.index = str === null ? null : Number.parseInt(str, 10);
        break;
      case 'model':
        id.model = str;
        break;
      case 'pci':
        id.pci = str === null ? null : (normalizePciBusId(str) ?? str);
        break;
      case 'driver':
        id.driver = str;
        break;
      case 'value': {
        const v = fieldNumber(role, col.name, text) as number | null | { error: string };
        if (v !== null && typeof v === 'object') return v;
        if (values[role.column] == null) values[role.column] = v !== null && absentAtZero(role.column, v) ? null : v;
        break;
      }
      case 'throttle': {
        const v = fieldNumber(role, col.name, text) as number | null | { error: string };
        if (v !== null && typeof v === 'object') return v;
        if (values.throttle_reasons == null) values.throttle_reasons = v;
        break;
      }
      case 'memory-total': {
        const v = fieldNumber(role, col.name, text) as number | null | { error: string };
        if (v !== null && typeof v === 'object') return v;
        memoryTotal = v;
        if (v !== null) others.push({ metric: MEMORY_TOTAL.metric, value: v, labels: { ...MEMORY_TOTAL.labels } });
        break;
      }
      case 'other': {
        const v = fieldNumber(role, col.name, text) as number | null | { error: string };
        if (v !== null && typeof v === 'object') return v;
        if (v !== null) others.push({ metric: role.metric, value: v, labels: otherLabels(role) });
        break;
      }
    }
  }

  if (time === null) return { error: 'time: no value' };
  const gpu = uuid.find((u) => u != null) ?? null;
  if (gpu === null) return { error: 'no gpu_uuid / gpu_id' };
  const used = values.fb_used_mib;
  if (values.fb_free_mib == null && memoryTotal != null && used != null) values.fb_free_mib = memoryTotal - used;

  const identity: GpuIdentity = {
    gpu_uuid: gpu,
    host: host.find((h) => h != null) ?? ctx.host,
    gpu_index: id.index,
    model: id.model,
    pci_bus_id: id.pci,
    driver_version: id.driver,
  };
  const t = time;
  return {
    row: { ...identity, time_ms: t, values },
    others: others.map((o) => ({ time_ms: t, gpu_uuid: identity.gpu_uuid, host: identity.host, ...o })),
  };
}

function headerNames(fields: readonly string[]): string[] {
  return fields.map((f) => f.trim().toLowerCase());
}

/** Sure enough when the header names `time`, a GPU id column and at least one other known column. */
function sniff(head: string): number {
  const first = head
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .find((l) => l.trim() !== '');
  if (first === undefined) return 0;
  const r = splitRecord(first);
  if (!('fields' in r)) return 0;
  const names = new Set(headerNames(r.fields));
  if (!names.has('time') || !(names.has('gpu_uuid') || names.has('gpu_id'))) return 0;
  const more = [...names].some((n) => n !== 'time' && n !== 'gpu_uuid' && n !== 'gpu_id' && KNOWN_COLUMNS.has(n));
  return more ? 0.8 : 0;
}

/** Where the records of one export go once the header is read: a parsed row, or a rejected line. */
interface RecordOut {
  parsed(p: Parsed, from: SourceLine): void;
  reject(line: number, reason: string, text: string): void;
}

/**
 * The header and the records of one export, however its lines are read (`parse` below: lines from
 * the line reader; CsvExportStager: bytes, for the records its fast path leaves to this one).
 */
class ExportRecords {
  cols: Column[] | null = null;
  readonly ignored = new Set<string>();
  private headerText = '';

  constructor(
    private readonly ctx: ParseContext,
    private readonly out: RecordOut,
  ) {}

  record(rec: CsvRecord): void {
    if (rec.fields === null) {
      this.out.reject(rec.line, rec.error ?? 'malformed CSV record', rec.text);
      return;
    }
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') return;
    if (this.cols === null) {
      const names = headerNames(rec.fields);
      if (!names.includes('time')) {
        throw new InputError(`${this.ctx.file}: the CSV header has no "time" column (first line: ${JSON.stringify(rec.text.slice(0, 120))})`, [
          "export with a header row: \\copy (SELECT …) TO 'file.csv' CSV HEADER",
        ]);
      }
      if (!names.includes('gpu_uuid') && !names.includes('gpu_id')) {
        throw new InputError(`${this.ctx.file}: the CSV header has no "gpu_uuid" or "gpu_id" column`);
      }
      this.cols = names.map((name) => ({ name, role: KNOWN_COLUMNS.get(name) ?? null }));
      this.headerText = names.join(',');
      return;
    }
    // A second export appended to the first repeats the header.
    if (headerNames(rec.fields).join(',') === this.headerText) return;
    if (rec.fields.length !== this.cols.length) {
      this.out.reject(rec.line, `expected ${this.cols.length} fields, found ${rec.fields.length}`, rec.text);
      return;
    }
    const parsed = parseRow(this.cols, rec.fields, this.ctx, this.ignored);
    if ('error' in parsed) this.out.reject(rec.line, parsed.error, rec.text);
    else this.out.parsed(parsed, rec);
  }

  /** The file's one warning about text in unknown columns, if any. */
  warning(): string | null {
    return this.ignored.size > 0 ? `${this.ctx.file}: non-numeric values in unknown columns not kept (${[...this.ignored].join(', ')})` : null;
  }
}

function identityKey(r: GpuIdentity): string {
  return [r.gpu_uuid, r.host, r.gpu_index, r.pci_bus_id, r.model, r.driver_version].join('\u0000');
}

/** The line-based parser (the Parser contract): every record through parseRow. */
async function parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  const reader = new RecordReader();
  const remembered = new Set<string>();
  const records = new ExportRecords(ctx, {
    reject: (line, reason, text) => sink.reject(line, reason, text),
    parsed: ({ row: r, others }, from) => {
      const key = identityKey(r);
      if (!remembered.has(key)) {
        remembered.add(key);
        ctx.resolver.remember({
          gpu_uuid: r.gpu_uuid,
          host: r.host,
          gpu_index: r.gpu_index,
          model: r.model,
          pci_bus_id: r.pci_bus_id,
          driver_version: r.driver_version,
        });
      }
      sink.row(r, from);
      for (const o of others) sink.other(o, from);
    },
  });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const text = (lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
    for (const rec of reader.push(lineNo, text)) records.record(rec);
  }
  for (const rec of reader.finish()) records.record(rec);
  const warning = records.warning();
  if (warning !== null) sink.warn(warning);
}

export const csvExportParser: Parser = { format: 'csv', sniff, parse };

// ---------------------------------------------------------------------------------------------------
// The byte path: what `ingest` runs on CSV export files.
//
// A history import is months of rows in one file (a host's 180 days at 15-minute samples is 138,240
// rows of 30 columns), so the per-record path above (a string per line, a string per field, an
// object per row, then CSV text again for DuckDB to parse) would be most of the run. The byte path
// reads the file's bytes and, for the records exports print (no quotes; numbers, empty fields and
// timestamps in the usual spellings), fills column batches (batches.ts) straight from the digits,
// which the main thread appends to DuckDB as data chunks: no string is made per field or row. A
// GPU's identity fields are decoded once per distinct set of bytes and staged once, as a series (the
// keyed rows of staging-views.ts); a row's identity bytes are compared with those of the GPU that
// followed the previous row's last time (exports repeat their GPUs in one order), and looked up by
// hash when they differ. Ingest stages CSV exports in rounds (rounds.ts splitRounds). Everything
// else (a quote, a null token, a flag word, a throttle reason name, an out-of-range or malformed
// value, a bad identity, a repeated header) goes, field or record, to the same code as `parse`: a field
// the fast path cannot read is decoded and read by fieldNumber; a record it cannot take whole is
// decoded and handed to ExportRecords, so rejects, reasons, line numbers and warnings are those of
// `parse`. csv-export.test.ts checks that both paths store the same rows for the same input.
// ---------------------------------------------------------------------------------------------------

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const NL = 0x0a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

/** Exact powers of ten: `mantissa / POW10[k]` is the correctly rounded value of the decimal, as Number(text) is. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Fields the fast path reads as numbers: at most this many digits keep the mantissa exact (< 2^53). */
const MAX_FAST_DIGITS = 15;

/** Column kinds of the fast path (one per header column). */
const K_TIME = 0;
const K_ID = 1;
const K_VALUE = 2;
const K_THROTTLE = 3;
const K_MEMORY_TOTAL = 4;
const K_OTHER = 5;
const K_UNKNOWN = 6;

const FB_USED = VALUE_INDEX.fb_used_mib;
const FB_FREE = VALUE_INDEX.fb_free_mib;
const THROTTLE = VALUE_INDEX.throttle_reasons;
/** VALUE_COLUMNS indexes of the integer columns, whose range StagingSink.row checks (a DOUBLE takes any value). */
const LIMITED = VALUE_COLUMNS.flatMap((_c, i) => (VALUE_LIMIT_BY_INDEX[i]! < Infinity ? [i] : []));

function twoDigits(b: Buffer, p: number): number {
  const x = b[p]! - ZERO;
  const y = b[p + 1]! - ZERO;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/**
 * parseExportTime for the spellings exports print (`2025-03-01 12:00:00+00`, `…T12:00:00.123456Z`,
 * `…+05:30`, no zone; epoch seconds or milliseconds as integers), from bytes; NaN for anything else
 * (the caller then reads the text with parseExportTime itself). The same value for the same text:
 * the fraction is rounded as parseIsoUtc rounds it (`Number('0.' + digits) * 1000`, whose Number
 * equals `digits / 10^n`), and dates it would refuse (2025-02-30, 24:00) go to the text path.
 */
export function fastExportTime(b: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len < 19) {
    // epoch seconds (9–10 digits) or milliseconds (12–13)
    if (len !== 9 && len !== 10 && len !== 12 && len !== 13) return Number.NaN;
    let n = 0;
    for (let p = s; p < e; p++) {
      const d = b[p]! - ZERO;
      if (d < 0 || d > 9) return Number.NaN;
      n = n * 10 + d;
    }
    return len <= 10 ? n * 1000 : n;
  }
  if (b[s + 4] !== MINUS || b[s + 7] !== MINUS || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a) return Number.NaN;
  const sep = b[s + 10];
  if (sep !== 0x20 && sep !== 0x54) return Number.NaN; // ' ' or 'T'
  const y1 = twoDigits(b, s);
  const y2 = twoDigits(b, s + 2);
  const mo = twoDigits(b, s + 5);
  const d = twoDigits(b, s + 8);
  const h = twoDigits(b, s + 11);
  const mi = twoDigits(b, s + 14);
  const sec = twoDigits(b, s + 17);
  // Date.UTC reads years 0–99 as 1900–1999: those, like every refused date, take the text path
  if (y1 < 10 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return Number.NaN;
  const y = y1 * 100 + y2;
  const dim = mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  if (d > dim) return Number.NaN;
  let p = s + 19;
  let frac = 0;
  if (p < e && b[p] === DOT) {
    let n = 0;
    let k = 0;
    for (p++; p < e && isDigit(b[p]!); p++, k++) n = n * 10 + (b[p]! - ZERO);
    if (k === 0 || k > 9) return Number.NaN;
    frac = Math.round((n / POW10[k]!) * 1000);
  }
  let offsetMin = 0;
  if (p < e) {
    const z = b[p];
    if (z === 0x5a || z === 0x7a) {
      if (p + 1 !== e) return Number.NaN;
    } else if (z === 0x2b || z === MINUS) {
      const hh = p + 3 <= e ? twoDigits(b, p + 1) : -1;
      if (hh < 0) return Number.NaN;
      let mm = 0;
      const rest = e - (p + 3);
      if (rest === 3 && b[p + 3] === 0x3a) mm = twoDigits(b, p + 4);
      else if (rest === 2) mm = twoDigits(b, p + 3);
      else if (rest !== 0) return Number.NaN;
      if (mm < 0) return Number.NaN;
      offsetMin = (z === MINUS ? -1 : 1) * (hh * 60 + mm);
    } else return Number.NaN;
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec) + frac - offsetMin * 60_000;
}

/** One GPU identity of the file, as its resolved columns, staged as a series the first time a row uses it. */
interface Series {
  readonly identity: GpuIdentity;
  /** The wide rows' series key (staging-views.ts joins it to the identity). */
  readonly key: number;
  /** Why the identity cannot be staged (StagingSink's line limit), or null. */
  readonly problem: string | null;
  /** Series of the identity with a label set, for metrics_other samples: labels JSON → key and problem. */
  readonly labelled: Map<string, { key: number; problem: string | null }>;
  line: string | null;
  /** Told to the resolver (ParseContext.resolver.remember) already. */
  remembered: boolean;
}

/** A set of identity-field bytes seen in the file, and the series it resolves to (null: the record path says why not). */
interface IdEntry {
  readonly fields: Buffer[];
  readonly series: Series | null;
  next: IdEntry | null;
  /** The entry of the row that followed this one's last time (exports repeat their GPUs in one order). */
  succ: IdEntry | null;
  /** When the identity columns are adjacent: their bytes with the commas between them, as one run. */
  span: Buffer | null;
}

/** A metrics_other metric of the file: its name key and its label set. */
interface OtherMetric {
  readonly metric: number;
  readonly labels: string;
}

let keyCounter = 0;
/**
 * Series and name keys of CSV exports: above 2^51, apart from the exposition parser's
 * (threadId · 2^32 + n, prom-text.ts), and below 2^53 so that a DOUBLE holds them exactly.
 */
const nextKey = (): number => 2 ** 51 + threadId * 2 ** 32 + ++keyCounter;

export interface CsvExportOutput {
  /** Receives each full column batch (the caller appends it to DuckDB). */
  readonly batches: BatchSink;
  /** series-*.csv and names-*.csv of the round's staging folder. */
  readonly series: BufferedFile;
  readonly names: BufferedFile;
  /** Rejected lines, as JSON lines (the run's rejects file). */
  readonly rejects: BufferedFile;
  readonly onReject?: (r: RejectRecord) => void;
  /** The sample times taken (limits.ts sampleTimeBounds); every storable time when absent. */
  readonly times?: TimeBounds;
}

/** Reads one CSV export's bytes into column batches (see the section comment above). */
export class CsvExportStager {
  readonly stats: FileStats = emptyStats();
  private readonly records: ExportRecords;
  private readonly reader = new RecordReader();
  /** A quoted field of an earlier line is still open: lines go to the record reader until it closes. */
  private pending = false;
  private lineNo = 0;
  private readonly wide: BatchBuilder;
  private readonly other: BatchBuilder;
  private readonly byIdentity = new Map<string, Series>();
  private readonly metricKeys = new Map<string, number>();
  private readonly otherMetrics = new Map<string, OtherMetric>();

  // the fast path's program, set from the header
  private compiled = false;
  private kinds = new Uint8Array(0);
  /** Per column: the VALUE_COLUMNS index (K_VALUE), the other metric (K_OTHER, K_UNKNOWN), or the identity slot (K_ID). */
  private targets = new Int32Array(0);
  private otherOf: (OtherMetric | null)[] = [];
  private idColumns = 0;
  /** First and last identity column when they are adjacent (the usual header), else -1. */
  private idFirst = -1;
  private idLast = -1;
  private idStart = new Int32Array(0);
  private idEnd = new Int32Array(0);
  private readonly ids = new Map<number, IdEntry>();
  private prevEntry: IdEntry | null = null;
  /** Distinct value columns the header maps (each row counts them as its samples, as StagingSink.row does). */
  private headerValues = 0;
  private headerHasFbFree = false;

  // one row's values; NaN for null
  private readonly vals = new Float64Array(VALUE_COLUMNS.length);
  private readonly otherMetric: OtherMetric[] = [];
  private readonly otherValue: number[] = [];
  private otherCount = 0;
  private readonly ignoredNow: string[] = [];
  /** The previous row's time field and value: the rows of one instant share it. */
  private readonly lastTime = Buffer.alloc(40);
  private lastTimeLen = -1;
  private lastTimeValue = 0;
  private readonly times: TimeBounds;

  constructor(
    private readonly ctx: ParseContext,
    private readonly out: CsvExportOutput,
  ) {
    this.times = out.times ?? STORABLE_TIMES;
    this.wide = new BatchBuilder('wide', WIDE_BATCH_COLUMNS.length, out.batches);
    this.other = new BatchBuilder('other', OTHER_BATCH_COLUMNS.length, out.batches);
    this.records = new ExportRecords(ctx, {
      reject: (line, reason, text) => this.reject(line, reason, text),
      parsed: (p, from) => this.parsedRecord(p, from),
    });
  }

  /** Parses the complete lines of buf[0, len) (all of it when `atEof`); returns the bytes consumed. */
  chunk(buf: Buffer, len: number, atEof: boolean): number {
    let s = 0;
    while (s < len) {
      let nl = buf.indexOf(NL, s);
      if (nl === -1 || nl >= len) {
        if (!atEof) break;
        nl = len;
      }
      this.line(buf, s, nl);
      s = nl + 1;
    }
    return Math.min(s, len);
  }

  /** The end of the input: a quoted field still open is given up, as `parse` gives it up. */
  finish(): void {
    for (const rec of this.reader.finish()) this.records.record(rec);
    this.pending = false;
    this.wide.flush();
    this.other.flush();
    const warning = this.records.warning();
    if (warning !== null) this.warn(warning);
  }

  warn(message: string): void {
    if (!this.stats.warnings.includes(message)) this.stats.warnings.push(message);
  }

  private line(buf: Buffer, s: number, e: number): void {
    const no = ++this.lineNo;
    if (e > s && buf[e - 1] === CR) e--;
    if (no === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    if (!this.pending && this.compiled && this.fastRow(buf, s, e, no)) return;
    this.slowLine(no, buf.toString('utf8', s, e));
    if (!this.compiled && this.records.cols !== null) this.compile(this.records.cols);
  }

  /** A line through the record reader, as `parse` reads it (the line reader also ends a line at a lone \r). */
  private slowLine(no: number, text: string): void {
    const parts = text.includes('\r') ? text.split('\r') : [text];
    this.lineNo += parts.length - 1;
    for (const [i, part] of parts.entries()) {
      const recs = this.reader.push(no + i, part);
      for (const rec of recs) this.records.record(rec);
      const last = recs.at(-1);
      this.pending = last === undefined || last.line + countNewlines(last.text) !== no + i;
    }
  }

  private compile(cols: readonly Column[]): void {
    const n = cols.length;
    this.kinds = new Uint8Array(n);
    this.targets = new Int32Array(n);
    this.otherOf = new Array<OtherMetric | null>(n).fill(null);
    const mapped = new Set<number>();
    let ids = 0;
    for (const [c, col] of cols.entries()) {
      const role = col.role;
      if (role === null) {
        this.kinds[c] = K_UNKNOWN;
        this.otherOf[c] = this.otherMetricOf(col.name, {});
        continue;
      }
      switch (role.kind) {
        case 'time':
          this.kinds[c] = K_TIME;
          break;
        case 'value':
          this.kinds[c] = K_VALUE;
          this.targets[c] = VALUE_INDEX[role.column];
          mapped.add(VALUE_INDEX[role.column]);
          break;
        case 'throttle':
          this.kinds[c] = K_THROTTLE;
          mapped.add(THROTTLE);
          break;
        case 'memory-total':
          this.kinds[c] = K_MEMORY_TOTAL;
          this.otherOf[c] = this.otherMetricOf(MEMORY_TOTAL.metric, MEMORY_TOTAL.labels);
          break;
        case 'other':
          this.kinds[c] = K_OTHER;
          this.otherOf[c] = this.otherMetricOf(role.metric, otherLabels(role));
          break;
        default:
          this.kinds[c] = K_ID;
          this.targets[c] = ids++;
      }
    }
    this.idColumns = ids;
    const idCols = [...this.kinds.keys()].filter((c) => this.kinds[c] === K_ID);
    const adjacent = idCols.length > 0 && idCols.at(-1)! - idCols[0]! === idCols.length - 1;
    this.idFirst = adjacent ? idCols[0]! : -1;
    this.idLast = adjacent ? idCols.at(-1)! : -1;
    this.idStart = new Int32Array(ids);
    this.idEnd = new Int32Array(ids);
    this.headerValues = mapped.size;
    this.headerHasFbFree = mapped.has(FB_FREE);
    this.compiled = true;
  }

  /**
   * One record whose line holds no quote, read from its bytes; false (having staged nothing) when
   * it needs the record path: a field it cannot read, a wrong field count, a bad identity or time.
   */
  private fastRow(b: Buffer, s: number, e: number, no: number): boolean {
    const kinds = this.kinds;
    const n = kinds.length;
    const vals = this.vals;
    vals.fill(Number.NaN);
    this.otherCount = 0;
    this.ignoredNow.length = 0;
    let time = Number.NaN;
    let memoryTotal = Number.NaN;
    let matched: IdEntry | null = null;
    const guess = this.prevEntry === null ? null : this.prevEntry.succ;
    let p = s;
    for (let c = 0; c < n; c++) {
      const kind = kinds[c]!;
      let q = p;
      let v = Number.NaN;
      if (c === this.idFirst && guess !== null && guess.span !== null && startsWith(b, p, e, guess.span)) {
        // the identity columns hold the bytes of the expected GPU's: one comparison for all of them
        matched = guess;
        q = p + guess.span.length;
        c = this.idLast;
      } else if (kind === K_ID) {
        for (; q < e; q++) {
          const x = b[q]!;
          if (x === COMMA) break;
          if (x === QUOTE) return false;
        }
        const slot = this.targets[c]!;
        this.idStart[slot] = p;
        this.idEnd[slot] = q;
      } else if (kind === K_TIME) {
        while (q < e && b[q] !== COMMA) q++;
        const len = q - p;
        let same = len === this.lastTimeLen;
        for (let i = 0; same && i < len; i++) same = this.lastTime[i] === b[p + i];
        if (same) time = this.lastTimeValue;
        else {
          time = fastExportTime(b, p, q);
          if (Number.isNaN(time)) {
            const text = this.fieldText(b, p, q);
            if (text === null) return false;
            const str = isNull(text) ? null : text;
            const t = str === null ? null : parseExportTime(str);
            if (t === null) return false;
            time = t;
          }
          if (len <= this.lastTime.length) {
            b.copy(this.lastTime, 0, p, q);
            this.lastTimeLen = len;
            this.lastTimeValue = time;
          }
        }
      } else {
        // a number: [-]digits[.digits], or empty (null)
        let neg = false;
        let dot = false;
        let mant = 0;
        let digits = 0;
        let frac = 0;
        if (q < e && b[q] === MINUS) {
          neg = true;
          q++;
        }
        for (; q < e; q++) {
          const d = b[q]! - ZERO;
          if (d >= 0 && d <= 9) {
            mant = mant * 10 + d;
            digits++;
            if (dot) frac++;
          } else if (b[q] === DOT && !dot) dot = true;
          else break;
        }
        const fast = (q === e || b[q] === COMMA) && (digits > 0 || q === p) && !(kind === K_THROTTLE && (neg || dot));
        if (fast && digits > 0) {
          if (digits <= MAX_FAST_DIGITS && frac < POW10.length) {
            v = frac > 0 ? mant / POW10[frac]! : mant;
            if (neg) v = -v;
          } else v = Number(b.toString('latin1', p, q));
        } else if (!fast) {
          // another spelling (a null token, a flag word, a reason name, an exponent…): read as `parse` reads it
          while (q < e && b[q] !== COMMA) {
            if (b[q] === QUOTE) return false;
            q++;
          }
          const text = this.fieldText(b, p, q);
          if (text === null) return false;
          const r = fieldNumber(kind === K_UNKNOWN ? null : this.roleOf(c), this.records.cols![c]!.name, text);
          if (r === IGNORED) this.ignoredNow.push(this.records.cols![c]!.name);
          else if (r !== null && typeof r === 'object') return false;
          else if (r !== null) v = r;
        }
        switch (kind) {
          case K_VALUE: {
            const col = this.targets[c]!;
            if (Number.isNaN(vals[col]!)) vals[col] = v === 0 && ZERO_MEANS_ABSENT_BY_INDEX[col] === 1 ? Number.NaN : v;
            break;
          }
          case K_THROTTLE:
            if (Number.isNaN(vals[THROTTLE]!)) vals[THROTTLE] = v;
            break;
          case K_MEMORY_TOTAL:
            memoryTotal = v;
            if (!Number.isNaN(v)) this.addOther(this.otherOf[c]!, v);
            break;
          default:
            if (!Number.isNaN(v)) this.addOther(this.otherOf[c]!, v);
        }
      }
      if (c < n - 1) {
        if (q >= e) return false; // too few fields
        p = q + 1;
      } else if (q !== e) return false; // too many
    }
    if (matched !== null) this.prevEntry = matched;
    const series = matched !== null ? matched.series : this.identity(b);
    if (series === null) return false;
    if (!Number.isNaN(memoryTotal) && Number.isNaN(vals[FB_FREE]!) && !Number.isNaN(vals[FB_USED]!)) {
      vals[FB_FREE] = memoryTotal - vals[FB_USED]!;
    }
    for (const name of this.ignoredNow) this.records.ignored.add(name);
    const samples = this.headerValues + (!this.headerHasFbFree && !Number.isNaN(vals[FB_FREE]!) ? 1 : 0);
    this.emit(time, series, samples, no, () => b.toString('utf8', s, e));
    return true;
  }

  private roleOf(c: number): Role | null {
    return this.records.cols![c]!.role;
  }

  /** A field's text, trimmed, for the text path; null when the record path must read it (a quote, a lone \r). */
  private fieldText(b: Buffer, p: number, q: number): string | null {
    const text = b.toString('utf8', p, q);
    return text.includes('"') || text.includes('\r') ? null : text.trim();
  }

  private addOther(m: OtherMetric, v: number): void {
    const i = this.otherCount++;
    this.otherMetric[i] = m;
    this.otherValue[i] = v;
  }

  /** Whether this row's identity fields (idStart/idEnd) are the entry's bytes. */
  private sameIds(entry: IdEntry, b: Buffer): boolean {
    for (let j = 0; j < this.idColumns; j++) {
      const f = entry.fields[j]!;
      const p = this.idStart[j]!;
      const len = this.idEnd[j]! - p;
      if (f.length !== len) return false;
      for (let i = 0; i < len; i++) if (f[i] !== b[p + i]) return false;
    }
    return true;
  }

  /**
   * The series of this row's identity fields, decoded and resolved on their first sight. The entry
   * that followed the previous row's last time is tried first (one byte comparison, no hash).
   */
  private identity(b: Buffer): Series | null {
    const prev = this.prevEntry;
    const guess = prev === null ? null : prev.succ;
    if (guess !== null && this.sameIds(guess, b)) {
      this.prevEntry = guess;
      return guess.series;
    }
    let hash = 0x811c9dc5 | 0;
    for (let j = 0; j < this.idColumns; j++) {
      for (let i = this.idStart[j]!; i < this.idEnd[j]!; i++) hash = Math.imul(hash ^ b[i]!, 16777619);
      hash = Math.imul(hash ^ 0x1f, 16777619);
    }
    let found: IdEntry | null = null;
    for (let entry = this.ids.get(hash) ?? null; entry !== null && found === null; entry = entry.next) if (this.sameIds(entry, b)) found = entry;
    if (found === null) {
      const fields = Array.from({ length: this.idColumns }, (_, j) => Buffer.from(b.subarray(this.idStart[j]!, this.idEnd[j]!)));
      const span = this.idFirst < 0 ? null : Buffer.from(b.subarray(this.idStart[0]!, this.idEnd[this.idColumns - 1]!));
      found = { fields, series: this.resolve(fields), next: this.ids.get(hash) ?? null, succ: null, span };
      this.ids.set(hash, found);
    }
    if (prev !== null) prev.succ = found;
    this.prevEntry = found;
    return found.series;
  }

  /**
   * What parseRow makes of these identity fields (it is run on them, every other field empty):
   * null when it rejects them or when they hold what the record path reads differently (a lone \r).
   */
  private resolve(fields: Buffer[]): Series | null {
    const cols = this.records.cols!;
    const texts = cols.map((_col, c) => (this.kinds[c] === K_TIME ? '1970-01-01' : this.kinds[c] === K_ID ? fields[this.targets[c]!]!.toString('utf8') : ''));
    if (texts.some((t) => t.includes('\r'))) return null;
    const r = parseRow(cols, texts, this.ctx, new Set());
    if ('error' in r) return null;
    const { time_ms: _t, values: _v, ...identity } = r.row;
    return this.seriesOf(identity);
  }

  private seriesOf(identity: GpuIdentity): Series {
    const id = identityKey(identity);
    let se = this.byIdentity.get(id);
    if (se === undefined) {
      const key = nextKey();
      const line = `${key},${wideIdentityCsv(identity)},${csvText('{}')}\n`;
      se = { identity, key, problem: stagedLineProblem(line), labelled: new Map(), line, remembered: false };
      this.byIdentity.set(id, se);
    }
    return se;
  }

  private labelledKey(se: Series, labels: string): { key: number; problem: string | null } {
    let l = se.labelled.get(labels);
    if (l === undefined) {
      const line = `${nextKey()},${wideIdentityCsv(se.identity)},${csvText(labels)}\n`;
      l = { key: Number(line.slice(0, line.indexOf(','))), problem: stagedLineProblem(line) };
      se.labelled.set(labels, l);
      if (l.problem === null) this.out.series.write(line);
    }
    return l;
  }

  private otherMetricOf(name: string, labels: Record<string, string>): OtherMetric {
    const labelText = JSON.stringify(labels);
    const id = `${name}\u0000${labelText}`;
    let m = this.otherMetrics.get(id);
    if (m === undefined) {
      let key = this.metricKeys.get(name);
      if (key === undefined) {
        key = nextKey();
        this.metricKeys.set(name, key);
        this.out.names.write(`${key},${csvText(name)}\n`);
      }
      m = { metric: key, labels: labelText };
      this.otherMetrics.set(id, m);
    }
    return m;
  }

  /** A record the record path parsed: into the same row buffers, then staged as a fast row is. */
  private parsedRecord({ row, others }: Parsed, from: SourceLine): void {
    const vals = this.vals;
    let samples = 0;
    for (let i = 0; i < VALUE_COLUMNS.length; i++) {
      const v = row.values[VALUE_COLUMNS[i]!.name];
      if (v !== undefined) samples++;
      vals[i] = v ?? Number.NaN;
    }
    this.otherCount = 0;
    for (const o of others) this.addOther(this.otherMetricOf(o.metric, o.labels), o.value!);
    const { time_ms, values: _v, ...identity } = row;
    this.emit(time_ms, this.seriesOf(identity), samples, from.line, () => from.text);
  }

  /** Stages a row (this.vals) and its other samples (this.other*) with StagingSink's checks and counts. */
  private emit(time: number, se: Series, samples: number, line: number, text: () => string): void {
    if (!se.remembered) {
      se.remembered = true;
      this.ctx.resolver.remember({ ...se.identity });
    }
    const vals = this.vals;
    const problem = this.rowProblem(time, se, vals);
    if (problem !== null) this.reject(line, problem, text());
    else {
      if (se.line !== null) {
        this.out.series.write(se.line);
        se.line = null;
      }
      const w = this.wide;
      const d = w.data;
      const r = w.row;
      d[r] = time;
      d[BATCH_ROWS + r] = se.key;
      // + 0: a -0 is staged as 0, as the staged text "0" was
      for (let i = 0; i < vals.length; i++) d[(i + 2) * BATCH_ROWS + r] = vals[i]! + 0;
      w.next();
      this.stats.samples += samples;
      this.stats.rows++;
      this.seeTime(time);
    }
    for (let i = 0; i < this.otherCount; i++) {
      const m = this.otherMetric[i]!;
      const l = this.labelledKey(se, m.labels);
      const bad = timeProblem(time, this.times) ?? l.problem;
      if (bad !== null) {
        this.reject(line, bad, text());
        continue;
      }
      const o = this.other;
      const od = o.data;
      const r = o.row;
      od[r] = time;
      od[BATCH_ROWS + r] = l.key;
      od[2 * BATCH_ROWS + r] = m.metric;
      od[3 * BATCH_ROWS + r] = this.otherValue[i]! + 0;
      od[4 * BATCH_ROWS + r] = 0;
      o.next();
      this.stats.samples++;
      this.stats.others++;
      this.seeTime(time);
    }
  }

  /** Why the lake cannot store the row (StagingSink.row's checks, in its order), or null. */
  private rowProblem(time: number, se: Series, vals: Float64Array): string | null {
    const timeBad = timeProblem(time, this.times);
    if (timeBad !== null) return timeBad;
    const index = se.identity.gpu_index;
    if (index !== null && !(Math.abs(index) <= MAX_INTEGER)) return `gpu_index ${index} is out of range for INTEGER`;
    for (const i of LIMITED) {
      const v = vals[i]!;
      if (!Number.isNaN(v) && outOfRange(v, VALUE_LIMIT_BY_INDEX[i]!)) return rangeReason(i, String(v));
    }
    return se.problem;
  }

  private seeTime(t: number): void {
    const s = this.stats;
    if (s.timeMin === null || t < s.timeMin) s.timeMin = t;
    if (s.timeMax === null || t > s.timeMax) s.timeMax = t;
  }

  private reject(line: number, reason: string, text: string): void {
    const rec = rejectRecord(this.ctx.file, line, reason, text);
    this.out.rejects.write(`${JSON.stringify(rec)}\n`);
    this.stats.rejected++;
    this.out.onReject?.(rec);
  }
}

/** Whether b[p, e) starts with `span` followed by a comma or the end. */
function startsWith(b: Buffer, p: number, e: number, span: Buffer): boolean {
  const len = span.length;
  if (p + len > e || (p + len < e && b[p + len] !== COMMA)) return false;
  for (let i = 0; i < len; i++) if (span[i] !== b[p + i]) return false;
  return true;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

const READ_BYTES = 4 << 20;

/** Feeds a source's bytes (plain up to `src.end`, or gzip) to a stager; true when a gzip stream was damaged. */
export async function readCsvExport(src: SourceFile, stager: CsvExportStager): Promise<boolean> {
  if (src.gzip) {
    let pending: Buffer = Buffer.alloc(0);
    // gunzipFile takes an error in the callback for damage: an unusable header is kept for after it
    let failed: unknown = null;
    const { damaged } = await gunzipFile(src.path, (chunk) => {
      if (failed !== null) return;
      try {
        const all = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        pending = Buffer.from(all.subarray(stager.chunk(all, all.length, false)));
      } catch (e) {
        failed = e;
      }
    });
    if (failed !== null) throw failed;
    // a damaged stream's last line is torn: it is not parsed
    if (!damaged && pending.length) stager.chunk(pending, pending.length, true);
    stager.finish();
    return damaged;
  }
  const fd = fs.openSync(src.path, 'r');
  try {
    const end = src.end ?? fs.fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(READ_BYTES);
    let carry = 0;
    let pos = 0; // file offset of buf[0]
    for (;;) {
      if (carry === buf.length) {
        // a line longer than the buffer: grow it (the line reader holds a line of any length too)
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, carry, Math.min(buf.length - carry, end - pos - carry), pos + carry);
      const avail = carry + n;
      const atEof = n === 0 || pos + avail >= end;
      const consumed = stager.chunk(buf, avail, atEof);
      pos += consumed;
      carry = avail - consumed;
      if (atEof) break;
      if (carry > 0) buf.copy(buf, 0, consumed, avail);
    }
  } finally {
    fs.closeSync(fd);
  }
  stager.finish();
  return false;
}

/** GPUs the exports name reach later sources of the run through the staged rows (STAGED_GPUS_SQL), not through this. */
const NO_RESOLVER: GpuResolver = { byIndex: () => null, byPci: () => null, remember: () => {} };

/**
 * Stages a round's CSV export sources: rows as column batches appended to DuckDB, identities and
 * metric names to the round's staging folder, rejects to the run's rejects file. Per source stats
 * as parseLineFiles records them; a source whose header is unusable is a warning (its InputError).
 */
export async function stageCsvExports(
  db: Db,
  files: readonly Planned[],
  stage: string,
  opts: { host?: string | null; tz?: string; times?: TimeBounds },
  stats: Map<Planned, SourceStats>,
  rejectsFile: string,
  showReject: (r: RejectRecord) => void,
  progress: ProgressFn,
): Promise<void> {
  if (files.length === 0) return;
  const appender = await BatchAppender.open(db);
  const out: CsvExportOutput = {
    batches: (batch) => appender.append(batch),
    series: new BufferedFile(path.join(stage, 'series-csv.csv')),
    names: new BufferedFile(path.join(stage, 'names-csv.csv')),
    rejects: new BufferedFile(rejectsFile),
    onReject: showReject,
    ...(opts.times ? { times: opts.times } : {}),
  };
  try {
    for (const [i, p] of files.entries()) {
      progress(`parsing ${p.src.display} (${i + 1}/${files.length})`);
      const ctx: ParseContext = {
        file: p.src.display,
        host: opts.host ?? null,
        defaultTimeMs: p.defaultTimeMs,
        defaultTimeSource: p.defaultTimeSource,
        tz: opts.tz ?? 'UTC',
        intervalMs: null,
        resolver: NO_RESOLVER,
      };
      const stager = new CsvExportStager(ctx, out);
      try {
        const truncated = await readCsvExport(p.src, stager);
        stats.set(p, { ...stager.stats, truncated });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        stats.set(p, { ...emptyStats(), truncated: false, warnings: [e.message], rejected: 0, samples: 0 });
      }
    }
  } finally {
    out.series.close();
    out.names.close();
    out.rejects.close();
    appender.close();
  }
}
