import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderJson, renderRows, type ColumnDef } from '../lib/cli/output.js';
import { InputError } from '../lib/errors.js';
import { windowFlags } from '../lib/cli/window-flags.js';
import { backtestFromLake, OVERALL_SCORE_ALERT, RULE_RISK_ALERT, type BacktestFailureRow, type Metrics } from '../lib/stage/backtest.js';
import { parseDuration, parseInstant } from '../lib/time.js';

const DAY_MS = 86_400_000;

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);

export default class Backtest extends BaseCommand<typeof Backtest> {
  static override summary = 'Replay predict day by day over history: would it have warned before the failures you had?';
  static override description =
    `Every day from --from to --to, every GPU reporting in the 7 days before gets the model's probabilities from data before that day only. Each failure recorded in the period (gpuhealth failures import) is checked per horizon: was its GPU flagged (risk high or critical, P30 ≥ 5 %) within the horizon before it, how many days ahead, and on which factors. Flags that no failure followed within the horizon are false alarms, per 1,000 GPU-days. Reports precision, recall, PR-AUC and the median lead time per horizon, and the same for the baselines: the original design's rule-based risk (alert at ${RULE_RISK_ALERT} of 100) and score's overall score (alert below ${OVERALL_SCORE_ALERT}: grade poor or critical), each from a 7-day features window per day. The model must not have trained on the period: backtest warns when the lake's model did (the shipped model was trained on a simulated fleet). Table: the metrics, then one row per failure. --csv: one row per failure. --json: everything. Writes nothing but hourly rollups the lake lacks (none with --no-write), and never holds up an ingest. See docs/prediction.md.`;
  static override examples = [
    '<%= config.bin %> backtest --from 2026-09-01 --to 2026-10-31',
    '<%= config.bin %> backtest --from 2026-09-01 --to 2026-10-31 --horizon 30d --model fleet-h1 --json',
    '<%= config.bin %> backtest --from 2026-09-01 --to 2026-10-31 --csv > failures.csv',
  ];
  static override flags = {
    from: Flags.string({ summary: 'First day replayed (ISO-8601 date or time).', required: true }),
    to: Flags.string({ summary: 'Last day replayed (default: the day of the newest telemetry).' }),
    horizon: Flags.string({ summary: 'Horizons, comma-separated, in whole days.', default: '7d,30d,90d' }),
    model: Flags.string({ summary: 'Model to replay (default: the lake’s newest, else the shipped default).' }),
    'no-baselines': Flags.boolean({ summary: 'Skip the two baselines (they need one features run per replayed day).' }),
    'no-write': windowFlags['no-write'],
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const day = (s: string): number => Math.floor(parseInstant(s) / DAY_MS) * DAY_MS;
    const horizons = f.horizon.split(',').map((h) => {
      const ms = parseDuration(h.trim());
      if (ms % DAY_MS !== 0) throw new InputError(`--horizon ${h}: whole days only`, ['--horizon 7d,30d,90d']);
      return ms / DAY_MS;
    });
    const progress = this.makeProgress();
    const r = await backtestFromLake({
      lake: this.lakeDir,
      fromMs: day(f.from),
      toMs: f.to === undefined ? Number.MAX_SAFE_INTEGER : day(f.to),
      horizonsDays: horizons,
      model: f.model,
      baselines: !f['no-baselines'],
      write: !f['no-write'],
      progress,
      note: (text) => {
        progress.done();
        this.note(text);
      },
    });
    progress.done();
    for (const w of r.warnings) this.note(`warning: ${w}`);
    if (this.outputFormat === 'json') {
      this.out(renderJson(r));
      return;
    }
    const widest = r.horizons.at(-1)!.horizon;
    const failureRows = r.failures.map((x: BacktestFailureRow) => ({
      gpu_uuid: x.gpu_uuid,
      host: x.host,
      failed_at: x.failed_at,
      failure_type: x.failure_type,
      days_watched: x.days_watched,
      ...Object.fromEntries(Object.entries(x.flagged).map(([h, v]) => [`flagged_${h}`, v])),
      ...Object.fromEntries(Object.entries(x.lead_days).map(([h, v]) => [`lead_days_${h}`, v === null ? null : Number(v.toFixed(1))])),
      flagged_at: x.flagged_at,
      failure_prob_30d_at_flag: x.failure_prob_30d_at_flag,
      top_factor: x.top_factor,
      rule_based_risk_flagged: x.rule_based_risk_flagged,
      overall_score_flagged: x.overall_score_flagged,
    }));
    const failureColumns: ColumnDef[] = [
      { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
      { key: 'host', dropRank: 3 },
      { key: 'failed_at', header: 'failed', format: (v) => String(v).slice(0, 16).replace('T', ' ') },
      { key: 'failure_type', header: 'type' },
      ...r.horizons.map((h) => ({
        key: `lead_days_${h.horizon}`,
        header: `lead ${h.horizon}`,
        format: (v: unknown) => (v === null || v === undefined ? 'missed' : `${v} d`),
      })),
      { key: 'top_factor', header: 'top factor at first flag', fit: 'wrap' as const, dropRank: 2 },
      { key: 'rule_based_risk_flagged', header: `rule ${widest}`, dropRank: 1 },
      { key: 'overall_score_flagged', header: `score ${widest}`, dropRank: 1 },
    ];
    if (this.outputFormat === 'csv') {
      const csvColumns: ColumnDef[] = Object.keys(failureRows[0] ?? { gpu_uuid: null }).map((key) => ({ key }));
      this.out(renderRows(failureRows, csvColumns, 'csv'));
      return;
    }
    const metricRows = r.horizons.flatMap((h) =>
      (
        [
          ['model', h.model],
          ['rule-based risk', h.rule_based_risk],
          ['overall score', h.overall_score],
        ] as [string, Metrics | null][]
      )
        .filter((x): x is [string, Metrics] => x[1] !== null)
        .map(([scorer, m]) => ({
          horizon: h.horizon,
          scorer,
          caught: `${m.caught}/${m.failures}`,
          recall: pct(m.recall),
          precision: pct(m.precision),
          false_alarms: m.false_alarms_per_1000_gpu_days.toFixed(1),
          fpr: pct(m.false_positive_rate),
          pr_auc: m.pr_auc === null ? null : m.pr_auc.toFixed(3),
          lead: m.median_lead_days === null ? null : `${m.median_lead_days.toFixed(1)} d`,
        })),
    );
    this.out(
      renderRows(
        metricRows,
        [
          { key: 'horizon' },
          { key: 'scorer' },
          { key: 'caught', header: 'caught' },
          { key: 'recall' },
          { key: 'precision' },
          { key: 'false_alarms', header: 'false alarms /1k GPU-days' },
          { key: 'fpr', header: 'FP rate', dropRank: 1 },
          { key: 'pr_auc', header: 'PR-AUC' },
          { key: 'lead', header: 'median lead' },
        ],
        'table',
        this.tableOptions,
      ),
    );
    if (failureRows.length) this.out(renderRows(failureRows, failureColumns, 'table', this.tableOptions));
    this.note(
      `replayed ${r.model.name} (${r.model.version}) on ${r.gpu_days} GPU-days of ${r.gpus} GPUs, ${r.from.slice(0, 10)} → ${r.to.slice(0, 10)}: ${r.failures.length} failures${r.failures_without_telemetry ? ` (and ${r.failures_without_telemetry} of GPUs without telemetry, left out)` : ''}; ${r.seconds.toFixed(1)} s`,
    );
  }
}
