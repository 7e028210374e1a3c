/**
 * The exposition text driver: sources (large ones cut into byte ranges) parsed on the worker pool
 * (prom-pool.ts), their column batches appended to DuckDB as they arrive, their rejects recorded.
 */
import fs from 'node:fs';
import type { Db } from '../db/duckdb.js';
import type { ProgressFn } from '../progress.js';
import { BatchAppender } from './batch-appender.js';
import type { TimeBounds } from './limits.js';
import { defaultParseThreads, runPromTasks } from './prom-pool.js';
import type { PromResult, PromTask } from './prom-text.js';
import type { Planned, SourceStats } from './sources.js';
import { emptyStats, type RejectRecord } from './staging.js';

export interface PromParseOptions {
  host?: string | null;
  /** Parser threads (default: one per core). */
  threads?: number;
  /** The sample times taken (set by ingest from --allow-future). */
  times?: TimeBounds;
}

/** Uncompressed sources larger than this are cut into ranges of this size, parsed side by side. */
const SPLIT_BYTES = 32 << 20;

/** Parses a round's exposition text; returns how many samples repeated a sample of their source. */
export async function parsePromFiles(
  db: Db,
  files: Planned[],
  stage: string,
  opts: PromParseOptions,
  stats: Map<Planned, SourceStats>,
  rejectsFile: string,
  showReject: (r: RejectRecord) => void,
  progress: ProgressFn,
): Promise<number> {
  if (files.length === 0) return 0;
  const tasks: PromTask[] = [];
  const owner: Planned[] = [];
  for (const p of files) {
    const common = { path: p.src.path, displayName: p.src.display, defaultTimeMs: p.defaultTimeMs, host: opts.host ?? null, times: opts.times };
    if (p.src.gzip || p.size <= SPLIT_BYTES) {
      tasks.push({ ...common, gzip: p.src.gzip, start: 0, end: p.src.end ?? -1 });
      owner.push(p);
    } else {
      for (let start = 0; start < p.size; start += SPLIT_BYTES) {
        tasks.push({ ...common, gzip: false, start, end: Math.min(p.size, start + SPLIT_BYTES) });
        owner.push(p);
      }
    }
  }
  let done = 0;
  // Row batches go into DuckDB as they arrive, while the workers parse on.
  const appender = await BatchAppender.open(db);
  let results: PromResult[];
  try {
    results = await runPromTasks(tasks, {
      stagingDir: stage,
      threads: opts.threads ?? defaultParseThreads(),
      onBatch: (b) => appender.append(b),
      onResult: () => progress(`parsing exposition text ${++done}/${tasks.length} parts`),
    });
  } finally {
    appender.close();
  }
  // Range-relative line numbers become file line numbers: add the lines of the earlier ranges.
  const linesBefore = new Map<Planned, number>();
  const out = fs.openSync(rejectsFile, 'a');
  try {
    results.forEach((r, i) => {
      const p = owner[i]!;
      const offset = linesBefore.get(p) ?? 0;
      linesBefore.set(p, offset + r.lines);
      const s = stats.get(p) ?? { ...emptyStats(), truncated: false };
      s.samples += r.stats.samples;
      s.rows += r.stats.rows;
      s.others += r.stats.others;
      s.rejected += r.stats.rejected;
      s.truncated ||= r.truncated;
      s.usedTime = (s.usedTime ?? false) || r.defaultedTimes > 0;
      if (r.stats.timeMin !== null) s.timeMin = s.timeMin === null ? r.stats.timeMin : Math.min(s.timeMin, r.stats.timeMin);
      if (r.stats.timeMax !== null) s.timeMax = s.timeMax === null ? r.stats.timeMax : Math.max(s.timeMax, r.stats.timeMax);
      if (r.duplicates > 0) s.warnings.push(`${r.duplicates} duplicate samples (same metric and labels at one time); kept the last`);
      if (r.migSeries > 0) s.warnings.push(`${r.migSeries} MIG instance series kept in metrics_other (not separate GPUs)`);
      if (r.stats.rejected > r.rejects.length) s.warnings.push(`${r.stats.rejected - r.rejects.length} further rejects not recorded individually`);
      for (const rej of r.rejects) {
        const rec = { ...rej, line: rej.line + offset };
        fs.writeSync(out, `${JSON.stringify(rec)}\n`);
        showReject(rec);
      }
      stats.set(p, s);
    });
  } finally {
    fs.closeSync(out);
  }
  return results.reduce((n, r) => n + r.duplicates, 0);
}
