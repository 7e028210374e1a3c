/**
 * `gpuhealth backtest`: `predict` replayed day by day over history (docs/prediction.md, "Backtest").
 * Every GPU with telemetry in the 7 days before each cut-off day gets the model's probabilities (the
 * feature rows come from the query `train` and `predict` use, one row per GPU and day, each from data
 * before its cut-off only; onnxruntime runs the model's ONNX files). Each failure recorded in the
 * period is then checked: was its GPU flagged (risk high or critical) within the horizon before it, how
 * long before, and on which factors. The flags that no failure followed are the false alarms. The two
 * baselines (the original design's rule-based risk and `score`'s overall score) are replayed on the
 * same GPU-days from a 7-day features window each. Nothing but missing hourly rollups is written to
 * the lake.
 */
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { PREDICTION_LOOKBACK_DAYS } from '../features/prediction-features.js';
import { failureProbability } from '../model/survival.js';
import { backtestHorizon, type BacktestDay, type BacktestFailure, type HorizonMetrics } from '../model/backtest.js';
import { GRADE_FLOORS } from '../health/score.js';
import { DAY_MS, gpuOutcomes, labelRow, predictionMatrix } from './prediction-data.js';
import { loadModel, predictRows } from './predict.js';
import { resolveModel } from './models.js';
import { baselineScores } from './train.js';
import { withWindowStage } from './window.js';

export interface BacktestOptions {
  lake: string;
  /** First and last cut-off day (ms, UTC midnight). */
  fromMs: number;
  toMs: number;
  /** Horizons in days (default 7, 30, 90). */
  horizonsDays?: readonly number[];
  model?: string;
  baselines?: boolean;
  /** False (`--no-write`): build missing hourly rollups outside the lake and take no lock. */
  write?: boolean;
  progress?: ProgressFn;
  /** One-line notes for stderr (a wait for the lake lock). */
  note?: (text: string) => void;
}

/**
 * The baselines' alert rules. The rule-based risk (0–100) alerts at 50 and above: its ECC component
 * alone reaches that at about 150 correctable errors a day with an uncorrectable one, or its thermal
 * component at a 90 °C peak with throttling. `score` alerts when a GPU's grade is poor or critical, the
 * grades whose recommended actions take it out of service.
 */
export const RULE_RISK_ALERT = 50;
export const OVERALL_SCORE_ALERT = GRADE_FLOORS.degraded;

export type Scorer = 'model' | 'rule_based_risk' | 'overall_score';

export interface BacktestFailureRow {
  gpu_uuid: string;
  host: string | null;
  failed_at: string;
  failure_type: string;
  /** GPU-days replayed within the largest horizon before the failure (0: no telemetry to judge on). */
  days_watched: number;
  /** Per horizon ("7d", …): whether the model flagged it within the horizon before, and how many days ahead. */
  flagged: Record<string, boolean>;
  lead_days: Record<string, number | null>;
  /** The model's 30-day probability and factors at its first flag within the largest horizon. */
  flagged_at: string | null;
  failure_prob_30d_at_flag: number | null;
  top_factors: string[];
  /** The first factor, short (`sbe_accel_7d = 41×: +1.9`), as predict's table shows it. */
  top_factor: string | null;
  /** The baselines' catches at the largest horizon. */
  rule_based_risk_flagged: boolean | null;
  overall_score_flagged: boolean | null;
}

export interface BacktestResult {
  from: string;
  to: string;
  model: { name: string; version: string; trained: { from: string; to: string } };
  /** Said when the model trained on part of the period: its numbers there are optimistic. */
  warnings: string[];
  gpus: number;
  gpu_days: number;
  horizons: { horizon: string; model: Metrics; rule_based_risk: Metrics | null; overall_score: Metrics | null }[];
  failures: BacktestFailureRow[];
  /** Failures recorded in the period of GPUs the lake has no telemetry for, and before the period's replay starts. */
  failures_without_telemetry: number;
  seconds: number;
}

export type Metrics = Omit<HorizonMetrics, 'per_failure'>;

const iso = (ms: number): string => new Date(ms).toISOString();
const label = (days: number): string => `${days}d`;
/** Rows run through the models at a time: bounds the memory of a long replay. */
const CHUNK_ROWS = 50_000;

export async function backtestFromLake(opts: BacktestOptions): Promise<BacktestResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const horizons = [...new Set(opts.horizonsDays ?? [7, 30, 90])].sort((a, b) => a - b);
  if (horizons.some((h) => !(Number.isInteger(h) && h >= 1 && h <= 365)))
    throw new InputError('--horizon takes whole days from 1d to 365d', ['--horizon 7d,30d,90d']);
  if (!(opts.toMs >= opts.fromMs)) throw new InputError('--to is before --from');
  const maxH = horizons.at(-1)!;
  // a reading stage: computed from a snapshot of the lake without its lock, which only the hourly
  // rollups a lake lacks are committed under (none with --no-write or on a lake this user cannot write)
  return withWindowStage({ lake: opts.lake, sinceMs: DAY_MS, atMs: opts.toMs, write: opts.write, note: opts.note, progress }, async (stage) => {
    const { db, layout } = stage;
    const [range] = await db.query<{ oldest: Date | null; newest: Date | null }>(
      'rollup range',
      'SELECT min(first_time) AS oldest, max(last_time) AS newest FROM rollups',
    );
    if (!range?.newest || !range.oldest) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
    const endMs = range.newest.getTime();
    const fromMs = Math.floor(opts.fromMs / DAY_MS) * DAY_MS;
    // the last cut-off: --to, at most the day of the newest telemetry
    const toMs = Math.floor(Math.min(opts.toMs, endMs) / DAY_MS) * DAY_MS;
    if (fromMs > endMs) throw new InputError(`--from ${iso(fromMs).slice(0, 10)} is after the newest telemetry (${iso(endMs).slice(0, 19)}Z)`);
    const warnings: string[] = [];
    if (fromMs < range.oldest.getTime() + PREDICTION_LOOKBACK_DAYS * DAY_MS)
      warnings.push(
        `the first ${PREDICTION_LOOKBACK_DAYS} days of telemetry (from ${iso(range.oldest.getTime()).slice(0, 10)}) give the features less history than they look back on`,
      );

    const stored = resolveModel(layout.root, opts.model);
    const card = stored.card;
    // A model trained on this lake has seen the failures of its training period (and, through its
    // labels, those up to its --to); the shipped model was trained on another (simulated) fleet.
    const trainedFrom = Date.parse(card.training.from);
    const trainedTo = Date.parse(card.training.to);
    if (stored.where === 'lake' && fromMs <= trainedTo && toMs + maxH * DAY_MS >= trainedFrom)
      warnings.push(
        `model ${card.name} was trained on this lake's ${card.training.from.slice(0, 10)} → ${card.training.to.slice(0, 10)}, which overlaps the period and its ${maxH}-day follow-up: its numbers here are optimistic; backtest the days after ${iso(trainedTo).slice(0, 10)}, or train with --to ${maxH} days before --from`,
      );

    const nDays = Math.floor((toMs - fromMs) / DAY_MS) + 1;
    progress(`feature rows for ${nDays} cut-off days`);
    const m = await predictionMatrix(db, card.features, fromMs, 0, nDays - 1);
    const outcomes = await gpuOutcomes(db, Number.MAX_SAFE_INTEGER);
    // a GPU recorded failed in the 7 days before a cut-off is out of service, not at risk: left out
    const recentlyFailed = (gpu: string, cutoffMs: number): boolean =>
      outcomes.get(gpu)?.failures.some((f) => f.atMs <= cutoffMs && f.atMs > cutoffMs - 7 * DAY_MS) ?? false;
    const keep: number[] = [];
    for (let i = 0; i < m.gpu.length; i++) if (!recentlyFailed(m.gpu[i]!, m.cutoffMs[i]!)) keep.push(i);
    const F = card.features.length;
    const days: BacktestDay[] = keep.map((i) => {
      const o = outcomes.get(m.gpu[i]!);
      return {
        gpu: m.gpu[i]!,
        cutoffMs: m.cutoffMs[i]!,
        // judged only where the whole horizon lies within the data: a day near the end whose GPU
        // failed soon would count and one that did not would not, and the precision would be flattered
        labels: horizons.map((h) => {
          if (m.cutoffMs[i]! + h * DAY_MS > endMs) return null;
          const l = labelRow(o, m.cutoffMs[i]!, h, endMs);
          if (l === null) return null;
          if (l.event) return 1;
          return l.days >= h ? 0 : null;
        }),
      };
    });

    // the model, chunk by chunk: P(h) per horizon and the risk flag (P30 at or over `high`)
    const model = await loadModel(stored);
    const probs = horizons.map(() => new Float64Array(keep.length));
    const p30 = new Float64Array(keep.length);
    const flagged = new Array<boolean>(keep.length);
    const bounds = card.segment_bounds_days;
    const nSeg = bounds.length - 1;
    try {
      for (let c0 = 0; c0 < keep.length; c0 += CHUNK_ROWS) {
        progress(`replaying the model ${Math.min(keep.length, c0 + CHUNK_ROWS)}/${keep.length} GPU-days`);
        const n = Math.min(CHUNK_ROWS, keep.length - c0);
        const X = new Float64Array(n * F);
        for (let r = 0; r < n; r++) X.set(m.X.subarray(keep[c0 + r]! * F, (keep[c0 + r]! + 1) * F), r * F);
        const { rates } = await model.run(X, n);
        for (let r = 0; r < n; r++) {
          const rr = Array.from(rates.subarray(r * nSeg, (r + 1) * nSeg));
          horizons.forEach((h, k) => {
            probs[k]![c0 + r] = failureProbability(rr, bounds, h);
          });
          p30[c0 + r] = failureProbability(rr, bounds, 30);
          flagged[c0 + r] = p30[c0 + r]! >= card.risk_levels.high;
        }
      }

      // the baselines on the same GPU-days
      let rule: { score: Float64Array; flagged: boolean[] } | null = null;
      let overall: { score: Float64Array; flagged: boolean[] } | null = null;
      if (opts.baselines !== false) {
        const cutoffs = Array.from({ length: nDays }, (_, k) => fromMs + k * DAY_MS);
        const b = await baselineScores(db, cutoffs, progress);
        rule = { score: new Float64Array(days.length), flagged: new Array<boolean>(days.length) };
        overall = { score: new Float64Array(days.length), flagged: new Array<boolean>(days.length) };
        days.forEach((d, i) => {
          const v = b.get(`${d.gpu}@${d.cutoffMs}`);
          rule!.score[i] = v ? v.rule : Number.NEGATIVE_INFINITY;
          rule!.flagged[i] = v ? v.rule >= RULE_RISK_ALERT : false;
          // baselineScores negates the overall score (higher is riskier)
          overall!.score[i] = v ? v.overall : Number.NEGATIVE_INFINITY;
          overall!.flagged[i] = v ? -v.overall < OVERALL_SCORE_ALERT : false;
        });
      }

      // the failures of the period, of GPUs the lake has telemetry for
      const failures: (BacktestFailure & { host: string | null })[] = [];
      let withoutTelemetry = 0;
      const hostOf = new Map<string, string | null>();
      for (const [i, g] of m.gpu.entries()) hostOf.set(g, m.host[i] ?? null);
      for (const [gpu, o] of outcomes) {
        for (const f of o.failures) {
          if (f.atMs < fromMs || f.atMs > toMs + DAY_MS) continue;
          if (o.lastSampleMs === null) withoutTelemetry++;
          else failures.push({ gpu, atMs: f.atMs, type: f.type, host: hostOf.get(gpu) ?? null });
        }
      }
      failures.sort((a, b) => a.atMs - b.atMs || a.gpu.localeCompare(b.gpu));

      const strip = ({ per_failure: _, ...rest }: HorizonMetrics): Metrics => rest;
      const results = horizons.map((h, k) => ({
        h,
        model: backtestHorizon(days, failures, { score: probs[k]!, flagged }, k, h),
        rule: rule ? backtestHorizon(days, failures, rule, k, h) : null,
        overall: overall ? backtestHorizon(days, failures, overall, k, h) : null,
      }));
      const widest = results.at(-1)!;
      for (const r of results)
        if (r.model.gpu_days === 0)
          warnings.push(
            `no replayed day has its whole ${r.h}-day horizon within the data (which ends ${iso(endMs).slice(0, 10)}): the ${r.h}d precision, false alarms and PR-AUC cannot be judged; its catches and lead times can`,
          );

      // the factors behind each caught failure's first flag, as predict would have shown them
      const rows: BacktestFailureRow[] = [];
      for (const [j, f] of failures.entries()) {
        const first = widest.model.per_failure[j]!.first_flag;
        let factors: string[] = [];
        let short: string | null = null;
        if (first !== null) {
          const i = keep[first]!;
          const [row] = await predictRows(
            model,
            { gpu: [m.gpu[i]!], host: [m.host[i] ?? null], model: [m.model[i] ?? null], X: m.X.slice(i * F, (i + 1) * F) },
            iso(m.cutoffMs[i]!),
          );
          factors = row?.top_factors.map((t) => t.text) ?? [];
          short = row?.top_factor ?? null;
        }
        rows.push({
          gpu_uuid: f.gpu,
          host: f.host,
          failed_at: iso(f.atMs),
          failure_type: f.type,
          days_watched: widest.model.per_failure[j]!.days_watched,
          flagged: Object.fromEntries(results.map((r) => [label(r.h), r.model.per_failure[j]!.flagged])),
          lead_days: Object.fromEntries(results.map((r) => [label(r.h), r.model.per_failure[j]!.lead_days])),
          flagged_at: first === null ? null : iso(days[first]!.cutoffMs),
          failure_prob_30d_at_flag: first === null ? null : Number(p30[first]!.toFixed(4)),
          top_factors: factors,
          top_factor: short,
          rule_based_risk_flagged: widest.rule ? widest.rule.per_failure[j]!.flagged : null,
          overall_score_flagged: widest.overall ? widest.overall.per_failure[j]!.flagged : null,
        });
      }
      return {
        from: iso(fromMs),
        to: iso(toMs),
        model: { name: card.name, version: card.version, trained: { from: card.training.from, to: card.training.to } },
        warnings,
        gpus: new Set(days.map((d) => d.gpu)).size,
        gpu_days: days.length,
        horizons: results.map((r) => ({
          horizon: label(r.h),
          model: strip(r.model),
          rule_based_risk: r.rule ? strip(r.rule) : null,
          overall_score: r.overall ? strip(r.overall) : null,
        })),
        failures: rows,
        failures_without_telemetry: withoutTelemetry,
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      await model.close();
    }
  });
}
