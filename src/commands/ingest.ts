import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { InputError } from '../lib/errors.js';
import { printable, renderJson, renderRecord } from '../lib/cli/output.js';
import { ingest } from '../lib/ingest/ingest.js';
import { aboutFile } from '../lib/ingest/summary.js';
import { INPUT_FORMATS } from '../lib/ingest/types.js';
import type { CommitHooks } from '../lib/lake/txn.js';
import { checkTimeZone, localTimeZone, parseDuration, parseInstant } from '../lib/time.js';

/**
 * GPUHEALTH_TEST_KILL_AT=journal|rename|committed kills the process at that step of the commit, so
 * the end-to-end tests can prove that a killed run leaves the lake as it was.
 */
function killHookFromEnv(): CommitHooks | undefined {
  const at = process.env.GPUHEALTH_TEST_KILL_AT;
  if (!at) return undefined;
  return { afterStep: (step) => void (step === at && process.kill(process.pid, 'SIGKILL')) };
}

/**
 * A rejected line as shown on stderr: control characters escaped (a line may hold terminal escape
 * sequences), cut to fit an 80-column terminal (the rejects file has it whole, as it was).
 */
const REJECT_EXCERPT = 72;
const excerpt = (line: string): string => {
  const text = printable(line);
  return text.length > REJECT_EXCERPT ? `${text.slice(0, REJECT_EXCERPT - 1)}…` : text;
};

export default class Ingest extends BaseCommand<typeof Ingest> {
  static override summary = 'Read DCGM telemetry into the Parquet lake.';
  static override description =
    `Reads dcgm-exporter scrapes (any exporter version, with or without timestamps), Prometheus HTTP API JSON, nvidia-smi --query-gpu CSV, dcgmi dmon / nvidia-smi dmon tables, kernel logs with NVRM Xid lines, and CSV exports of telemetry tables. PATH may be a file, a folder (read recursively), a glob, or - for stdin; .gz files are read as they are. The format is detected from the content.

Re-ingesting a source adds nothing (the same bytes given another --time are another source); rows the lake already has for the same GPU and time are dropped. Malformed lines, and lines the lake cannot store (a line over 64 KiB, a value too large for its column, a time outside the years 0001–9999), are recorded in <lake>/_ingest/rejects/ and the first few shown; the valid lines around them are kept. A file that cannot be read is skipped and named; the others are ingested. A folder with no files is nothing to do.

Exit codes: 0 something was ingested (or everything was already there, or the folders held no files), 1 the run failed, 2 bad flags, a lake path that is a file, a path that does not exist, or nothing ingestible.`;

  static override examples = [
    '<%= config.bin %> ingest spool/',
    '<%= config.bin %> ingest "spool/**/*.prom.gz" --lake /data/gpu-lake',
    'curl -s localhost:9400/metrics | <%= config.bin %> ingest - --time now',
    '<%= config.bin %> ingest smi.csv --host node-17 --tz Europe/Berlin',
    '<%= config.bin %> ingest dmon.txt --host node-17 --time 2026-11-25T10:00:00Z --interval 1s',
    '<%= config.bin %> ingest /var/log/kern.log --host node-17 --json',
  ];

  static override strict = false;
  static override args = {
    path: Args.string({ description: 'files, folders, globs, or - for stdin', required: true }),
  };

  static override flags = {
    'format-in': Flags.option({ summary: 'Input format; auto detects it from the content.', options: INPUT_FORMATS, default: 'auto' as const })(),
    host: Flags.string({
      summary: 'Host name for sources that do not carry one (nvidia-smi CSV, dmon, dmesg).',
      description:
        'Without it, dmon and kernel logs take the host from the file name (<host>.dmon, dmon_<host>.txt, <host>.dmesg.log); a dmon file with no host is skipped.',
    }),
    time: Flags.string({ summary: 'Time of untimestamped sources: ISO-8601, epoch seconds, or now (dmon: the start).' }),
    tz: Flags.string({ summary: "Zone of local timestamps (nvidia-smi, dmesg -T, journalctl); default the machine's." }),
    interval: Flags.string({ summary: 'Sampling interval of dmon rows, e.g. 1s, 5s (default 1s).' }),
    'gpu-map': Flags.string({ summary: 'CSV (host,gpu_index,gpu_uuid[,pci_bus_id]) mapping dmon entity ids to GPUs.' }),
    threads: Flags.integer({ summary: 'Parser threads (default: one per core).', min: 1, max: 64 }),
    'allow-future': Flags.boolean({
      summary: 'Take samples dated more than a day in the future (a simulated fleet, a replay).',
      description: 'Without it such samples are rejected by line, as are samples dated before 2000.',
    }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const inputs = this.positional.length > 0 ? this.positional : [this.args.path];
    const tz = checkTimeZone(f.tz ?? localTimeZone());
    const progress = this.makeProgress();
    let shown = 0;
    const summary = await ingest({
      lake: this.lakeDir,
      inputs,
      formatIn: f['format-in'],
      host: f.host ?? null,
      timeMs: f.time ? parseInstant(f.time) : null,
      tz,
      intervalMs: f.interval ? parseDuration(f.interval) : null,
      gpuMap: f['gpu-map'] ?? null,
      threads: f.threads,
      allowFuture: f['allow-future'],
      progress,
      onReject: (r) => {
        shown++;
        this.note(`rejected ${r.file}:${r.line}: ${r.reason}\n    ${excerpt(r.text)}`);
      },
      onWarning: (m) => this.note(`warning: ${m}`),
      commitHooks: killHookFromEnv(),
    });
    progress.done();
    if (summary.rejected > shown && shown > 0) this.note(`… ${summary.rejected - shown} more rejected lines in ${summary.rejects_file}`);
    if (summary.sources.length === 0) this.note(`no files to ingest in ${inputs.join(', ')}`);
    for (const s of summary.sources) {
      if (s.status === 'not-telemetry' || s.status === 'failed' || s.status === 'empty' || s.status === 'unreadable') {
        this.note(`skipped ${aboutFile(s.file, s.message ?? s.status)}`);
      }
    }
    const already = summary.sources.filter((s) => s.status === 'already-ingested').length;
    if (already) this.note(`${already} source${already === 1 ? '' : 's'} already in the lake, skipped`);
    for (const s of summary.sources) if (s.status === 'pending') this.note(`pending ${aboutFile(s.file, s.message ?? s.status)}`);
    const pending = summary.sources.filter((s) => s.status === 'pending' || (s.status === 'empty' && s.message === 'empty file')).length;
    const { sources, ...totals } = summary;
    if (this.outputFormat === 'json') {
      this.out(renderJson({ ...totals, sources }));
      return;
    }
    // two lines, so that the summary fits a terminal of 80–120 columns
    const line = `ingested ${summary.files} file(s): ${summary.samples} samples → ${summary.rows} new rows for ${summary.gpus} GPUs (${summary.elapsed_s.toFixed(1)} s)\n  ${summary.other_samples} other samples, ${summary.xid_events} Xid events; ${summary.rejected} rejected, ${summary.skipped_files} skipped, ${summary.duplicates_dropped} duplicate rows dropped${summary.rows_filled > 0 ? `, ${summary.rows_filled} rows completed` : ''}`;
    // The human summary is a note (stderr); stdout carries data only (--json, --csv).
    if (this.outputFormat === 'csv') this.out(renderRecord(totals, 'csv'));
    else this.note(line);
    if (summary.rows === 0 && summary.samples === 0 && already + pending === 0 && summary.sources.length > 0) throw new InputError('nothing was ingested');
  }
}
