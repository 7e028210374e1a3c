import fs from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderCsv, renderJson, type ColumnDef } from '../lib/cli/output.js';
import { collect, type CollectSummary } from '../lib/collect/collect.js';
import { defaultTimeoutMs, MIN_INTERVAL_MS } from '../lib/collect/schedule.js';
import { nameTargets, parseHeader, parseTargetsFile } from '../lib/collect/targets.js';
import { InputError } from '../lib/errors.js';
import { parseDuration } from '../lib/time.js';

const TARGET_COLUMNS: readonly ColumnDef[] = [
  'name',
  'url',
  'scrapes_ok',
  'scrapes_failed',
  'slots_skipped',
  'samples',
  'bytes',
  'last_error',
  'last_scrape_at',
].map((key) => ({ key }));

const size = (bytes: number): string => (bytes < 10_240 ? `${bytes} B` : `${(bytes / 1024 / 1024).toFixed(bytes < 10 << 20 ? 2 : 1)} MiB`);

/** The note at the end: totals, then one line per target that failed or skipped slots. */
function summaryNote(s: CollectSummary): string {
  const secs = (Date.parse(s.stopped_at) - Date.parse(s.started_at)) / 1000;
  const lines = [
    `collected from ${s.targets.length} target${s.targets.length === 1 ? '' : 's'} for ${secs.toFixed(1)} s (stopped by ${s.stop_reason}): ${s.scrapes_ok} scrapes ok, ${s.scrapes_failed} failed, ${s.slots_skipped} slots skipped; ${s.samples} samples, ${size(s.bytes)} written; ${s.files_closed} hour files closed`,
  ];
  for (const t of s.targets) {
    if (t.scrapes_failed + t.slots_skipped === 0) continue;
    lines.push(`  ${t.name}: ${t.scrapes_ok} ok, ${t.scrapes_failed} failed, ${t.slots_skipped} skipped${t.last_error ? `; last error: ${t.last_error}` : ''}`);
  }
  return lines.join('\n');
}

export default class Collect extends BaseCommand<typeof Collect> {
  static override summary = 'Scrape dcgm-exporter endpoints on an interval into a spool that ingest reads.';
  static override description =
    `For hosts that run dcgm-exporter but no Prometheus. Every --interval, each target is scraped (all at once, each at its own fixed phase within the interval, with a --timeout below it) and the scrape appended to <spool>/<target>/<target>_<YYYY-MM-DDTHH>.prom, every sample stamped with the time the request was sent (ms); the file is gzipped to .prom.gz when its UTC hour is over. <target> is host_port from the URL. gpuhealth ingest <spool> and gpuhealth nightly --spool <spool> read the spool as it is.

Each scrape is written whole, with one write and an fsync, or not at all: a timeout, a dropped connection or an HTTP error writes nothing, is counted, and the next scrape goes on; a target's first failure and its return are noted on stderr. A restarted collect appends to the same hour file: a scrape a kill cut short is removed first, and no slot is scraped twice.

SIGTERM or SIGINT (or the end of --duration) starts no new scrape, waits for the ones in flight (at most --timeout), writes them and exits 0; a second signal exits at once. --keep deletes closed hours older than that, but only those the lake's ingest manifest (--lake) records at their path and size.

Exit codes: 0 stopped normally; 1 the spool cannot be written, or another collect holds it; 2 bad flags (no URL, a bad duration, a --timeout not below --interval, an unreadable --targets file, a --spool that is a file). See docs/collect.md.`;

  static override examples = [
    '<%= config.bin %> collect --url http://localhost:9400/metrics --spool /var/spool/gpuhealth',
    '<%= config.bin %> collect --targets /etc/gpuhealth/targets.txt --interval 10s --spool /var/spool/gpuhealth --keep 7d --lake /data/gpu-lake',
    '<%= config.bin %> collect --url http://node-17:9400/metrics --url http://node-18:9400/metrics --interval 5s --spool spool/ --duration 10m --json',
    '<%= config.bin %> collect --url https://gpu-proxy/node-17/metrics --header "Authorization: Bearer $TOKEN" --spool spool/',
  ];

  static override flags = {
    url: Flags.string({ summary: 'Exporter URL (http://HOST:9400/metrics); repeat for several. user:password@ in it is sent as basic auth.', multiple: true }),
    targets: Flags.string({ summary: 'File of exporter URLs, one per line; # comments and blank lines allowed. Adds to --url.' }),
    spool: Flags.string({ summary: 'Spool folder to write (created if missing).', required: true }),
    interval: Flags.string({ summary: `Scrape interval: 10s, 1m (${MIN_INTERVAL_MS}ms at least).`, default: '10s' }),
    timeout: Flags.string({ summary: 'Time a scrape may take; below --interval. Default 80 % of the interval, at most 30s.' }),
    duration: Flags.string({ summary: 'Stop after this long (a one-shot capture): 1h, 10m.' }),
    keep: Flags.string({
      summary: 'Delete closed spool hours older than this (7d) once the lake (--lake) has ingested them.',
      description: 'An hour the lake’s manifest does not record at its path and size is kept, however old; the current hour is never deleted.',
    }),
    header: Flags.string({ summary: "Request header 'Name: value' sent to every target; repeat for several. Values never show in messages.", multiple: true }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const urls = [...(f.url ?? [])];
    if (f.targets !== undefined) urls.push(...parseTargetsFile(readTargetsFile(f.targets)));
    if (urls.length === 0) throw new InputError('no target to scrape', ['--url http://HOST:9400/metrics (repeat it), or --targets FILE']);
    const targets = nameTargets(urls);
    const intervalMs = Math.round(parseDuration(f.interval));
    if (intervalMs < MIN_INTERVAL_MS) throw new InputError(`--interval ${f.interval} is shorter than ${MIN_INTERVAL_MS}ms`);
    const timeoutMs = f.timeout !== undefined ? Math.round(parseDuration(f.timeout)) : defaultTimeoutMs(intervalMs);
    if (timeoutMs >= intervalMs)
      throw new InputError(`--timeout ${f.timeout} is not shorter than --interval ${f.interval}`, ['a scrape must end before the next one is due']);
    const headers = Object.fromEntries((f.header ?? []).map(parseHeader));
    const stop = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143); // the next start cuts a half-written block
      this.note(`${signal}: finishing the scrapes in flight (a second ${signal} exits at once)`);
      stop.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const summary = await collect({
        targets,
        spool: f.spool,
        intervalMs,
        timeoutMs,
        durationMs: f.duration !== undefined ? parseDuration(f.duration) : null,
        keepMs: f.keep !== undefined ? parseDuration(f.keep) : null,
        lake: this.lakeDir,
        headers,
        signal: stop.signal,
        note: (text) => this.note(text),
      });
      this.note(summaryNote(summary));
      if (this.outputFormat === 'json') this.out(renderJson(summary));
      else if (this.outputFormat === 'csv') this.out(renderCsv(summary.targets, TARGET_COLUMNS));
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}

function readTargetsFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read --targets ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
