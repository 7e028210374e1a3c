/**
 * The report as Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector:
 * gauges per GPU labelled `UUID`, `Hostname` and `modelName` as dcgm-exporter labels its series, so
 * a PromQL query joins them (`gpuhealth_overall_score * on(UUID) group_left DCGM_FI_DEV_GPU_TEMP`),
 * plus fleet gauges. Samples carry no timestamps (the collector rejects them): the report's time is
 * the gauge `gpuhealth_report_timestamp_seconds`. A null value has no sample, never a 0.
 */
import { DECISIONS } from '../economics/types.js';
import { DIMENSIONS, GRADES } from '../health/score.js';
import type { ReportData, ReportGpu } from './types.js';

const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
const HORIZONS = [7, 30, 90] as const;

/** Label values: backslash, double quote and line feed escaped, as the exposition format requires. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed escaped. */
const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatPromValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number | null;
}

function family(out: string[], name: string, help: string, samples: readonly Sample[]): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`);
  for (const s of samples) {
    if (s.value === null) continue;
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(',');
    out.push(`${name}${labels ? `{${labels}}` : ''} ${formatPromValue(s.value)}`);
  }
}

/** dcgm-exporter's identity labels; an unknown host or model is an empty value (Prometheus reads it as absent). */
const gpuLabels = (g: ReportGpu): Labels => ({ UUID: g.gpu_uuid, Hostname: g.host ?? '', modelName: g.model ?? '' });

export function renderProm(r: ReportData): string {
  const out: string[] = [];
  const per = (value: (g: ReportGpu) => number | null, extra: Labels = {}): Sample[] =>
    r.gpus.map((g) => ({ labels: { ...gpuLabels(g), ...extra }, value: value(g) }));
  const f = r.fleet;

  family(
    out,
    'gpuhealth_overall_score',
    'Overall health score of the GPU (0-100; gpuhealth score).',
    per((g) => g.overall_score),
  );
  family(
    out,
    'gpuhealth_dimension_score',
    'Health score of one subsystem of the GPU (0-100).',
    DIMENSIONS.flatMap((d) => per((g) => g[`${d}_health`], { dimension: d })),
  );
  family(
    out,
    'gpuhealth_failure_probability',
    'Probability that the GPU fails within the horizon (0-1; gpuhealth predict).',
    HORIZONS.flatMap((h) => per((g) => g[`failure_prob_${h}d`], { horizon: `${h}d` })),
  );
  family(
    out,
    'gpuhealth_grade_info',
    'Health grade of the GPU: 1 on the series of its grade.',
    r.gpus.map((g) => ({ labels: { ...gpuLabels(g), grade: g.health_grade ?? '' }, value: g.health_grade === null ? null : 1 })),
  );
  family(
    out,
    'gpuhealth_risk_level_info',
    'Risk level of the GPU by its 30-day failure probability: 1 on the series of its level.',
    r.gpus.map((g) => ({ labels: { ...gpuLabels(g), risk_level: g.risk_level ?? '' }, value: g.risk_level === null ? null : 1 })),
  );
  family(
    out,
    'gpuhealth_decision_info',
    'Recommended decision for the GPU (gpuhealth recommend): 1 on the series of its decision.',
    r.gpus.map((g) => ({ labels: { ...gpuLabels(g), decision: g.decision ?? '' }, value: g.decision === null ? null : 1 })),
  );
  family(
    out,
    'gpuhealth_expected_value_usd',
    'Expected value of the best decision for the GPU (USD).',
    per((g) => g.expected_value),
  );
  family(
    out,
    'gpuhealth_not_reporting',
    '1 when the GPU sent no telemetry in the window, else 0.',
    per((g) => (g.not_reporting ? 1 : 0)),
  );

  family(out, 'gpuhealth_report_timestamp_seconds', 'Cut-off of the results in this report (Unix seconds).', [{ labels: {}, value: Date.parse(r.at) / 1000 }]);
  family(out, 'gpuhealth_fleet_health_index', 'Mean overall score of the graded GPUs (0-100).', [{ labels: {}, value: f.health_index }]);
  family(out, 'gpuhealth_fleet_share_good_or_better', 'Share of graded GPUs at grade good or excellent (0-1).', [
    { labels: {}, value: f.share_good_or_better },
  ]);
  family(out, 'gpuhealth_fleet_gpus', 'GPUs in the report.', [{ labels: {}, value: f.gpus }]);
  family(out, 'gpuhealth_fleet_not_reporting_gpus', 'GPUs that sent no telemetry in the window.', [{ labels: {}, value: f.not_reporting }]);
  family(
    out,
    'gpuhealth_fleet_grade_gpus',
    'GPUs per health grade (unknown: not graded).',
    [...GRADES, 'unknown' as const].map((g) => ({ labels: { grade: g }, value: f.grades[g] })),
  );
  family(
    out,
    'gpuhealth_fleet_risk_level_gpus',
    'GPUs per risk level.',
    RISK_LEVELS.map((l) => ({ labels: { risk_level: l }, value: f.risk_levels[l] })),
  );
  const e = r.economics;
  if (e !== null) {
    family(out, 'gpuhealth_fleet_value_usd', 'Sum of the GPUs expected values (USD).', [{ labels: {}, value: e.fleet_value }]);
    family(out, 'gpuhealth_fleet_monthly_profit_usd', 'Monthly revenue less operating cost, as the fleet runs now (USD).', [
      { labels: {}, value: e.monthly_profit },
    ]);
    family(
      out,
      'gpuhealth_fleet_decision_gpus',
      'GPUs per recommended decision (none: no decision).',
      [...DECISIONS, 'none' as const].map((d) => ({ labels: { decision: d }, value: e.decisions[d] })),
    );
  }
  return `${out.join('\n')}\n`;
}
