/**
 * The report's data against a lake built the real way: the planted fleet (test/helpers/planted-fleet.ts)
 * ingested with a kernel log holding an Xid in the last day, a GPU on its own host that stops reporting
 * six hours before `at`, an asset registry with racks and a manifest row with rejected lines; then
 * `score`, `predict` and `recommend` at AT write their results, and earlier reports are planted in
 * <lake>/reports/ for the trend and the grade changes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostOf, MODEL, PLANTED_GPUS, PLANTED_START_MS, pciOf, plantedFleet, uuidOf } from '../../../test/helpers/planted-fleet.js';
import { DCGM_FIELD_MAP } from '../dcgm/fields.js';
import { Db, quotePath } from '../db/duckdb.js';
import { DEFAULT_ECONOMICS } from '../economics/defaults.js';
import { InputError } from '../errors.js';
import { GRADES, type HealthGrade } from '../health/score.js';
import { ingest } from '../ingest/ingest.js';
import { AT_RISK_LIMIT, type ReportData, type ReportGpu } from '../report/types.js';
import { predictFleet, type PredictResult } from './predict.js';
import { recommendFleet, type RecommendResult } from './recommend.js';
import { buildReportData, gradeChanges, reportFile, SIGNAL_HINTS, xidMeaning } from './report.js';
import { scoreFleet, type ScoreResult } from './score.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AT = PLANTED_START_MS + 2 * DAY; // 2026-11-20T00:00Z, where the planted fleet ends
const AT_ISO = new Date(AT).toISOString();
/** The GPU on a host of its own that stops six hours before AT. */
const QUIET = PLANTED_GPUS;
const QUIET_UNTIL = AT - 6 * HOUR;
/** An Xid 48 on GPU 2 in the last day (the planted log's Xids are all on the first day). */
const DAY_XID_AT = AT - 10 * HOUR;

let root: string;
let lake: string;
let score: ScoreResult;
let predict: PredictResult;
let recommend: RecommendResult;
let base: ReportData;
let report: ReportData;

async function writeParquet(file: string, columns: Record<string, string>, rows: Record<string, unknown>[]): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const json = `${file}.jsonl`;
  fs.writeFileSync(json, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const cols = Object.entries(columns)
    .map(([k, t]) => `'${k}': '${t}'`)
    .join(', ');
  const db = await Db.open({ threads: 1 });
  try {
    await db.exec(
      'write',
      `COPY (SELECT * FROM read_json(${quotePath(json)}, format = 'newline_delimited', columns = {${cols}})) TO ${quotePath(file)} (FORMAT parquet)`,
    );
  } finally {
    db.close();
    fs.rmSync(json);
  }
}

function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
}

const gpu = (r: ReportData, g: number): ReportGpu => r.gpus.find((x) => x.gpu_uuid === uuidOf(g))!;
/** A grade other than `g`, better when there is one (so the change reads up) or worse (down). */
const worseThan = (g: HealthGrade): HealthGrade => GRADES[Math.min(GRADES.indexOf(g) + 1, GRADES.length - 1)]!;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-report-'));
  lake = path.join(root, 'lake');
  const fleet = plantedFleet();
  const kernelStamp = (ms: number): string => new Date(ms).toISOString().replace('.000Z', ',000000+00:00');
  const dayXid = `${kernelStamp(DAY_XID_AT)} NVRM: Xid (PCI:0000:${pciOf(2).slice(9, 11)}:00): 48, pid=1, name=python, DBE`;
  fs.writeFileSync(path.join(root, 'fleet.csv'), fleet.csv);
  fs.writeFileSync(path.join(root, 'node-a.dmesg.log'), `${fleet.kernelLog}${dayXid}\n`);
  const quiet = ['time,gpu_uuid,host,model,gpu_temp,power_usage'];
  for (let t = AT - 2 * DAY; t < QUIET_UNTIL; t += 120_000) quiet.push(`${new Date(t).toISOString()},${uuidOf(QUIET)},node-c,${MODEL},50,300`);
  fs.writeFileSync(path.join(root, 'quiet.csv'), `${quiet.join('\n')}\n`);
  await ingest({ lake, inputs: [path.join(root, 'fleet.csv'), path.join(root, 'node-a.dmesg.log'), path.join(root, 'quiet.csv')] });
  await writeParquet(
    path.join(lake, 'assets', 'assets-test.parquet'),
    { gpu_uuid: 'VARCHAR', host: 'VARCHAR', model: 'VARCHAR', datacenter: 'VARCHAR', rack: 'VARCHAR', deployed_date: 'DATE', warranty_expiry: 'DATE' },
    Array.from({ length: PLANTED_GPUS }, (_, g) => ({
      gpu_uuid: uuidOf(g),
      host: hostOf(g),
      model: MODEL,
      datacenter: 'dc1',
      rack: g < 8 ? 'r01' : 'r02',
      deployed_date: '2025-01-01',
      warranty_expiry: '2028-01-01',
    })),
  );
  // an ingest run of the last day that rejected lines, and one of the day before that is not counted
  await writeParquet(
    path.join(lake, '_ingest', 'manifest', 'part-test.parquet'),
    { run_id: 'VARCHAR', ingested_at: 'TIMESTAMP', path: 'VARCHAR', rejected: 'BIGINT' },
    [
      { run_id: 't1', ingested_at: new Date(AT - 3 * HOUR).toISOString(), path: '/spool/bad.prom', rejected: 4 },
      { run_id: 't1', ingested_at: new Date(AT - 3 * HOUR).toISOString(), path: '/spool/good.prom', rejected: 0 },
      { run_id: 't0', ingested_at: new Date(AT - 30 * HOUR).toISOString(), path: '/spool/old.prom', rejected: 9 },
    ],
  );
  score = await scoreFleet({ lake, sinceMs: 7 * DAY, atMs: AT });
  predict = await predictFleet({ lake, atMs: AT });
  recommend = await recommendFleet({ lake, atMs: AT, economics: DEFAULT_ECONOMICS });
  base = await buildReportData({ lake, nowMs: AT + HOUR });

  // earlier reports: yesterday's (the previous one), one 10 days back without GPUs, one past the trend,
  // an unreadable one, and one for AT itself (a re-run: not earlier)
  const g0 = gpu(base, 0).health_grade!;
  const yesterday = {
    ...base,
    at: new Date(AT - DAY).toISOString(),
    fleet: { ...base.fleet, gpus: 12, health_index: 91.5, share_good_or_better: 0.75 },
    gpus: [
      ...base.gpus
        .filter((x) => x.gpu_uuid !== uuidOf(QUIET))
        .map((x) => (x.gpu_uuid === uuidOf(8) ? { ...x, health_grade: 'excellent' } : x.gpu_uuid === uuidOf(0) ? { ...x, health_grade: worseThan(g0) } : x)),
      { ...gpu(base, 1), gpu_uuid: 'GPU-gone', host: 'node-z', health_grade: 'good' },
    ],
  };
  writeJson(reportFile(lake, yesterday.at, 'json'), yesterday);
  writeJson(reportFile(lake, new Date(AT - 10 * DAY).toISOString(), 'json'), {
    at: new Date(AT - 10 * DAY).toISOString(),
    fleet: { gpus: 10, health_index: 95, share_good_or_better: 0.9 },
  });
  writeJson(reportFile(lake, new Date(AT - 40 * DAY).toISOString(), 'json'), {
    at: new Date(AT - 40 * DAY).toISOString(),
    fleet: { gpus: 9, health_index: 99 },
  });
  writeJson(path.join(lake, 'reports', '2026-11-15', 'report-20261115T0000Z.json'), '{"at": "2026-11-15T00:00:00Z", "fleet": {');
  writeJson(reportFile(lake, AT_ISO, 'json'), { ...base, fleet: { ...base.fleet, health_index: 1 } });
  report = await buildReportData({ lake, atMs: AT + 25 * 60_000, nowMs: AT + HOUR });
}, 120_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the report data', () => {
  it('fills every field from the results for at', () => {
    const keys: (keyof ReportData)[] = [
      'schema_version',
      'at',
      'generated_at',
      'lake',
      'sources',
      'fleet',
      'trend',
      'previous_at',
      'grade_changes',
      'at_risk',
      'events',
      'economics',
      'coverage',
      'racks',
      'gpus',
    ];
    expect(Object.keys(report).sort()).toEqual([...keys].sort());
    for (const k of keys) expect(report[k], k).not.toBeNull();
    expect(report.at).toBe(AT_ISO);
    expect(report.generated_at).toBe(new Date(AT + HOUR).toISOString());
    expect(report.lake).toBe(path.resolve(lake));
    expect(report.sources).toEqual({
      scores: 'scores/date=2026-11-20/scores-20261120T0000Z-7d.parquet',
      predictions: 'predictions/date=2026-11-20/predictions-20261120T0000Z-7d.parquet',
      recommendations: 'recommendations/date=2026-11-20/recommendations-20261120T0000Z-7d.parquet',
    });
    // without --at: the newest scores
    expect(base.at).toBe(AT_ISO);
  });

  it('has one row per scored GPU, joined with its prediction, recommendation, rack and features, the worst first', () => {
    expect(report.gpus).toHaveLength(score.gpus_total);
    expect(report.gpus.map((g) => g.gpu_uuid).sort()).toEqual(score.rows.map((r) => r.gpu_uuid).sort());
    const scores = report.gpus.map((g) => g.overall_score ?? Number.POSITIVE_INFINITY);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    for (const g of report.gpus) {
      const s = score.rows.find((r) => r.gpu_uuid === g.gpu_uuid)!;
      expect(g).toMatchObject({
        overall_score: s.overall_score,
        health_grade: s.health_grade,
        top_factor: s.top_factor,
        recommended_action: s.recommended_action,
      });
      expect(g.not_reporting).toBe(s.degradation_factors.includes('not_reporting'));
      const p = predict.rows.find((r) => r.gpu_uuid === g.gpu_uuid);
      expect(g.failure_prob_30d).toBe(p?.failure_prob_30d ?? null);
      expect(g.risk_level).toBe(p?.risk_level ?? null);
      expect(g.risk_factors).toEqual(p?.top_factors.map((f) => f.text) ?? []);
      const r = recommend.rows.find((x) => x.gpu_uuid === g.gpu_uuid);
      expect({ decision: g.decision, expected_value: g.expected_value, rationale: g.rationale }).toEqual({
        decision: r?.decision ?? null,
        expected_value: r?.expected_value ?? null,
        rationale: r?.rationale ?? null,
      });
    }
    expect(gpu(report, 3)).toMatchObject({ rack: 'r01', datacenter: 'dc1' });
    expect(gpu(report, QUIET)).toMatchObject({ rack: null, datacenter: null, host: 'node-c', not_reporting: true });
    // GPU 1 runs 14 °C hot at equal power
    expect(gpu(report, 1).temp_excess_at_power).toBeGreaterThan(8);
    expect(gpu(report, 8).health_grade).toBe('critical');
  });

  it('counts the fleet: grades sum to the GPUs, risk levels from the predictions', () => {
    const f = report.fleet;
    expect(f.gpus).toBe(PLANTED_GPUS + 1);
    expect(f.hosts).toBe(3);
    expect(Object.values(f.grades).reduce((s, n) => s + n, 0)).toBe(f.gpus);
    expect(f.grades).toEqual(score.grades);
    expect(f.not_reporting).toBe(score.not_reporting);
    expect(Object.values(f.risk_levels).reduce((s, n) => s + n, 0)).toBe(predict.rows.length);
    expect(f.risk_levels).toEqual(predict.risk_levels);
    const graded = report.gpus.filter((g) => g.health_grade !== null);
    expect(f.health_index).toBe(Math.round((graded.reduce((s, g) => s + g.overall_score!, 0) / graded.length) * 10) / 10);
    expect(f.share_good_or_better).toBeCloseTo(graded.filter((g) => g.health_grade === 'good' || g.health_grade === 'excellent').length / graded.length, 9);
  });

  it('takes the economics from the recommendations, as recommend totals them', () => {
    const t = recommend.totals;
    expect(report.economics).toEqual({
      fleet_value: t.fleet_value,
      monthly_revenue: t.monthly_revenue,
      monthly_operating_cost: t.monthly_operating_cost,
      monthly_profit: t.monthly_profit,
      decisions: t.decisions,
      for_sale: { gpus: t.for_sale.gpus, value: t.for_sale.value },
      models_without_prices: t.models_without_prices,
    });
  });

  it("shows the last day's Xids, uncorrectable ECC errors and remapped rows, and the GPU that stopped", () => {
    // the planted Xid 13 and 79 of GPU 7 are on the first day: not in the last day's events
    expect(report.events.xids).toEqual([
      { gpu_uuid: uuidOf(2), host: 'node-a', xid: 48, meaning: xidMeaning(48), count: 1, last: new Date(DAY_XID_AT).toISOString() },
    ]);
    expect(xidMeaning(48)).toMatch(/ROBUST_CHANNEL_GPU_ECC_DBE.*memory/);
    // GPU 2: a DBE at hour 30, a driver reload at 36 (counter back to 0), another at 40: reset-aware, 2
    expect(report.events.uncorrectable_ecc).toEqual([{ gpu_uuid: uuidOf(2), host: 'node-a', increase: 2 }]);
    // GPU 8: uncorrectable remapped rows 0 → 3 at hour 44; its 5 correctable ones were there before
    expect(report.events.remapped_rows).toEqual([{ gpu_uuid: uuidOf(8), host: 'node-b', increase: 3 }]);
    const lastQuiet = new Date(QUIET_UNTIL - 120_000).toISOString();
    expect(report.events.stopped_reporting).toEqual([{ gpu_uuid: uuidOf(QUIET), host: 'node-c', last_sample: lastQuiet }]);
  });

  it('lists the riskiest GPUs by P30 and the racks by their mean P30', () => {
    const predicted = report.gpus.filter((g) => g.failure_prob_30d !== null);
    expect(report.at_risk).toHaveLength(Math.min(AT_RISK_LIMIT, predicted.length));
    const p30 = report.at_risk.map((g) => g.failure_prob_30d!);
    expect(p30).toEqual([...p30].sort((a, b) => b - a));
    expect(p30[0]).toBe(Math.max(...predicted.map((g) => g.failure_prob_30d!)));
    expect(report.racks.map((r) => r.rack).sort()).toEqual(['r01', 'r02']);
    for (const r of report.racks) {
      const inRack = predicted.filter((g) => g.rack === r.rack).map((g) => g.failure_prob_30d!);
      expect(r).toMatchObject({ datacenter: 'dc1', gpus: inRack.length, max_failure_prob_30d: Math.max(...inRack) });
      expect(r.mean_failure_prob_30d).toBeCloseTo(inRack.reduce((s, p) => s + p, 0) / inRack.length, 12);
    }
    expect(report.racks[0]!.mean_failure_prob_30d).toBeGreaterThanOrEqual(report.racks[1]!.mean_failure_prob_30d);
  });

  it('reports coverage: the silent host and GPU, the missing signals with their counters, the ingest rejects of the day', () => {
    const c = report.coverage;
    const lastQuiet = new Date(QUIET_UNTIL - 120_000).toISOString();
    expect(c.silent_gpus).toEqual([{ gpu_uuid: uuidOf(QUIET), host: 'node-c', last_sample: lastQuiet }]);
    expect(c.silent_hosts).toEqual([{ host: 'node-c', gpus: 1, last_sample: lastQuiet }]);
    const signal = (s: string) => c.missing_signals.find((m) => m.signal === s);
    // GPU 9's exporter lacks the ECC and remap fields; no GPU exports NVLink counters
    expect(signal('ecc')).toMatchObject({ gpus: 1, hint: expect.stringContaining('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL') });
    expect(signal('memory_repair')?.gpus).toBe(1);
    expect(signal('nvlink')?.gpus).toBe(PLANTED_GPUS);
    expect(signal('temperature')).toBeUndefined();
    expect(c.ingest_rejects_last_day).toBe(4);
    expect(c.ingest_reject_files).toEqual(['/spool/bad.prom']);
  });

  it('draws the trend from the earlier reports of the 30 days before, skipping unreadable ones, and ends with its own point', () => {
    expect(report.trend).toEqual([
      { at: new Date(AT - 10 * DAY).toISOString(), health_index: 95, share_good_or_better: 0.9, gpus: 10 },
      { at: new Date(AT - DAY).toISOString(), health_index: 91.5, share_good_or_better: 0.75, gpus: 12 },
      { at: AT_ISO, health_index: report.fleet.health_index, share_good_or_better: report.fleet.share_good_or_better, gpus: report.fleet.gpus },
    ]);
    expect(base.trend).toHaveLength(1);
    expect(base.previous_at).toBeNull();
    expect(base.grade_changes).toEqual([]);
  });

  it('lists the grade changes since the previous report: downs first', () => {
    expect(report.previous_at).toBe(new Date(AT - DAY).toISOString());
    const g0 = gpu(report, 0).health_grade!;
    const up0 = worseThan(g0) !== g0 ? [{ gpu_uuid: uuidOf(0), host: 'node-a', from: worseThan(g0), to: g0, direction: 'up' }] : [];
    expect(report.grade_changes).toEqual([
      { gpu_uuid: uuidOf(8), host: 'node-b', from: 'excellent', to: 'critical', direction: 'down' },
      { gpu_uuid: 'GPU-gone', host: 'node-z', from: 'good', to: null, direction: 'down' },
      ...up0,
      { gpu_uuid: uuidOf(QUIET), host: 'node-c', from: null, to: gpu(report, QUIET).health_grade, direction: 'up' },
    ]);
  });

  it('without predictions and recommendations for at, says so instead of guessing', async () => {
    const moved = path.join(root, 'moved');
    fs.renameSync(path.join(lake, 'predictions'), `${moved}-p`);
    fs.renameSync(path.join(lake, 'recommendations'), `${moved}-r`);
    try {
      const r = await buildReportData({ lake, atMs: AT });
      expect(r.sources).toMatchObject({ predictions: null, recommendations: null });
      expect(r.economics).toBeNull();
      expect(r.at_risk).toEqual([]);
      expect(r.racks).toEqual([]);
      expect(r.fleet.risk_levels).toEqual({ low: 0, medium: 0, high: 0, critical: 0 });
      expect(r.gpus.every((g) => g.failure_prob_30d === null && g.decision === null && g.risk_factors.length === 0)).toBe(true);
      expect(r.gpus).toHaveLength(report.gpus.length);
    } finally {
      fs.renameSync(`${moved}-p`, path.join(lake, 'predictions'));
      fs.renameSync(`${moved}-r`, path.join(lake, 'recommendations'));
    }
  });

  it('refuses an at without scores, and a lake without any (exit 2, naming the command to run)', async () => {
    const at = AT - 5 * HOUR;
    await expect(buildReportData({ lake, atMs: at })).rejects.toThrow(InputError);
    await expect(buildReportData({ lake, atMs: at })).rejects.toThrow(/no scores for 2026-11-19T19:00Z/);
    const empty = path.join(root, 'empty');
    fs.mkdirSync(path.join(empty, '_ingest'), { recursive: true });
    const err = await buildReportData({ lake: empty }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).suggestions.join(' ')).toMatch(/gpuhealth score --at .*gpuhealth nightly/);
  });
});

describe('report helpers', () => {
  it('names report files by date and at', () => {
    expect(reportFile('/l', '2026-11-20T06:00:00.000Z', 'json')).toBe(path.join('/l', 'reports', '2026-11-20', 'report-20261120T0600Z.json'));
    expect(reportFile('/l', '2026-11-20T06:00:00Z', 'html')).toBe(path.join('/l', 'reports', '2026-11-20', 'report-20261120T0600Z.html'));
  });

  it('hints only at DCGM fields the product reads', () => {
    for (const [signal, hint] of Object.entries(SIGNAL_HINTS)) {
      const fields = hint.match(/DCGM_FI_[A-Z0-9_]+/g) ?? [];
      expect(fields.length, signal).toBeGreaterThan(0);
      for (const f of fields) expect(DCGM_FIELD_MAP.has(f), `${signal}: ${f}`).toBe(true);
    }
  });

  it('calls a better grade up, a worse one down, a GPU that appears up and one that disappears down', () => {
    const g = (uuid: string, grade: HealthGrade | null): ReportGpu => ({ ...({} as ReportGpu), gpu_uuid: uuid, host: 'h', health_grade: grade });
    const before = new Map([
      ['a', { host: 'h', grade: 'fair' as HealthGrade }],
      ['b', { host: 'h', grade: 'fair' as HealthGrade }],
      ['c', { host: 'h', grade: 'good' as HealthGrade }],
      ['d', { host: 'h', grade: 'poor' as HealthGrade }],
      ['e', { host: 'h', grade: null }],
    ]);
    expect(gradeChanges(before, [g('a', 'good'), g('b', 'poor'), g('c', 'good'), g('e', 'good'), g('f', 'fair')])).toEqual([
      { gpu_uuid: 'b', host: 'h', from: 'fair', to: 'poor', direction: 'down' },
      { gpu_uuid: 'd', host: 'h', from: 'poor', to: null, direction: 'down' },
      { gpu_uuid: 'a', host: 'h', from: 'fair', to: 'good', direction: 'up' },
      { gpu_uuid: 'f', host: 'h', from: null, to: 'fair', direction: 'up' },
    ]);
  });
});
