import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { renderRows, type Cell, type ColumnDef } from '../lib/cli/output.js';
import { configFlag, stageWriteNotes, testHold, windowFlags, windowOptions } from '../lib/cli/window-flags.js';
import { EXIT_FAILURE } from '../lib/errors.js';
import { configPath, loadConfig } from '../lib/config.js';
import { computeFeatures } from '../lib/stage/features.js';
import { staleNote } from '../lib/stage/window.js';
import { worstFeatureRows } from '../lib/stage/score.js';

const short = (v: Cell): string => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', ''));
const fixed =
  (d: number) =>
  (v: Cell): string =>
    typeof v === 'number' ? v.toFixed(d) : '–';

/**
 * The table view: what an operator scans first. CSV and JSON carry every feature. Headers take two
 * lines to save width; on a narrow terminal the model goes first, then coverage, then the absent
 * signals, then the thermal comparisons (--wide keeps them all).
 */
const TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host' },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: short, dropRank: 1 },
  { key: 'samples', dropRank: 2 },
  { key: 'interval_s', header: 'every\ns', format: fixed(0), dropRank: 2 },
  { key: 'gaps_over_5min', header: 'gaps', dropRank: 2 },
  { key: 'temp_mean', header: 'temp\n°C', format: fixed(1) },
  { key: 'temp_max', header: 'max\n°C', format: fixed(0) },
  { key: 'temp_excess_at_power', header: '°C vs\npeers', format: fixed(1), dropRank: 4 },
  { key: 'power_mean', header: 'power\nW', format: fixed(0) },
  { key: 'share_thermal_throttled', header: 'thermal\nthr', format: (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '–'), dropRank: 4 },
  { key: 'sbe_delta', header: 'SBE' },
  { key: 'dbe_delta', header: 'DBE' },
  { key: 'xid_events', header: 'Xids' },
  { key: 'signals_absent', header: 'absent', format: (v) => (v ? String(v) : ''), fit: 'wrap', dropRank: 3 },
];

export default class Features extends BaseCommand<typeof Features> {
  static override summary = 'Compute per-GPU features over a window (the input of score and predict).';
  static override description =
    'One pass over the hourly rollups computes, per GPU, rolling statistics (1 h, 6 h, 24 h, 7 d), reset-aware counter deltas and rates, trends, temperature at equal power, anomalies, clock-event shares, Xid counts by code, coverage, cohort z-scores and asset metadata (docs/features.md). The table is written to <lake>/features/date=<at>/features-<at>-<since>.parquet; stdout shows a summary table, or every feature with --csv / --json. Rollups missing from a lake written by an older version are built first, once. A GPU silent in the window that the asset registry lists or that reported in the 30 days before the window end (and is not recorded as failed or removed) gets a row with no samples. A GPU the failure history records as failed at or after its last sample gets no row. With --no-write, or on a lake you may not write, nothing is written into the lake.';
  static override examples = [
    '<%= config.bin %> features',
    '<%= config.bin %> features --since 24h --json',
    '<%= config.bin %> features --since 7d --at 2026-11-20T00:00:00Z --csv > features.csv',
    '<%= config.bin %> features --host gpu-a-r01-n01',
    '<%= config.bin %> features --worst 10 --json',
    '<%= config.bin %> features --since 24h --no-write --csv',
  ];
  static override flags = {
    ...windowFlags,
    worst: Flags.integer({ summary: 'Only the N lowest-scoring GPUs (scored as `score` would), worst first.', min: 1 }),
    config: configFlag,
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const progress = this.makeProgress();
    // the config matters only for scoring the rows --worst picks
    const config = this.flags.worst !== undefined ? loadConfig(configPath(this.flags.config, this.lakeDir)) : null;
    const note = (text: string): void => {
      progress.done();
      this.note(text);
    };
    const r = await computeFeatures({ lake: this.lakeDir, ...windowOptions(this.flags), progress, note, ...testHold() });
    progress.done();
    const stale = staleNote(r.window_end, r.newest_sample);
    if (stale) this.note(stale);
    if (this.flags.worst !== undefined) r.rows = worstFeatureRows(r.rows, this.flags.worst, config?.xid);
    const writes = stageWriteNotes(r.writes, this.lakeDir);
    for (const n of writes.notes) this.note(n);
    if (this.outputFormat === 'table') this.out(renderRows(r.rows, TABLE_COLUMNS, 'table', this.tableOptions));
    else if (this.outputFormat === 'csv')
      this.out(
        renderRows(
          r.rows,
          Object.keys(r.rows[0] ?? {}).map((key) => ({ key })),
          'csv',
        ),
      );
    else this.out(renderRows(r.rows, [], 'json'));
    const failed =
      r.left_out.failed > 0 ? ` (${r.left_out.failed} GPU${r.left_out.failed === 1 ? '' : 's'} recorded as failed, with no sample since, left out)` : '';
    this.note(
      `features for ${r.rows.length} of ${r.gpus_total} GPUs, ${r.window_start.slice(0, 16)} → ${r.window_end.slice(0, 16)} UTC, ${r.silent} not reporting${failed}, in ${r.seconds.toFixed(1)} s${r.file ? ` → ${r.file}` : ''}`,
    );
    if (writes.failed) process.exitCode = EXIT_FAILURE;
  }
}
