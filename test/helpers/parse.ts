/** Test helpers: run a Parser on a string and collect what it emits. */
import type { GpuIdentity, MetricRow, OtherSample, XidEvent } from '../../src/lib/schema.js';
import type { GpuResolver, IngestSink, ParseContext, Parser } from '../../src/lib/ingest/types.js';

export interface Recorded {
  rows: MetricRow[];
  others: OtherSample[];
  xids: XidEvent[];
  rejects: { line: number; reason: string; text: string }[];
  warnings: string[];
}

export function recordingSink(): IngestSink & Recorded {
  const rec: Recorded = { rows: [], others: [], xids: [], rejects: [], warnings: [] };
  return {
    ...rec,
    row: (r) => void rec.rows.push(r),
    other: (s) => void rec.others.push(s),
    xid: (e) => void rec.xids.push(e),
    reject: (line, reason, text) => void rec.rejects.push({ line, reason, text }),
    warn: (m) => void rec.warnings.push(m),
  };
}

/** A resolver over a fixed list of known GPUs (as the lake would supply). */
export function staticResolver(known: GpuIdentity[] = []): GpuResolver {
  const list = [...known];
  return {
    byIndex: (host, index) => list.find((g) => g.gpu_index === index && (host === null || g.host === host)) ?? null,
    byPci: (host, pci) => list.find((g) => g.pci_bus_id === pci && (host === null || g.host === host)) ?? null,
    remember: (id) => void list.push(id),
  };
}

export async function* linesOf(text: string): AsyncIterable<string> {
  const parts = text.split(/\r?\n/);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  for (const p of parts) yield p;
}

export function context(over: Partial<ParseContext> = {}): ParseContext {
  return {
    file: over.file ?? 'test-input',
    host: over.host ?? null,
    defaultTimeMs: over.defaultTimeMs ?? null,
    defaultTimeSource: over.defaultTimeSource ?? (over.defaultTimeMs != null ? 'flag' : 'none'),
    tz: over.tz ?? 'UTC',
    intervalMs: over.intervalMs ?? null,
    resolver: over.resolver ?? staticResolver(),
  };
}

export async function runParser(parser: Parser, text: string, ctx: Partial<ParseContext> = {}): Promise<Recorded> {
  const sink = recordingSink();
  await parser.parse(linesOf(text), context(ctx), sink);
  return { rows: sink.rows, others: sink.others, xids: sink.xids, rejects: sink.rejects, warnings: sink.warnings };
}
