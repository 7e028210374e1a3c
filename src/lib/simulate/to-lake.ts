/**
 * `simulate --to-lake`: the simulated fleet written straight into a lake as Parquet, skipping the
 * exposition text (which at the design load, 10,000 GPUs × 7 days × 10 s, would be ~170 GB). The
 * values are those the text path stores after ingest: the same `scrapes()`, the same families per
 * host, and ingest's null rules (DCGM blanks, NaN, a memory temperature of 0).
 *
 * Rows go into DuckDB through its appender a chunk at a time, one UTC hour per Parquet file, and
 * the whole run commits atomically like an ingest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOUBLE, BIGINT, INTEGER, DuckDBDataChunk } from '@duckdb/node-api';
import { InputError } from '../cli/errors.js';
import { Db, quotePath } from '../db/duckdb.js';
import { createLakeViews, listParquet } from '../db/lake-views.js';
import { isDcgmBlank } from '../ingest/dcgm-fields.js';
import { acquireLock } from '../lake/lock.js';
import { lakeLayout, newRunId } from '../lake/layout.js';
import { commit, recover, stagingDir } from '../lake/txn.js';
import { VALUE_COLUMNS, normalizePciBusId, type ValueColumn } from '../schema.js';
import { FAMILIES } from './exposition.js';
import { planFleet, type PlanOptions } from './fleet.js';
import { HOUR_MS, MODELS } from './hardware.js';
import { scrapes } from './telemetry.js';
import { assetsCsv, failuresCsv } from './csv.js';
import { importTable } from '../registry/import.js';
import { ASSETS_SPEC, FAILURES_SPEC } from '../registry/specs.js';

export interface ToLakeOptions extends PlanOptions {
  lake: string;
  progress?: (message: string) => void;
}

export interface ToLakeSummary {
  lake: string;
  gpus: number;
  hosts: number;
  rows: number;
  hours: number;
  files: number;
  failures: number;
  seconds: number;
}

const CHUNK = 2048;
const PRINTED: ReadonlySet<ValueColumn> = new Set(FAMILIES.map((f) => f.column));
const MEMORY_TEMP = 'memory_temp';

const ROWS_TABLE_SQL = `CREATE TEMP TABLE sim_rows (time_us BIGINT, gpu_id INTEGER, ${VALUE_COLUMNS.map((c) => `${c.name} DOUBLE`).join(', ')})`;
const GPUS_TABLE_SQL = `CREATE TEMP TABLE sim_gpus (gpu_id INTEGER, gpu_uuid VARCHAR, host VARCHAR, gpu_index INTEGER, model VARCHAR, pci_bus_id VARCHAR, driver_version VARCHAR)`;
const INSERT_GPU_SQL = `INSERT INTO sim_gpus VALUES ($gpu_id, $gpu_uuid, $host, $gpu_index, $model, $pci_bus_id, $driver_version)`;
const VALUE_CASTS = VALUE_COLUMNS.map((c) => (c.type === 'DOUBLE' ? `r.${c.name}` : `CAST(round(r.${c.name}) AS ${c.type}) AS ${c.name}`)).join(', ');
/** One hour of rows as lake rows, sorted like ingest writes them. `target` is a quoted staging path. */
const hourCopySql = (target: string): string => `COPY (
  SELECT make_timestamp(r.time_us) AS time, g.gpu_uuid, g.host, g.gpu_index, g.model, g.pci_bus_id, g.driver_version, ${VALUE_CASTS},
         CAST(make_timestamp(r.time_us) AS DATE) AS date
  FROM sim_rows r JOIN sim_gpus g USING (gpu_id) ORDER BY g.gpu_uuid, time
) TO ${target} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part-{i}', ROW_GROUP_SIZE 122880)`;
const GPU_REGISTRY_SQL = (target: string): string => `COPY (
  SELECT g.gpu_uuid, g.host, g.gpu_index, g.model, g.pci_bus_id, g.driver_version, s.first_seen, s.last_seen
  FROM sim_gpus g JOIN (SELECT gpu_id, make_timestamp(min(first_us)) AS first_seen, make_timestamp(max(last_us)) AS last_seen FROM sim_seen GROUP BY gpu_id) s USING (gpu_id)
  ORDER BY g.gpu_uuid
) TO ${target} (FORMAT parquet, COMPRESSION zstd)`;

export async function simulateToLake(opts: ToLakeOptions): Promise<ToLakeSummary> {
  const t0 = Date.now();
  const progress = opts.progress ?? (() => {});
  const layout = lakeLayout(opts.lake);
  fs.mkdirSync(layout.root, { recursive: true });
  const lock = await acquireLock(layout.lockFile, { waitMs: 60_000 });
  const runId = newRunId();
  const db = await Db.open({ memoryLimit: process.env.GPUHEALTH_MEMORY_LIMIT ?? '4GB', tempDir: path.join(layout.tmpDir, runId, 'duckdb-tmp') });
  try {
    recover(layout);
    if (listParquet(layout.table('metrics')).length > 0) {
      throw new InputError(`--to-lake writes a fleet into a lake without telemetry, and ${layout.root} has some`, ['pass a new --lake folder']);
    }
    const stage = stagingDir(layout, runId);
    await createLakeViews(db, layout);
    const plan = planFleet(opts);
    await db.exec('create sim_rows', ROWS_TABLE_SQL);
    await db.exec('create sim_gpus', GPUS_TABLE_SQL);
    await db.exec('create sim_seen', 'CREATE TEMP TABLE sim_seen (gpu_id INTEGER, first_us BIGINT, last_us BIGINT)');
    for (const g of plan.gpus) {
      const h = plan.hosts[g.host]!;
      await db.exec('insert gpu', INSERT_GPU_SQL, {
        gpu_id: g.id, gpu_uuid: g.uuid, host: h.name, gpu_index: g.index, model: MODELS[g.model].modelName,
        pci_bus_id: normalizePciBusId(g.pciBusId) ?? g.pciBusId, driver_version: h.driverVersion,
      });
    }
    const types = [BIGINT, INTEGER, ...VALUE_COLUMNS.map(() => DOUBLE)];
    const chunk = DuckDBDataChunk.create(types, CHUNK);
    const vectors = types.map((_, i) => chunk.getColumnVector(i));
    const appender = await db.conn.createAppender('sim_rows');
    const seen = new Map<number, [number, number]>();
    let n = 0;
    let rows = 0;
    let hours = 0;
    let hour = -1;
    const flushChunk = (): void => {
      if (n === 0) return;
      chunk.rowCount = n;
      for (const v of vectors) v.flush();
      appender.appendDataChunk(chunk);
      n = 0;
    };
    const writeHour = async (): Promise<void> => {
      flushChunk();
      appender.flushSync();
      await db.exec('write hour', hourCopySql(quotePath(path.join(stage, `hour-${hours}`))));
      await db.exec('clear hour', 'DELETE FROM sim_rows');
      hours++;
      progress(`simulated ${hours} hours, ${rows.toLocaleString('en-US')} rows`);
    };
    for (const sc of scrapes(plan)) {
      const h = Math.floor(sc.time_ms / HOUR_MS);
      if (h !== hour) {
        if (hour !== -1) await writeHour();
        hour = h;
      }
      const timeUs = BigInt(sc.time_ms) * 1000n;
      for (let k = 0; k < sc.count; k++) {
        const id = sc.gpus[k]!.id;
        vectors[0]!.setItem(n, timeUs);
        vectors[1]!.setItem(n, id);
        for (let c = 0; c < VALUE_COLUMNS.length; c++) {
          const col = VALUE_COLUMNS[c]!.name;
          const v = PRINTED.has(col) ? sc.values[col][k]! : NaN;
          const isNull = Number.isNaN(v) || !Number.isFinite(v) || isDcgmBlank(v) || (col === MEMORY_TEMP && v === 0);
          vectors[c + 2]!.setItem(n, isNull ? null : v);
        }
        const s = seen.get(id);
        if (s) s[1] = sc.time_ms;
        else seen.set(id, [sc.time_ms, sc.time_ms]);
        n++;
        rows++;
        if (n === CHUNK) flushChunk();
      }
    }
    if (hour !== -1) await writeHour();
    appender.closeSync();
    for (const [id, [first, last]] of seen) {
      await db.exec('insert seen', 'INSERT INTO sim_seen VALUES ($id, $first, $last)', { id, first: first * 1000, last: last * 1000 });
    }
    const adds: { from: string; to: string }[] = [];
    for (let i = 0; i < hours; i++) {
      const dir = path.join(stage, `hour-${i}`);
      if (!fs.existsSync(dir)) continue;
      for (const dateDir of fs.readdirSync(dir)) {
        for (const f of fs.readdirSync(path.join(dir, dateDir))) {
          adds.push({ from: path.join(dir, dateDir, f), to: path.join(layout.table('metrics'), dateDir, `part-${runId}-h${String(i).padStart(4, '0')}-${f.replace(/^part-/, '')}`) });
        }
      }
    }
    const gpusFile = path.join(stage, 'gpus.parquet');
    await db.exec('write gpus', GPU_REGISTRY_SQL(quotePath(gpusFile)));
    adds.push({ from: gpusFile, to: path.join(layout.gpusDir, `gpus-${runId}.parquet`) });
    const deletes = fs.existsSync(layout.gpusDir) ? fs.readdirSync(layout.gpusDir).map((f) => path.join(layout.gpusDir, f)) : [];
    commit(layout, { run_id: runId, adds, deletes });
    lock.release();
    // The registry and failure history go in through the same import a real fleet's CSVs take.
    const csvDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-sim-'));
    try {
      fs.writeFileSync(path.join(csvDir, 'assets.csv'), assetsCsv(plan));
      fs.writeFileSync(path.join(csvDir, 'failures.csv'), failuresCsv(plan));
      await importTable(layout.root, path.join(csvDir, 'assets.csv'), ASSETS_SPEC);
      if (plan.failures.length > 0) await importTable(layout.root, path.join(csvDir, 'failures.csv'), FAILURES_SPEC);
    } finally {
      fs.rmSync(csvDir, { recursive: true, force: true });
    }
    return {
      lake: layout.root,
      gpus: plan.gpus.length,
      hosts: plan.hosts.length,
      rows,
      hours,
      files: adds.length,
      failures: plan.failures.length,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    db.close();
    fs.rmSync(path.join(layout.tmpDir, runId), { recursive: true, force: true });
    lock.release();
  }
}
