/**
 * `nvidia-smi --query-gpu=… --format=csv[,nounits]` → canonical rows (DESIGN §3, REFERENCE §7.3).
 *
 * The header line is the only record of which field each column holds, so it drives everything:
 * it may come back (concatenated runs), and a file without one (`noheader`) cannot be read.
 * Every data line becomes one canonical row at its own millisecond timestamp; fields without a
 * canonical column go to metrics_other. A line is used whole or rejected whole, with a reason that
 * names the offending column. docs/formats.md ("nvidia-smi CSV") lists every mapping and rule.
 */
import { InputError } from '../errors.js';
import { normalizePciBusId, type GpuIdentity, type MetricRow, type OtherSample, type ValueColumn } from '../schema.js';
import { localToUtcMs } from '../time.js';
import { absentAtZero, scaleReading } from '../dcgm/values.js';
import type { GpuResolver, IngestSink, ParseContext, Parser } from './types.js';

/** What a canonical field's value is: a quantity in a unit family, a Yes/No flag, or a hex bitmask. */
type Family = 'C' | 'W' | 'MHz' | 'MiB' | '%' | 'us' | 'count' | 'flag' | 'mask';
type NumericFamily = Exclude<Family, 'flag' | 'mask'>;

interface CanonicalField {
  readonly column: ValueColumn;
  readonly family: Family;
  /** Several fields may feed one column; the lowest rank with a value wins. */
  readonly rank: number;
}

const F = (column: ValueColumn, family: Family, rank = 0): CanonicalField => ({ column, family, rank });

/** Keyed by the field name after `canonicalFieldName` (aliases folded). */
const CANONICAL_FIELDS: ReadonlyMap<string, CanonicalField> = new Map([
  ['temperature.gpu', F('gpu_temp', 'C')],
  ['temperature.memory', F('memory_temp', 'C')],
  ['power.draw', F('power_usage', 'W', 0)],
  ['power.draw.average', F('power_usage', 'W', 1)],
  ['power.draw.instant', F('power_usage', 'W', 2)],
  ['enforced.power.limit', F('power_limit', 'W', 0)],
  ['power.limit', F('power_limit', 'W', 1)],
  ['utilization.gpu', F('gpu_util', '%')],
  ['utilization.memory', F('mem_copy_util', '%')],
  ['clocks.current.sm', F('sm_clock_mhz', 'MHz')],
  ['clocks.current.memory', F('mem_clock_mhz', 'MHz')],
  ['memory.used', F('fb_used_mib', 'MiB')],
  ['memory.free', F('fb_free_mib', 'MiB')],
  ['clocks_event_reasons.active', F('throttle_reasons', 'mask')],
  ['ecc.errors.corrected.volatile.total', F('ecc_sbe_volatile', 'count')],
  ['ecc.errors.uncorrected.volatile.total', F('ecc_dbe_volatile', 'count')],
  ['ecc.errors.corrected.aggregate.total', F('ecc_sbe_aggregate', 'count')],
  ['ecc.errors.uncorrected.aggregate.total', F('ecc_dbe_aggregate', 'count')],
  ['retired_pages.single_bit_ecc.count', F('retired_pages_sbe', 'count')],
  ['retired_pages.double_bit.count', F('retired_pages_dbe', 'count')],
  ['retired_pages.pending', F('retired_pages_pending', 'flag')],
  ['remapped_rows.correctable', F('remapped_rows_correctable', 'count')],
  ['remapped_rows.uncorrectable', F('remapped_rows_uncorrectable', 'count')],
  ['remapped_rows.pending', F('row_remap_pending', 'flag')],
  ['remapped_rows.failure', F('row_remap_failure', 'flag')],
  ['clocks_event_reasons_counters.sw_power_cap', F('power_violation_us', 'us')],
]);

/** The unit a canonical column's value is in after conversion, for fields also kept in metrics_other. */
const CONVERTED_UNIT: Partial<Record<ValueColumn, string>> = { power_usage: 'W', power_limit: 'W' };

/** Summed into thermal_violation_us (µs); each part is also kept in metrics_other. */
const THERMAL_FIELD = F('thermal_violation_us', 'us');
const THERMAL_PARTS: ReadonlySet<string> = new Set(['clocks_event_reasons_counters.sw_thermal_slowdown', 'clocks_event_reasons_counters.hw_thermal_slowdown']);

type IdKey = 'uuid' | 'index' | 'name' | 'pci' | 'driver' | 'hostname';
const ID_FIELDS: ReadonlyMap<string, IdKey> = new Map<string, IdKey>([
  ['uuid', 'uuid'],
  ['index', 'index'],
  ['name', 'name'],
  ['pci.bus_id', 'pci'],
  ['driver_version', 'driver'],
  ['hostname', 'hostname'],
]);

/** Text fields operators need (to match RMA paperwork): kept as `labels.text` with a null value. */
const TEXT_LABEL_FIELDS: ReadonlySet<string> = new Set(['serial', 'vbios_version']);

/** nvidia-smi accepts these spellings in --query-gpu (`nvidia-smi --help-query-gpu`). */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['gpu_name', 'name'],
  ['gpu_serial', 'serial'],
  ['gpu_uuid', 'uuid'],
  ['gpu_bus_id', 'pci.bus_id'],
  ['clocks.gr', 'clocks.current.graphics'],
  ['clocks.sm', 'clocks.current.sm'],
  ['clocks.mem', 'clocks.current.memory'],
  ['clocks.video', 'clocks.current.video'],
  ['clocks.applications.gr', 'clocks.applications.graphics'],
  ['clocks.applications.mem', 'clocks.applications.memory'],
  ['clocks.default_applications.gr', 'clocks.default_applications.graphics'],
  ['clocks.default_applications.mem', 'clocks.default_applications.memory'],
  ['clocks.max.gr', 'clocks.max.graphics'],
  ['clocks.max.mem', 'clocks.max.memory'],
  ['retired_pages.sbe', 'retired_pages.single_bit_ecc.count'],
  ['retired_pages.dbe', 'retired_pages.double_bit.count'],
]);

/** Drivers before R535 call the clock event reasons "throttle reasons"; fold both to the new name. */
export function canonicalFieldName(name: string): string {
  const n = name.trim().replace(/^clocks_throttle_reasons/, 'clocks_event_reasons');
  return ALIASES.get(n) ?? n;
}

/** Fields that are not dotted or prefixed like the families below (from `--help-query-gpu`). */
const PLAIN_FIELDS: ReadonlySet<string> = new Set([
  'timestamp',
  'driver_version',
  'count',
  'name',
  'serial',
  'uuid',
  'index',
  'display_mode',
  'display_active',
  'display_attached',
  'persistence_mode',
  'addressing_mode',
  'vbios_version',
  'gpu_recovery_action',
  'pstate',
  'compute_mode',
  'compute_cap',
  'edpp_multiplier',
  'hostname',
  ...ALIASES.keys(),
]);
const FIELD_FAMILIES = [
  'pci.',
  'pcie.',
  'clocks.',
  'clocks_event_reasons',
  'clocks_throttle_reasons',
  'memory.',
  'utilization.',
  'ecc.',
  'retired_pages.',
  'remapped_rows.',
  'temperature.',
  'power.',
  'enforced.power.',
  'module.',
  'power_smoothing.',
  'fan.',
  'encoder.',
  'inforom.',
  'fabric.',
  'mig.',
  'gsp.',
  'c2c.',
  'platform.',
  'accounting.',
  'driver_model.',
  'gom.',
  'protected_memory.',
  'dramEncryption.',
  'vgpu_',
  'fbc.',
] as const;

function isKnownField(name: string): boolean {
  return PLAIN_FIELDS.has(name) || FIELD_FAMILIES.some((p) => name.startsWith(p));
}

/** `power.draw [W]` → name and unit. Values never look like this, so it also tells headers from data. */
const HEADER_FIELD = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\s*\[([^\]]*)\])?$/;

interface HeaderField {
  readonly raw: string;
  readonly name: string;
  readonly unit: string | null;
}

/** The header's fields, or null when `fields` is a data line. */
function readHeader(fields: readonly string[]): HeaderField[] | null {
  const out: HeaderField[] = [];
  let known = false;
  for (const f of fields) {
    const m = HEADER_FIELD.exec(f);
    if (!m) return null;
    const name = canonicalFieldName(m[1]!);
    known ||= isKnownField(m[1]!) || isKnownField(name);
    out.push({ raw: m[1]!, name, unit: m[2]?.trim() || null });
  }
  return known ? out : null;
}

function splitFields(line: string): string[] {
  return line.split(',').map((f) => f.trim());
}

function stripLine(line: string): string {
  return line.replace(/^\uFEFF/, '').replace(/\r$/, '');
}

type Cell =
  | { kind: 'null' }
  | { kind: 'number'; value: number; unit: string | null /** The number as printed, for decimal unit scaling. */; text: string | null }
  | { kind: 'flag'; value: 0 | 1 }
  | { kind: 'text'; text: string };

const NULL_CELL: Cell = { kind: 'null' };
const NUMBER_WITH_UNIT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:\s*([A-Za-z%µ°][A-Za-z%µ°/]*))?$/;
const FLAG_WORDS: ReadonlyMap<string, 0 | 1> = new Map([
  ['enabled', 1],
  ['disabled', 0],
  ['yes', 1],
  ['no', 0],
  ['active', 1],
  ['not active', 0],
  ['true', 1],
  ['false', 0],
  ['on', 1],
  ['off', 0],
]);

/** One value as nvidia-smi prints it. `[...]` (any bracketed message), bare `N/A` and empty are missing. */
function readCell(raw: string, field: string): Cell {
  if (raw === '' || /^\[.*\]$/.test(raw) || /^n\/a$/i.test(raw)) return NULL_CELL;
  if (/^0x[0-9a-f]+$/i.test(raw)) return { kind: 'number', value: Number.parseInt(raw.slice(2), 16), unit: null, text: null };
  const m = NUMBER_WITH_UNIT.exec(raw);
  if (m) return { kind: 'number', value: Number(m[1]), unit: m[2] ?? null, text: m[1]! };
  const flag = FLAG_WORDS.get(raw.toLowerCase());
  if (flag !== undefined) return { kind: 'flag', value: flag };
  if (field === 'pstate') {
    const p = /^P(\d{1,2})$/.exec(raw);
    if (p) return { kind: 'number', value: Number(p[1]), unit: null, text: null };
  }
  return { kind: 'text', text: raw };
}

/** Factor from a printed unit to the canonical one; '' is a bare number (nounits, or a unitless field). */
const UNIT_SCALE: Readonly<Record<NumericFamily, Readonly<Record<string, number>>>> = {
  C: { '': 1, C: 1, '°C': 1 },
  W: { '': 1, W: 1, mW: 1e-3, kW: 1e3 },
  MHz: { '': 1, MHz: 1, GHz: 1e3, kHz: 1e-3, Hz: 1e-6 },
  MiB: { '': 1, MiB: 1, GiB: 1024, TiB: 1024 * 1024, KiB: 1 / 1024, B: 1 / (1024 * 1024), bytes: 1 / (1024 * 1024) },
  '%': { '': 1, '%': 1 },
  us: { '': 1, us: 1, µs: 1, ns: 1e-3, ms: 1e3, s: 1e6 },
  count: { '': 1 },
};

/** A cell as the canonical column's value, or an error message naming the field. */
function canonicalValue(cell: Cell, field: CanonicalField, col: Column, raw: string): number | null | { error: string } {
  if (cell.kind === 'null') return null;
  const name = col.field.raw;
  if (field.family === 'flag') {
    if (cell.kind === 'flag') return cell.value;
    if (cell.kind === 'number' && cell.unit === null && (cell.value === 0 || cell.value === 1)) return cell.value;
    return { error: `${name}: expected Yes or No, found "${raw}"` };
  }
  if (cell.kind !== 'number') return { error: `${name}: "${raw}" is not a number` };
  if (field.family === 'mask') {
    if (cell.unit !== null || !Number.isInteger(cell.value) || cell.value < 0) return { error: `${name}: "${raw}" is not a bitmask` };
    return cell.value;
  }
  const unit = cell.unit ?? col.field.unit ?? '';
  const scale = UNIT_SCALE[field.family][unit];
  if (scale === undefined) return { error: `${name}: unexpected unit "${unit}" in "${raw}"` };
  if (absentAtZero(field.column, cell.value)) return null;
  return scaleReading(cell.value, scale, cell.text);
}

type Role =
  | { kind: 'time' }
  | { kind: 'id'; key: IdKey }
  | { kind: 'canonical'; field: CanonicalField }
  | { kind: 'thermal' }
  | { kind: 'text-label' }
  | { kind: 'other' };

interface Column {
  readonly field: HeaderField;
  readonly role: Role;
}

function roleOf(name: string): Role {
  if (name === 'timestamp') return { kind: 'time' };
  const id = ID_FIELDS.get(name);
  if (id) return { kind: 'id', key: id };
  const canonical = CANONICAL_FIELDS.get(name);
  if (canonical) return { kind: 'canonical', field: canonical };
  if (THERMAL_PARTS.has(name)) return { kind: 'thermal' };
  if (TEXT_LABEL_FIELDS.has(name)) return { kind: 'text-label' };
  return { kind: 'other' };
}

const TIMESTAMP = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** nvidia-smi's `YYYY/MM/DD HH:MM:SS.mmm`, local time in `tz` → UTC ms; null when malformed. */
export function parseSmiTimestamp(text: string, tz: string): number | null {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth || h! > 23 || mi! > 59 || s! > 59) return null;
  return localToUtcMs(y!, mo!, d!, h!, mi!, s!, ms, tz);
}

/** Finds the GPU of a row that has no uuid; lookups are cached per source (the resolver may query the lake). */
class IdentityResolver {
  private readonly byPciCache = new Map<string, GpuIdentity | null>();
  private readonly byIndexCache = new Map<string, GpuIdentity | null>();
  private readonly remembered = new Set<string>();
  constructor(private readonly resolver: GpuResolver) {}

  pci(host: string | null, pci: string): GpuIdentity | null {
    const key = `${host ?? ''}\u0000${pci}`;
    if (!this.byPciCache.has(key)) this.byPciCache.set(key, this.resolver.byPci(host, pci));
    return this.byPciCache.get(key) ?? null;
  }

  index(host: string | null, index: number): GpuIdentity | null {
    const key = `${host ?? ''}\u0000${index}`;
    if (!this.byIndexCache.has(key)) this.byIndexCache.set(key, this.resolver.byIndex(host, index));
    return this.byIndexCache.get(key) ?? null;
  }

  remember(id: GpuIdentity): void {
    const key = [id.gpu_uuid, id.host, id.gpu_index, id.pci_bus_id, id.model, id.driver_version].join('\u0000');
    if (this.remembered.has(key)) return;
    this.remembered.add(key);
    this.resolver.remember(id);
  }
}

/** Source identity overrides the known GPU's; the known GPU fills what the source lacks. */
function fillFrom(id: GpuIdentity, known: GpuIdentity): GpuIdentity {
  return {
    gpu_uuid: known.gpu_uuid,
    host: id.host ?? known.host,
    gpu_index: id.gpu_index ?? known.gpu_index,
    model: id.model ?? known.model,
    pci_bus_id: id.pci_bus_id ?? known.pci_bus_id,
    driver_version: id.driver_version ?? known.driver_version,
  };
}

interface Parsed {
  row: MetricRow;
  others: OtherSample[];
}

interface RowState {
  readonly ctx: ParseContext;
  readonly ids: IdentityResolver;
  /** Text values dropped, per field name, for one summary warning. */
  readonly droppedText: Map<string, number>;
}

function parseRow(cols: readonly Column[], fields: readonly string[], st: RowState): Parsed | { error: string } {
  const { ctx } = st;
  let timeMs: number | null = null;
  let hasTime = false;
  const id: Record<IdKey, string | null> = { uuid: null, index: null, name: null, pci: null, driver: null, hostname: null };
  const candidates = new Map<ValueColumn, { rank: number; value: number | null; col: Column }[]>();
  const thermal: number[] = [];
  let hasThermal = false;
  const pending: { metric: string; value: number | null; labels: Record<string, string> }[] = [];
  const dropped: string[] = [];

  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    const raw = fields[i]!;
    const name = col.field.name;
    const unitLabel: Record<string, string> = col.field.unit ? { unit: col.field.unit } : {};
    switch (col.role.kind) {
      case 'time': {
        hasTime = true;
        if (readCell(raw, name).kind === 'null') return { error: `${col.field.raw}: no value` };
        timeMs = parseSmiTimestamp(raw, ctx.tz);
        if (timeMs === null) return { error: `${col.field.raw}: cannot read "${raw}" (expected YYYY/MM/DD HH:MM:SS.mmm)` };
        break;
      }
      case 'id':
        id[col.role.key] = readCell(raw, name).kind === 'null' ? null : raw;
        break;
      case 'canonical': {
        const v = canonicalValue(readCell(raw, name), col.role.field, col, raw);
        if (v !== null && typeof v === 'object') return v;
        const list = candidates.get(col.role.field.column) ?? [];
        list.push({ rank: col.role.field.rank, value: v, col });
        candidates.set(col.role.field.column, list);
        break;
      }
      case 'thermal': {
        hasThermal = true;
        const v = canonicalValue(readCell(raw, name), THERMAL_FIELD, col, raw);
        if (v !== null && typeof v === 'object') return v;
        if (v !== null) {
          thermal.push(v);
          pending.push({ metric: name, value: v, labels: { unit: 'us' } });
        }
        break;
      }
      case 'text-label': {
        if (readCell(raw, name).kind !== 'null') pending.push({ metric: name, value: null, labels: { text: raw } });
        break;
      }
      case 'other': {
        const cell = readCell(raw, name);
        if (cell.kind === 'number' || cell.kind === 'flag') {
          pending.push({ metric: name, value: cell.value, labels: unitLabel });
        } else if (cell.kind === 'text') {
          // A field the header gives a unit for is numeric: text there is a malformed value.
          if (col.field.unit !== null) return { error: `${col.field.raw}: "${raw}" is not a number` };
          dropped.push(name);
        }
        break;
      }
    }
  }

  if (!hasTime) {
    if (ctx.defaultTimeMs === null) {
      return { error: 'no timestamp column and no default time; add timestamp to --query-gpu or pass --time' };
    }
    timeMs = ctx.defaultTimeMs;
  }

  let gpuIndex: number | null = null;
  if (id.index !== null) {
    if (!/^\d+$/.test(id.index)) return { error: `index: "${id.index}" is not a GPU index` };
    gpuIndex = Number(id.index);
  }
  let pci: string | null = null;
  if (id.pci !== null) {
    pci = normalizePciBusId(id.pci);
    if (pci === null) {
      if (id.uuid === null) return { error: `pci.bus_id: cannot read "${id.pci}"` };
      pci = id.pci;
    }
  }
  const host = ctx.host ?? id.hostname;
  let identity: GpuIdentity = {
    gpu_uuid: id.uuid ?? '',
    host,
    gpu_index: gpuIndex,
    model: id.name,
    pci_bus_id: pci,
    driver_version: id.driver,
  };
  if (id.uuid !== null) {
    st.ids.remember(identity);
  } else if (pci !== null) {
    const known = st.ids.pci(host, pci);
    identity = known ? fillFrom(identity, known) : { ...identity, gpu_uuid: `pci:${host ?? 'unknown-host'}:${pci}` };
  } else {
    const known = gpuIndex === null ? null : st.ids.index(host, gpuIndex);
    if (known === null) return { error: 'no uuid, pci.bus_id or known index to identify the GPU' };
    identity = fillFrom(identity, known);
  }

  const values: Partial<Record<ValueColumn, number | null>> = {};
  for (const [column, list] of candidates) {
    list.sort((a, b) => a.rank - b.rank);
    const chosen = list.find((c) => c.value !== null) ?? list[0]!;
    values[column] = chosen.value;
    // A field that lost to a preferred alias (power.draw.instant, power.limit) is still a signal.
    for (const c of list) {
      if (c !== chosen && c.value !== null) {
        const unit = c.col.field.unit === null ? null : (CONVERTED_UNIT[column] ?? c.col.field.unit);
        pending.push({ metric: c.col.field.name, value: c.value, labels: unit === null ? {} : { unit } });
      }
    }
  }
  if (hasThermal) values.thermal_violation_us = thermal.length > 0 ? thermal.reduce((a, b) => a + b, 0) : null;

  for (const d of dropped) st.droppedText.set(d, (st.droppedText.get(d) ?? 0) + 1);
  const time = timeMs!;
  return {
    row: { ...identity, time_ms: time, values },
    others: pending.map((p) => ({ time_ms: time, gpu_uuid: identity.gpu_uuid, host: identity.host, ...p })),
  };
}

/** Sure when the first non-empty line is a header naming uuid, pci.bus_id or dotted nvidia-smi fields. */
function sniff(head: string): number {
  const first = head
    .split('\n')
    .map(stripLine)
    .find((l) => l.trim() !== '');
  if (first === undefined) return 0;
  const header = readHeader(splitFields(first));
  if (!header) return 0;
  // Not `gpu_uuid`: that alias is also the lake's own column name, which the CSV-export parser claims.
  const telling = header.some((f) => f.raw === 'uuid' || f.name === 'pci.bus_id' || (f.name.includes('.') && isKnownField(f.name)));
  return telling ? 0.9 : 0;
}

async function parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  const st: RowState = { ctx, ids: new IdentityResolver(ctx.resolver), droppedText: new Map() };
  let cols: Column[] | null = null;
  let headerLine = 0;
  let lineNo = 0;
  let warnedDefaultTime = false;
  let sawData = false;

  for await (const rawLine of lines) {
    lineNo++;
    const line = stripLine(rawLine);
    if (line.trim() === '') continue;
    const fields = splitFields(line);
    const header = readHeader(fields);
    if (header) {
      cols = header.map((field) => ({ field, role: roleOf(field.name) }));
      headerLine = lineNo;
      continue;
    }
    sawData = true;
    if (cols === null) {
      sink.reject(lineNo, 'data line before any header line (was the file written with noheader?)', line);
      continue;
    }
    if (fields.length !== cols.length) {
      sink.reject(lineNo, `expected ${cols.length} fields (header on line ${headerLine}), found ${fields.length}`, line);
      continue;
    }
    const parsed = parseRow(cols, fields, st);
    if ('error' in parsed) {
      sink.reject(lineNo, parsed.error, line);
      continue;
    }
    if (!warnedDefaultTime && !cols.some((c) => c.role.kind === 'time')) {
      warnedDefaultTime = true;
      sink.warn(`${ctx.file}: no timestamp column; every row takes the ${ctx.defaultTimeSource} time`);
    }
    const from = { line: lineNo, text: line };
    sink.row(parsed.row, from);
    for (const o of parsed.others) sink.other(o, from);
  }

  if (cols === null && sawData) {
    throw new InputError(`${ctx.file} has no header line; re-run nvidia-smi without noheader (--format=csv or --format=csv,nounits)`, [
      'nvidia-smi --query-gpu=timestamp,uuid,pci.bus_id,temperature.gpu,power.draw,utilization.gpu --format=csv -l 10',
    ]);
  }
  if (st.droppedText.size > 0) {
    const total = [...st.droppedText.values()].reduce((a, b) => a + b, 0);
    sink.warn(`${ctx.file}: ${total} text values of ${st.droppedText.size} fields not kept (${[...st.droppedText.keys()].join(', ')})`);
  }
}

export const nvidiaSmiCsvParser: Parser = { format: 'nvidia-smi', sniff, parse };
