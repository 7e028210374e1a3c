/**
 * The contract between input parsers and the ingest pipeline. A parser reads one source and emits
 * canonical rows, other samples, Xid events and rejects to a sink; it never touches the lake.
 */
import type { GpuIdentity, MetricRow, OtherSample, XidEvent } from '../schema.js';
import type { TimeBounds } from './limits.js';

export const INPUT_FORMATS = ['auto', 'prom', 'prom-json', 'nvidia-smi', 'dmon', 'dmesg', 'csv'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export type ConcreteFormat = Exclude<InputFormat, 'auto'>;

/** The source line (1-based) a row, sample or event came from, and its text. */
export interface SourceLine {
  line: number;
  text: string;
}

/**
 * Where a parser's output goes. A row, sample or event the lake cannot store (a time outside years
 * 0001–9999, a value too large for its column, fields too long to stage; ingest/limits.ts) becomes a
 * reject of the line it came from (`from`) instead.
 */
export interface IngestSink {
  /** A (possibly partial) canonical row; rows for the same gpu_uuid and time are merged. */
  row(r: MetricRow, from?: SourceLine): void;
  other(s: OtherSample, from?: SourceLine): void;
  xid(e: XidEvent, from?: SourceLine): void;
  /** A line that could not be used: 1-based line number, a short reason, the line's text. */
  reject(line: number, reason: string, text: string): void;
  /** A whole-file note for the user (e.g. "3 MIG series kept in metrics_other"). */
  warn(message: string): void;
}

/** Finds GPUs already known (in the lake, in this run, or from --gpu-map) for sources that lack a UUID. */
export interface GpuResolver {
  byIndex(host: string | null, index: number): GpuIdentity | null;
  byPci(host: string | null, pciBusId: string): GpuIdentity | null;
  /** Tell the resolver about a GPU a source identified, so later sources in the run can map to it. */
  remember(id: GpuIdentity): void;
}

export interface ParseContext {
  /** The source as the user named it (for messages). */
  readonly file: string;
  /** --host: the host for sources that do not name one. */
  readonly host: string | null;
  /** Time for untimestamped sources (--time, else file-name stamp, else mtime); ms since epoch. */
  readonly defaultTimeMs: number | null;
  /** Where defaultTimeMs came from, for messages: 'flag' | 'file name' | 'mtime' | 'none'. */
  readonly defaultTimeSource: 'flag' | 'file name' | 'mtime' | 'none';
  /** --tz: the zone of local timestamps (nvidia-smi, dmesg -T, journalctl). */
  readonly tz: string;
  /** --interval for rows without timestamps (dmon); ms. */
  readonly intervalMs: number | null;
  readonly resolver: GpuResolver;
  /** The sample times the sink takes (limits.ts); a parser that holds rows back lets others pass at once. */
  readonly times?: TimeBounds;
}

export interface Parser {
  readonly format: ConcreteFormat;
  /** How sure (0–1) this parser is that `head` (the first ~64 KiB, decoded) is its format. */
  sniff(head: string): number;
  /** Lines arrive without their line terminators; line numbers are 1-based in arrival order. */
  parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void>;
}
