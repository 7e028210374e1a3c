/**
 * The line parsers' driver: each line-based source (Prometheus JSON, nvidia-smi CSV, CSV exports,
 * dmon, dmesg) read line by line into the run's staging CSV files, GPUs resolved as they go.
 */
import path from 'node:path';
import { InputError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { ProgressFn } from '../progress.js';
import type { GpuIdentity, XidEvent } from '../schema.js';
import * as Q from '../sql/ingest.js';
import { LINE_PARSERS } from './detect.js';
import type { TimeBounds } from './limits.js';
import { readLines } from './lines.js';
import { readGpuMap, Resolver } from './resolver.js';
import type { Planned, SourceStats } from './sources.js';
import { closeStaging, emptyStats, openStaging, StagingSink, type RejectRecord } from './staging.js';
import type { SourceLine } from './types.js';
import { createStagingViews } from './staging-views.js';
import type { ConcreteFormat } from './types.js';

export interface LineParseOptions {
  host?: string | null;
  tz?: string;
  intervalMs?: number | null;
  /** --gpu-map: CSV with host, gpu_index, gpu_uuid[, pci_bus_id]. */
  gpuMap?: string | null;
  /** The sample times taken (set by ingest from --allow-future). */
  times?: TimeBounds;
}

/** Formats that need GPUs other sources identified (entity indexes, PCI addresses): parsed last. */
const NEEDS_MAPPING: ReadonlySet<ConcreteFormat> = new Set(['dmon', 'dmesg']);

/** Words that name what a dmon or kernel-log file holds, beside the host in its name. */
const KIND_WORDS = 'dmon|dcgmi|dmesg|kern|kernel|syslog|journal|messages|xid';
const HOST_BEFORE = new RegExp(`^(.+?)[._-](?:${KIND_WORDS})$`, 'i');
const HOST_AFTER = new RegExp(`^(?:${KIND_WORDS})[._-](.+)$`, 'i');
/** A host name as DNS writes one (labels of letters, digits and hyphens, dots between). */
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * The host a dmon or kernel-log file's name gives, or null: `<host>.dmon`, `<host>-dmesg.log`,
 * `dmon_<host>.txt`, `kern-<host>.log.gz` and the like (the host beside one of the words dmon, dcgmi,
 * dmesg, kern, kernel, syslog, journal, messages, xid; extensions .gz .log .txt .out dropped first).
 */
export function hostFromFileName(file: string): string | null {
  let base = path.basename(file);
  for (let prev = ''; prev !== base; ) {
    prev = base;
    base = base.replace(/\.(gz|log|txt|out)$/i, '');
  }
  const m = HOST_BEFORE.exec(base) ?? HOST_AFTER.exec(base);
  const host = m?.[1] ?? null;
  return host !== null && HOST_NAME.test(host) ? host : null;
}

/** Why a dmon or kernel-log source without a host is not mapped to GPUs: the fix. */
const NO_HOST_HINT = 'pass --host NAME, or name the file after its host (<host>.dmon, <host>.dmesg.log)';

/**
 * The sink of a kernel log whose host is unknown (no --host, none in its name): an Xid line that names
 * no host itself (journal lines do) and whose GPU the file itself does not name (an `NVRM: GPU at PCI:…:
 * GPU-<uuid>` line) is rejected, never matched to another host's GPU at the same PCI address. Such a
 * file is parsed with a resolver that knows no GPUs, so that a UUID can only come from the file.
 */
class HostRequiredSink extends StagingSink {
  override xid(e: XidEvent, from?: SourceLine): void {
    if (e.host === null && e.gpu_uuid === null) this.reject(from?.line ?? 0, `no host for this Xid line: ${NO_HOST_HINT}`, from?.text ?? '');
    else super.xid(e, from);
  }
}

/** Line-based formats: those that identify GPUs first, then those that map to GPUs already known. */
export async function parseLineFiles(
  db: Db,
  planned: Planned[],
  stage: string,
  opts: LineParseOptions,
  stats: Map<Planned, SourceStats>,
  showReject: (r: RejectRecord) => void,
  progress: ProgressFn,
): Promise<void> {
  const resolver = new Resolver();
  const lineFiles = planned.filter((p) => p.format !== 'prom');
  const ordered = [...lineFiles.filter((p) => !NEEDS_MAPPING.has(p.format)), ...lineFiles.filter((p) => NEEDS_MAPPING.has(p.format))];
  // Sources without UUIDs map to the GPUs the lake knows and those this run's exposition text named
  // (earlier rounds, then this one's); the line parsers add the GPUs they identify as they go.
  if (ordered.length > 0) {
    await createStagingViews(db, stage);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('known gpus', Q.KNOWN_GPUS_SQL)) resolver.add(g);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('run gpus', Q.RUN_GPUS_SQL)) resolver.add(g);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('staged gpus', Q.STAGED_GPUS_SQL)) resolver.add(g);
  }
  // --gpu-map comes last: the latest entry for a slot wins, and the user's map overrides the lake.
  if (opts.gpuMap) for (const g of readGpuMap(opts.gpuMap)) resolver.add(g);
  const staging = openStaging(stage, 'main');
  try {
    for (const [i, p] of ordered.entries()) {
      progress(`parsing ${p.src.display} (${i + 1}/${ordered.length})`);
      const parser = LINE_PARSERS.find((x) => x.format === p.format)!;
      // dmon rows and kernel-log Xids carry no GPU UUID: they are mapped within their host, which
      // --host or the file's name gives. Without one, two machines' recordings would land on the same
      // GPUs (index 0, PCI 0000:07:00.0): a dmon file is skipped, a kernel log's hostless Xids rejected.
      const host = opts.host ?? (NEEDS_MAPPING.has(p.format) ? hostFromFileName(p.src.display) : null);
      if (host === null && p.format === 'dmon') {
        stats.set(p, {
          ...emptyStats(),
          truncated: false,
          warnings: [`${p.src.display}: dmon output names no host, so its GPUs cannot be told from another machine's: ${NO_HOST_HINT}`],
        });
        continue;
      }
      const sink =
        host === null && p.format === 'dmesg'
          ? new HostRequiredSink(staging, p.src.display, showReject, opts.times)
          : new StagingSink(staging, p.src.display, showReject, opts.times);
      const reader = readLines(p.src);
      try {
        await parser.parse(
          reader.lines,
          {
            file: p.src.display,
            host,
            defaultTimeMs: p.defaultTimeMs,
            defaultTimeSource: p.defaultTimeSource,
            tz: opts.tz ?? 'UTC',
            intervalMs: opts.intervalMs ?? null,
            resolver: host === null ? new Resolver() : resolver,
            times: opts.times,
          },
          sink,
        );
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        stats.set(p, { ...emptyStats(), truncated: false, warnings: [e.message], rejected: 0, samples: 0 });
        continue;
      }
      stats.set(p, { ...sink.stats, truncated: reader.truncated() });
    }
  } finally {
    closeStaging(staging);
  }
}
