import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../lib/cli/output.js';
import { parseDuration, parseInstant } from '../lib/time.js';
import { InputError } from '../lib/errors.js';
import { MIN_TRAINING_FAILURES, trainFromLake } from '../lib/stage/train.js';

const DAY_MS = 86_400_000;

export default class Train extends BaseCommand<typeof Train> {
  static override summary = "Train the failure models on the lake's own telemetry and failure history.";
  static override description =
    `One row per GPU per cut-off day (features from the 28 days before it only), labelled from the failures registry (gpuhealth failures import): failed within the horizon, or censored at the GPU's last sample or at --to. Fits a hazard model (gradient-boosted trees, piecewise-exponential), a failure-type model and an isolation forest, validates on the latest cut-off days of GPUs kept out of training, scores the rule-based and health-score baselines on the same rows, then fits on everything and writes <lake>/models/<name>/ (ONNX files and card.json with the metrics). predict uses the lake's newest model from then on. Needs at least ${MIN_TRAINING_FAILURES} failures with telemetry before them (exit 2 otherwise; the shipped model still works). See docs/prediction.md.`;
  static override examples = [
    '<%= config.bin %> train',
    '<%= config.bin %> train --from 2026-06-01 --to 2026-11-01 --name fleet-h2',
    '<%= config.bin %> train --json > card.json',
  ];
  static override flags = {
    from: Flags.string({ summary: 'First cut-off day (default: 28 days after the oldest telemetry).' }),
    to: Flags.string({ summary: 'End of the training data; labels are censored here (default: the day of the newest telemetry).' }),
    name: Flags.string({ summary: 'Model name, the folder under <lake>/models/ (default: fleet-<today>).' }),
    horizon: Flags.string({ summary: 'How far ahead the hazard model looks: 30d … 365d.', default: '90d' }),
    seed: Flags.integer({ summary: 'Seed of the validation split and the sampling.', default: 1 }),
    'no-baselines': Flags.boolean({ summary: 'Skip scoring the baselines on the validation rows (one features run per validation day).' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const day = (s: string | undefined): number | undefined => (s === undefined ? undefined : Math.floor(parseInstant(s) / DAY_MS) * DAY_MS);
    const horizonMs = parseDuration(f.horizon);
    if (horizonMs % DAY_MS !== 0) throw new InputError('--horizon must be whole days', ['--horizon 90d']);
    const progress = this.makeProgress();
    const r = await trainFromLake({
      lake: this.lakeDir,
      fromMs: day(f.from),
      toMs: day(f.to),
      name: f.name,
      horizonDays: horizonMs / DAY_MS,
      seed: f.seed,
      baselines: !f['no-baselines'],
      progress,
    });
    progress.done();
    const v = r.card.validation;
    const m = v.metrics.model;
    if (this.outputFormat === 'json') this.out(renderJson(r.card));
    else
      this.out(
        renderRecord(
          {
            name: r.card.name,
            version: r.card.version,
            trained: `${r.card.training.from.slice(0, 10)} → ${r.card.training.to.slice(0, 10)}`,
            gpus: r.card.training.gpus,
            gpu_days: r.card.training.gpu_days,
            failures: Object.entries(r.card.training.failures_by_type)
              .filter(([, n]) => n > 0)
              .map(([t, n]) => `${n} ${t}`)
              .join(', '),
            validation: `${v.gpu_days} GPU-days of ${v.valid_gpus} held-out GPUs from ${v.split.slice(0, 10)}, ${v.failures} failures`,
            pr_auc: `${m.pr_auc.toFixed(3)} (base rate ${m.base_rate.toFixed(4)})`,
            roc_auc: m.roc_auc.toFixed(3),
            precision_top_1pct: m.top_1pct.precision.toFixed(3),
            recall_top_5pct: m.top_5pct.recall.toFixed(3),
            median_lead_days: m.median_lead_days ?? '–',
            calibration: m.calibration_ratio?.toFixed(2) ?? '–',
            rule_based_pr_auc: v.metrics.rule_based_risk?.pr_auc.toFixed(3) ?? '–',
            overall_score_pr_auc: v.metrics.overall_score?.pr_auc.toFixed(3) ?? '–',
            dir: r.dir ?? '',
          },
          this.outputFormat,
        ),
      );
    const u = r.unmatched_failures;
    if (u.no_asset > 0)
      this.note(
        `note: ${u.no_asset} recorded failure${u.no_asset === 1 ? ' has a serial' : 's have serials'} that no asset record matches, so training could not use them (gpuhealth assets import FILE)`,
      );
    if (u.no_telemetry > 0)
      this.note(`note: ${u.no_telemetry} recorded failure${u.no_telemetry === 1 ? ' is of a GPU' : 's are of GPUs'} without telemetry in the lake`);
    this.note(`trained ${r.card.name} in ${r.seconds.toFixed(1)} s${r.dir ? ` → ${r.dir}` : ''}; predict uses it from now on`);
  }
}
