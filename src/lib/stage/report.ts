/**
 * The data of the fleet report (`gpuhealth report`, `gpuhealth nightly`): everything ReportData
 * (report/types.ts) holds, read from the lake for one `at`, never recomputed.
 *
 *   at        --at rounded down to the hour, else the newest `at` among the scores files (by name: the
 *             window stages stamp `at` into every result file's name, stage/window.ts windowFile)
 *   results   scores-<at>-7d (else any scores file of that `at`) with the features file of the same
 *             window, predictions-<at>-7d, recommendations-<at>-7d: each through a view of its own
 *             (sql/report.ts), empty when the lake lacks it, so one query joins them all
 *   raw       the day [at − 24 h, at): Xid events, remapped-row increases (the hourly rollups' readings),
 *             the ingest manifest; the uncorrectable ECC increase is the features file's dbe_last_24h
 *             (the rollups stitched reset-aware by the features query, which a second stitch here would
 *             only repeat, at seconds per 10,000 GPUs)
 *   history   earlier reports' JSON in <lake>/reports/ (written by `nightly`, reportFile): the 30-day
 *             trend and the grade changes since the newest of them
 *
 * Read-only: like `survival`, it takes no lock (beyond a killed commit's recovery, as every reader)
 * and writes nothing into the lake. One query per purpose over the whole fleet, none per GPU.
 */
import fs from 'node:fs';
import path from 'node:path';
import { classifyXid, UNCLASSIFIED_XID, XID_CLASSES, type XidTable } from '../dcgm/xid.js';
import { withDb } from '../db/duckdb.js';
import { InputError } from '../errors.js';
import { GRADES, type HealthGrade } from '../health/score.js';
import { lakeLayout, type LakeLayout } from '../lake/layout.js';
import { checkLakePath } from '../lake/run.js';
import { recoverBeforeRead } from '../lake/txn.js';
import type { RiskLevel } from '../model/card.js';
import {
  AT_RISK_LIMIT,
  type CounterIncrease,
  type GradeChange,
  type MissingSignal,
  type RackRisk,
  REPORT_SCHEMA_VERSION,
  type ReportData,
  type ReportEconomics,
  type ReportGpu,
  type SilentGpu,
  type SilentHost,
  type TrendPoint,
  type XidEventCount,
} from '../report/types.js';
import { createLakeViews } from '../sql/lake-views.js';
import {
  REPORT_REMAPS_SQL,
  type ReportResultView,
  resultFileColumnsSql,
  REPORT_GPUS_SQL,
  REPORT_RECOMMENDATIONS_SQL,
  REPORT_REJECTS_SQL,
  REPORT_XIDS_SQL,
  reportResultViewSql,
} from '../sql/report.js';
import { PREDICTION_COLUMNS } from './predict.js';
import { fleetTotals, RECOMMENDATION_COLUMNS, type RecommendationRow } from './recommend.js';
import { SCORE_COLUMNS } from './score.js';
import { atStamp, HOUR_MS } from './window.js';

const DAY_MS = 24 * HOUR_MS;
/** How far back the trend reaches. */
export const TREND_DAYS = 30;
/** The window whose results the report prefers (what `nightly`, `predict` and `recommend` use). */
const REPORT_WINDOW = '7d';
/**
 * The day's remap counts are read from this long before the day, so the day's first hour has a reading
 * before it (a GPU sampled at least once a day is counted across the day's start).
 */
const COUNTER_LOOKBACK_MS = DAY_MS;

/** The features file's columns the report reads (the rest of the file is ignored). */
const FEATURE_REPORT_COLUMNS = {
  gpu_uuid: 'VARCHAR',
  samples: 'BIGINT',
  temp_excess_at_power: 'DOUBLE',
  signals_absent: 'VARCHAR',
  dbe_last_24h: 'DOUBLE',
} as const;

/**
 * What switches on each signal of the features' `signals_absent` (docs/features.md), in that list's
 * order: the DCGM fields behind it (src/lib/dcgm/fields.ts), which dcgm-exporter's default counters
 * CSV leaves out in part.
 */
export const SIGNAL_HINTS: Readonly<Record<string, string>> = {
  temperature: 'DCGM_FI_DEV_GPU_TEMP (dcgm-exporter: add it to the counters CSV)',
  power: 'DCGM_FI_DEV_POWER_USAGE (dcgm-exporter: add it to the counters CSV)',
  sm_clock: 'DCGM_FI_DEV_SM_CLOCK (dcgm-exporter: add it to the counters CSV)',
  profiling: 'DCGM_FI_PROF_SM_ACTIVE, DCGM_FI_PROF_DRAM_ACTIVE (dcgm-exporter: add them to the counters CSV; DCGM profiling must be allowed)',
  clock_events: 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS / DCGM_FI_DEV_CLOCKS_EVENT_REASONS (dcgm-exporter: add it to the counters CSV)',
  ecc: 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL, DCGM_FI_DEV_ECC_DBE_VOL_TOTAL (dcgm-exporter: add them to the counters CSV)',
  memory_repair:
    'DCGM_FI_DEV_ROW_REMAP_FAILURE, DCGM_FI_DEV_ROW_REMAP_PENDING, DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS, DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS (before Ampere: DCGM_FI_DEV_RETIRED_SBE, DCGM_FI_DEV_RETIRED_DBE) (dcgm-exporter: add them to the counters CSV)',
  pcie: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER (dcgm-exporter: add it to the counters CSV)',
  nvlink: 'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL (dcgm-exporter: add it to the counters CSV)',
};

export interface ReportOptions {
  lake: string;
  /** The results to report (rounded down to the hour); default the newest scores in the lake. */
  atMs?: number;
  /** The report's clock (`generated_at`); default now. */
  nowMs?: number;
  /** The Xid table the events' meanings come from (defaults merged with the config file's `xid`). */
  xidClasses?: XidTable;
}

/** Where a report for `atIso` lives in the lake: `<lake>/reports/<YYYY-MM-DD>/report-<atStamp>.<ext>`. */
export function reportFile(lakeRoot: string, atIso: string, ext: 'html' | 'md' | 'json'): string {
  const ms = Date.parse(atIso);
  return path.join(path.resolve(lakeRoot), 'reports', new Date(ms).toISOString().slice(0, 10), `report-${atStamp(ms)}.${ext}`);
}

/** `20261120T0000Z` → epoch ms, or null. */
function stampMs(stamp: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(ms) ? null : ms;
}

const RESULT_NAME = /^(scores|features|predictions|recommendations)-(\d{8}T\d{4}Z)-(\w+)\.parquet$/;

/** Result files of one table: `<table>/date=…/<table>-<stamp>-<window>.parquet`, with their `at`. */
function listResults(root: string, table: string): { file: string; atMs: number; window: string }[] {
  const dir = path.join(root, table);
  const out: { file: string; atMs: number; window: string }[] = [];
  let days: string[];
  try {
    days = fs.readdirSync(dir).filter((d) => d.startsWith('date='));
  } catch {
    return out;
  }
  for (const d of days.sort()) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, d));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const m = RESULT_NAME.exec(name);
      if (!m || m[1] !== table) continue;
      const atMs = stampMs(m[2]!);
      if (atMs !== null) out.push({ file: path.join(dir, d, name), atMs, window: m[3]! });
    }
  }
  return out;
}

/** The file of `table` for `atMs` and `window`, by the name its stage gives it; null when the lake lacks it. */
function resultFile(root: string, table: string, atMs: number, window: string): string | null {
  const file = path.join(root, table, `date=${new Date(atMs).toISOString().slice(0, 10)}`, `${table}-${atStamp(atMs)}-${window}.parquet`);
  return fs.existsSync(file) ? file : null;
}

interface ResultFiles {
  scores: string;
  features: string | null;
  predictions: string | null;
  recommendations: string | null;
}

/** The results for `atMs` (see the header); an InputError when the lake has no scores for it. */
function findResults(layout: LakeLayout, atMs: number, explicit: boolean): ResultFiles {
  const root = layout.root;
  const iso = new Date(atMs).toISOString();
  let scores = resultFile(root, 'scores', atMs, REPORT_WINDOW);
  let window = REPORT_WINDOW;
  if (scores === null) {
    const other = listResults(root, 'scores').find((r) => r.atMs === atMs);
    if (other) [scores, window] = [other.file, other.window];
  }
  if (scores === null) {
    const at = iso.replace(/:00\.000Z$/, 'Z');
    throw new InputError(`the lake at ${root} holds no scores for ${explicit ? at : 'any time'}`, [
      `run gpuhealth score --at ${at} (or gpuhealth nightly --at ${at}) first`,
    ]);
  }
  return {
    scores,
    features: resultFile(root, 'features', atMs, window),
    predictions: resultFile(root, 'predictions', atMs, REPORT_WINDOW),
    recommendations: resultFile(root, 'recommendations', atMs, REPORT_WINDOW),
  };
}

/** An earlier report as the trend and the grade changes read it. */
interface EarlierReport {
  atMs: number;
  point: TrendPoint;
  file: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A report JSON's trend point, or null when the file is not a readable report. */
function readReportPoint(file: string): { atMs: number; point: TrendPoint } | null {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (!isRecord(data) || typeof data['at'] !== 'string' || !isRecord(data['fleet'])) return null;
  const atMs = Date.parse(data['at']);
  const fleet = data['fleet'];
  if (Number.isNaN(atMs) || typeof fleet['gpus'] !== 'number') return null;
  return {
    atMs,
    point: {
      at: new Date(atMs).toISOString(),
      health_index: numOrNull(fleet['health_index']),
      share_good_or_better: numOrNull(fleet['share_good_or_better']),
      gpus: fleet['gpus'],
    },
  };
}

/** The reports in <lake>/reports/ whose `at` lies in the TREND_DAYS before `atMs` (not at it), oldest first; unreadable ones skipped. */
function earlierReports(root: string, atMs: number): EarlierReport[] {
  const dir = path.join(root, 'reports');
  const fromMs = atMs - TREND_DAYS * DAY_MS;
  const firstDay = new Date(fromMs).toISOString().slice(0, 10);
  const lastDay = new Date(atMs).toISOString().slice(0, 10);
  let days: string[];
  try {
    days = fs.readdirSync(dir).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && d >= firstDay && d <= lastDay);
  } catch {
    return [];
  }
  const byAt = new Map<number, EarlierReport>();
  for (const d of days.sort()) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, d)).filter((n) => /^report-.*\.json$/.test(n));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const file = path.join(dir, d, name);
      const r = readReportPoint(file);
      if (r && r.atMs >= fromMs && r.atMs < atMs && !byAt.has(r.atMs)) byAt.set(r.atMs, { ...r, file });
    }
  }
  return [...byAt.values()].sort((a, b) => a.atMs - b.atMs);
}

/** A GPU of an earlier report, as the grade changes compare it. */
export interface EarlierGpu {
  host: string | null;
  grade: HealthGrade | null;
}

function readEarlierGpus(file: string): Map<string, EarlierGpu> | null {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (!isRecord(data) || !Array.isArray(data['gpus'])) return null;
  const out = new Map<string, EarlierGpu>();
  for (const g of data['gpus']) {
    if (!isRecord(g) || typeof g['gpu_uuid'] !== 'string') continue;
    const grade = (GRADES as readonly unknown[]).includes(g['health_grade']) ? (g['health_grade'] as HealthGrade) : null;
    out.set(g['gpu_uuid'], { host: typeof g['host'] === 'string' ? g['host'] : null, grade });
  }
  return out;
}

/**
 * Each GPU whose grade changed since `before`: a better grade (earlier in GRADES) is up; a GPU that
 * appears is up, one that disappears is down. A GPU in both reports without a grade in one of them
 * (no dimension could be scored) is left out: `from`/`to` null means "not in that report", and an
 * unknown grade is neither better nor worse. Downs first, then by GPU.
 */
export function gradeChanges(before: ReadonlyMap<string, EarlierGpu>, now: readonly ReportGpu[]): GradeChange[] {
  const out: GradeChange[] = [];
  const seen = new Set<string>();
  for (const g of now) {
    seen.add(g.gpu_uuid);
    const prev = before.get(g.gpu_uuid);
    if (prev === undefined) {
      out.push({ gpu_uuid: g.gpu_uuid, host: g.host, from: null, to: g.health_grade, direction: 'up' });
      continue;
    }
    if (prev.grade === null || g.health_grade === null || prev.grade === g.health_grade) continue;
    const up = GRADES.indexOf(g.health_grade) < GRADES.indexOf(prev.grade);
    out.push({ gpu_uuid: g.gpu_uuid, host: g.host, from: prev.grade, to: g.health_grade, direction: up ? 'up' : 'down' });
  }
  for (const [uuid, prev] of before) {
    if (!seen.has(uuid)) out.push({ gpu_uuid: uuid, host: prev.host, from: prev.grade, to: null, direction: 'down' });
  }
  return out.sort((a, b) => (a.direction === b.direction ? a.gpu_uuid.localeCompare(b.gpu_uuid) : a.direction === 'down' ? -1 : 1));
}

/** An Xid's meaning in the report: its catalog mnemonic, the part of the GPU it points at and what to do. */
export function xidMeaning(code: number, table: XidTable = XID_CLASSES): string {
  const info = classifyXid(code, table);
  if (info === UNCLASSIFIED_XID) return `not in the Xid table (counted as ${info.class}, severity ${info.severity})`;
  return `${info.mnemonic} (${info.class}; ${info.action ?? `severity ${info.severity}`})`;
}

/** One row of REPORT_GPUS_SQL: the report's GPU, and what the day's events and coverage read. */
interface GpuRow extends ReportGpu {
  last_sample_ms: number | null;
  registry_last_seen_ms: number | null;
  signals_absent: string | null;
  dbe_last_24h: number | null;
}

function toReportGpu(r: GpuRow): ReportGpu {
  const { last_sample_ms, registry_last_seen_ms, signals_absent, dbe_last_24h, ...gpu } = r;
  return gpu;
}

/** Worst first: lowest overall score, unknown last, then by GPU (as `score` lists them). */
const byWorst = (a: ReportGpu, b: ReportGpu): number =>
  (a.overall_score ?? Number.POSITIVE_INFINITY) - (b.overall_score ?? Number.POSITIVE_INFINITY) || a.gpu_uuid.localeCompare(b.gpu_uuid);

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function fleetOf(gpus: readonly ReportGpu[]): ReportData['fleet'] {
  const grades = Object.fromEntries([...GRADES, 'unknown'].map((g) => [g, 0])) as Record<HealthGrade | 'unknown', number>;
  const riskLevels: Record<RiskLevel, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  let sum = 0;
  let graded = 0;
  for (const g of gpus) {
    grades[g.health_grade ?? 'unknown']++;
    if (g.risk_level !== null) riskLevels[g.risk_level]++;
    if (g.health_grade !== null && g.overall_score !== null) {
      sum += g.overall_score;
      graded++;
    }
  }
  const withGrade = gpus.length - grades.unknown;
  return {
    gpus: gpus.length,
    hosts: new Set(gpus.map((g) => g.host).filter((h) => h !== null)).size,
    health_index: graded === 0 ? null : Math.round((sum / graded) * 10) / 10,
    share_good_or_better: withGrade === 0 ? null : (grades.excellent + grades.good) / withGrade,
    grades,
    not_reporting: gpus.filter((g) => g.not_reporting).length,
    risk_levels: riskLevels,
  };
}

/** Per rack (and datacenter) of the asset registry, the mean and highest P30 of its GPUs with a prediction; the riskiest first. */
function racksOf(gpus: readonly ReportGpu[]): RackRisk[] {
  const racks = new Map<string, { rack: string; datacenter: string | null; probs: number[] }>();
  for (const g of gpus) {
    if (g.rack === null || g.failure_prob_30d === null) continue;
    const key = JSON.stringify([g.rack, g.datacenter]);
    const r = racks.get(key) ?? { rack: g.rack, datacenter: g.datacenter, probs: [] };
    r.probs.push(g.failure_prob_30d);
    racks.set(key, r);
  }
  return [...racks.values()]
    .map((r) => ({
      rack: r.rack,
      datacenter: r.datacenter,
      gpus: r.probs.length,
      mean_failure_prob_30d: r.probs.reduce((s, p) => s + p, 0) / r.probs.length,
      max_failure_prob_30d: Math.max(...r.probs),
    }))
    .sort(
      (a, b) =>
        b.mean_failure_prob_30d - a.mean_failure_prob_30d ||
        b.max_failure_prob_30d - a.max_failure_prob_30d ||
        a.rack.localeCompare(b.rack) ||
        (a.datacenter ?? '').localeCompare(b.datacenter ?? ''),
    );
}

/** Signals absent on GPUs that report (a silent GPU lacks every signal, which says nothing about the exporter), in SIGNAL_HINTS order. */
function missingSignals(rows: readonly GpuRow[]): MissingSignal[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.not_reporting || !r.signals_absent) continue;
    for (const s of new Set(r.signals_absent.split(',').map((x) => x.trim()))) if (s !== '') counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const order = Object.keys(SIGNAL_HINTS);
  const rank = (s: string): number => (order.includes(s) ? order.indexOf(s) : order.length);
  return [...counts.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([signal, gpus]) => ({ signal, gpus, hint: SIGNAL_HINTS[signal] ?? `the dcgm-exporter counters behind "${signal}"` }));
}

/**
 * The silent GPUs: those the scores mark not_reporting (silent in the window, or for longer than the
 * scoring rule allows before the fleet's newest sample), with their newest sample in the window, or,
 * silent the whole window, the registry's last sighting when it is before `at`. Most recently heard
 * of first.
 */
function silentGpusOf(rows: readonly GpuRow[], atMs: number): SilentGpu[] {
  return rows
    .filter((r) => r.not_reporting)
    .map((r) => ({
      gpu_uuid: r.gpu_uuid,
      host: r.host,
      last_sample: iso(r.last_sample_ms ?? (r.registry_last_seen_ms !== null && r.registry_last_seen_ms < atMs ? r.registry_last_seen_ms : null)),
    }))
    .sort((a, b) => (b.last_sample ?? '').localeCompare(a.last_sample ?? '') || a.gpu_uuid.localeCompare(b.gpu_uuid));
}

/** Hosts all of whose scored GPUs are silent, by name. */
function silentHostsOf(gpus: readonly ReportGpu[], silent: readonly SilentGpu[]): SilentHost[] {
  const total = new Map<string, number>();
  for (const g of gpus) if (g.host !== null) total.set(g.host, (total.get(g.host) ?? 0) + 1);
  const quiet = new Map<string, { gpus: number; last: string | null }>();
  for (const s of silent) {
    if (s.host === null) continue;
    const q = quiet.get(s.host) ?? { gpus: 0, last: null };
    q.gpus++;
    if (s.last_sample !== null && (q.last === null || s.last_sample > q.last)) q.last = s.last_sample;
    quiet.set(s.host, q);
  }
  return [...quiet.entries()]
    .filter(([host, q]) => q.gpus === total.get(host))
    .map(([host, q]) => ({ host, gpus: q.gpus, last_sample: q.last }))
    .sort((a, b) => a.host.localeCompare(b.host));
}

function economicsOf(rows: readonly RecommendationRow[]): ReportEconomics {
  const t = fleetTotals(rows, false);
  return {
    fleet_value: t.fleet_value,
    monthly_revenue: t.monthly_revenue,
    monthly_operating_cost: t.monthly_operating_cost,
    monthly_profit: t.monthly_profit,
    decisions: t.decisions,
    for_sale: { gpus: t.for_sale.gpus, value: t.for_sale.value },
    models_without_prices: t.models_without_prices,
  };
}

/** The newest `at` among the lake's scores files, or null when it has none. */
function newestScoresAt(root: string): number | null {
  const all = listResults(root, 'scores');
  return all.length === 0 ? null : Math.max(...all.map((r) => r.atMs));
}

/** Everything the report shows for one `at` (see the header). */
export async function buildReportData(opts: ReportOptions): Promise<ReportData> {
  const layout = lakeLayout(opts.lake);
  checkLakePath(layout);
  await recoverBeforeRead(layout);
  const xidTable = opts.xidClasses ?? XID_CLASSES;
  const atMs = opts.atMs !== undefined ? Math.floor(opts.atMs / HOUR_MS) * HOUR_MS : newestScoresAt(layout.root);
  if (atMs === null) {
    throw new InputError(`the lake at ${layout.root} holds no scores`, ['run gpuhealth score --at TIME (or gpuhealth nightly) first']);
  }
  const files = findResults(layout, atMs, opts.atMs !== undefined);
  const earlier = earlierReports(layout.root, atMs);
  const previous = earlier.at(-1) ?? null;
  const previousGpus = previous ? readEarlierGpus(previous.file) : null;
  const day = { start_us: (atMs - DAY_MS) * 1000, end_us: atMs * 1000 };

  const q = await withDb(
    async (db) => {
      await createLakeViews(db, layout);
      const view = async (name: ReportResultView, file: string | null, columns: Readonly<Record<string, string>>): Promise<void> => {
        const present = file === null ? [] : await db.query<{ name: string }>(`${name} columns`, resultFileColumnsSql(file));
        await db.exec(`${name} view`, reportResultViewSql(name, file, columns, new Set(present.map((c) => c.name))));
      };
      await view('report_scores', files.scores, SCORE_COLUMNS);
      await view('report_features', files.features, FEATURE_REPORT_COLUMNS);
      await view('report_predictions', files.predictions, PREDICTION_COLUMNS);
      await view('report_recommendations', files.recommendations, RECOMMENDATION_COLUMNS);
      const gpus = await db.query<GpuRow & Record<string, unknown>>('report gpus', REPORT_GPUS_SQL);
      const recommendations = files.recommendations
        ? await db.query<RecommendationRow & Record<string, unknown>>('report recommendations', REPORT_RECOMMENDATIONS_SQL)
        : null;
      const xids = await db.query<{ gpu_uuid: string; host: string | null; xid: number; count: number; last_ms: number }>('report xids', REPORT_XIDS_SQL, day);
      const remaps = await db.query<{ gpu_uuid: string; host: string | null; remapped_rows: number | null }>('report remaps', REPORT_REMAPS_SQL, {
        ...day,
        lookback_us: (atMs - DAY_MS - COUNTER_LOOKBACK_MS) * 1000,
      });
      const [rejects] = await db.query<{ rejected: number; files: string[] }>('report rejects', REPORT_REJECTS_SQL, day);
      return { gpus, recommendations, xids, remaps, rejects: rejects! };
    },
    { threads: 4 },
  );

  const gpus = q.gpus.map(toReportGpu).sort(byWorst);
  const hostOf = new Map(gpus.map((g) => [g.gpu_uuid, g.host]));
  const increases = (rows: readonly { gpu_uuid: string; host: string | null; increase: number | null }[]): CounterIncrease[] =>
    rows
      .filter((c) => (c.increase ?? 0) > 0)
      .map((c) => ({ gpu_uuid: c.gpu_uuid, host: c.host ?? hostOf.get(c.gpu_uuid) ?? null, increase: c.increase! }))
      .sort((a, b) => b.increase - a.increase || a.gpu_uuid.localeCompare(b.gpu_uuid));
  const xids: XidEventCount[] = q.xids.map((x) => ({
    gpu_uuid: x.gpu_uuid,
    host: x.host ?? hostOf.get(x.gpu_uuid) ?? null,
    xid: x.xid,
    meaning: xidMeaning(x.xid, xidTable),
    count: x.count,
    last: new Date(x.last_ms).toISOString(),
  }));
  const silentGpus = silentGpusOf(q.gpus, atMs);
  // The GPUs that stopped during the day: those the scores call not reporting (the scoring rule's
  // silence, NOT_REPORTING_AFTER_S before the fleet's newest sample and 3 of the GPU's intervals)
  // whose newest sample lies in the day. A GPU silent all window is in coverage.silent_gpus only:
  // it did not stop today, and a rule of the report's own would disagree with the grades.
  const dayStartIso = new Date(atMs - DAY_MS).toISOString();
  const stopped = silentGpus.filter((s) => s.last_sample !== null && s.last_sample >= dayStartIso);
  const fleet = fleetOf(gpus);
  const atIso = new Date(atMs).toISOString();
  const relative = (file: string | null): string | null => (file === null ? null : path.relative(layout.root, file).split(path.sep).join('/'));

  return settled({
    schema_version: REPORT_SCHEMA_VERSION,
    at: atIso,
    generated_at: new Date(opts.nowMs ?? Date.now()).toISOString(),
    lake: layout.root,
    sources: { scores: relative(files.scores), predictions: relative(files.predictions), recommendations: relative(files.recommendations) },
    fleet,
    trend: [
      ...earlier.map((e) => e.point),
      { at: atIso, health_index: fleet.health_index, share_good_or_better: fleet.share_good_or_better, gpus: fleet.gpus },
    ],
    previous_at: previous && previousGpus ? previous.point.at : null,
    grade_changes: previousGpus ? gradeChanges(previousGpus, gpus) : [],
    at_risk: gpus
      .filter((g) => g.failure_prob_30d !== null)
      .sort((a, b) => b.failure_prob_30d! - a.failure_prob_30d! || a.gpu_uuid.localeCompare(b.gpu_uuid))
      .slice(0, AT_RISK_LIMIT),
    events: {
      xids,
      uncorrectable_ecc: increases(q.gpus.map((g) => ({ gpu_uuid: g.gpu_uuid, host: g.host, increase: g.dbe_last_24h }))),
      remapped_rows: increases(q.remaps.map((r) => ({ gpu_uuid: r.gpu_uuid, host: r.host, increase: r.remapped_rows }))),
      stopped_reporting: stopped,
    },
    economics: q.recommendations ? economicsOf(q.recommendations) : null,
    coverage: {
      silent_hosts: silentHostsOf(gpus, silentGpus),
      silent_gpus: silentGpus,
      missing_signals: missingSignals(q.gpus),
      ingest_rejects_last_day: q.rejects.rejected,
      ingest_reject_files: q.rejects.files,
    },
    racks: racksOf(gpus),
    gpus,
  });
}

/**
 * Rounds every fractional number to 10 significant digits. DuckDB's parallel sums differ in
 * the last bits from run to run, so two nightly runs for the same --at would otherwise write
 * reports that differ at 1e-15; no reader needs more than 10 digits of a score or a probability.
 */
function settled<T>(value: T): T {
  if (typeof value === 'number') {
    return (Number.isInteger(value) || !Number.isFinite(value) ? value : Number(value.toPrecision(10))) as T;
  }
  if (Array.isArray(value)) return value.map(settled) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, settled(v)])) as T;
  }
  return value;
}
