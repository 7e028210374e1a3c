import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { InputError } from '../lib/errors.js';
import { renderJson, renderRecord } from '../lib/cli/output.js';
import { simulateFleet } from '../lib/simulate/index.js';
import { simulateToLake } from '../lib/simulate/to-lake.js';
import { parseDuration, parseInstant } from '../lib/time.js';

/** `0.03` (both models) or `a100=0.02,h100=0.05`. */
export function parseFailureRate(text: string): { a100: number; h100: number } {
  const rate = (v: string): number => {
    const n = Number(v.replace(/%$/, '')) / (v.endsWith('%') ? 100 : 1);
    if (!(n >= 0 && n <= 1)) throw new InputError(`--failure-rate: "${v}" is not a yearly rate between 0 and 1 (or 0%–100%)`);
    return n;
  };
  if (!text.includes('=')) return { a100: rate(text), h100: rate(text) };
  const out = { a100: 0.02, h100: 0.05 };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k !== 'a100' && k !== 'h100') throw new InputError(`--failure-rate: unknown model "${k}" (use a100= and h100=)`);
    out[k] = rate(v ?? '');
  }
  return out;
}

export default class Simulate extends BaseCommand<typeof Simulate> {
  static override summary = 'Write a realistic demo fleet: dcgm-exporter scrapes, assets.csv and failures.csv.';
  static override description =
    `A seeded A100/H100 fleet on 8-GPU hosts with training, inference and idle load, counters that behave like DCGM's, scrape gaps and host outages, and failures (memory, thermal, power, interconnect, sudden) whose precursors and rates follow published field data (docs/simulation.md). Output: <out>/prom/<host>/<host>_<hour>.prom.gz (one file per host per hour, ms timestamps), <out>/assets.csv and <out>/failures.csv — the same files a real fleet feeds to ingest, assets import and failures import.`;
  static override examples = [
    '<%= config.bin %> simulate --out demo-fleet',
    '<%= config.bin %> simulate --out big --gpus 1000 --days 7 --interval 10s --seed 7',
    '<%= config.bin %> simulate --out fleet --failure-rate a100=0.03,h100=0.09 --end 2026-11-01T00:00:00Z',
    '<%= config.bin %> simulate --to-lake --lake /data/design-lake --gpus 10000 --days 7 --interval 10s',
  ];
  static override flags = {
    out: Flags.string({ summary: 'Folder to write the fleet into (scrapes, assets.csv, failures.csv).', exactlyOne: ['out', 'to-lake'] }),
    'to-lake': Flags.boolean({
      summary: 'Write the fleet straight into --lake as Parquet (no scrape files); for design-load lakes.',
      description:
        'Same values as simulating to --out and ingesting; the asset registry and failure history are imported too. The lake must hold no telemetry yet.',
      exactlyOne: ['out', 'to-lake'],
    }),
    gpus: Flags.integer({ summary: 'Number of GPUs (8 per host).', default: 50, min: 1, max: 200_000 }),
    days: Flags.integer({ summary: 'Days of telemetry.', default: 14, min: 1, max: 365 }),
    interval: Flags.string({ summary: 'Scrape interval, e.g. 10s, 60s, 5m.', default: '60s' }),
    seed: Flags.integer({ summary: 'Random seed; the same seed gives identical files.', default: 1 }),
    end: Flags.string({ summary: 'End of the window (ISO-8601 or now).', default: 'now' }),
    'failure-rate': Flags.string({ summary: 'Yearly failure rate: one number for both models, or a100=0.02,h100=0.05.' }),
    problematic: Flags.integer({ summary: 'Known-problematic GPUs to plant (hot, ECC errors); default 6 % of the fleet.', min: 0 }),
    'gzip-level': Flags.integer({ summary: 'gzip level of the scrape files (1 fast … 9 small).', default: 1, min: 0, max: 9 }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const intervalMs = parseDuration(f.interval);
    if (intervalMs < 1000) throw new InputError('--interval must be at least 1s');
    const progress = this.makeProgress();
    const plan = {
      gpus: f.gpus,
      days: f.days,
      intervalMs,
      seed: f.seed,
      endMs: Math.floor(parseInstant(f.end) / intervalMs) * intervalMs,
      failureRatePerYear: f['failure-rate'] ? parseFailureRate(f['failure-rate']) : undefined,
      problematic: f.problematic,
    };
    if (f['to-lake']) {
      const r = await simulateToLake({ ...plan, lake: this.lakeDir, progress });
      progress.done();
      if (this.outputFormat === 'json') this.out(renderJson(r));
      else if (this.outputFormat === 'csv') this.out(renderRecord({ ...r }, 'csv'));
      else
        this.note(
          `simulated ${r.gpus} GPUs on ${r.hosts} hosts straight into ${r.lake}: ${r.rows.toLocaleString('en-US')} rows in ${r.files} files, ${r.failures} failures (${r.seconds.toFixed(1)} s)`,
        );
      return;
    }
    const s = await simulateFleet({
      outDir: f.out!,
      ...plan,
      gzipLevel: f['gzip-level'],
      progress: (done, total) => progress(`simulating ${Math.round((done / total) * 100)} %`),
    });
    progress.done();
    const summary = { ...s, start: new Date(s.startMs).toISOString(), end: new Date(s.endMs).toISOString() };
    if (this.outputFormat === 'json') this.out(renderJson(summary));
    else if (this.outputFormat === 'csv') this.out(renderRecord(summary, 'csv'));
    else
      this.note(
        `simulated ${s.gpus} GPUs on ${s.hosts} hosts, ${summary.start} → ${summary.end}: ${s.samples} samples in ${s.files} files (${(s.bytes / 1e6).toFixed(1)} MB), ${s.failures} failures, ${s.replacements} replacements → ${s.outDir}`,
      );
  }
}
