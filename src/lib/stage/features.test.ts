/**
 * The features stage against small lakes built by the real ingest: hourly rollups stitched across
 * files and seams, reset-aware counters, gaps at the GPU's own interval, rolling windows, Xid
 * incidents, and rollups kept, rebuilt and replaced by ingest, `ensureRollups` and compact.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plantedFleet, uuidOf } from '../../../test/helpers/planted-fleet.js';
import { ingest } from '../ingest/ingest.js';
import { compactLake } from '../maintenance/compact.js';
import { lakeLayout } from '../lake/layout.js';
import { computeFeatures, type FeatureRow } from './features.js';
import { featureWindow } from './window.js';
import { scoreFeatureRow } from './score.js';
import { ROLLUP_VERSION } from '../sql/rollup.js';
import { ensureRollups, rollupState } from '../maintenance/rollups.js';

const roots: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-features-'));
  roots.push(d);
  return d;
};
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

const AT = Date.UTC(2026, 10, 20);
const DAY = 86_400_000;

async function lakeFrom(files: Record<string, string>): Promise<string> {
  const dir = tmp();
  const lake = path.join(dir, 'lake');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  for (const name of Object.keys(files)) await ingest({ lake, inputs: [path.join(dir, name)] });
  return lake;
}

const features = async (lake: string, sinceMs = 2 * DAY, atMs = AT): Promise<FeatureRow[]> =>
  (await computeFeatures({ lake, sinceMs, atMs, write: false })).rows;

/** One GPU's rows as a lake-columns CSV: `values(i)` gives the extra columns of sample i. */
function oneGpuCsv(cols: string[], times: number[], values: (i: number) => (string | number)[], gpu = 0): string {
  const lines = [['time', 'gpu_uuid', 'host', 'model', ...cols].join(',')];
  for (const [i, t] of times.entries()) lines.push([new Date(t).toISOString(), uuidOf(gpu), 'node-a', 'NVIDIA H100 80GB HBM3', ...values(i)].join(','));
  return `${lines.join('\n')}\n`;
}

/** Features equal up to floating-point summation order (DuckDB sums in parallel). */
function expectSameFeatures(actual: readonly FeatureRow[], expected: readonly FeatureRow[]): void {
  expect(actual.map((r) => r.gpu_uuid)).toEqual(expected.map((r) => r.gpu_uuid));
  actual.forEach((row, i) => {
    for (const [k, v] of Object.entries(expected[i]!)) {
      if (typeof v === 'number') expect(row[k], k).toBeCloseTo(v, 6);
      else expect(row[k], k).toEqual(v);
    }
  });
}

const every = (startMs: number, endMs: number, stepMs: number, skip: (t: number) => boolean = () => false): number[] => {
  const out: number[] = [];
  for (let t = startMs; t < endMs; t += stepMs) if (!skip(t)) out.push(t);
  return out;
};

describe('the window', () => {
  it('is whole hours ending at --at rounded down', () => {
    expect(featureWindow(7 * DAY, AT + 1_234_567)).toEqual({ startMs: AT - 7 * DAY, endMs: AT });
    expect(() => featureWindow(90 * 60_000, AT)).toThrow(/whole number of hours/);
  });
});

describe('rollups stitched across files', () => {
  const fleet = plantedFleet();
  const lines = fleet.csv.trimEnd().split('\n');
  const header = lines[0]!;
  // three files cut at rows that fall inside hours, so hours and counters span file seams
  const cuts = [0, 5_003, 11_777, lines.length - 1];
  const parts = Object.fromEntries(cuts.slice(1).map((end, k) => [`part-${k}.csv`, `${[header, ...lines.slice(1 + cuts[k]!, 1 + end)].join('\n')}\n`]));

  it('gives the same features from one file, from three, and after compaction', async () => {
    const one = await features(await lakeFrom({ 'fleet.csv': fleet.csv }));
    const threeLake = await lakeFrom(parts);
    expect(fs.readdirSync(path.join(threeLake, 'metrics', 'date=2026-11-18')).length).toBeGreaterThan(1);
    const three = await features(threeLake);
    await compactLake(threeLake);
    expect(rollupState(lakeLayout(threeLake))).toEqual({ missing: [], orphans: [] });
    const compacted = await features(threeLake);
    expect(three).toHaveLength(12);
    expectSameFeatures(three, one);
    expectSameFeatures(compacted, one);
  });
});

describe('counters', () => {
  it('count a reset (a reading below the last) as a restart from zero, inside a file and at a seam', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const half = times.length / 2;
    // sbe: 0..99 by 1 per 14 samples, reset to 0 at half, then climbing again; dbe: 0 → 2, reset, → 1
    const sbe = (i: number): number => (i < half ? Math.floor(i / 14) : Math.floor((i - half) / 14));
    const dbe = (i: number): number => (i < 100 ? 0 : i < half ? 2 : i < half + 50 ? 0 : 1);
    const csv = (from: number, to: number): string =>
      oneGpuCsv(['ecc_sbe_volatile', 'ecc_dbe_volatile'], times.slice(from, to), (i) => [sbe(i + from), dbe(i + from)]);
    const expected = { sbe_delta: 2 * Math.floor((half - 1) / 14), dbe_delta: 3 };
    const [single] = await features(await lakeFrom({ 'a.csv': csv(0, times.length) }), DAY);
    expect(single).toMatchObject(expected);
    // the reset falls exactly on the seam between two files
    const [split] = await features(await lakeFrom({ 'a.csv': csv(0, half), 'b.csv': csv(half, times.length) }), DAY);
    expect(split).toMatchObject(expected);
    expect(split!['dbe_last_24h']).toBe(3);
  });

  it('are null, not zero, when the source never reports them', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const [f] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp'], times, () => [50]) }), DAY);
    expect(f).toMatchObject({ sbe_delta: null, dbe_delta: null, pcie_replay_delta: null, remapped_rows_correctable: null, temp_mean: 50 });
    expect(String(f!['signals_absent'])).toMatch(/ecc.*memory_repair.*pcie.*nvlink/);
  });
});

describe('sources that overlap in time', () => {
  it('count a counter rise once when two files interleave samples of one GPU-hour', async () => {
    // one GPU every 15 s, the aggregate SBE counter rising from 1000 by 11 over the day; samples
    // alternate between two files (two sources on different scrape offsets)
    const times = every(AT - DAY, AT, 15_000);
    const sbe = (i: number): number => 1000 + Math.floor((11 * i) / times.length);
    const pick = (odd: number): string =>
      oneGpuCsv(
        ['gpu_temp', 'ecc_sbe_aggregate'],
        times.filter((_, i) => i % 2 === odd),
        (k) => [50, sbe(2 * k + odd)],
      );
    const [single] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp', 'ecc_sbe_aggregate'], times, (i) => [50, sbe(i)]) }), DAY);
    const [split] = await features(await lakeFrom({ 'even.csv': pick(0), 'odd.csv': pick(1) }), DAY);
    expect(single).toMatchObject({ sbe_delta: 10, gaps_over_5min: 0, samples: times.length });
    expect(split).toMatchObject({ sbe_delta: 10, gaps_over_5min: 0, samples: times.length });
  });

  it('do not turn a late file inside a covered hour into a gap or a reset', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const late = new Set([100, 101, 102]); // three samples of one hour arrive in a later file
    const csv = (keep: (i: number) => boolean): string =>
      oneGpuCsv(
        ['gpu_temp', 'ecc_dbe_aggregate'],
        times.filter((_, i) => keep(i)),
        () => [50, 7],
      );
    const [f] = await features(await lakeFrom({ 'a.csv': csv((i) => !late.has(i)), 'b.csv': csv((i) => late.has(i)) }), DAY);
    expect(f).toMatchObject({ dbe_delta: 0, gaps_over_5min: 0, samples: times.length });
  });
});

describe('cohorts', () => {
  it('form by model when the exporter leaves the power limit out', async () => {
    // ten GPUs under the same load; GPU 3 holds 1500 MHz where its peers hold 1980
    const times = every(AT - DAY, AT, 300_000);
    const lines = ['time,gpu_uuid,host,model,sm_active,power_usage,gpu_temp,sm_clock_mhz,throttle_reasons'];
    for (const t of times) {
      const act = 40 + 10 * (Math.floor((t - AT) / 3_600_000) % 5);
      for (let g = 0; g < 10; g++)
        lines.push(
          [new Date(t).toISOString(), uuidOf(g), 'n', 'NVIDIA H100 80GB HBM3', act + (g % 3), 200 + 5 * act, 60, g === 3 ? 1500 : 1980 - (g % 4), 0].join(','),
        );
    }
    const rows = await features(await lakeFrom({ 'a.csv': `${lines.join('\n')}\n` }), DAY);
    const slow = rows.find((r) => r.gpu_uuid === uuidOf(3))!;
    expect(slow['power_limit_w']).toBeNull();
    expect(Number(slow['sm_clock_under_load_z'])).toBeLessThan(-10);
    expect(Math.abs(Number(rows.find((r) => r.gpu_uuid === uuidOf(0))!['sm_clock_under_load_z']))).toBeLessThan(3);
  });
});

describe('coverage at the GPU own interval', () => {
  it('infers a 5-minute interval and counts no gaps in a complete series', async () => {
    const times = every(AT - DAY, AT, 300_000);
    const [f] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp'], times, () => [50]) }), DAY);
    expect(f).toMatchObject({ interval_s: 300, samples: 288, expected_samples: 288, gaps_over_5min: 0 });
  });

  it('counts silences longer than max(5 min, 3 intervals), the tail included', async () => {
    const hole = (t: number): boolean => (t >= AT - 20 * 3_600_000 && t < AT - 19 * 3_600_000) || t >= AT - 30 * 60_000;
    const times = every(AT - DAY, AT, 10_000, hole);
    // a second GPU reports to the end, so the fleet's newest sample is at the window end
    const lake = await lakeFrom({
      'a.csv': oneGpuCsv(['gpu_temp'], times, () => [50]),
      'b.csv': oneGpuCsv(['gpu_temp'], every(AT - DAY, AT, 10_000), () => [50], 1),
    });
    const f = (await features(lake, DAY)).find((r) => r.gpu_uuid === uuidOf(0))!;
    expect(f).toMatchObject({ interval_s: 10, expected_samples: 8640, gaps_over_5min: 2 });
    expect(f['samples']).toBe(8640 - 360 - 180);
    expect(f['longest_gap_s']).toBe(3610);
    expect(f['silent_before_end_s']).toBe(1800 - 10); // to the fleet's newest sample, less one interval
  });

  it('measures silence to the fleet newest sample, so a lake not ingested for a while is not all silent', async () => {
    // both GPUs stop 5 hours before --at (the lake was not ingested since)
    const times = every(AT - DAY, AT - 5 * 3_600_000, 10_000);
    const lake = await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp'], times, () => [50]), 'b.csv': oneGpuCsv(['gpu_temp'], times, () => [50], 1) });
    for (const f of await features(lake, DAY)) {
      expect(f).toMatchObject({
        silent_before_end_s: 0,
        gaps_over_5min: 0,
        expected_samples: times.length,
        fleet_last_sample: new Date(times.at(-1)!).toISOString(),
      });
    }
  });

  it('does not count the time before a GPU first reported as missing', async () => {
    const times = every(AT - 6 * 3_600_000, AT, 60_000);
    const [f] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp'], times, () => [50]) }), DAY);
    expect(f).toMatchObject({ samples: 360, expected_samples: 360, gaps_over_5min: 0 });
  });
});

describe('GPUs that went silent before the window', () => {
  it('get a row with no samples, and score as not reporting, however short the window (silent-gpus.test.ts has the rules)', async () => {
    const day1 = every(AT - 2 * DAY, AT - DAY, 60_000);
    const both = every(AT - 2 * DAY, AT, 60_000);
    const lake = await lakeFrom({ 'a.csv': oneGpuCsv(['gpu_temp'], day1, () => [50]), 'b.csv': oneGpuCsv(['gpu_temp'], both, () => [50], 1) });
    const rows = await features(lake, DAY);
    const gone = rows.find((r) => r.gpu_uuid === uuidOf(0))!;
    expect(gone).toMatchObject({ samples: 0, last_sample: new Date(day1.at(-1)!).toISOString(), xid_counts: '{}' });
    expect(Number(gone['silent_before_end_s'])).toBeGreaterThan(86_000);
    const score = scoreFeatureRow(gone);
    expect(score).toMatchObject({ health_grade: 'critical', reliability_health: 0 });
    expect(score.degradation_factors).toContain('not_reporting');
    // silent for longer than the window before this one: still reported (it reported in the last 30 days)
    expect((await features(lake, DAY / 2)).map((r) => [r.gpu_uuid, Number(r['samples'])])).toEqual([
      [uuidOf(0), 0],
      [uuidOf(1), 720],
    ]);
  });
});

describe('rolling windows and trends', () => {
  it('computes each rolling window over its last hours', async () => {
    const times = every(AT - DAY, AT, 60_000);
    // 40 °C, except 80 °C in the last hour; power rises 10 W per hour
    const lake = await lakeFrom({
      'a.csv': oneGpuCsv(['gpu_temp', 'power_usage'], times, (i) => [
        times[i]! >= AT - 3_600_000 ? 80 : 40,
        100 + 10 * Math.floor((times[i]! - (AT - DAY)) / 3_600_000),
      ]),
    });
    const [f] = await features(lake, DAY);
    expect(f).toMatchObject({ temp_mean_1h: 80, temp_std_1h: 0, temp_max_6h: 80, temp_min_6h: 40, temp_max: 80 });
    expect(f!['temp_mean_6h']).toBeCloseTo((5 * 40 + 80) / 6, 9);
    expect(f!['temp_mean_24h']).toBeCloseTo((23 * 40 + 80) / 24, 9);
    expect(f!['power_mean_1h']).toBeCloseTo(330, 9);
    expect(f!['power_slope_per_day']).toBeCloseTo(240, 6);
  });
});

describe('Xid events', () => {
  it('counts repeated log lines of one incident once, and the last-Xid gauge and the log once between them', async () => {
    const fleet = plantedFleet();
    const lake = await lakeFrom({ 'fleet.csv': fleet.csv, 'node-a.dmesg.log': fleet.kernelLog }); // the host from the file name
    const f = (await features(lake)).find((r) => r.gpu_uuid === uuidOf(7))!;
    expect(f['xid_counts']).toBe('{"13":1,"79":1}');
    expect(f['xid_events']).toBe(2);
    expect(f).toMatchObject({ xid_application_events: 1, xid_gpu_hardware_events: 1 });
    // repair state is cumulative: read as it stands, and its growth in the window
    const remap = (await features(lake)).find((r) => r.gpu_uuid === uuidOf(8))!;
    expect(remap).toMatchObject({
      remapped_rows_correctable: 5,
      remapped_rows_correctable_new: 0,
      remapped_rows_uncorrectable: 3,
      remapped_rows_uncorrectable_new: 3,
      row_remap_failure: 1,
    });
  });
});

describe('keeping rollups', () => {
  it('ingest writes one rollup per metrics file; ensureRollups rebuilds a lake without them and drops orphans', async () => {
    const fleet = plantedFleet();
    const lake = await lakeFrom({ 'fleet.csv': fleet.csv });
    const layout = lakeLayout(lake);
    expect(rollupState(layout)).toEqual({ missing: [], orphans: [] });
    const before = await features(lake);
    fs.rmSync(layout.rollupsDir, { recursive: true });
    const orphan = path.join(layout.rollupsDir, 'date=2026-11-18', 'part-gone.parquet');
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.copyFileSync(fs.readdirSync(path.join(lake, 'metrics', 'date=2026-11-18')).map((f) => path.join(lake, 'metrics', 'date=2026-11-18', f))[0]!, orphan);
    expect(rollupState(layout).missing.length).toBeGreaterThan(0);
    const summary = await ensureRollups(lake);
    expect(summary.removed).toBe(1);
    expect(summary.built).toBe(fs.readdirSync(path.join(lake, 'metrics')).reduce((n, d) => n + fs.readdirSync(path.join(lake, 'metrics', d)).length, 0));
    expect(rollupState(layout)).toEqual({ missing: [], orphans: [] });
    expectSameFeatures(await features(lake), before);
  });

  it('rebuilds every rollup written in another format version', async () => {
    const lake = await lakeFrom({ 'fleet.csv': plantedFleet().csv });
    const layout = lakeLayout(lake);
    expect(fs.readFileSync(layout.rollupsVersionFile, 'utf8').trim()).toBe(String(ROLLUP_VERSION));
    const before = await features(lake);
    fs.writeFileSync(layout.rollupsVersionFile, '1\n');
    const metrics = fs.readdirSync(path.join(lake, 'metrics')).length;
    expect(rollupState(layout).missing.length).toBeGreaterThanOrEqual(metrics);
    const summary = await ensureRollups(lake);
    expect(summary.built).toBeGreaterThanOrEqual(metrics);
    expect(fs.readFileSync(layout.rollupsVersionFile, 'utf8').trim()).toBe(String(ROLLUP_VERSION));
    expectSameFeatures(await features(lake), before);
  });
});

describe('throttling is charged once', () => {
  it('leaves samples with a throttle bit out of the free-to-boost clock', async () => {
    // loaded all day at 1980 MHz, except every third sample: 1200 MHz under HW thermal, SW thermal or the power brake with HW slowdown
    const times = every(AT - DAY, AT, 60_000);
    const throttle = [0x40, 0x20, 0x88];
    const lake = await lakeFrom({
      'a.csv': oneGpuCsv(['sm_active', 'sm_clock_mhz', 'throttle_reasons'], times, (i) => (i % 3 === 0 ? [80, 1200, throttle[(i / 3) % 3]!] : [80, 1980, 0])),
    });
    const [f] = await features(lake, DAY);
    expect(f!['sm_clock_std_pct_under_load']).toBe(0);
    expect(Number(f!['sm_clock_mean'])).toBeLessThan(1980); // the throttled samples still count in the plain clock statistics
    expect(Number(f!['hw_thermal_slowdown_samples'])).toBeGreaterThan(0);
  });
});

describe('link errors per minute', () => {
  it('keeps the peak per-minute rate: 60 replays in one minute of a quiet hour read 60 per minute, not 1', async () => {
    const times = every(AT - DAY, AT, 10_000);
    const burst = times.findIndex((t) => t >= AT - 5 * 3_600_000 + 20 * 60_000); // 10 replays a sample for one minute
    const replays = (i: number): number => 100 + 10 * Math.max(0, Math.min(6, i - burst));
    const crc = (i: number): number => 7 + 10 * Math.max(0, Math.min(6, i - burst));
    const [f] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['pcie_replay_count', 'nvlink_crc_errors'], times, (i) => [replays(i), crc(i)]) }), DAY);
    expect(f).toMatchObject({ pcie_replay_delta: 60, nvlink_crc_delta: 60 });
    expect(f!['pcie_replay_peak_per_min']).toBeGreaterThanOrEqual(60);
    expect(f!['pcie_replay_peak_per_min']).toBeCloseTo(60, 9);
    expect(f!['nvlink_crc_peak_per_s']).toBeCloseTo(1, 9);
  });

  it('gives a step longer than a minute its average rate, and counts a step across an hour boundary', async () => {
    // every 5 minutes; 60 replays between the samples at 10:55 and 11:00 (the seam between two hours)
    const times = every(AT - DAY, AT, 300_000);
    const jump = times.indexOf(AT - 13 * 3_600_000);
    const [f] = await features(await lakeFrom({ 'a.csv': oneGpuCsv(['pcie_replay_count'], times, (i) => [i >= jump ? 160 : 100]) }), DAY);
    expect(f!['pcie_replay_peak_per_min']).toBeCloseTo(12, 9);
  });
});

describe('completeness at the host interval', () => {
  it('measures a GPU that loses every other scrape against its host, not its own doubled interval', async () => {
    const times = every(AT - 6 * 3_600_000, AT, 10_000);
    const lake = await lakeFrom({
      'a.csv': oneGpuCsv(
        ['gpu_temp'],
        times.filter((_, i) => i % 2 === 0),
        () => [50],
      ),
      'b.csv': oneGpuCsv(['gpu_temp'], times, () => [50], 1),
      'c.csv': oneGpuCsv(['gpu_temp'], times, () => [50], 2),
    });
    const rows = await features(lake, DAY);
    const lossy = rows.find((r) => r.gpu_uuid === uuidOf(0))!;
    expect(lossy).toMatchObject({ interval_s: 20, expected_interval_s: 10, expected_samples: times.length });
    expect(lossy['completeness']).toBeCloseTo(0.5, 3);
    expect(rows.find((r) => r.gpu_uuid === uuidOf(1))).toMatchObject({ interval_s: 10, expected_interval_s: 10, completeness: 1 });
  });

  it('falls back to the model in the fleet when the host has no other GPU', async () => {
    const times = every(AT - 6 * 3_600_000, AT, 10_000);
    const other = (gpu: number): string => oneGpuCsv(['gpu_temp'], times, () => [50], gpu).replaceAll('node-a', `node-${gpu}`);
    const lake = await lakeFrom({
      'a.csv': oneGpuCsv(
        ['gpu_temp'],
        times.filter((_, i) => i % 2 === 0),
        () => [50],
      ),
      'b.csv': other(1),
      'c.csv': other(2),
    });
    const lossy = (await features(lake, DAY)).find((r) => r.gpu_uuid === uuidOf(0))!;
    expect(lossy).toMatchObject({ interval_s: 20, expected_interval_s: 10 });
    expect(lossy['completeness']).toBeCloseTo(0.5, 3);
  });
});

describe('aggregate counters never reset', () => {
  it('count a drop as bad data that adds nothing, inside a file and at a seam', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const half = times.length / 2;
    // 1000, one glitched reading of 7 and back to 1000, then 1002; the next file starts at 990 (below) and ends at 1005
    const sbe = (i: number): number => (i < half ? (i === 100 ? 7 : i < 300 ? 1000 : 1002) : i < half + 100 ? 990 : 1005);
    const csv = (from: number, to: number): string => oneGpuCsv(['ecc_sbe_aggregate'], times.slice(from, to), (i) => [sbe(i + from)]);
    const [f] = await features(await lakeFrom({ 'a.csv': csv(0, half), 'b.csv': csv(half, times.length) }), DAY);
    expect(f).toMatchObject({ sbe_delta: 5, ecc_aggregate_drops: 2, volatile_reset_last_at: null });
  });
});

describe('resets seen', () => {
  it('date the latest drop of a volatile ECC counter, inside a file and at a seam', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const half = times.length / 2;
    // DBE 2 until sample 500, then 0 (a GPU reset); in the second lake SBE also stands at 3 until the second
    // file, which starts at 0 (a driver reload at the seam)
    const csv = (from: number, to: number, sbeReset: number): string =>
      oneGpuCsv(['ecc_sbe_volatile', 'ecc_dbe_volatile'], times.slice(from, to), (i) => [i + from < sbeReset ? 3 : 0, i + from < 500 ? 2 : 0]);
    const [inFile] = await features(await lakeFrom({ 'a.csv': csv(0, times.length, 0) }), DAY);
    expect(inFile!['volatile_reset_last_at']).toBe(new Date(times[500]!).toISOString());
    const [atSeam] = await features(await lakeFrom({ 'a.csv': csv(0, half, half), 'b.csv': csv(half, times.length, half) }), DAY);
    expect(atSeam!['volatile_reset_last_at']).toBe(new Date(times[half]!).toISOString());
    expect(atSeam).toMatchObject({ ecc_aggregate_drops: 0, dbe_delta: 0 });
  });

  it('date the latest clearing of a pending remap or retirement', async () => {
    const times = every(AT - DAY, AT, 60_000);
    const pending = (i: number): number => (i >= 200 && i < 600 ? 1 : 0);
    const [f] = await features(
      await lakeFrom({ 'a.csv': oneGpuCsv(['row_remap_pending', 'retired_pages_pending'], times, (i) => [pending(i), i < 50 ? 1 : 0]) }),
      DAY,
    );
    expect(f).toMatchObject({ row_remap_pending: 0, remap_pending_cleared_at: new Date(times[600]!).toISOString() });
  });
});
