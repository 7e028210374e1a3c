import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { renderJson, renderRows } from '../lib/cli/output.js';
import { PREDICTION_CSV_COLUMNS, PREDICTION_TABLE_COLUMNS } from '../lib/cli/predict-columns.js';
import { stageWriteNotes, testHold, windowFlags, windowOptions } from '../lib/cli/window-flags.js';
import { EXIT_FAILURE } from '../lib/errors.js';
import { predictFleet, type PriorUse, THIN_TELEMETRY_HOURS } from '../lib/stage/predict.js';
import { RISK_LEVEL_THRESHOLDS } from '../lib/model/card.js';

export default class Predict extends BaseCommand<typeof Predict> {
  static override summary = 'Failure probabilities at 7/30/90 days per GPU, the likely failure type and the factors behind the risk, riskiest first.';
  static override description =
    `For every GPU with telemetry in the 7 days before --at (except those the failure history records as failed with no sample since): failure_prob_7d ≤ failure_prob_30d ≤ failure_prob_90d from one hazard model, expected_days_to_failure (the median of that curve; empty beyond the model's horizon) with an 80 % interval, predicted_failure_type (memory, thermal, power, interconnect, other) and its probability, anomaly_score 0–1 (an isolation forest: how unlike the fleet the GPU behaves), risk_level by failure_prob_30d (medium ≥ ${100 * RISK_LEVEL_THRESHOLDS.medium} %, high ≥ ${100 * RISK_LEVEL_THRESHOLDS.high} %, critical ≥ ${100 * RISK_LEVEL_THRESHOLDS.critical} %), and top_factors: the features that raise the GPU's risk, with their values and contributions. A GPU with under ${THIN_TELEMETRY_HOURS} hours of telemetry in the 7 days, and a GPU the asset registry lists in service that sent none, gets its probabilities from the fleet's lifetime curve at its age instead (a Weibull fit to the registry and failure history, per model where the model has 5 failures, as gpuhealth survival fits it): prediction_source is then prior, and top_factor names the curve. The model is --model NAME, else the lake's newest (gpuhealth train), else the shipped default (models/default, trained on a simulated fleet). Every GPU's row is written to <lake>/predictions/date=<at>/ (not with --no-write, nor on a lake you may not write). See docs/prediction.md.`;
  static override examples = [
    '<%= config.bin %> predict',
    '<%= config.bin %> predict --worst 20',
    '<%= config.bin %> predict --json --at 2026-11-20T00:00:00Z > predictions.json',
    '<%= config.bin %> predict --model default --host gpu-a-r01-n01',
    '<%= config.bin %> predict --no-write --json',
  ];
  static override flags = {
    at: windowFlags.at,
    'force-at': windowFlags['force-at'],
    gpu: windowFlags.gpu,
    host: windowFlags.host,
    'no-write': windowFlags['no-write'],
    model: Flags.string({ summary: 'Use this model (a name from gpuhealth models list) instead of the newest.' }),
    worst: Flags.integer({ summary: 'Show only the N riskiest GPUs.', min: 1 }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const w = windowOptions({ ...f, since: '7d' });
    const progress = this.makeProgress();
    const note = (text: string): void => {
      progress.done();
      this.note(text);
    };
    const r = await predictFleet({
      lake: this.lakeDir,
      atMs: w.atMs,
      checkAt: w.checkAt,
      gpus: w.gpus,
      hosts: w.hosts,
      write: w.write,
      model: f.model,
      worst: f.worst,
      progress,
      note,
      ...testHold(),
    });
    progress.done();
    if (r.failed_left_out > 0)
      this.note(`left out ${r.failed_left_out} GPU${r.failed_left_out === 1 ? '' : 's'} the failure history records as failed, with no sample since`);
    for (const n of priorNotes(r.prior)) this.note(n);
    const writes = stageWriteNotes(r.writes, this.lakeDir);
    for (const n of writes.notes) this.note(n);
    if (this.outputFormat === 'json') this.out(renderJson(r.rows));
    else this.out(renderRows(r.rows, this.outputFormat === 'csv' ? PREDICTION_CSV_COLUMNS : PREDICTION_TABLE_COLUMNS, this.outputFormat, this.tableOptions));
    const levels = (['critical', 'high', 'medium', 'low'] as const)
      .filter((l) => r.risk_levels[l] > 0)
      .map((l) => `${r.risk_levels[l]} ${l}`)
      .join(', ');
    this.note(
      `predicted ${r.gpus_total} GPUs at ${r.at.slice(0, 16)} UTC with model ${r.model.name} ${r.model.version}: ${levels || 'none reporting'}; ${r.seconds.toFixed(1)} s${r.file ? ` → ${r.file}` : ''}`,
    );
    if (writes.failed) process.exitCode = EXIT_FAILURE;
  }
}

const gpus = (n: number): string => `${n} GPU${n === 1 ? '' : 's'}`;

/** What the run took from the lifetime prior, and what it could not. */
function priorNotes(p: PriorUse): string[] {
  const notes: string[] = [];
  if (p.thin + p.silent > 0) {
    const parts = [
      p.thin > 0 ? `${gpus(p.thin)} with under ${THIN_TELEMETRY_HOURS} h of telemetry` : '',
      p.silent > 0 ? `${gpus(p.silent)} in the registry without telemetry` : '',
    ];
    notes.push(`${parts.filter(Boolean).join(' and ')} predicted from the fleet's lifetime curve (prediction_source prior)`);
  }
  if (p.thin_kept_model > 0)
    notes.push(
      `${gpus(p.thin_kept_model)} with under ${THIN_TELEMETRY_HOURS} h of telemetry kept the model's estimate: ${p.unavailable ?? 'no deployed_date in the registry'}`,
    );
  return notes;
}
