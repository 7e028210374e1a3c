/**
 * `gpuhealth recommend`: for every GPU, keep, sell, repurpose or decommission, and what that is worth
 * (docs/economics.md). One window stage computes what `score` and `predict` compute (the features and
 * grades over the 7 days before `--at`, the failure probabilities at `--at`), reads the registry's
 * deployment and warranty dates, and hands each GPU's measured utilisation, power draw and throughput
 * against its peers, its grade and its survival curve to the arithmetic (economics/npv.ts). Every row
 * is written to `lake/recommendations/date=<at>/` in one atomic commit, like `score`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gpuEconomics, sensitivity } from '../economics/npv.js';
import { modelPricesFor } from '../economics/defaults.js';
import type { Decision, DecisionFlip, EconomicsSettings, GpuEconomics } from '../economics/types.js';
import type { HealthGrade } from '../health/score.js';
import { XID_CLASSES, type XidTable } from '../dcgm/xid.js';
import { loadJsonlTable } from '../sql/lake-views.js';
import { RECOMMEND_ASSETS_SQL } from '../sql/recommend.js';
import { computeFeatureTable, readFeatureRows, type FeatureRow } from './features.js';
import { resolveModel } from './models.js';
import { DAY_MS } from './prediction-data.js';
import { computePredictions, type PredictionRow, type PredictionSource, type PriorUse } from './predict.js';
import { scoreFeatureRow } from './score.js';
import { selectGpus } from './select.js';
import { windowFile, windowSummary, withWindowStage, type StageWrites, type WindowOptions } from './window.js';

export interface RecommendationRow {
  gpu_uuid: string;
  host: string | null;
  model: string | null;
  /** The `economics.models` entry whose prices apply; null when none matches. */
  price_model: string | null;
  decision: Decision | null;
  expected_value: number | null;
  npv_keep: number | null;
  npv_sell: number | null;
  npv_repurpose: number | null;
  salvage_value: number | null;
  confidence: number | null;
  rationale: string;
  /** An RMA under warranty (decision decommission, valued at the replacement). */
  rma: boolean;
  health_grade: HealthGrade | null;
  overall_score: number | null;
  failure_prob_7d: number | null;
  failure_prob_30d: number | null;
  failure_prob_90d: number | null;
  prediction_source: PredictionSource | null;
  /** Measured over the window: utilisation 0–1, mean power draw (W), throughput against same-model peers (1 = as they are). */
  utilization: number | null;
  power_w: number | null;
  performance_factor: number | null;
  warranty_days_left: number | null;
  age_days: number | null;
  /** The first month of keeping the GPU (USD): revenue, and power + maintenance + expected failure cost. */
  monthly_revenue: number | null;
  monthly_cost: number | null;
  /** With --sensitivity: the decisions that flip when an input moves ±20 %; else null. */
  sensitivity: DecisionFlip[] | null;
  at: string;
}

export const RECOMMENDATION_COLUMNS: Record<keyof RecommendationRow, string> = {
  gpu_uuid: 'VARCHAR',
  host: 'VARCHAR',
  model: 'VARCHAR',
  price_model: 'VARCHAR',
  decision: 'VARCHAR',
  expected_value: 'DOUBLE',
  npv_keep: 'DOUBLE',
  npv_sell: 'DOUBLE',
  npv_repurpose: 'DOUBLE',
  salvage_value: 'DOUBLE',
  confidence: 'DOUBLE',
  rationale: 'VARCHAR',
  rma: 'BOOLEAN',
  health_grade: 'VARCHAR',
  overall_score: 'DOUBLE',
  failure_prob_7d: 'DOUBLE',
  failure_prob_30d: 'DOUBLE',
  failure_prob_90d: 'DOUBLE',
  prediction_source: 'VARCHAR',
  utilization: 'DOUBLE',
  power_w: 'DOUBLE',
  performance_factor: 'DOUBLE',
  warranty_days_left: 'DOUBLE',
  age_days: 'DOUBLE',
  monthly_revenue: 'DOUBLE',
  monthly_cost: 'DOUBLE',
  sensitivity: 'STRUCT(input VARCHAR, change DOUBLE, decision VARCHAR)[]',
  at: 'TIMESTAMP',
};

/** The fleet as the people who pay for it read it (the proof of concept's totals, made right). */
export interface FleetTotals {
  gpus: number;
  /** Σ expected_value over the GPUs with a decision. */
  fleet_value: number;
  /** Σ of the first month of keeping every priced GPU as it runs now. */
  monthly_revenue: number;
  monthly_operating_cost: number;
  monthly_profit: number;
  decisions: Record<Decision | 'none', number>;
  rma_under_warranty: number;
  for_sale: { gpus: number; value: number; list: { gpu_uuid: string; host: string | null; model: string | null; value: number }[] };
  /** Models seen without prices in the config (their GPUs have no decision). */
  models_without_prices: string[];
  /** With --sensitivity: the GPUs whose decision flips under some ±20 % move, and the flips per input. */
  sensitivity: { gpus_with_flips: number; flips: Record<string, number> } | null;
}

export interface RecommendOptions extends Omit<WindowOptions, 'sinceMs'> {
  economics: EconomicsSettings;
  xidClasses?: XidTable;
  model?: string;
  decision?: Decision;
  sensitivity?: boolean;
  worst?: number;
}

export interface RecommendResult {
  at: string;
  rows: RecommendationRow[];
  totals: FleetTotals;
  failed_left_out: number;
  prior: PriorUse;
  model: { name: string; version: string };
  file: string | null;
  rollups_built: number;
  writes: StageWrites;
  seconds: number;
}

/** The window the measurements come from (as `predict`'s). */
const WINDOW_MS = 7 * DAY_MS;
/** Throughput against peers is read from the SM clock under load (prediction feature clock_rel_7d, %). */
const THROUGHPUT_FEATURE = 'clock_rel_7d';
/**
 * The throughput factor's range: a clock 50 % below its peers' is a broken GPU the grade already
 * shows, and one above them by more than a boost bin is a cohort of one.
 */
const PERFORMANCE_RANGE = [0.5, 1.1] as const;

const round = (x: number | null, d: number): number | null => (x === null ? null : Number(x.toFixed(d)));
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Worst value first; GPUs without a decision last. */
export function byValue(a: RecommendationRow, b: RecommendationRow): number {
  const x = a.expected_value ?? Number.POSITIVE_INFINITY;
  const y = b.expected_value ?? Number.POSITIVE_INFINITY;
  return x - y || a.gpu_uuid.localeCompare(b.gpu_uuid);
}

interface AssetFacts {
  model: string | null;
  deployed_ms: number | null;
  warranty_ms: number | null;
}

/** The measured inputs of one GPU, or the reason it has none. */
function measured(
  f: FeatureRow,
  notReporting: boolean,
  throughputRel: number | undefined,
): { utilization: number; power_w: number; performance_factor: number } | string {
  if (notReporting) return 'not reporting in the window';
  const util = num(f['gpu_util_mean']) ?? num(f['sm_active_mean']);
  const power = num(f['power_mean']);
  if (util === null) return 'no utilisation measured in the window (DCGM_FI_DEV_GPU_UTIL)';
  if (power === null) return 'no power draw measured in the window (DCGM_FI_DEV_POWER_USAGE)';
  const rel = throughputRel !== undefined && Number.isFinite(throughputRel) ? 1 + throughputRel / 100 : 1;
  return {
    utilization: Math.min(Math.max(util / 100, 0), 1),
    power_w: power,
    performance_factor: Math.min(Math.max(rel, PERFORMANCE_RANGE[0]), PERFORMANCE_RANGE[1]),
  };
}

function noEconomics(reason: string): GpuEconomics {
  return {
    decision: null,
    expected_value: null,
    npv_keep: null,
    npv_sell: null,
    npv_repurpose: null,
    salvage_value: null,
    confidence: null,
    rationale: reason,
    rma: false,
    first_month: null,
  };
}

/** Totals over every row (not only those shown). */
export function fleetTotals(rows: readonly RecommendationRow[], withSensitivity: boolean): FleetTotals {
  const decisions: Record<Decision | 'none', number> = { keep: 0, sell: 0, repurpose: 0, decommission: 0, none: 0 };
  let value = 0;
  let revenue = 0;
  let cost = 0;
  const forSale: FleetTotals['for_sale']['list'] = [];
  let flipped = 0;
  const flips: Record<string, number> = {};
  for (const r of rows) {
    decisions[r.decision ?? 'none']++;
    value += r.expected_value ?? 0;
    revenue += r.monthly_revenue ?? 0;
    cost += r.monthly_cost ?? 0;
    if (r.decision === 'sell') forSale.push({ gpu_uuid: r.gpu_uuid, host: r.host, model: r.model, value: r.expected_value! });
    if (r.sensitivity && r.sensitivity.length > 0) {
      flipped++;
      for (const f of r.sensitivity) {
        const key = `${f.input} ${f.change > 0 ? '+' : '−'}${Math.round(Math.abs(f.change) * 100)} %`;
        flips[key] = (flips[key] ?? 0) + 1;
      }
    }
  }
  forSale.sort((a, b) => b.value - a.value || a.gpu_uuid.localeCompare(b.gpu_uuid));
  const money = (x: number): number => Number(x.toFixed(2));
  const unpriced = new Set(rows.filter((r) => r.price_model === null && r.rationale.startsWith('No prices')).map((r) => r.model ?? '(unknown)'));
  return {
    gpus: rows.length,
    fleet_value: money(value),
    monthly_revenue: money(revenue),
    monthly_operating_cost: money(cost),
    monthly_profit: money(revenue - cost),
    decisions,
    rma_under_warranty: rows.filter((r) => r.rma).length,
    for_sale: { gpus: forSale.length, value: money(forSale.reduce((s, g) => s + g.value, 0)), list: forSale },
    models_without_prices: [...unpriced].sort(),
    sensitivity: withSensitivity ? { gpus_with_flips: flipped, flips } : null,
  };
}

export async function recommendFleet(opts: RecommendOptions): Promise<RecommendResult> {
  const t0 = Date.now();
  const xidClasses = opts.xidClasses ?? XID_CLASSES;
  return withWindowStage({ ...opts, sinceMs: WINDOW_MS }, async (stage) => {
    const { db, layout, startMs, endMs, progress } = stage;
    const stored = resolveModel(layout.root, opts.model);
    progress('computing features');
    await computeFeatureTable(db, startMs, endMs);
    const featureRows = await readFeatureRows(db);
    progress('computing prediction features');
    const predictions = await computePredictions(db, endMs, stored, progress, [THROUGHPUT_FEATURE]);
    const predictionOf = new Map<string, PredictionRow>(predictions.rows.map((r) => [r.gpu_uuid, r]));
    const assets = new Map<string, AssetFacts>(
      (await db.query<{ gpu_uuid: string } & AssetFacts & Record<string, unknown>>('recommend assets', RECOMMEND_ASSETS_SQL)).map((a) => [a.gpu_uuid, a]),
    );
    progress('valuing');
    const atIso = new Date(endMs).toISOString();
    const all: RecommendationRow[] = [];
    for (const f of featureRows) {
      if (predictions.failed.has(f.gpu_uuid)) continue;
      const score = scoreFeatureRow(f, xidClasses);
      const asset = assets.get(f.gpu_uuid);
      const model = asset?.model ?? f.model;
      const priced = modelPricesFor(opts.economics, model);
      const p = predictionOf.get(f.gpu_uuid);
      const m = measured(f, score.degradation_factors.includes('not_reporting'), predictions.extras.get(f.gpu_uuid)?.[0]);
      const warrantyDaysLeft = asset?.warranty_ms != null ? (asset.warranty_ms - endMs) / DAY_MS : null;
      const ageDays = asset?.deployed_ms != null ? Math.max(0, (endMs - asset.deployed_ms) / DAY_MS) : null;
      let econ: GpuEconomics;
      let flips: DecisionFlip[] | null = null;
      if (typeof m === 'string') econ = noEconomics(`No decision: ${m}`);
      else if (score.health_grade === null) econ = noEconomics('No decision: no health grade (no dimension could be scored)');
      else if (!p) econ = noEconomics('No decision: no failure prediction for this GPU');
      else {
        const input = {
          gpu_uuid: f.gpu_uuid,
          prices: priced?.prices ?? null,
          price_key: priced?.key ?? null,
          health_grade: score.health_grade,
          rma_grade: score.rma_grade,
          ...m,
          failure_prob_7d: p.failure_prob_7d,
          failure_prob_30d: p.failure_prob_30d,
          failure_prob_90d: p.failure_prob_90d,
          warranty_days_left: warrantyDaysLeft,
        };
        econ = gpuEconomics(input, opts.economics, endMs, model);
        if (opts.sensitivity) flips = sensitivity(input, opts.economics);
      }
      const fm = econ.first_month;
      all.push({
        gpu_uuid: f.gpu_uuid,
        host: f.host,
        model,
        price_model: priced?.key ?? null,
        decision: econ.decision,
        expected_value: round(econ.expected_value, 2),
        npv_keep: round(econ.npv_keep, 2),
        npv_sell: round(econ.npv_sell, 2),
        npv_repurpose: round(econ.npv_repurpose, 2),
        salvage_value: round(econ.salvage_value, 2),
        confidence: econ.confidence,
        rationale: econ.rationale,
        rma: econ.rma,
        health_grade: score.health_grade,
        overall_score: score.overall_score,
        failure_prob_7d: p?.failure_prob_7d ?? null,
        failure_prob_30d: p?.failure_prob_30d ?? null,
        failure_prob_90d: p?.failure_prob_90d ?? null,
        prediction_source: p?.prediction_source ?? null,
        utilization: typeof m === 'string' ? null : round(m.utilization, 4),
        power_w: typeof m === 'string' ? null : round(m.power_w, 1),
        performance_factor: typeof m === 'string' ? null : round(m.performance_factor, 4),
        warranty_days_left: round(warrantyDaysLeft, 1),
        age_days: round(ageDays, 1),
        monthly_revenue: fm ? round(fm.revenue, 2) : null,
        monthly_cost: fm ? round(fm.power_cost + fm.maintenance + fm.expected_failure_cost, 2) : null,
        sensitivity: flips,
        at: atIso,
      });
    }
    let file: string | null = null;
    if (stage.writable && all.length > 0) {
      const target = windowFile(path.join(layout.root, 'recommendations'), 'recommendations', startMs, endMs);
      const tmp = path.join(stage.run.stage, 'recommendations.jsonl');
      fs.writeFileSync(tmp, `${all.map((r) => JSON.stringify(r)).join('\n')}\n`);
      await loadJsonlTable(db, 'recommendations', tmp, RECOMMENDATION_COLUMNS);
      if (await stage.writeTables([{ table: 'recommendations', target }])) file = target;
    }
    let rows = selectGpus(all, opts.gpus, opts.hosts);
    if (opts.decision) rows = rows.filter((r) => r.decision === opts.decision);
    rows.sort(byValue);
    if (opts.worst !== undefined) rows = rows.slice(0, opts.worst);
    return {
      at: windowSummary(startMs, endMs).at,
      rows,
      totals: fleetTotals(all, Boolean(opts.sensitivity)),
      failed_left_out: predictions.failed.size,
      prior: predictions.prior,
      model: { name: stored.card.name, version: stored.card.version },
      file,
      rollups_built: stage.rollupsBuilt,
      writes: stage.writes(),
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
