/** What an ingest run reports: per source, and the totals of what it added to the lake. */
import { InputError } from '../errors.js';
import type { LakeLayout } from '../lake/layout.js';
import type { FileOutcome, Planned, SourceStats } from './sources.js';
import { emptyStats } from './staging.js';

export interface IngestSummary {
  run_id: string;
  lake: string;
  files: number;
  samples: number;
  rows: number;
  gpus: number;
  other_samples: number;
  xid_events: number;
  rejected: number;
  duplicates_dropped: number;
  /** Lake rows that this run's rows completed: columns the lake lacked for the same GPU and time. */
  rows_filled: number;
  /** Per value column: values that differed from the lake's for the same GPU and time (the lake's kept). */
  conflicting_values: Record<string, number>;
  /** Per value column: physically impossible values (−40 °C, negative watts) stored as null. */
  implausible_values: Record<string, number>;
  skipped_files: number;
  truncated_files: number;
  time_min: string | null;
  time_max: string | null;
  rejects_file: string | null;
  elapsed_s: number;
  sources: FileOutcome[];
}

/** A message about a source that names it once: parsers' messages often start with the file already. */
export function aboutFile(file: string, message: string): string {
  return message.startsWith(file) ? message : `${file}: ${message}`;
}

export function newSummary(outcomes: FileOutcome[], runId: string, layout: LakeLayout, samples: number, rejected: number): IngestSummary {
  const skipped = outcomes.filter((o) => o.status !== 'ingested');
  return {
    run_id: runId,
    lake: layout.root,
    files: outcomes.filter((o) => o.status === 'ingested').length,
    samples,
    rows: 0,
    gpus: 0,
    other_samples: 0,
    xid_events: 0,
    rejected,
    duplicates_dropped: 0,
    rows_filled: 0,
    conflicting_values: {},
    implausible_values: {},
    skipped_files: skipped.length,
    truncated_files: outcomes.filter((o) => o.truncated).length,
    time_min: null,
    time_max: null,
    rejects_file: null,
    elapsed_s: 0,
    sources: outcomes.sort((a, b) => a.file.localeCompare(b.file)),
  };
}

/**
 * 3. outcomes per source, warnings, and the summary of what was parsed. Null when every source was
 * in the lake already, or the inputs held no files (an empty spool folder): nothing to do, nothing
 * wrong. Throws when nothing at all could be ingested.
 */
export function summarise(
  planned: Planned[],
  stats: ReadonlyMap<Planned, SourceStats>,
  outcomes: FileOutcome[],
  inputs: number,
  runId: string,
  layout: LakeLayout,
  onWarning: ((message: string) => void) | undefined,
): IngestSummary | null {
  let samples = 0;
  let rejected = 0;
  for (const p of planned) {
    const s = stats.get(p) ?? { ...emptyStats(), truncated: false };
    samples += s.samples + s.xids;
    rejected += s.rejected;
    for (const w of s.warnings) onWarning?.(w.startsWith(p.src.path) ? w : aboutFile(p.src.display, w));
    if (s.truncated) onWarning?.(`${p.src.display}: gzip stream is truncated; the intact part was ingested`);
    if (p.pendingBytes > 0) onWarning?.(`${p.src.display}: its last line (${p.pendingBytes} bytes) is still being written; left for the next run`);
    if (p.defaultTimeSource === 'mtime' && p.format === 'prom' && s.samples > 0 && s.timeMin === p.defaultTimeMs) {
      onWarning?.(`${p.src.display}: no timestamps in the file or its name; used the file's modification time (pass --time to set it)`);
    }
    const ok = s.samples + s.xids > 0;
    outcomes.push({
      file: p.src.display,
      format: p.format,
      status: ok ? 'ingested' : s.warnings.length && s.rejected === 0 ? 'failed' : 'empty',
      samples: s.samples + s.xids,
      rejected: s.rejected,
      truncated: s.truncated,
      message: ok ? undefined : (s.warnings[0] ?? (s.rejected ? 'every line was rejected' : 'no samples found')),
    });
  }
  const skipped = outcomes.filter((o) => o.status !== 'ingested');
  const anything = planned.some((p) => {
    const s = stats.get(p);
    return s !== undefined && s.samples + s.xids > 0;
  });
  // Nothing new, but the sources are in the lake already: nothing to do, even where the folder also
  // holds a file that cannot be read (noted): a cron run must not fail over it every time.
  // a zero-byte file is one a writer has just created (or a scrape that returned nothing): nothing to
  // do yet, like a file already in the lake
  const waiting = (o: FileOutcome): boolean =>
    o.status === 'already-ingested' || o.status === 'pending' || (o.status === 'empty' && o.message === 'empty file');
  const nothingNew = skipped.some(waiting) && skipped.every((o) => waiting(o) || o.status === 'unreadable');
  if (!anything) {
    if (inputs === 0 || nothingNew) return null;
    const first = skipped[0];
    const why = first ? aboutFile(first.file, first.message ?? first.status) : 'no input files';
    throw new InputError(inputs <= 1 ? `nothing to ingest — ${why}` : `nothing to ingest in ${inputs} files (first: ${why})`, [
      'gpuhealth ingest reads dcgm-exporter scrapes, Prometheus query JSON, nvidia-smi --query-gpu CSV, dcgmi/nvidia-smi dmon, kernel logs with NVRM Xid lines, and CSV exports',
      'force a format with --format-in',
    ]);
  }
  return newSummary(outcomes, runId, layout, samples, rejected);
}
