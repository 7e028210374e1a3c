import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { renderJson, renderRows } from '../lib/cli/output.js';
import { RECOMMENDATION_CSV_COLUMNS, RECOMMENDATION_TABLE_COLUMNS, SENSITIVITY_TABLE_COLUMN, totalsLines } from '../lib/cli/recommend-columns.js';
import { configFlag, stageWriteNotes, testHold, windowFlags, windowOptions } from '../lib/cli/window-flags.js';
import { configPath, loadConfig } from '../lib/config.js';
import { DECISIONS } from '../lib/economics/types.js';
import { EXIT_FAILURE } from '../lib/errors.js';
import { recommendFleet } from '../lib/stage/recommend.js';

export default class Recommend extends BaseCommand<typeof Recommend> {
  static override summary = 'Keep, sell, repurpose or decommission each GPU, with what each course is worth, worst value first.';
  static override description =
    "For every GPU that reported in the 7 days before --at (less those the failure history records as failed): npv_keep (12 monthly cash flows discounted at 10 % a year: revenue at the model's rental rate × the GPU's measured utilisation × its measured throughput against same-model peers, less its measured power × PUE, maintenance and the expected cost of failures from its own failure probabilities, then the sale at the horizon at the declined price), npv_sell (the used price for its model and grade less fee and de-installation), npv_repurpose (a lower-tier rate at lower utilisation and power), salvage_value; the decision with the highest value (an RMA-grade GPU under warranty: decommission, an RMA), its expected_value, its confidence and a rationale with the numbers. Prices and rates come from the config (gpuhealth config show). Fleet totals (value, monthly revenue, cost and profit, decisions, GPUs for sale) go to stderr, or beside the rows with --json. Every GPU's row is written to <lake>/recommendations/date=<at>/ (not with --no-write, nor on a lake you may not write). See docs/economics.md.";
  static override examples = [
    '<%= config.bin %> recommend',
    '<%= config.bin %> recommend --decision sell',
    '<%= config.bin %> recommend --sensitivity --worst 20',
    '<%= config.bin %> recommend --json --at 2026-11-20T00:00:00Z > recommendations.json',
    '<%= config.bin %> recommend --config prices.json --host gpu-a-r01-n01',
  ];
  static override flags = {
    at: windowFlags.at,
    'force-at': windowFlags['force-at'],
    gpu: windowFlags.gpu,
    host: windowFlags.host,
    'no-write': windowFlags['no-write'],
    config: configFlag,
    decision: Flags.option({ summary: 'Show only GPUs with this decision.', options: DECISIONS })(),
    sensitivity: Flags.boolean({
      summary: 'Also show, per GPU, the decisions that flip when the rental rate, sale price, power price or failure probability moves ±20 %.',
    }),
    model: Flags.string({ summary: 'Failure model for the probabilities (a name from gpuhealth models list); default the newest.' }),
    worst: Flags.integer({ summary: 'Show only the N GPUs of lowest value.', min: 1 }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const config = loadConfig(configPath(f.config, this.lakeDir));
    const w = windowOptions({ ...f, since: '7d' });
    const progress = this.makeProgress();
    const note = (text: string): void => {
      progress.done();
      this.note(text);
    };
    const r = await recommendFleet({
      lake: this.lakeDir,
      atMs: w.atMs,
      checkAt: w.checkAt,
      gpus: w.gpus,
      hosts: w.hosts,
      write: w.write,
      economics: config.economics,
      xidClasses: config.xid,
      model: f.model,
      decision: f.decision,
      sensitivity: f.sensitivity,
      worst: f.worst,
      progress,
      note,
      ...testHold(),
    });
    progress.done();
    if (r.failed_left_out > 0)
      this.note(`left out ${r.failed_left_out} GPU${r.failed_left_out === 1 ? '' : 's'} the failure history records as failed, with no sample since`);
    const writes = stageWriteNotes(r.writes, this.lakeDir);
    for (const n of writes.notes) this.note(n);
    if (this.outputFormat === 'json') this.out(renderJson({ at: r.at, totals: r.totals, rows: r.rows }));
    else {
      const columns =
        this.outputFormat === 'csv' ? RECOMMENDATION_CSV_COLUMNS : [...RECOMMENDATION_TABLE_COLUMNS, ...(f.sensitivity ? [SENSITIVITY_TABLE_COLUMN] : [])];
      this.out(renderRows(r.rows, columns, this.outputFormat, this.tableOptions));
      for (const line of totalsLines(r.totals)) this.note(line);
    }
    this.note(
      `valued ${r.totals.gpus} GPUs at ${r.at.slice(0, 16)} UTC with failure model ${r.model.name} ${r.model.version}; ${r.seconds.toFixed(1)} s${r.file ? ` → ${r.file}` : ''}`,
    );
    if (writes.failed) process.exitCode = EXIT_FAILURE;
  }
}
