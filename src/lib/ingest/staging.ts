/**
 * Staging files of one ingest run: parsers (in this thread or in workers) append CSV here, and DuckDB
 * then merges, de-duplicates, sorts and writes Parquet from them. CSV keeps the hand-over streamed:
 * no parser ever holds a whole source in memory. The exposition-text parser and the CSV export
 * reader (the hot paths: scrapes, and history in bulk) hand their rows over as column batches instead
 * (batches.ts) and write only their series and metric names here.
 */
import fs from 'node:fs';
import { ID_COLUMNS, VALUE_COLUMNS, type MetricRow, type OtherSample, type XidEvent } from '../schema.js';
import { MAX_INTEGER, MAX_STAGED_LINE_BYTES, outOfRange, rangeReason, STORABLE_TIMES, timeProblem, type TimeBounds, VALUE_LIMIT_BY_INDEX } from './limits.js';
import type { IngestSink, SourceLine } from './types.js';

export const WIDE_STAGING_COLUMNS: readonly string[] = ['time_ms', ...ID_COLUMNS.slice(1).map((c) => c.name), ...VALUE_COLUMNS.map((c) => c.name)];
export const OTHER_STAGING_COLUMNS = ['time_ms', 'gpu_uuid', 'host', 'metric', 'value', 'labels'] as const;

/** CSV text field: empty for null, quoted when needed. */
export function csvText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return `"${v.replace(/"/g, '""').replace(/[\r\n]+/g, ' ')}"`;
}

export function csvNum(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '' : String(v);
}

/** Buffered append-only file that takes strings and raw bytes; flushes in large writes. */
export class BufferedFile {
  private buf: Buffer;
  private pos = 0;
  private fd: number;
  bytes = 0;
  constructor(
    readonly file: string,
    size = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.fd = fs.openSync(file, 'a');
  }
  write(s: string): void {
    if (s.length * 3 > this.buf.length - this.pos) {
      this.flush();
      if (s.length * 3 > this.buf.length) {
        const b = Buffer.from(s);
        fs.writeSync(this.fd, b);
        this.bytes += b.length;
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos);
  }
  /** Copies src[s, e) as is. */
  bytesFrom(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (n > this.buf.length - this.pos) {
      this.flush();
      if (n > this.buf.length) {
        fs.writeSync(this.fd, src, s, n);
        this.bytes += n;
        return;
      }
    }
    const b = this.buf;
    let p = this.pos;
    if (n < 64) for (let i = s; i < e; i++) b[p++] = src[i]!;
    else {
      b.set(src.subarray(s, e), p);
      p += n;
    }
    this.pos = p;
  }
  /** Appends one byte (a separator). */
  byte(c: number): void {
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = c;
  }
  flush(): void {
    if (this.pos === 0) return;
    fs.writeSync(this.fd, this.buf, 0, this.pos);
    this.bytes += this.pos;
    this.pos = 0;
  }
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

export interface RejectRecord {
  file: string;
  line: number;
  reason: string;
  text: string;
}

export interface FileStats {
  samples: number;
  rows: number;
  others: number;
  xids: number;
  rejected: number;
  warnings: string[];
  timeMin: number | null;
  timeMax: number | null;
}

export function emptyStats(): FileStats {
  return { samples: 0, rows: 0, others: 0, xids: 0, rejected: 0, warnings: [], timeMin: null, timeMax: null };
}

export interface StagingFiles {
  wide: BufferedFile;
  other: BufferedFile;
  /** series, gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version, labels JSON: once per series of batched rows. */
  series: BufferedFile;
  /** metric key, metric name: once per name of batched other samples. */
  names: BufferedFile;
  xid: BufferedFile;
  rejects: BufferedFile;
}

export function openStaging(dir: string, tag: string): StagingFiles {
  return {
    wide: new BufferedFile(`${dir}/wide-${tag}.csv`),
    other: new BufferedFile(`${dir}/other-${tag}.csv`),
    series: new BufferedFile(`${dir}/series-${tag}.csv`),
    names: new BufferedFile(`${dir}/names-${tag}.csv`),
    xid: new BufferedFile(`${dir}/xid-${tag}.csv`),
    rejects: new BufferedFile(`${dir}/rejects-${tag}.jsonl`),
  };
}

export function closeStaging(s: StagingFiles): void {
  s.wide.close();
  s.other.close();
  s.series.close();
  s.names.close();
  s.xid.close();
  s.rejects.close();
}

export function wideIdentityCsv(r: Omit<MetricRow, 'time_ms' | 'values'>): string {
  return `${csvText(r.gpu_uuid)},${csvText(r.host)},${csvNum(r.gpu_index)},${csvText(r.model)},${csvText(r.pci_bus_id)},${csvText(r.driver_version)}`;
}

export function otherCsvLine(s: OtherSample): string {
  return `${s.time_ms},${csvText(s.gpu_uuid)},${csvText(s.host)},${csvText(s.metric)},${csvNum(s.value)},${csvText(JSON.stringify(s.labels))}\n`;
}

/** Why a staged line of `text` cannot be read back (DuckDB's CSV line limit), or null. */
export function stagedLineProblem(text: string): string | null {
  if (text.length * 3 <= MAX_STAGED_LINE_BYTES) return null;
  const bytes = Buffer.byteLength(text);
  return bytes > MAX_STAGED_LINE_BYTES ? `labels and fields longer than ${MAX_STAGED_LINE_BYTES / 1_000_000} MB in all (${bytes} bytes)` : null;
}

/** A rejected line as the rejects file records it (its text cut at 2,000 characters). */
export function rejectRecord(file: string, line: number, reason: string, text: string): RejectRecord {
  return { file, line, reason, text: text.length > 2000 ? `${text.slice(0, 2000)}…` : text };
}

/** A row, sample or event as a reject's text, when the parser did not hand over its line. */
function describe(x: object): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v));
}

/**
 * The sink the line-based parsers write to. Rows are written as they come; partial rows for the
 * same GPU and instant are merged later by the ingest query. What the lake cannot store becomes a
 * reject of its line (see IngestSink).
 */
export class StagingSink implements IngestSink {
  readonly stats: FileStats = emptyStats();
  private warned = new Set<string>();
  constructor(
    private readonly files: StagingFiles,
    private readonly fileName: string,
    private readonly onReject?: (r: RejectRecord) => void,
    /** The sample times taken (limits.ts sampleTimeBounds); every storable time when absent. */
    private readonly times: TimeBounds = STORABLE_TIMES,
  ) {}

  private seeTime(t: number): void {
    if (this.stats.timeMin === null || t < this.stats.timeMin) this.stats.timeMin = t;
    if (this.stats.timeMax === null || t > this.stats.timeMax) this.stats.timeMax = t;
  }

  /** Rejects what the lake cannot store, as a line of its source (the row described when the line is not known). */
  private refuse(from: SourceLine | undefined, reason: string, what: object): void {
    this.reject(from?.line ?? 0, reason, from?.text ?? describe(what));
  }

  row(r: MetricRow, from?: SourceLine): void {
    const timeBad = timeProblem(r.time_ms, this.times);
    if (timeBad !== null) return this.refuse(from, timeBad, r);
    if (r.gpu_index !== null && !(Math.abs(r.gpu_index) <= MAX_INTEGER)) return this.refuse(from, `gpu_index ${r.gpu_index} is out of range for INTEGER`, r);
    let line = `${r.time_ms},${wideIdentityCsv(r)}`;
    let n = 0;
    for (let i = 0; i < VALUE_COLUMNS.length; i++) {
      const v = r.values[VALUE_COLUMNS[i]!.name];
      if (v !== undefined) n++;
      if (typeof v === 'number' && outOfRange(v, VALUE_LIMIT_BY_INDEX[i]!)) return this.refuse(from, rangeReason(i, String(v)), r);
      line += `,${csvNum(v)}`;
    }
    const long = stagedLineProblem(line);
    if (long !== null) return this.refuse(from, long, r);
    this.files.wide.write(`${line}\n`);
    this.stats.samples += n;
    this.stats.rows++;
    this.seeTime(r.time_ms);
  }

  other(s: OtherSample, from?: SourceLine): void {
    const timeBad = timeProblem(s.time_ms, this.times);
    if (timeBad !== null) return this.refuse(from, timeBad, s);
    const line = otherCsvLine(s);
    const long = stagedLineProblem(line);
    if (long !== null) return this.refuse(from, long, s);
    this.files.other.write(line);
    this.stats.samples++;
    this.stats.others++;
    this.seeTime(s.time_ms);
  }

  xid(e: XidEvent, from?: SourceLine): void {
    const timeBad = timeProblem(e.time_ms, this.times);
    if (timeBad !== null) return this.refuse(from, timeBad, e);
    if (!(Number.isInteger(e.xid) && Math.abs(e.xid) <= MAX_INTEGER)) return this.refuse(from, `Xid ${e.xid} is out of range for INTEGER`, e);
    const line = `${e.time_ms},${csvText(e.gpu_uuid)},${csvText(e.host)},${csvText(e.pci_bus_id)},${e.xid},${csvText(e.source)},${csvText(e.message)}\n`;
    const long = stagedLineProblem(line);
    if (long !== null) return this.refuse(from, long, e);
    this.files.xid.write(line);
    this.stats.xids++;
    this.seeTime(e.time_ms);
  }

  reject(line: number, reason: string, text: string): void {
    const rec = rejectRecord(this.fileName, line, reason, text);
    this.files.rejects.write(`${JSON.stringify(rec)}\n`);
    this.stats.rejected++;
    this.onReject?.(rec);
  }

  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.stats.warnings.push(message);
  }
}
