/**
 * Prometheus HTTP API JSON (`/api/v1/query`, `/api/v1/query_range`) → canonical rows.
 *
 * Users export telemetry from a Prometheus that already scrapes dcgm-exporter, so a file holds one
 * response, several responses (concatenated or one per line, from a `curl` loop), a bare `data`
 * object, a bare `result` array, or bare result items (`jq -c '.data.result[]'`). Every series goes
 * through `seriesInfo`/`emitSample`, exactly as in the exposition-text parser, so labels, MIG
 * series, DCGM blanks, NaN/±Inf and units are treated the same whichever way the data came in.
 *
 * The source is read whole (query exports are moderate) and split into top-level JSON documents by
 * a bracket scanner, so one garbled line costs that line only. A file with nothing usable in it
 * (bad JSON, or only Prometheus error responses) is an InputError; otherwise problems are rejects.
 */
import { InputError } from '../errors.js';
import { HOST_LABELS } from '../dcgm/fields.js';
import { STORABLE_TIMES } from './limits.js';
import { canonicalValue } from '../dcgm/values.js';
import { canonicalField, emitSample, seriesInfo, type Labels, type SeriesInfo } from './prom-series.js';
import { RowMerger } from './row-merger.js';
import type { IngestSink, ParseContext, Parser, SourceLine } from './types.js';

/** Metric name given to series without `__name__` (results of PromQL functions and aggregations). */
export const UNNAMED_METRIC = 'unnamed';
/** dcgm-exporter's opt-in windowed Xid gauge: per GPU and `xid` label, Xid records in its window. */
export const XID_COUNT_METRIC = 'DCGM_EXP_XID_ERRORS_COUNT';

const SOURCE = 'prom-json';
const MAX_TEXT = 1000;
const EXPORTED_HOST_LABELS = ['exported_Hostname', 'exported_hostname'] as const;

interface Problem {
  line: number;
  reason: string;
  text: string;
}

/** One top-level JSON document as found in the source: where it starts, and its value or why not. */
type Doc = { line: number; value: unknown } | { line: number; problem: Problem };

/** What a document holds once its shape is recognised. */
type Unit =
  | { kind: 'series'; line: number; items: unknown[]; notes: string[] }
  | { kind: 'prom-error'; line: number; reason: string; text: string }
  | { kind: 'problem'; problem: Problem };

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringify(v: unknown): string {
  try {
    return clip(JSON.stringify(v) ?? String(v));
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Splitting the source into documents

interface Segment {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  /** False when the input ended (or the next document began) before its brackets closed. */
  closed: boolean;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * Finds top-level JSON values by bracket depth, outside strings. Lines are 1-based. Text outside
 * any value becomes a problem. With `resync`, a line that starts with `{` or `[` in column 0 while
 * a value is still open ends that value as incomplete: NDJSON after a truncated line, where
 * pretty-printers would have indented anything nested. It is used only on a stretch that failed
 * without it, so unindented pretty-printing (`json.dumps(indent=0)`) still parses.
 */
function scan(
  lines: readonly string[],
  from: { line: number; col: number },
  to: { line: number; col: number },
  resync: boolean,
): { segments: Segment[]; problems: Problem[] } {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  let open: Segment | null = null;
  let depth = 0;
  for (let ln = from.line; ln <= to.line; ln++) {
    const text = lines[ln - 1]!;
    const start = ln === from.line ? from.col : 0;
    const end = ln === to.line ? to.col : text.length;
    if (resync && open && ln > open.line && start === 0 && (text[0] === '{' || text[0] === '[')) {
      segments.push({ ...open, endLine: ln - 1, endCol: lines[ln - 2]!.length, closed: false });
      open = null;
      depth = 0;
    }
    let inString = false;
    for (let i = start; i < end; i++) {
      const c = text[i]!;
      if (open === null) {
        if (isSpace(c)) continue;
        if (c === '{' || c === '[') {
          open = { line: ln, col: i, endLine: ln, endCol: i, closed: false };
          depth = 1;
          continue;
        }
        problems.push({ line: ln, reason: 'text outside a JSON document', text: clip(text) });
        break;
      }
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') {
        inString = true;
      } else if (c === '{' || c === '[') {
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          segments.push({ ...open, endLine: ln, endCol: i + 1, closed: true });
          open = null;
        }
      }
    }
    // A JSON string cannot span lines; whatever was open is broken and JSON.parse will say where.
  }
  if (open) segments.push({ ...open, endLine: to.line, endCol: to.col, closed: false });
  return { segments, problems };
}

function segmentText(lines: readonly string[], s: Segment): string {
  if (s.line === s.endLine) return lines[s.line - 1]!.slice(s.col, s.endCol);
  const parts = [lines[s.line - 1]!.slice(s.col)];
  for (let ln = s.line + 1; ln < s.endLine; ln++) parts.push(lines[ln - 1]!);
  parts.push(lines[s.endLine - 1]!.slice(0, s.endCol));
  return parts.join('\n');
}

/**
 * Where in `text` JSON.parse failed. Node prints `at position N` for most errors; for an unexpected
 * token it prints only V8's context snippet, which starts 10 characters before the error when it
 * opens with `...` (V8 json-parser.cc, kMaxContextCharacters) and at the source's start otherwise.
 */
function errorOffset(message: string, text: string): number | null {
  const pos = /at position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const token = /^Unexpected token '(.+?)', (\.\.\.)?"(.*)"(?:\.\.\.)? is not valid JSON$/s.exec(message);
  if (!token) return null;
  const [, tok, cut, snippet] = token as unknown as [string, string, string | undefined, string];
  if (!cut) {
    const at = snippet.indexOf(tok);
    return at < 0 ? null : at;
  }
  const at = text.indexOf(snippet);
  return at < 0 || text.indexOf(snippet, at + 1) >= 0 ? null : at + 10;
}

/** Node's JSON.parse message with the echoed source removed and its position turned into a line. */
function jsonProblem(lines: readonly string[], s: Segment, text: string, err: unknown): Problem {
  const raw = err instanceof Error ? err.message : String(err);
  const offset = errorOffset(raw, text);
  let message = raw
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '')
    .replace(/ in JSON at position \d+| at position \d+/, '');
  let line = s.line;
  if (offset !== null) {
    const before = text.slice(0, offset);
    const nl = before.lastIndexOf('\n');
    line = s.line + (before.match(/\n/g)?.length ?? 0);
    message += ` (line ${line}, column ${(nl < 0 ? s.col + offset : offset - nl - 1) + 1})`;
  } else if (/end of JSON input/.test(message)) {
    line = s.endLine;
  }
  return { line, reason: `invalid JSON: ${message}`, text: clip(lines[line - 1] ?? '') };
}

function incomplete(lines: readonly string[], s: Segment): Problem {
  return {
    line: s.line,
    reason: `invalid JSON: document starting here is incomplete (brackets still open at line ${s.endLine})`,
    text: clip(lines[s.line - 1]!),
  };
}

function parseSegment(lines: readonly string[], seg: Segment): Doc {
  if (!seg.closed) return { line: seg.line, problem: incomplete(lines, seg) };
  const text = segmentText(lines, seg);
  try {
    return { line: seg.line, value: JSON.parse(text) };
  } catch (err) {
    return { line: seg.line, problem: jsonProblem(lines, seg, text, err) };
  }
}

function splitDocuments(lines: readonly string[]): Doc[] {
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return [];
  try {
    return [{ line: first + 1, value: JSON.parse(lines.join('\n')) }];
  } catch {
    // several documents, or a broken one: find them one by one
  }
  const end = { line: lines.length, col: lines[lines.length - 1]!.length };
  const top = scan(lines, { line: 1, col: 0 }, end, false);
  const docs: Doc[] = top.problems.map((p) => ({ line: p.line, problem: p }));
  for (const seg of top.segments) {
    const doc = parseSegment(lines, seg);
    if ('value' in doc || seg.line === seg.endLine) {
      docs.push(doc);
      continue;
    }
    const inner = scan(lines, { line: seg.line, col: seg.col }, { line: seg.endLine, col: seg.endCol }, true);
    for (const p of inner.problems) docs.push({ line: p.line, problem: p });
    for (const sub of inner.segments) docs.push(parseSegment(lines, sub));
  }
  return docs.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------
// Recognising what a document holds

function isResultItem(v: unknown): boolean {
  return isObject(v) && isObject(v['metric']);
}

function notesOf(response: Record<string, unknown>): string[] {
  const notes: string[] = [];
  for (const key of ['warnings', 'infos'] as const) {
    const list = response[key];
    if (Array.isArray(list)) for (const w of list) notes.push(`Prometheus ${key === 'warnings' ? 'warning' : 'info'}: ${String(w)}`);
  }
  return notes;
}

function fromData(data: Record<string, unknown>, line: number, notes: string[], whole: unknown): Unit {
  const type = data['resultType'];
  const result = data['result'];
  if (type === 'scalar' || type === 'string') {
    return { kind: 'problem', problem: { line, reason: `resultType "${type}" holds no series (query a metric, not a number)`, text: stringify(whole) } };
  }
  if (type !== undefined && type !== 'vector' && type !== 'matrix') {
    return { kind: 'problem', problem: { line, reason: `unsupported resultType ${JSON.stringify(type)}`, text: stringify(whole) } };
  }
  if (!Array.isArray(result)) {
    return { kind: 'problem', problem: { line, reason: 'not a query result: "data.result" is not a list', text: stringify(whole) } };
  }
  return { kind: 'series', line, items: result, notes };
}

function classify(value: unknown, line: number): Unit[] {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.some(isResultItem)) return [{ kind: 'series', line, items: value, notes: [] }];
    if (value.every((v) => isObject(v) && ('status' in v || 'data' in v))) return value.flatMap((v) => classify(v, line));
    return [{ kind: 'problem', problem: { line, reason: 'a JSON list that is neither query results nor responses', text: stringify(value) } }];
  }
  if (!isObject(value)) {
    return [{ kind: 'problem', problem: { line, reason: 'not a Prometheus HTTP API response', text: stringify(value) } }];
  }
  if (value['status'] === 'error') {
    const type = typeof value['errorType'] === 'string' ? value['errorType'] : 'unknown';
    const message = typeof value['error'] === 'string' ? value['error'] : 'no message';
    return [{ kind: 'prom-error', line, reason: `Prometheus error (${type}): ${message}`, text: stringify(value) }];
  }
  if (isObject(value['data'])) return [fromData(value['data'], line, notesOf(value), value)];
  if ('resultType' in value || 'result' in value) return [fromData(value, line, [], value)];
  if (isResultItem(value)) return [{ kind: 'series', line, items: [value], notes: [] }];
  return [{ kind: 'problem', problem: { line, reason: 'not a Prometheus HTTP API response (no "data.result")', text: stringify(value) } }];
}

// ---------------------------------------------------------------------------------------------
// Samples

/** Prometheus writes sample values as Go floats in strings: `"0.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`. */
export function parseSampleValue(raw: unknown): number | null {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s === '') return null;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

/** Unix seconds (a float, sometimes a string) → ms. */
function timeMsOf(raw: unknown): number | null {
  const t = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(t) ? Math.round(t * 1000) : null;
}

/** `host:port`, `[v6]:port` or a bare host → the host; null when absent. */
export function hostOfInstance(instance: string | undefined): string | null {
  if (instance === undefined || instance === '') return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]+):\d+$/.exec(instance);
  return hostPort ? hostPort[1]! : instance;
}

function seriesKey(name: string, labels: Labels): string {
  return JSON.stringify([
    name,
    ...Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  ]);
}

class Emitter {
  private readonly remembered = new Set<string>();
  private readonly hostFromInstance = new Map<string, string>();
  private readonly migSeries = new Set<string>();
  private readonly unnamedSeries = new Set<string>();
  private readonly lastXidCount = new Map<string, number>();
  private histograms = 0;
  items = 0;

  constructor(
    private readonly ctx: ParseContext,
    private readonly sink: IngestSink,
    /** A GPU's fields arrive as one series each: their values at one time become one row (row-merger.ts). */
    private readonly merger: RowMerger,
  ) {}

  item(raw: unknown, index: number, line: number): void {
    this.items++;
    const where = `result[${index}]`;
    if (!isObject(raw) || !isObject(raw['metric'])) {
      this.sink.reject(line, `${where}: no "metric" label object`, stringify(raw));
      return;
    }
    let name = UNNAMED_METRIC;
    const labels: Labels = {};
    for (const [k, v] of Object.entries(raw['metric'])) {
      const s = typeof v === 'string' ? v : String(v);
      if (k === '__name__') {
        if (s !== '') name = s;
      } else labels[k] = s;
    }
    const instanceHost = hostOfInstance(labels['instance']);
    const info = seriesInfo(labels, this.ctx.host ?? instanceHost);
    this.note(name, labels, info, instanceHost);

    let samples: unknown[];
    if ('value' in raw) samples = [raw['value']];
    else if (Array.isArray(raw['values'])) samples = raw['values'];
    else if ('histogram' in raw || 'histograms' in raw) {
      this.histograms++;
      return;
    } else {
      this.sink.reject(line, `${where}: no "value" or "values"`, stringify(raw));
      return;
    }
    const xidKey = name === XID_COUNT_METRIC ? seriesKey(name, labels) : null;
    const field = canonicalField(name);
    const rows = field !== undefined && info.identity !== null && !info.mig && xidKey === null ? this.merger.rowsOf(info.identity) : null;
    const seriesFrom = { line, text: where };
    const instant = 'value' in raw;
    for (let j = 0; j < samples.length; j++) {
      const pair = samples[j];
      const sampleAt = (): string => (instant ? `${where}.value` : `${where}.values[${j}]`);
      if (!Array.isArray(pair) || pair.length < 2) {
        this.sink.reject(line, `${sampleAt()}: not a [time, "value"] pair`, stringify(pair));
        continue;
      }
      const timeMs = timeMsOf(pair[0]);
      const value = parseSampleValue(pair[1]);
      if (timeMs === null || value === null) {
        this.sink.reject(line, `${sampleAt()}: bad ${timeMs === null ? 'timestamp' : 'sample value'}`, stringify(pair));
        continue;
      }
      if (rows !== null) {
        const v = canonicalValue(field!, value, String(pair[1]));
        if (this.merger.takes(timeMs, field!.column, v)) {
          this.merger.add(rows, timeMs, field!.column, v, seriesFrom);
          continue;
        }
      }
      const at = sampleAt();
      // the printed value, for the decimal unit scaling (a JSON number prints as its shortest decimal);
      // a sample the lake cannot store is rejected as its place in the line (lines may be megabytes)
      const from = { line, text: at };
      emitSample(name, labels, info, value, String(pair[1]), timeMs, this.sink, from);
      if (xidKey !== null) this.xidCount(xidKey, labels, info, value, timeMs, from);
    }
  }

  /**
   * The window count is a gauge, not a log: a series holds its count for the whole window, so an
   * event is emitted only where the count rises (the first sample rises from 0). One event per rise,
   * however large; the counts themselves stay in metrics_other.
   */
  private xidCount(key: string, labels: Labels, info: SeriesInfo, value: number, timeMs: number, from: SourceLine): void {
    const code = labels['xid'];
    if (code === undefined || !/^\d+$/.test(code) || Number(code) === 0 || !Number.isFinite(value)) return;
    const previous = this.lastXidCount.get(key) ?? 0;
    this.lastXidCount.set(key, value);
    if (!(value > previous)) return;
    this.sink.xid(
      {
        time_ms: timeMs,
        gpu_uuid: info.identity?.gpu_uuid ?? null,
        host: info.host,
        pci_bus_id: info.identity?.pci_bus_id ?? null,
        xid: Number(code),
        source: SOURCE,
        message: `${XID_COUNT_METRIC} window count ${value}`,
      },
      from,
    );
  }

  private note(name: string, labels: Labels, info: SeriesInfo, instanceHost: string | null): void {
    const id = info.identity;
    if (id && !this.remembered.has(id.gpu_uuid)) {
      this.remembered.add(id.gpu_uuid);
      this.ctx.resolver.remember(id);
    }
    if (info.mig && id) this.migSeries.add(seriesKey(name, labels));
    if (name === UNNAMED_METRIC) this.unnamedSeries.add(seriesKey(name, labels));
    const named = [...HOST_LABELS, ...EXPORTED_HOST_LABELS].some((n) => (labels[n] ?? '') !== '');
    if (id && !named && this.ctx.host === null && instanceHost !== null) this.hostFromInstance.set(id.gpu_uuid, instanceHost);
  }

  finish(): void {
    const say = (m: string): void => this.sink.warn(m);
    if (this.items === 0) say('the query results hold no series');
    if (this.migSeries.size > 0) say(`${this.migSeries.size} MIG series kept in metrics_other`);
    if (this.unnamedSeries.size > 0) {
      say(`${this.unnamedSeries.size} series without __name__ (PromQL expression results) kept in metrics_other as metric "${UNNAMED_METRIC}"`);
    }
    if (this.hostFromInstance.size > 0) {
      const example = this.hostFromInstance.values().next().value;
      say(
        `${this.hostFromInstance.size} GPU(s) have no Hostname label; host taken from the Prometheus "instance" label (e.g. "${example}"); pass --host to set it`,
      );
    }
    if (this.histograms > 0) say(`${this.histograms} native-histogram series skipped (dcgm-exporter exports none)`);
  }
}

// ---------------------------------------------------------------------------------------------

function sniff(head: string): number {
  const h = head.replace(/^\uFEFF/, '').trimStart();
  if (h.startsWith('{')) {
    if (h.includes('"resultType"') || (h.includes('"status"') && h.includes('"data"'))) return 0.95;
    if (h.includes('"metric"') && (h.includes('"value"') || h.includes('"values"'))) return 0.6;
    return 0;
  }
  if (/^\[\s*\{/.test(h) && h.includes('"metric"')) return 0.6;
  return 0;
}

async function parse(input: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  const lines: string[] = [];
  for await (const l of input) lines.push(lines.length === 0 ? l.replace(/^\uFEFF/, '') : l);

  const units = splitDocuments(lines).flatMap((d): Unit[] => ('problem' in d ? [{ kind: 'problem', problem: d.problem }] : classify(d.value, d.line)));
  if (!units.some((u) => u.kind === 'series')) throw nothingUsable(ctx.file, units[0]);

  const merger = new RowMerger(sink, ctx.times ?? STORABLE_TIMES);
  const out = new Emitter(ctx, sink, merger);
  const noted = new Set<string>();
  for (const u of units) {
    if (u.kind === 'problem') sink.reject(u.problem.line, u.problem.reason, u.problem.text);
    else if (u.kind === 'prom-error') sink.reject(u.line, u.reason, u.text);
    else {
      for (const n of u.notes) {
        if (noted.has(n)) continue;
        noted.add(n);
        sink.warn(n);
      }
      for (const [i, item] of u.items.entries()) out.item(item, i, u.line);
    }
  }
  merger.flush();
  out.finish();
}

function nothingUsable(file: string, first: Unit | undefined): InputError {
  const hint = ['export with: curl -sG http://PROMETHEUS:9090/api/v1/query --data-urlencode "query=DCGM_FI_DEV_GPU_TEMP" > file.json'];
  if (first === undefined) return new InputError(`${file}: no JSON in file`, hint);
  if (first.kind === 'prom-error') return new InputError(`${file}: ${first.reason}`, ['fix the query and export it again']);
  if (first.kind === 'problem') return new InputError(`${file}:${first.problem.line}: ${first.problem.reason}`, hint);
  return new InputError(`${file}: no query results in file`, hint);
}

export const promJsonParser: Parser = { format: 'prom-json', sniff, parse };
