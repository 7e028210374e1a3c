/**
 * `dcgmi dmon` and `nvidia-smi dmon` text output → canonical rows.
 *
 * Both tools print a `#` header (field names, then units), repeat it every so many iterations, and
 * then print one row per entity per iteration with no timestamp. The parser therefore keeps the
 * latest header as the column layout, skips every header line wherever it appears, and dates rows
 * by iteration: an iteration is one row per entity, and a new one starts when an entity repeats.
 * Iteration k is at `defaultTimeMs + k × interval`. `nvidia-smi dmon -o DT` rows carry their own
 * local date and time, which win.
 *
 * Entities are GPU indexes, not UUIDs: `GPU n` is mapped through the resolver (GPUs already known
 * for the host), else stored under a synthetic id `idx:<host>:<n>` with a warning. MIG instances,
 * vGPUs and switches are not GPUs of their own and go to `metrics_other`.
 *
 * A row that does not fit the header is a reject; the parser goes on with the next line. A row
 * whose entity can still be read counts towards the iteration, so one garbled line does not shift
 * the times of every row after it.
 */
import { InputError } from '../errors.js';
import type { GpuIdentity, ValueColumn } from '../schema.js';
import type { FieldMapping } from '../dcgm/fields.js';
import { canonicalValue } from '../dcgm/values.js';
import { localToUtcMs } from '../time.js';
import type { IngestSink, ParseContext, Parser, SourceLine } from './types.js';

/** A dmon column's canonical home, as for dcgm-exporter names: `scale` converts to the canonical unit (DCP ratios → percent). */
const F = (column: ValueColumn, scale = 1): FieldMapping => ({ column, scale });

/**
 * `dcgmi dmon` short names (`dcgmi dmon -l`; NVIDIA/DCGM dcgmlib/src/dcgm_fields.cpp) → columns.
 * Names not listed go to metrics_other as `dcgmi.<NAME>`.
 */
export const DCGMI_FIELDS: ReadonlyMap<string, FieldMapping> = new Map<string, FieldMapping>([
  ['TMPTR', F('gpu_temp')],
  ['MMTMP', F('memory_temp')],
  ['POWER', F('power_usage')],
  ['EPLMT', F('power_limit')],
  ['TOTEC', F('energy_mj')],
  ['GPUTL', F('gpu_util')],
  ['MCUTL', F('mem_copy_util')],
  ['SMACT', F('sm_active', 100)],
  ['SMOCC', F('sm_occupancy', 100)],
  ['TENSO', F('tensor_active', 100)],
  ['DRAMA', F('dram_active', 100)],
  ['GRACT', F('gr_engine_active', 100)],
  ['SMCLK', F('sm_clock_mhz')],
  ['MMCLK', F('mem_clock_mhz')],
  ['FBUSD', F('fb_used_mib')],
  ['FBFRE', F('fb_free_mib')],
  ['DVCCTR', F('throttle_reasons')],
  ['ESVTL', F('ecc_sbe_volatile')],
  ['EDVTL', F('ecc_dbe_volatile')],
  ['ESATL', F('ecc_sbe_aggregate')],
  ['EDATL', F('ecc_dbe_aggregate')],
  ['RPSBE', F('retired_pages_sbe')],
  ['RPDBE', F('retired_pages_dbe')],
  ['RPPEN', F('retired_pages_pending')],
  ['CRMPS', F('remapped_rows_correctable')],
  ['URMPS', F('remapped_rows_uncorrectable')],
  ['RRF', F('row_remap_failure')],
  ['RRP', F('row_remap_pending')],
  ['XIDER', F('xid_last')],
  ['RPCTR', F('pcie_replay_count')],
  ['NFELT', F('nvlink_crc_errors')],
  // DCGM reports violation times in µs (dcgm_fields.h), the canonical unit.
  ['PVIOL', F('power_violation_us')],
  ['TVIOL', F('thermal_violation_us')],
]);

/**
 * `nvidia-smi dmon` column names → columns. `sm` is NVML's GPU utilisation (the share of the sample
 * period in which a kernel ran: nvidia-smi's `utilization.gpu`), not DCGM's SM activity, so it fills
 * `gpu_util`. `mem` is `utilization.memory`, `pclk` the graphics/SM clock, `fb` the framebuffer in
 * use (nvidia-smi's "MB" are MiB). `pviol`/`tviol` are a percentage and a flag, not DCGM's µs
 * counters, so they stay in metrics_other with every other column, as `nvsmi.<name>`.
 */
export const NVSMI_FIELDS: ReadonlyMap<string, FieldMapping> = new Map<string, FieldMapping>([
  ['pwr', F('power_usage')],
  ['gtemp', F('gpu_temp')],
  ['mtemp', F('memory_temp')],
  ['sm', F('gpu_util')],
  ['mem', F('mem_copy_util')],
  ['mclk', F('mem_clock_mhz')],
  ['pclk', F('sm_clock_mhz')],
  ['fb', F('fb_used_mib')],
]);

/** Every column `nvidia-smi dmon -s pucvmet` can print (for sniffing). */
const NVSMI_COLUMNS = new Set([
  'pwr',
  'gtemp',
  'mtemp',
  'sm',
  'mem',
  'enc',
  'dec',
  'jpg',
  'ofa',
  'mclk',
  'pclk',
  'pviol',
  'tviol',
  'fb',
  'bar1',
  'ccpm',
  'sbecc',
  'dbecc',
  'pci',
  'rxpci',
  'txpci',
]);

/** dmon's default sampling period: `nvidia-smi dmon -d 1` (s) and `dcgmi dmon -d 1000` (ms). */
export const DMON_DEFAULT_INTERVAL_MS = 1000;
const MAX_TEXT = 1000;
const DAY_MS = 86_400_000;

/** How rows get their time. */
type Timing = 'iteration' | 'row' | 'time-of-day';

interface Layout {
  readonly tool: 'dcgmi' | 'nvsmi';
  /** Value column names, in order (entity / index / date / time columns excluded). */
  readonly names: readonly string[];
  /** Leading `-o D` / `-o T` columns (nvidia-smi only). */
  readonly date: boolean;
  readonly time: boolean;
}

function timingOf(layout: Layout): Timing {
  if (layout.time) return layout.date ? 'row' : 'time-of-day';
  return 'iteration';
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const NULL_TOKENS = new Set(['N/A', '-', '[N/A]', 'n/a']);

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** A header line, or null when the line is not one. `units` marks the second (units) header line. */
function readHeader(trimmed: string): Layout | 'units' | 'comment' | null {
  const dcgmi = /^#\s*Entity(Id)?\b\s*(.*)$/i.exec(trimmed);
  if (dcgmi) {
    let names = dcgmi[2]!.split(/\s+/).filter(Boolean);
    // `# Entity Id  SMCLK …` (a one-line header written with a space).
    if (!dcgmi[1] && names.length > 0 && /^id$/i.test(names[0]!)) names = names.slice(1);
    return { tool: 'dcgmi', names, date: false, time: false };
  }
  if (/^#?\s*id\b/i.test(trimmed)) return 'units';
  if (!trimmed.startsWith('#')) return null;
  const tokens = trimmed.slice(1).trim().split(/\s+/).filter(Boolean);
  const lower = tokens.map((t) => t.toLowerCase());
  const gpuAt = lower.indexOf('gpu');
  if (gpuAt >= 0 && lower.slice(0, gpuAt).every((t) => t === 'date' || t === 'time')) {
    return { tool: 'nvsmi', names: tokens.slice(gpuAt + 1), date: lower.includes('date'), time: lower.slice(0, gpuAt).includes('time') };
  }
  if (lower.includes('idx')) return 'units';
  return 'comment';
}

/** The local calendar date of an instant in zone `tz`. */
function localDate(ms: number, tz: string): { y: number; m: number; d: number } {
  const parts: Record<string, number> = {};
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  for (const p of fmt.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day! };
}

function sniff(head: string): number {
  for (const raw of head.split(/\r?\n/, 200)) {
    const line = raw.trim();
    if (/^#\s*Entity/i.test(line)) return 0.9;
    const h = /^#\s*(.*)$/.exec(line);
    if (!h) continue;
    const tokens = h[1]!.toLowerCase().split(/\s+/);
    const gpuAt = tokens.indexOf('gpu');
    if (gpuAt < 0 || !tokens.slice(0, gpuAt).every((t) => t === 'date' || t === 'time')) continue;
    const rest = tokens.slice(gpuAt + 1);
    // `nvidia-smi pmon` also starts `# gpu … sm mem`, but is per process.
    if (rest.includes('pid')) return 0;
    if (rest.some((t) => NVSMI_COLUMNS.has(t))) return 0.9;
  }
  return 0;
}

async function parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  const intervalMs = ctx.intervalMs ?? DMON_DEFAULT_INTERVAL_MS;
  let layout: Layout | null = null;
  let lineNo = 0;
  /** Rejects seen before the first header: held back so that a missing --time fails before any output. */
  const early: { line: number; reason: string; text: string }[] = [];
  let warnedInterval = false;

  // Iterations: a new one starts when an entity repeats.
  let iteration = 0;
  let iterationsUsed = false;
  let seen = new Set<string>();
  const countEntity = (key: string): number => {
    if (seen.has(key)) {
      iteration += 1;
      seen = new Set();
    }
    seen.add(key);
    return iteration;
  };

  // `-o T` without `-o D`: the date comes from defaultTimeMs; a time of day that jumps back by more
  // than half a day is the next day.
  let dayOffset = 0;
  let lastSecondOfDay: number | null = null;

  // GPU identity, resolved once per index per file.
  const identities = new Map<number, GpuIdentity>();
  const unmapped: number[] = [];
  const identityOf = (index: number): GpuIdentity => {
    let id = identities.get(index);
    if (id) return id;
    const known = ctx.resolver.byIndex(ctx.host, index);
    if (known) {
      id = { ...known, host: known.host ?? ctx.host, gpu_index: known.gpu_index ?? index };
    } else {
      id = { gpu_uuid: `idx:${ctx.host ?? 'unknown-host'}:${index}`, host: ctx.host, gpu_index: index, model: null, pci_bus_id: null, driver_version: null };
      unmapped.push(index);
    }
    identities.set(index, id);
    return id;
  };

  const reject = (line: number, reason: string, text: string): void => {
    if (layout === null) early.push({ line, reason, text: clip(text) });
    else sink.reject(line, reason, clip(text));
  };

  const useHeader = (next: Layout): void => {
    if (next.tool === 'nvsmi' && next.names.map((n) => n.toLowerCase()).includes('pid')) {
      throw new InputError(`${ctx.file}: this is nvidia-smi pmon (per-process) output, not dmon`, [
        'record nvidia-smi dmon, or nvidia-smi --query-gpu … --format=csv -l 10',
      ]);
    }
    const timing = timingOf(next);
    if (timing !== 'row' && ctx.defaultTimeMs === null) {
      if (timing === 'iteration') {
        throw new InputError('dmon output has no timestamps: pass --time <start> (and --interval)', [
          `gpuhealth ingest --format-in dmon --time 2025-02-23T16:24:18Z --interval 1s ${ctx.file}`,
          'or record with nvidia-smi dmon -o DT, which stamps every row',
        ]);
      }
      throw new InputError('nvidia-smi dmon -o T output has times of day but no date: pass --time <start>', ['or record with -o DT']);
    }
    if (timing === 'iteration' && ctx.intervalMs === null && !warnedInterval) {
      warnedInterval = true;
      sink.warn(
        `${ctx.file}: dmon rows carry no timestamps; assuming dmon's default interval of 1 s (nvidia-smi dmon -d 1, dcgmi dmon -d 1000) between iterations — pass --interval if it was recorded with another -d`,
      );
    }
    if (layout === null) for (const r of early.splice(0)) sink.reject(r.line, r.reason, r.text);
    layout = next;
  };

  const parseValues = (l: Layout, tokens: readonly string[]): { values: (number | null)[] } | { error: string } => {
    const values: (number | null)[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (NULL_TOKENS.has(t)) values.push(null);
      else if (NUMBER.test(t)) values.push(Number(t));
      else return { error: `non-numeric value "${t}" for ${l.names[i]}` };
    }
    return { values };
  };

  const emit = (
    l: Layout,
    entity: { group: string; id: number; label: string },
    timeMs: number,
    tokens: readonly string[],
    values: readonly (number | null)[],
    from: SourceLine,
  ): void => {
    const prefix = l.tool === 'dcgmi' ? 'dcgmi' : 'nvsmi';
    const labels: Record<string, string> = l.tool === 'dcgmi' ? { entity: entity.label } : { gpu: String(entity.id) };
    if (entity.group !== 'GPU') {
      // MIG instances, vGPUs, switches: not GPUs of their own; keep DCGM's raw values.
      for (let i = 0; i < l.names.length; i++) {
        const v = values[i]!;
        if (v !== null)
          sink.other({ time_ms: timeMs, gpu_uuid: null, host: ctx.host, metric: `${prefix}.${l.names[i]}`, value: v, labels: { ...labels } }, from);
      }
      return;
    }
    const fields = l.tool === 'dcgmi' ? DCGMI_FIELDS : NVSMI_FIELDS;
    const id = identityOf(entity.id);
    const row: Partial<Record<ValueColumn, number | null>> = {};
    let any = false;
    for (let i = 0; i < l.names.length; i++) {
      const v = values[i]!;
      if (v === null) continue;
      const name = l.names[i]!;
      const field = fields.get(name);
      if (field) {
        const c = canonicalValue(field, v, tokens[i]!);
        if (c !== null) {
          row[field.column] = c;
          any = true;
        }
      } else {
        sink.other({ time_ms: timeMs, gpu_uuid: id.gpu_uuid, host: id.host, metric: `${prefix}.${name}`, value: v, labels: { ...labels } }, from);
      }
    }
    if (any) sink.row({ ...id, time_ms: timeMs, values: row }, from);
  };

  const iterationTime = (k: number): number => {
    iterationsUsed = true;
    return ctx.defaultTimeMs! + k * intervalMs;
  };

  for await (const line of lines) {
    lineNo += 1;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    // Ctrl-C tail of dcgmi dmon (its own spelling), and the corrected one should it ever change.
    if (/^dmon was stopped d(?:o|ue) to receiving a signal/i.test(trimmed)) continue;

    const header = readHeader(trimmed);
    if (header === 'units' || header === 'comment') continue;
    if (header !== null) {
      useHeader(header);
      continue;
    }
    if (layout === null) {
      reject(lineNo, 'data before any dmon header (#Entity … or # gpu …)', line);
      continue;
    }
    const l: Layout = layout;
    const tokens = trimmed.split(/\s+/);

    if (l.tool === 'dcgmi') {
      const group = tokens[0]!;
      const idText = tokens[1] ?? '';
      if (!/^[A-Za-z][A-Za-z-]*$/.test(group) || !/^\d+$/.test(idText)) {
        reject(lineNo, 'not a dcgmi dmon row: expected an entity (GPU 0, GPU-I 3, …) and then one value per column', line);
        continue;
      }
      const entity = { group, id: Number(idText), label: `${group} ${idText}` };
      const k = countEntity(entity.label);
      const raw = tokens.slice(2);
      if (raw.length !== l.names.length) {
        reject(lineNo, `expected ${l.names.length} values after "${entity.label}" (${l.names.join(' ')}), found ${raw.length}`, line);
        continue;
      }
      const parsed = parseValues(l, raw);
      if ('error' in parsed) {
        reject(lineNo, parsed.error, line);
        continue;
      }
      emit(l, entity, iterationTime(k), raw, parsed.values, { line: lineNo, text: line });
      continue;
    }

    // nvidia-smi dmon: [date] [time] index values…
    const lead = (l.date ? 1 : 0) + (l.time ? 1 : 0);
    const idText = tokens[lead] ?? '';
    if (!/^\d+$/.test(idText)) {
      reject(lineNo, `not an nvidia-smi dmon row: expected ${lead > 0 ? 'the date/time columns, then ' : ''}a GPU index and then one value per column`, line);
      continue;
    }
    const entity = { group: 'GPU', id: Number(idText), label: `GPU ${idText}` };
    const k = countEntity(entity.label);
    const raw = tokens.slice(lead + 1);
    if (raw.length !== l.names.length) {
      reject(lineNo, `expected ${l.names.length} values after GPU index ${idText} (${l.names.join(' ')}), found ${raw.length}`, line);
      continue;
    }
    let timeMs: number;
    const timing = timingOf(l);
    if (timing === 'iteration') {
      timeMs = iterationTime(k);
    } else {
      const dateText = l.date ? tokens[0]! : null;
      const timeText = tokens[lead - 1]!;
      const dm = dateText === null ? null : /^(\d{4})(\d{2})(\d{2})$/.exec(dateText);
      const tm = /^(\d{2}):(\d{2}):(\d{2})$/.exec(timeText);
      if ((dateText !== null && !dm) || !tm) {
        reject(
          lineNo,
          `unreadable ${l.date ? 'date/time' : 'time'} "${tokens.slice(0, lead).join(' ')}" (expected ${l.date ? 'YYYYMMDD HH:MM:SS' : 'HH:MM:SS'})`,
          line,
        );
        continue;
      }
      const [h, mi, s] = [Number(tm[1]), Number(tm[2]), Number(tm[3])];
      let y: number;
      let mo: number;
      let d: number;
      if (dm) {
        [y, mo, d] = [Number(dm[1]), Number(dm[2]), Number(dm[3])];
      } else {
        const secondOfDay = h * 3600 + mi * 60 + s;
        if (lastSecondOfDay !== null && secondOfDay < lastSecondOfDay - 43_200) dayOffset += 1;
        lastSecondOfDay = secondOfDay;
        const base = localDate(ctx.defaultTimeMs!, ctx.tz);
        const day = new Date(Date.UTC(base.y, base.m - 1, base.d) + dayOffset * DAY_MS);
        [y, mo, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
      }
      const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
      if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi) {
        reject(lineNo, `invalid date/time "${tokens.slice(0, lead).join(' ')}"`, line);
        continue;
      }
      timeMs = localToUtcMs(y, mo, d, h, mi, s, 0, ctx.tz);
    }
    const parsed = parseValues(l, raw);
    if ('error' in parsed) {
      reject(lineNo, parsed.error, line);
      continue;
    }
    emit(l, entity, timeMs, raw, parsed.values, { line: lineNo, text: line });
  }

  if (layout === null) {
    for (const r of early) sink.reject(r.line, r.reason, r.text);
    if (lineNo > 0) sink.warn(`${ctx.file}: no dmon header (#Entity … from dcgmi dmon, or # gpu … from nvidia-smi dmon) found`);
    return;
  }
  if (unmapped.length > 0) {
    const host = ctx.host ?? 'unknown-host';
    const list = unmapped.sort((a, b) => a - b);
    sink.warn(
      `${ctx.file}: GPU index${list.length > 1 ? 'es' : ''} ${list.join(', ')} on ${ctx.host === null ? 'an unnamed host' : `host ${ctx.host}`} ` +
        `not known yet; rows stored under synthetic ids ${list.map((i) => `idx:${host}:${i}`).join(', ')}. ` +
        `Map them to UUIDs with --gpu-map, or ingest that host's dcgm-exporter / nvidia-smi --query-gpu data first` +
        (ctx.host === null ? ' (and pass --host)' : ''),
    );
  }
  if (iterationsUsed && ctx.defaultTimeSource === 'mtime' && iteration > 0) {
    sink.warn(
      `${ctx.file}: dmon rows are dated from the file's mtime as the start of the recording, but the mtime is usually when it ended; ` +
        `times may be late by up to ${(iteration * intervalMs) / 1000} s — pass --time <start> to pin them`,
    );
  }
}

export const dmonParser: Parser = { format: 'dmon', sniff, parse };
