/**
 * GPUs silent in the window (sql/features.ts SILENT_GPUS_STATUS_SQL): every GPU the asset registry
 * lists or that reported in the 30 days before the window end, and that is not recorded as failed or
 * removed, gets a not_reporting row whatever the window's length; failed and removed GPUs are left
 * out and counted. The lake is built by the real ingest; the registry and failure tables are written
 * as Parquet directly, so the test does not depend on the import's CSV rules.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidOf } from '../../../test/helpers/planted-fleet.js';
import { Db, quotePath } from '../db/duckdb.js';
import { ingest } from '../ingest/ingest.js';
import { computeFeatures, type FeaturesResult } from './features.js';
import { scoreFeatureRow, scoreFleet } from './score.js';

const AT = Date.UTC(2026, 10, 20);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** GPU → the span it reported in, every 10 minutes (none: registry only). */
const REPORTED: Record<number, [number, number] | null> = {
  1: [AT - DAY, AT], // the fleet that reports to the end
  0: [AT - 3 * DAY, AT - 2 * DAY], // fell off the bus two days ago
  2: [AT - 40 * DAY, AT - 39 * DAY], // silent for 39 days: gone unless the registry lists it
  3: null, // in the registry, never reported
  4: [AT - 3 * DAY, AT - 2 * DAY], // failed after its last sample (by UUID)
  5: [AT - 3 * DAY, AT - 2 * DAY], // failed before its last sample: repaired, then silent
  6: [AT - 3 * DAY, AT - 2 * DAY], // removed from service yesterday
  7: null, // in the registry, deployed after the window
  8: [AT - 3 * DAY, AT - 2 * DAY], // failed, recorded by serial only
};

let root: string;
let lake: string;

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

const ASSETS = { gpu_uuid: 'VARCHAR', serial: 'VARCHAR', host: 'VARCHAR', model: 'VARCHAR', deployed_date: 'DATE', removed_date: 'DATE' };
const assetRows = (withRemoved: boolean): Record<string, unknown>[] => [
  { gpu_uuid: uuidOf(2), serial: 'S2', host: 'node-b', model: 'NVIDIA H100 80GB HBM3', deployed_date: '2025-01-01', removed_date: null },
  { gpu_uuid: uuidOf(3), serial: 'S3', host: 'node-c', model: 'NVIDIA H100 80GB HBM3', deployed_date: '2025-01-01', removed_date: null },
  { gpu_uuid: uuidOf(6), serial: 'S6', host: 'node-a', model: null, deployed_date: '2025-01-01', removed_date: withRemoved ? day(AT - DAY) : null },
  { gpu_uuid: uuidOf(7), serial: 'S7', host: 'node-c', model: null, deployed_date: day(AT + 5 * DAY), removed_date: null },
  { gpu_uuid: uuidOf(8), serial: 'S8', host: 'node-a', model: null, deployed_date: '2025-01-01', removed_date: null },
];
const FAILURES = { gpu_uuid: 'VARCHAR', serial: 'VARCHAR', failed_at: 'TIMESTAMP', failure_type: 'VARCHAR' };

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-silent-'));
  lake = path.join(root, 'lake');
  const lines = ['time,gpu_uuid,host,model,gpu_temp,power_usage'];
  for (const [g, span] of Object.entries(REPORTED)) {
    if (!span) continue;
    for (let t = span[0]; t < span[1]; t += 600_000) lines.push(`${new Date(t).toISOString()},${uuidOf(Number(g))},node-a,NVIDIA H100 80GB HBM3,50,300`);
  }
  fs.writeFileSync(path.join(root, 'fleet.csv'), `${lines.join('\n')}\n`);
  await ingest({ lake, inputs: [path.join(root, 'fleet.csv')] });
  await writeParquet(path.join(lake, 'assets', 'assets-test.parquet'), ASSETS, assetRows(true));
  await writeParquet(path.join(lake, 'failures', 'failures-test.parquet'), FAILURES, [
    { gpu_uuid: uuidOf(4), serial: null, failed_at: new Date(AT - 2 * DAY).toISOString(), failure_type: 'memory' },
    { gpu_uuid: uuidOf(5), serial: null, failed_at: new Date(AT - 4 * DAY).toISOString(), failure_type: 'power' },
    { gpu_uuid: null, serial: 'S8', failed_at: new Date(AT - 2 * DAY + HOUR).toISOString(), failure_type: 'other' },
  ]);
}, 60_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const features = (sinceMs: number): Promise<FeaturesResult> => computeFeatures({ lake, sinceMs, atMs: AT, write: false });
const silentIds = (r: FeaturesResult): string[] => r.rows.filter((x) => Number(x['samples']) === 0).map((x) => x.gpu_uuid);

describe('GPUs silent in the window', () => {
  it.each([
    ['24h', DAY],
    ['1h', HOUR],
    ['7d', 7 * DAY],
  ])('get a not_reporting row in a %s window when the registry lists them or they reported in the last 30 days', async (_label, since) => {
    const r = await features(since);
    // 0 fell silent two days ago, 5 came back after its failure; 2 and 3 are in the registry
    const expected = since >= 3 * DAY ? [2, 3] : [0, 2, 3, 5];
    expect(silentIds(r)).toEqual(expected.map(uuidOf));
    expect(r.silent).toBe(expected.length);
    // 4 and 8 (by serial) failed after their last sample: dead, left out whether or not they reported
    // in the window; 6 was removed (a long window still holds its samples from before)
    expect(r.left_out).toEqual(since >= 3 * DAY ? { failed: 2, removed: 0 } : { failed: 2, removed: 1 });
    expect(r.rows.map((x) => x.gpu_uuid)).not.toContain(uuidOf(4));
    expect(r.rows.map((x) => x.gpu_uuid)).not.toContain(uuidOf(8));
    for (const row of r.rows.filter((x) => Number(x['samples']) === 0)) {
      const s = scoreFeatureRow(row);
      expect(s.degradation_factors, row.gpu_uuid).toContain('not_reporting');
      expect(s.health_grade).toBe('critical');
    }
  });

  it('say when each was last heard of, and how long ago', async () => {
    const r = await features(DAY);
    const row = (g: number) => r.rows.find((x) => x.gpu_uuid === uuidOf(g))!;
    const lastOf = (g: number): string => new Date(REPORTED[g]![1] - 600_000).toISOString();
    expect(row(0)).toMatchObject({ last_sample: lastOf(0), host: 'node-a', samples: 0 });
    // older than the lookback: the registry's last sighting
    expect(row(2)).toMatchObject({ last_sample: lastOf(2), host: 'node-a' });
    // never reported: no last sample, silent at least since the window began
    expect(row(3)).toMatchObject({ last_sample: null, host: 'node-c' });
    const newest = Date.parse(String(row(3)['fleet_last_sample']));
    expect(Number(row(3)['silent_before_end_s'])).toBe((newest - (AT - DAY)) / 1000);
    expect(Number(row(0)['silent_before_end_s'])).toBe((newest - Date.parse(lastOf(0))) / 1000);
  });

  it('forget a GPU silent for longer than 30 days that the registry does not list', async () => {
    await writeParquet(
      path.join(lake, 'assets', 'assets-test.parquet'),
      ASSETS,
      assetRows(true).filter((a) => a['gpu_uuid'] !== uuidOf(2)),
    );
    try {
      expect(silentIds(await features(DAY))).toEqual([0, 3, 5].map(uuidOf));
    } finally {
      await writeParquet(path.join(lake, 'assets', 'assets-test.parquet'), ASSETS, assetRows(true));
    }
  });

  it('read a registry written before removed_date existed', async () => {
    const old = { gpu_uuid: 'VARCHAR', serial: 'VARCHAR', host: 'VARCHAR', model: 'VARCHAR', deployed_date: 'DATE' };
    await writeParquet(
      path.join(lake, 'assets', 'assets-test.parquet'),
      old,
      assetRows(false).map(({ removed_date: _, ...a }) => a),
    );
    try {
      const r = await features(DAY);
      expect(silentIds(r)).toEqual([0, 2, 3, 5, 6].map(uuidOf));
      expect(r.left_out).toEqual({ failed: 2, removed: 0 });
    } finally {
      await writeParquet(path.join(lake, 'assets', 'assets-test.parquet'), ASSETS, assetRows(true));
    }
  });

  it('are counted in the score result', async () => {
    const r = await scoreFleet({ lake, sinceMs: DAY, atMs: AT, write: false });
    expect(r.gpus_total).toBe(5);
    expect(r.not_reporting).toBe(4);
    expect(r.left_out).toEqual({ failed: 2, removed: 1 });
    expect(
      r.rows
        .filter((x) => x.degradation_factors.includes('not_reporting'))
        .map((x) => x.gpu_uuid)
        .sort(),
    ).toEqual([0, 2, 3, 5].map(uuidOf));
  });
});
