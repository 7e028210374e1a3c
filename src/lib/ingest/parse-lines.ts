/**
 * The line parsers' driver: each line-based source (Prometheus JSON, nvidia-smi CSV, CSV exports,
 * dmon, dmesg) read line by line into the run's staging CSV files, GPUs resolved as they go.
 */
import { InputError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { ProgressFn } from '../progress.js';
import type { GpuIdentity } from '../schema.js';
import * as Q from '../sql/ingest.js';
import { LINE_PARSERS } from './detect.js';
import { readLines } from './lines.js';
import { readGpuMap, Resolver } from './resolver.js';
import type { Planned, SourceStats } from './sources.js';
import { closeStaging, emptyStats, openStaging, StagingSink, type RejectRecord } from './staging.js';
import { createStagingViews } from './staging-views.js';
import type { ConcreteFormat } from './types.js';

export interface LineParseOptions {
  host?: string | null;
  tz?: string;
  intervalMs?: number | null;
  /** --gpu-map: CSV with host, gpu_index, gpu_uuid[, pci_bus_id]. */
  gpuMap?: string | null;
}

/** Formats that need GPUs other sources identified (entity indexes, PCI addresses): parsed last. */
const NEEDS_MAPPING: ReadonlySet<ConcreteFormat> = new Set(['dmon', 'dmesg']);

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
      const sink = new StagingSink(staging, p.src.display, showReject);
      const reader = readLines(p.src);
      try {
        await parser.parse(
          reader.lines,
          {
            file: p.src.display,
            host: opts.host ?? null,
            defaultTimeMs: p.defaultTimeMs,
            defaultTimeSource: p.defaultTimeSource,
            tz: opts.tz ?? 'UTC',
            intervalMs: opts.intervalMs ?? null,
            resolver,
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
