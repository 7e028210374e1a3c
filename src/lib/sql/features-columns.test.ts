/**
 * FEATURES_SQL and SILENT_GPUS_SQL against the feature list (src/lib/features/feature-list.ts): the
 * query outputs exactly the listed columns, in order, with the listed types, and the silent-GPU rows
 * set only listed columns. Run over a real lake: over an empty one the rollups view is typed by the
 * rollup query itself, not by the Parquet files, and counter deltas come out HUGEINT instead of DOUBLE.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COLUMNS } from '../features/feature-list.js';
import { Db } from '../db/duckdb.js';
import { ingest } from '../ingest/ingest.js';
import { lakeLayout } from '../lake/layout.js';
import { createLakeViews } from './lake-views.js';
import { FEATURES_SQL, SILENT_GPUS_SQL, SILENT_GPUS_STATUS_SQL } from './features.js';

const AT = Date.UTC(2026, 10, 20);
const HOUR = 3_600_000;
const PARAMS = { start_us: (AT - 24 * HOUR) * 1000, end_us: AT * 1000 };

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-feature-columns-'));
  const lines = ['time,gpu_uuid,host,model,gpu_temp,power_usage,ecc_sbe_volatile'];
  for (let t = AT - 3 * HOUR; t < AT; t += 60_000) lines.push(`${new Date(t).toISOString()},GPU-1,node-a,NVIDIA H100 80GB HBM3,60,400,0`);
  fs.writeFileSync(path.join(dir, 'gpu.csv'), `${lines.join('\n')}\n`);
  const lake = path.join(dir, 'lake');
  await ingest({ lake, inputs: [path.join(dir, 'gpu.csv')] });
  db = await Db.open({ threads: 1 });
  await createLakeViews(db, lakeLayout(lake));
  await db.exec('features', `CREATE TEMP TABLE features AS ${FEATURES_SQL}`, PARAMS);
});

afterAll(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const describeTable = async (table: string): Promise<string[]> =>
  (await db.query<{ column_name: string; column_type: string }>('describe', `DESCRIBE ${table}`)).map((c) => `${c.column_name} ${c.column_type}`);

describe('the features table', () => {
  it('has the listed columns, in order, with their types', async () => {
    expect(await describeTable('features')).toEqual(FEATURE_COLUMNS.map((c) => `${c.name} ${c.type}`));
  });

  it('gets only listed columns from the silent-GPU rows', async () => {
    const select = SILENT_GPUS_SQL.replace(/^\s*INSERT INTO features BY NAME\s*/, '');
    expect(select).not.toBe(SILENT_GPUS_SQL);
    await db.exec('silent gpu status', SILENT_GPUS_STATUS_SQL, PARAMS);
    await db.exec('silent gpus', `CREATE TEMP TABLE silent AS ${select}`, PARAMS);
    const listed: readonly string[] = FEATURE_COLUMNS.map((c) => c.name);
    const set = (await describeTable('silent')).map((c) => c.split(' ')[0]!);
    expect(set.filter((name) => !listed.includes(name))).toEqual([]);
    await db.exec('silent gpus', SILENT_GPUS_SQL, PARAMS);
  });
});
