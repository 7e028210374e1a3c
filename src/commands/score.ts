import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { renderJson, renderRecord, renderRows } from '../lib/cli/output.js';
import { explanationRecord, SCORE_CSV_COLUMNS, SCORE_TABLE_COLUMNS } from '../lib/cli/score-columns.js';
import { configFlag, stageWriteNotes, testHold, windowFlags, windowOptions } from '../lib/cli/window-flags.js';
import { EXIT_FAILURE } from '../lib/errors.js';
import { configPath, loadConfig } from '../lib/config.js';
import { staleNote } from '../lib/stage/window.js';
import { scoreFleet } from '../lib/stage/score.js';
import { GRADES } from '../lib/health/score.js';

export default class Score extends BaseCommand<typeof Score> {
  static override summary = 'Health scores and grades per GPU over a window, worst first.';
  static override description =
    "Scores five dimensions (memory .30, thermal .25, performance .20, power .15, reliability .10) from the window's features, the overall score as their weighted mean, a grade (excellent ≥ 90, good ≥ 80, fair ≥ 70, degraded ≥ 60, poor ≥ 50, critical < 50) bounded by the worst dimension (at most one band better) and by action caps (a GPU that needs a reset is at best degraded; repeated resets or Xid 79 at best poor; RMA-grade faults critical), the recommended action (none, monitor, reset_gpu, reboot_host, drain_and_diagnose, rma), the confidence (coverage, missing signals) and the factors behind it, each with its numbers. A dimension without signals is unknown (– in the table, null in JSON) and its weight goes to the others. The rules and the reason for every threshold are in docs/scoring.md. Every GPU the asset registry lists or that reported in the 30 days before the window end, silent in the window and not recorded as failed or removed, is scored not_reporting, however short the window; the summary says how many. A GPU the failure history records as failed at or after its last sample is left out (it is dead, not degraded), and the summary counts it. Every GPU's score is written to <lake>/scores/date=<at>/scores-<at>-<since>.parquet (and its features beside them), whatever --gpu, --host or --worst show; with --no-write, or on a lake you may not write, nothing is written. The lake lock is taken only to commit, so score never holds up an ingest.";
  static override examples = [
    '<%= config.bin %> score',
    '<%= config.bin %> score --since 7d --worst 20',
    '<%= config.bin %> score --json --at 2026-11-20T00:00:00Z > scores.json',
    '<%= config.bin %> score --host gpu-a-r01-n01 --host gpu-a-r01-n02',
    '<%= config.bin %> score --gpu GPU-1a2b3c4d --wide',
    '<%= config.bin %> score --explain GPU-1a2b3c4d',
    '<%= config.bin %> score --config /etc/gpuhealth.json',
    '<%= config.bin %> score --since 24h --no-write',
  ];
  static override flags = {
    ...windowFlags,
    worst: Flags.integer({ summary: 'Show only the N lowest-scoring GPUs.', min: 1 }),
    config: configFlag,
    explain: Flags.string({
      summary: "Show one GPU (UUID or unique prefix) with every factor's evidence and the features behind its score.",
      description:
        'Instead of the fleet table: the grade, action, confidence, caps and factors of one GPU, then every feature of its row. With --json: {"score": {…}, "features": {…}}.',
    }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const config = loadConfig(configPath(f.config, this.lakeDir));
    const progress = this.makeProgress();
    const note = (text: string): void => {
      progress.done();
      this.note(text);
    };
    const r = await scoreFleet({
      lake: this.lakeDir,
      ...windowOptions(f),
      worst: f.worst,
      xidClasses: config.xid,
      explain: f.explain,
      progress,
      note,
      ...testHold(),
    });
    progress.done();
    const stale = staleNote(r.window_end, r.newest_sample);
    if (stale) this.note(stale);
    const writes = stageWriteNotes(r.writes, this.lakeDir);
    for (const n of writes.notes) this.note(n);
    if (r.explained) {
      const e = r.explained;
      this.out(this.outputFormat === 'json' ? renderJson(e) : renderRecord(explanationRecord(e), this.outputFormat, e.score.gpu_uuid, this.tableOptions));
    } else this.out(renderRows(r.rows, this.outputFormat === 'csv' ? SCORE_CSV_COLUMNS : SCORE_TABLE_COLUMNS, this.outputFormat, this.tableOptions));
    const grades = [...GRADES, 'unknown' as const]
      .filter((g) => r.grades[g] > 0)
      .map((g) => `${r.grades[g]} ${g}`)
      .join(', ');
    const silent = `${r.not_reporting} not reporting${r.left_out.failed > 0 ? ` (${r.left_out.failed} GPU${r.left_out.failed === 1 ? '' : 's'} recorded as failed, with no sample since, left out)` : ''}`;
    this.note(
      `scored ${r.gpus_total} GPUs, ${r.window_start.slice(0, 16)} → ${r.window_end.slice(0, 16)} UTC: ${grades}; ${silent}; ${r.seconds.toFixed(1)} s${r.file ? ` → ${r.file}` : ''}`,
    );
    if (writes.failed) process.exitCode = EXIT_FAILURE;
  }
}
