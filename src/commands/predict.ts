import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { renderJson, renderRows, type ColumnDef } from '../lib/cli/output.js';
import { windowFlags, windowOptions } from '../lib/cli/window-flags.js';
import { PREDICTION_COLUMNS, predictFleet } from '../lib/stage/predict.js';
import { RISK_LEVEL_THRESHOLDS } from '../lib/model/card.js';

const pct = (v: unknown): string => (typeof v === 'number' ? `${(100 * v).toFixed(v < 0.001 ? 2 : 1)}%` : '–');

const TABLE: ColumnDef[] = [
  { key: 'host', dropRank: 4 },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')), dropRank: 1 },
  { key: 'risk_level', header: 'risk' },
  { key: 'failure_prob_7d', header: 'P7', format: pct, dropRank: 2 },
  { key: 'failure_prob_30d', header: 'P30', format: pct },
  { key: 'failure_prob_90d', header: 'P90', format: pct, dropRank: 2 },
  { key: 'expected_days_to_failure', header: 'days', format: (v) => (typeof v === 'number' ? v.toFixed(0) : '>h'), dropRank: 3 },
  { key: 'predicted_failure_type', header: 'type', format: (v) => String(v ?? '–'), dropRank: 3 },
  { key: 'anomaly_score', header: 'anom', format: (v) => (typeof v === 'number' ? v.toFixed(2) : '–'), dropRank: 3 },
  { key: 'top_factor', header: 'top factor', format: (v) => (typeof v === 'string' ? v : ''), fit: 'wrap' },
];

const CSV: ColumnDef[] = Object.keys(PREDICTION_COLUMNS).map((key) => ({
  key,
  ...(key === 'top_factors' ? { format: (v: unknown) => (Array.isArray(v) ? v.map((f) => (f as { text: string }).text).join('; ') : '') } : {}),
}));

export default class Predict extends BaseCommand<typeof Predict> {
  static override summary = 'Failure probabilities at 7/30/90 days per GPU, the likely failure type and the factors behind the risk, riskiest first.';
  static override description =
    `For every GPU with telemetry in the 7 days before --at: failure_prob_7d ≤ failure_prob_30d ≤ failure_prob_90d from one hazard model, expected_days_to_failure (the median of that curve; empty beyond the model's horizon) with an 80 % interval, predicted_failure_type (memory, thermal, power, interconnect, other) and its probability, anomaly_score 0–1 (an isolation forest: how unlike the fleet the GPU behaves), risk_level by failure_prob_30d (medium ≥ ${100 * RISK_LEVEL_THRESHOLDS.medium} %, high ≥ ${100 * RISK_LEVEL_THRESHOLDS.high} %, critical ≥ ${100 * RISK_LEVEL_THRESHOLDS.critical} %), and top_factors: the features that raise the GPU's risk, with their values and contributions. The model is --model NAME, else the lake's newest (gpuhealth train), else the shipped default (models/default, trained on a simulated fleet). Every GPU's row is written to <lake>/predictions/date=<at>/. See docs/prediction.md.`;
  static override examples = [
    '<%= config.bin %> predict',
    '<%= config.bin %> predict --worst 20',
    '<%= config.bin %> predict --json --at 2026-11-20T00:00:00Z > predictions.json',
    '<%= config.bin %> predict --model default --host gpu-a-r01-n01',
  ];
  static override flags = {
    at: windowFlags.at,
    'force-at': windowFlags['force-at'],
    gpu: windowFlags.gpu,
    host: windowFlags.host,
    model: Flags.string({ summary: 'Use this model (a name from gpuhealth models list) instead of the newest.' }),
    worst: Flags.integer({ summary: 'Show only the N riskiest GPUs.', min: 1 }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const w = windowOptions({ ...f, since: '7d' });
    const progress = this.makeProgress();
    const r = await predictFleet({
      lake: this.lakeDir,
      atMs: w.atMs,
      checkAt: w.checkAt,
      gpus: w.gpus,
      hosts: w.hosts,
      model: f.model,
      worst: f.worst,
      progress,
    });
    progress.done();
    if (r.rollups_built > 0) this.note(`built hourly rollups for ${r.rollups_built} metrics files (once; ingest keeps them from now on)`);
    if (this.outputFormat === 'json') this.out(renderJson(r.rows));
    else this.out(renderRows(r.rows, this.outputFormat === 'csv' ? CSV : TABLE, this.outputFormat, this.tableOptions));
    const levels = (['critical', 'high', 'medium', 'low'] as const)
      .filter((l) => r.risk_levels[l] > 0)
      .map((l) => `${r.risk_levels[l]} ${l}`)
      .join(', ');
    this.note(
      `predicted ${r.gpus_total} GPUs at ${r.at.slice(0, 16)} UTC with model ${r.model.name} ${r.model.version} (${r.model.trained_on}): ${levels || 'none reporting'}; ${r.seconds.toFixed(1)} s${r.file ? ` → ${r.file}` : ''}`,
    );
  }
}
