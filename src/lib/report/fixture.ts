/**
 * A seeded, realistic ReportData for the renderers' tests, so they need no lake: a fleet mostly healthy
 * with a tail of degraded, poor and critical GPUs, risk rising as the score falls, decisions that
 * follow grade and risk (a few to sell or decommission), a model without prices (decision null), racks
 * of 32 GPUs, Xid events on the worst GPUs, one silent host, missing signals and a 10-point trend.
 * The same `{gpus, seed}` gives the same report, byte for byte.
 */
import { DECISIONS, type Decision } from '../economics/types.js';
import { GRADE_FLOORS, GRADES, type HealthGrade } from '../health/score.js';
import { type RiskLevel, riskLevel } from '../model/card.js';
import { mulberry32 } from '../model/random.js';
import { AT_RISK_LIMIT, type CounterIncrease, type GradeChange, REPORT_SCHEMA_VERSION, type ReportData, type ReportGpu, type TrendPoint } from './types.js';

const AT = '2026-05-01T00:00:00.000Z';
const AT_MS = Date.parse(AT);
const DAY_MS = 86_400_000;
const GPUS_PER_HOST = 8;
const HOSTS_PER_RACK = 4;
const RACKS_PER_DATACENTER = 40;

/** Models and their new value; the last has no prices, as a model missing from `economics.models` would. */
const MODELS = [
  { name: 'NVIDIA H100 80GB HBM3', value: 24_000, priced: true },
  { name: 'NVIDIA A100-SXM4-80GB', value: 9_000, priced: true },
  { name: 'NVIDIA H200', value: 30_000, priced: true },
  { name: 'NVIDIA L40S', value: 7_000, priced: false },
] as const;

const XIDS = [
  { xid: 48, meaning: 'double-bit ECC error' },
  { xid: 79, meaning: 'GPU has fallen off the bus' },
  { xid: 94, meaning: 'contained ECC error' },
  { xid: 95, meaning: 'uncontained ECC error' },
  { xid: 63, meaning: 'ECC page retirement or row remapping event' },
  { xid: 74, meaning: 'NVLink error' },
  { xid: 119, meaning: 'GSP RPC timeout' },
  { xid: 13, meaning: 'graphics engine exception' },
] as const;

const FACTORS = {
  memory: ['uncorrectable ECC errors in the last 7 days', 'remapped rows (uncorrectable)', 'correctable ECC rate rising'],
  thermal: ['runs hotter than its peers at equal power', 'thermal throttling under load'],
  performance: ['SM clock below same-model GPUs under load'],
  power: ['power throttling while below the limit'],
  reliability: ['Xid 79 (fallen off the bus)', 'PCIe replays rising', 'NVLink CRC errors'],
} as const;

const RISK_FACTORS = [
  'sbe_accel_7d = 41×: +1.9 (correctable ECC rate, last 7 days vs days 8–28 before)',
  'dbe_7d = 3: +1.4 (uncorrectable ECC errors, last 7 days)',
  'temp_excess_at_power = 7.2 °C: +0.8 (hotter than same-model GPUs at equal power)',
  'xid_reset_7d = 2: +0.9 (Xids that needed a reset, last 7 days)',
  'pcie_replay_rate = 120/h: +0.5 (PCIe replays)',
  'age_days = 1240: +0.3 (days in service)',
] as const;

const ACTIONS: Record<HealthGrade, string> = {
  excellent: 'none',
  good: 'none',
  fair: 'monitor',
  degraded: 'monitor',
  poor: 'drain_and_diagnose',
  critical: 'rma',
};

function gradeOf(score: number): HealthGrade {
  const s = Math.round(score * 10) / 10;
  return GRADES.find((g) => s >= GRADE_FLOORS[g])!;
}

/** Rounded, and never −0 (JSON writes it as 0, so a report would not survive its own round trip). */
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits || 0;

export function sampleReport(opts: { gpus: number; seed: number }): ReportData {
  const rnd = mulberry32(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const hostCount = Math.max(1, Math.ceil(opts.gpus / GPUS_PER_HOST));
  // one host (when there are several) went silent: all its GPUs stopped reporting
  const silentHost = hostCount > 2 ? hostCount - 2 : -1;

  const gpus: ReportGpu[] = [];
  for (let i = 0; i < opts.gpus; i++) {
    const h = Math.floor(i / GPUS_PER_HOST);
    const rackNo = Math.floor(h / HOSTS_PER_RACK);
    const dc = Math.floor(rackNo / RACKS_PER_DATACENTER) + 1;
    const host = `gpu-node-${String(h + 1).padStart(4, '0')}`;
    // the unpriced model is a small share, as a newly bought model before anyone adds its prices
    const model = h % 23 === 5 ? MODELS[3] : MODELS[(Math.floor(h / 16) + (h % 7 === 0 ? 1 : 0)) % 3]!;
    const notReporting = h === silentHost || rnd() < 0.004;
    // most GPUs are healthy; a tail of about 2 % is anywhere from fair to critical
    const score = notReporting ? null : rnd() < 0.02 ? 15 + rnd() * 65 : Math.max(0, 100 - 6 * -Math.log(1 - rnd()));
    const grade = score === null ? null : gradeOf(score);
    const dims = ['memory', 'thermal', 'performance', 'power', 'reliability'] as const;
    const worst = pick(dims);
    const dim = (d: (typeof dims)[number]): number | null => {
      if (score === null) return null;
      if (d === 'memory' && model.name === 'NVIDIA L40S') return null;
      return d === worst ? round(Math.max(0, score - 5 * rnd()), 1) : round(Math.min(100, score + (100 - score) * rnd()), 1);
    };
    const predicted = score !== null && rnd() > 0.02;
    const p30 = predicted ? Math.min(0.95, 0.002 * Math.exp((100 - score!) / 14) * (0.3 + 1.2 * rnd())) : null;
    const level: RiskLevel | null = p30 === null ? null : riskLevel(p30);
    let decision: Decision | null = null;
    if (grade !== null && model.priced && p30 !== null) {
      if (grade === 'critical') decision = rnd() < 0.5 ? 'decommission' : 'sell';
      else if (grade === 'poor' || p30 >= 0.2) decision = 'sell';
      else if ((grade === 'degraded' || grade === 'fair') && p30 >= 0.02) decision = 'repurpose';
      else decision = 'keep';
    }
    const valueShare: Record<Decision, number> = { keep: 0.9, sell: 0.55, repurpose: 0.45, decommission: 0.06 };
    gpus.push({
      gpu_uuid: `GPU-${hex(rnd, 8)}-${hex(rnd, 4)}-${hex(rnd, 4)}-${hex(rnd, 4)}-${hex(rnd, 12)}`,
      host,
      model: model.name,
      rack: `${dc === 1 ? 'ams' : 'fra'}-r${String((rackNo % RACKS_PER_DATACENTER) + 1).padStart(2, '0')}`,
      datacenter: dc === 1 ? 'ams1' : 'fra1',
      overall_score: score === null ? null : round(score, 1),
      health_grade: grade,
      memory_health: dim('memory'),
      thermal_health: dim('thermal'),
      performance_health: dim('performance'),
      power_health: dim('power'),
      reliability_health: dim('reliability'),
      recommended_action: grade === null ? null : ACTIONS[grade],
      top_factor: grade === null || grade === 'excellent' ? null : `${worst}: ${pick(FACTORS[worst])}`,
      not_reporting: notReporting,
      failure_prob_7d: p30 === null ? null : round(p30 * 0.3, 5),
      failure_prob_30d: p30 === null ? null : round(p30, 5),
      failure_prob_90d: p30 === null ? null : round(Math.min(0.99, p30 * 2.4), 5),
      risk_level: level,
      predicted_failure_type: p30 === null ? null : worst === 'reliability' ? 'interconnect' : worst === 'performance' ? 'other' : worst,
      risk_factors: level === null || level === 'low' ? [] : [pick(RISK_FACTORS), pick(RISK_FACTORS)].filter((f, k, a) => a.indexOf(f) === k),
      decision,
      expected_value: decision === null ? null : Math.round(model.value * valueShare[decision] * (0.8 + 0.4 * rnd())),
      rationale: decision === null ? (model.priced ? 'not measured in the window' : `no prices for ${model.name}`) : `${decision}: the best net present value`,
      warranty_days_left: rnd() < 0.1 ? null : round(-300 + rnd() * 1400, 0),
      temp_excess_at_power: score === null || rnd() < 0.05 ? null : round(rnd() < 0.01 ? 6 + 6 * rnd() : 1.5 * normal(), 1),
    });
  }
  // the worst score first, GPUs without a score last
  gpus.sort((a, b) => (a.overall_score ?? Number.POSITIVE_INFINITY) - (b.overall_score ?? Number.POSITIVE_INFINITY));

  const graded = gpus.filter((g) => g.overall_score !== null);
  const grades = Object.fromEntries([...GRADES, 'unknown'].map((g) => [g, 0])) as Record<HealthGrade | 'unknown', number>;
  for (const g of gpus) grades[g.health_grade ?? 'unknown']++;
  const riskLevels: Record<RiskLevel, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  for (const g of gpus) if (g.risk_level) riskLevels[g.risk_level]++;
  const healthIndex = graded.length === 0 ? null : round(graded.reduce((s, g) => s + g.overall_score!, 0) / graded.length, 1);
  const shareGood = graded.length === 0 ? null : round((grades.excellent + grades.good) / graded.length, 4);

  const trend: TrendPoint[] = [];
  for (let k = 9; k >= 0; k--) {
    const last = k === 0;
    trend.push({
      at: new Date(AT_MS - k * DAY_MS).toISOString(),
      health_index: last ? healthIndex : k === 6 ? null : healthIndex === null ? null : round(healthIndex + 0.15 * k + 0.4 * normal(), 1),
      share_good_or_better: last ? shareGood : shareGood === null ? null : round(Math.min(1, shareGood + 0.002 * k), 4),
      gpus: opts.gpus - (last ? 0 : Math.round(k / 3)),
    });
  }

  const gradeChanges: GradeChange[] = [];
  for (const g of gpus) {
    if (gradeChanges.length >= Math.max(3, Math.round(opts.gpus * 0.02))) break;
    if (g.health_grade === null || rnd() > 0.1) continue;
    const i = GRADES.indexOf(g.health_grade);
    const up = rnd() < 0.3 && i < GRADES.length - 1;
    const from = rnd() < 0.05 ? null : up ? GRADES[i + 1]! : i > 0 ? GRADES[i - 1]! : null;
    if (from === null && !up) continue;
    gradeChanges.push({ gpu_uuid: g.gpu_uuid, host: g.host, from, to: g.health_grade, direction: from === null ? 'up' : up ? 'up' : 'down' });
  }
  gradeChanges.sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'down' ? -1 : 1));

  const predictedGpus = gpus.filter((g) => g.failure_prob_30d !== null);
  const byRisk = [...predictedGpus].sort((a, b) => b.failure_prob_30d! - a.failure_prob_30d!);
  const atRisk = byRisk.slice(0, AT_RISK_LIMIT);

  const troubled = gpus.filter((g) => g.health_grade === 'critical' || g.health_grade === 'poor' || (g.health_grade !== null && rnd() < 0.003));
  const stamp = (ms: number): string => new Date(ms).toISOString();
  const xids = troubled.flatMap((g) => {
    const x = pick(XIDS);
    const more = rnd() < 0.3 ? [pick(XIDS)].filter((y) => y.xid !== x.xid) : [];
    return [x, ...more].map((e) => ({
      gpu_uuid: g.gpu_uuid,
      host: g.host,
      xid: e.xid,
      meaning: e.meaning,
      count: 1 + Math.floor(-3 * Math.log(1 - rnd())),
      last: stamp(AT_MS - Math.floor(rnd() * DAY_MS)),
    }));
  });
  xids.sort((a, b) => b.count - a.count || a.gpu_uuid.localeCompare(b.gpu_uuid) || a.xid - b.xid);
  const memoryTrouble = troubled.filter((g) => g.top_factor?.startsWith('memory') ?? false);
  const byIncrease = (a: CounterIncrease, b: CounterIncrease): number => b.increase - a.increase || a.gpu_uuid.localeCompare(b.gpu_uuid);
  const uncorrectable = memoryTrouble.map((g) => ({ gpu_uuid: g.gpu_uuid, host: g.host, increase: 1 + Math.floor(rnd() * 4) })).sort(byIncrease);
  const remapped = memoryTrouble
    .filter((g) => g.model !== 'NVIDIA L40S' && rnd() < 0.7)
    .map((g) => ({ gpu_uuid: g.gpu_uuid, host: g.host, increase: 1 + Math.floor(rnd() * 2) }))
    .sort(byIncrease);
  const silent = gpus.filter((g) => g.not_reporting);
  const silentGpus = silent.map((g) => ({ gpu_uuid: g.gpu_uuid, host: g.host, last_sample: stamp(AT_MS - Math.floor((0.3 + 3 * rnd()) * DAY_MS)) }));
  const stopped = silentGpus.filter((s) => s.last_sample !== null && Date.parse(s.last_sample) > AT_MS - DAY_MS);
  const silentHostName = silentHost < 0 ? null : `gpu-node-${String(silentHost + 1).padStart(4, '0')}`;
  const silentHostGpus = silentGpus.filter((s) => s.host === silentHostName);

  const decisions = Object.fromEntries([...DECISIONS, 'none'].map((d) => [d, 0])) as Record<Decision | 'none', number>;
  for (const g of gpus) decisions[g.decision ?? 'none']++;
  const forSale = gpus.filter((g) => g.decision === 'sell');
  const priced = gpus.filter((g) => g.decision !== null);
  const revenue = Math.round(priced.length * 1_460);
  const cost = Math.round(priced.length * 310);

  // as report/data reads them: the GPUs with a prediction per rack, the riskiest rack first
  const rackMap = new Map<string, { datacenter: string | null; p: number[] }>();
  for (const g of gpus) {
    if (g.failure_prob_30d === null) continue;
    const r = rackMap.get(g.rack!) ?? { datacenter: g.datacenter, p: [] };
    r.p.push(g.failure_prob_30d);
    rackMap.set(g.rack!, r);
  }
  const racks = [...rackMap]
    .map(([rack, r]) => ({
      rack,
      datacenter: r.datacenter,
      gpus: r.p.length,
      mean_failure_prob_30d: round(r.p.reduce((s, p) => s + p, 0) / r.p.length, 5),
      max_failure_prob_30d: Math.max(...r.p),
    }))
    .sort((a, b) => b.mean_failure_prob_30d - a.mean_failure_prob_30d || a.rack.localeCompare(b.rack));

  const reporting = gpus.length - silent.length;
  return {
    schema_version: REPORT_SCHEMA_VERSION,
    at: AT,
    generated_at: '2026-05-01T00:04:12.000Z',
    lake: '/srv/gpuhealth-lake',
    sources: {
      scores: 'scores/date=2026-05-01/scores-2026-05-01T00:00:00Z-7d.parquet',
      predictions: 'predictions/date=2026-05-01/predictions-2026-05-01T00:00:00Z.parquet',
      recommendations: 'recommendations/date=2026-05-01/recommendations-2026-05-01T00:00:00Z-7d.parquet',
    },
    fleet: {
      gpus: gpus.length,
      hosts: hostCount,
      health_index: healthIndex,
      share_good_or_better: shareGood,
      grades,
      not_reporting: silent.length,
      risk_levels: riskLevels,
    },
    trend,
    previous_at: trend.at(-2)?.at ?? null,
    grade_changes: gradeChanges,
    at_risk: atRisk,
    events: { xids, uncorrectable_ecc: uncorrectable, remapped_rows: remapped, stopped_reporting: stopped },
    economics: {
      fleet_value: priced.reduce((s, g) => s + g.expected_value!, 0),
      monthly_revenue: revenue,
      monthly_operating_cost: cost,
      monthly_profit: revenue - cost,
      decisions,
      for_sale: { gpus: forSale.length, value: forSale.reduce((s, g) => s + g.expected_value!, 0) },
      models_without_prices: gpus.some((g) => g.model === 'NVIDIA L40S') ? ['NVIDIA L40S'] : [],
    },
    coverage: {
      silent_hosts: silentHostName === null ? [] : [{ host: silentHostName, gpus: silentHostGpus.length, last_sample: silentHostGpus[0]?.last_sample ?? null }],
      silent_gpus: silentGpus,
      missing_signals: [
        {
          signal: 'profiling',
          gpus: Math.round(reporting * 0.4),
          hint: 'DCGM_FI_PROF_SM_ACTIVE, DCGM_FI_PROF_DRAM_ACTIVE (dcgm-exporter: add them to the counters CSV; DCGM profiling must be allowed)',
        },
        {
          signal: 'memory_repair',
          gpus: Math.round(reporting * 0.12),
          hint: 'DCGM_FI_DEV_ROW_REMAP_FAILURE, DCGM_FI_DEV_ROW_REMAP_PENDING, DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS, DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS (dcgm-exporter: add them to the counters CSV)',
        },
        { signal: 'pcie', gpus: Math.round(reporting * 0.25), hint: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER (dcgm-exporter: add it to the counters CSV)' },
      ],
      ingest_rejects_last_day: 17,
      ingest_reject_files: ['spool/gpu-node-0003-2026-04-30T23-00Z.prom.gz', 'exports/nvidia-smi-2026-04-30.csv'],
    },
    racks,
    gpus,
  };
}

function hex(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rnd() * 16).toString(16);
  return s;
}
