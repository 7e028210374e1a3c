/**
 * CSV exports of a telemetry table → canonical rows, for teams moving history into the lake.
 *
 * Two header shapes share one column map: the lake's own columns (schema.ts METRIC_COLUMNS) and the
 * proof-of-concept TimescaleDB table `gpu_health_metrics` as `\copy … csv header` writes it. The
 * reader is RFC 4180 (quotes, doubled quotes, separators and line breaks inside quotes); a line is
 * used whole or rejected whole, with a reason naming the column. docs/formats.md ("CSV export")
 * lists every mapping and rule.
 */
import { RecordReader, splitRecord, type CsvRecord } from '../csv.js';
import { InputError } from '../errors.js';
import { normalizePciBusId, VALUE_COLUMN_NAMES, type GpuIdentity, type MetricRow, type OtherSample, type ValueColumn } from '../schema.js';
import { parseIsoUtc } from '../time.js';
import { absentAtZero } from '../dcgm/values.js';
import type { IngestSink, ParseContext, Parser } from './types.js';

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
      if (isNull(text)) continue;
      if (NUMBER.test(text)) others.push({ metric: col.name, value: Number(text), labels: {} });
      else ignored.add(col.name);
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
        const flag = FLAG_COLUMNS.has(role.column) && str !== null ? FLAG_WORDS.get(str.toLowerCase()) : undefined;
        const v = flag ?? readNumber(text, col.name);
        if (v !== null && typeof v === 'object') return v;
        if (values[role.column] == null) values[role.column] = v !== null && absentAtZero(role.column, v) ? null : v;
        break;
      }
      case 'throttle': {
        const v = str === null ? null : parseThrottle(str);
        if (v !== null && typeof v === 'object') return { error: `${col.name}: ${v.error}` };
        if (values.throttle_reasons == null) values.throttle_reasons = v;
        break;
      }
      case 'memory-total': {
        const v = readNumber(text, col.name);
        if (v !== null && typeof v === 'object') return v;
        memoryTotal = v;
        if (v !== null) others.push({ metric: 'memory_total_mib', value: v, labels: { unit: 'MiB' } });
        break;
      }
      case 'other': {
        const v = readNumber(text, col.name);
        if (v !== null && typeof v === 'object') return v;
        if (v !== null) others.push({ metric: role.metric, value: v, labels: role.unit ? { unit: role.unit } : {} });
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

async function parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  const reader = new RecordReader();
  let cols: Column[] | null = null;
  let headerText = '';
  const ignored = new Set<string>();
  const remembered = new Set<string>();
  let lineNo = 0;

  const handle = (rec: CsvRecord): void => {
    if (rec.fields === null) {
      sink.reject(rec.line, rec.error ?? 'malformed CSV record', rec.text);
      return;
    }
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') return;
    if (cols === null) {
      const names = headerNames(rec.fields);
      if (!names.includes('time')) {
        throw new InputError(`${ctx.file}: the CSV header has no "time" column (first line: ${JSON.stringify(rec.text.slice(0, 120))})`, [
          "export with a header row: \\copy (SELECT …) TO 'file.csv' CSV HEADER",
        ]);
      }
      if (!names.includes('gpu_uuid') && !names.includes('gpu_id')) {
        throw new InputError(`${ctx.file}: the CSV header has no "gpu_uuid" or "gpu_id" column`);
      }
      cols = names.map((name) => ({ name, role: KNOWN_COLUMNS.get(name) ?? null }));
      headerText = names.join(',');
      return;
    }
    // A second export appended to the first repeats the header.
    if (headerNames(rec.fields).join(',') === headerText) return;
    if (rec.fields.length !== cols.length) {
      sink.reject(rec.line, `expected ${cols.length} fields, found ${rec.fields.length}`, rec.text);
      return;
    }
    const parsed = parseRow(cols, rec.fields, ctx, ignored);
    if ('error' in parsed) {
      sink.reject(rec.line, parsed.error, rec.text);
      return;
    }
    const r = parsed.row;
    const key = [r.gpu_uuid, r.host, r.gpu_index, r.pci_bus_id, r.model, r.driver_version].join('\u0000');
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
    sink.row(r, rec);
    for (const o of parsed.others) sink.other(o, rec);
  };

  for await (const raw of lines) {
    lineNo++;
    const text = (lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
    for (const rec of reader.push(lineNo, text)) handle(rec);
  }
  for (const rec of reader.finish()) handle(rec);
  if (ignored.size > 0) sink.warn(`${ctx.file}: non-numeric values in unknown columns not kept (${[...ignored].join(', ')})`);
}

export const csvExportParser: Parser = { format: 'csv', sniff, parse };
