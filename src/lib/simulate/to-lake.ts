/**
 * `simulate --to-lake`: the simulated fleet written straight into a lake as Parquet, skipping the
 * exposition text (which at the design load, 10,000 GPUs × 7 days × 10 s, would be ~170 GB). The
 * values are those the text path stores after ingest: the same `scrapes()`, the same families per
 * host, and ingest's null rules (DCGM blanks, NaN, a memory temperature of 0).
 *
 * Rows go into DuckDB through its appender a chunk at a time, one UTC hour per Parquet file (one UTC
 * day when the fleet makes fewer than FILE_PER_HOUR_MIN_ROWS rows an hour, so a small fleet over months
 * is not thousands of tiny files), and the whole run commits atomically like an ingest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DOUBLE, DuckDBDataChunk, type DuckDBVector } from '@duckdb/node-api';
import { InputError } from '../errors.js';
import { NO_PROGRESS } from '../progress.js';
import { quotePath } from '../db/duckdb.js';
import { createLakeViews, listParquet } from '../sql/lake-views.js';
import { isDcgmBlank } from '../dcgm/fields.js';
import { ZERO_MEANS_ABSENT_BY_INDEX } from '../dcgm/values.js';
import { addRollupVersion, writeRollup } from '../maintenance/rollups.js';
import { withLakeRun } from '../lake/run.js';
import { VALUE_COLUMNS, normalizePciBusId, type ValueColumn } from '../schema.js';
import { FAMILIES } from './exposition.js';
import { planFleet, type PlanOptions } from './fleet.js';
import { HOUR_MS, MODELS } from './hardware.js';
import { scrapes } from './telemetry.js';
import { assetsCsv, failuresCsv } from './csv.js';
import { readRegistryCsv, stageRegistryTable } from '../registry/import.js';
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
  /** Time slices written (hours or days, see the header). */
  hours: number;
  files: number;
  failures: number;
  seconds: number;
}

const CHUNK = 2048;
/** Below this many rows an hour, a file holds a UTC day instead of an hour. */
export const FILE_PER_HOUR_MIN_ROWS = 20_000;
const DAY_MS = 24 * HOUR_MS;
const PRINTED: ReadonlySet<ValueColumn> = new Set(FAMILIES.map((f) => f.column));

/**
 * Appended rows: time in ms and the GPU's rank in UUID order as doubles, so every column is a
 * Float64Array the generator fills directly; sorting by (rank, time) is then the lake's
 * (gpu_uuid, time) order on integers.
 */
// Plain (not TEMP) tables: a second connection writes one hour's Parquet while the first appends the next.
const rowsTableSql = (name: string): string =>
  `CREATE TABLE ${name} (time_ms DOUBLE, gpu_rank DOUBLE, ${VALUE_COLUMNS.map((c) => `${c.name} DOUBLE`).join(', ')})`;
const GPUS_TABLE_SQL = `CREATE TABLE sim_gpus (gpu_rank INTEGER, gpu_uuid VARCHAR, host VARCHAR, gpu_index INTEGER, model VARCHAR, pci_bus_id VARCHAR, driver_version VARCHAR)`;
const INSERT_GPU_SQL = `INSERT INTO sim_gpus VALUES ($gpu_rank, $gpu_uuid, $host, $gpu_index, $model, $pci_bus_id, $driver_version)`;
const VALUE_CASTS = VALUE_COLUMNS.map((c) => (c.type === 'DOUBLE' ? `r.${c.name}` : `CAST(round(r.${c.name}) AS ${c.type}) AS ${c.name}`)).join(', ');
/** One hour of rows as lake rows, sorted like ingest writes them. `target` is a quoted staging path. */
const hourCopySql = (table: string, target: string): string => `COPY (
  SELECT make_timestamp(CAST(r.time_ms AS BIGINT) * 1000) AS time, g.gpu_uuid, g.host, g.gpu_index, g.model, g.pci_bus_id, g.driver_version,
         ${VALUE_CASTS}, CAST(make_timestamp(CAST(r.time_ms AS BIGINT) * 1000) AS DATE) AS date
  FROM (SELECT * FROM ${table} ORDER BY gpu_rank, time_ms) r JOIN sim_gpus g ON g.gpu_rank = CAST(r.gpu_rank AS INTEGER)
  ORDER BY CAST(r.gpu_rank AS INTEGER), r.time_ms
) TO ${target} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part-{i}', ROW_GROUP_SIZE 122880)`;
const GPU_REGISTRY_SQL = (target: string): string => `COPY (
  SELECT g.gpu_uuid, g.host, g.gpu_index, g.model, g.pci_bus_id, g.driver_version, s.first_seen, s.last_seen
  FROM sim_gpus g JOIN (SELECT gpu_rank, make_timestamp(min(first_us)) AS first_seen, make_timestamp(max(last_us)) AS last_seen FROM sim_seen GROUP BY gpu_rank) s USING (gpu_rank)
  ORDER BY g.gpu_uuid
) TO ${target} (FORMAT parquet, COMPRESSION zstd)`;

/** The Float64Array behind a DOUBLE vector of a fresh chunk (see flushChunk in simulateToLake). */
function itemsOf(v: DuckDBVector): Float64Array {
  const items = (v as unknown as { items?: unknown }).items;
  if (!(items instanceof Float64Array)) throw new Error('unexpected DuckDB vector layout: no Float64Array items');
  return items;
}

export async function simulateToLake(opts: ToLakeOptions): Promise<ToLakeSummary> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  return withLakeRun({ lake: opts.lake, create: true }, async (run) => {
    const { layout, db, stage, runId } = run;
    if (listParquet(layout.table('metrics')).length > 0) {
      throw new InputError(`--to-lake writes a fleet into a lake without telemetry, and ${layout.root} has some`, ['pass a new --lake folder']);
    }
    await createLakeViews(db, layout);
    const plan = planFleet(opts);
    const tables = ['sim_rows_0', 'sim_rows_1'] as const;
    for (const t of tables) await db.exec('create sim rows', rowsTableSql(t));
    await db.exec('create sim_gpus', GPUS_TABLE_SQL);
    await db.exec('create sim_seen', 'CREATE TEMP TABLE sim_seen (gpu_rank INTEGER, first_us BIGINT, last_us BIGINT)');
    const byUuid = [...plan.gpus].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    const rank = new Map(byUuid.map((g, i) => [g.id, i]));
    for (const g of byUuid) {
      const h = plan.hosts[g.host]!;
      await db.exec('insert gpu', INSERT_GPU_SQL, {
        gpu_rank: rank.get(g.id)!,
        gpu_uuid: g.uuid,
        host: h.name,
        gpu_index: g.index,
        model: MODELS[g.model].modelName,
        pci_bus_id: normalizePciBusId(g.pciBusId) ?? g.pciBusId,
        driver_version: h.driverVersion,
      });
    }
    const types = [DOUBLE, DOUBLE, ...VALUE_COLUMNS.map(() => DOUBLE)];
    // Two tables take turns: while the second connection sorts and writes one hour to Parquet, the
    // generator appends the next hour to the other table.
    const writer = await db.connectAnother();
    let table = 0;
    let appender = await db.conn.createAppender(tables[table]);
    let pending: Promise<void> | null = null;
    const seen = new Map<number, [number, number]>();
    // A fresh chunk per CHUNK rows: its validity starts all-valid, so only nulls need marking.
    // Values go straight into each vector's Float64Array (the public setItem costs a BigInt
    // validity update per value, which dominated the run).
    let chunk = DuckDBDataChunk.create(types, CHUNK);
    let vectors = types.map((_, i) => chunk.getColumnVector(i));
    let items = vectors.map(itemsOf);
    let n = 0;
    let rows = 0;
    let hours = 0;
    let hour = -1;
    const flushChunk = (): void => {
      if (n === 0) return;
      chunk.rowCount = n;
      for (const v of vectors) v.flush();
      appender.appendDataChunk(chunk);
      chunk = DuckDBDataChunk.create(types, CHUNK);
      vectors = types.map((_, i) => chunk.getColumnVector(i));
      items = vectors.map(itemsOf);
      n = 0;
    };
    const writeHour = async (): Promise<void> => {
      flushChunk();
      appender.closeSync();
      if (pending) await pending;
      const t = tables[table]!;
      const hourDir = path.join(stage, `hour-${hours}`);
      pending = (async () => {
        await writer.run(hourCopySql(t, quotePath(hourDir)));
        await writer.run(`DELETE FROM ${t}`);
        // each hour file's rollup, as ingest writes it (src/lib/sql/rollup.ts)
        for (const dateDir of fs.readdirSync(hourDir)) {
          for (const f of fs.readdirSync(path.join(hourDir, dateDir))) {
            await writeRollup(async (_n, sql) => void (await writer.run(sql)), [path.join(hourDir, dateDir, f)], path.join(`${hourDir}-rollup`, dateDir, f));
          }
        }
      })();
      pending.catch(() => {}); // awaited (and so reported) before the next hour or at the end
      hours++;
      progress(`simulated ${hours} hours, ${rows.toLocaleString('en-US')} rows`);
      table = 1 - table;
      appender = await db.conn.createAppender(tables[table]);
    };
    const printed = VALUE_COLUMNS.map((c) => (PRINTED.has(c.name) ? c.name : null));
    const ncol = VALUE_COLUMNS.length;
    const src: (Float64Array | null)[] = new Array(ncol).fill(null);
    const sliceMs = plan.gpus.length * (HOUR_MS / plan.intervalMs) >= FILE_PER_HOUR_MIN_ROWS ? HOUR_MS : DAY_MS;
    for (const sc of scrapes(plan)) {
      const h = Math.floor(sc.time_ms / sliceMs);
      if (h !== hour) {
        if (hour !== -1) await writeHour();
        hour = h;
      }
      for (let c = 0; c < ncol; c++) src[c] = printed[c] === null ? null : sc.values[printed[c]!];
      for (let k = 0; k < sc.count; k++) {
        const id = sc.gpus[k]!.id;
        items[0]![n] = sc.time_ms;
        items[1]![n] = rank.get(id)!;
        for (let c = 0; c < ncol; c++) {
          const a = src[c];
          const v = a === null ? NaN : a[k]!;
          // ingest's null rules (dcgm/values.ts canonicalValue; the values are already in canonical units)
          if (!Number.isFinite(v) || (v >= 2147483632 && isDcgmBlank(v)) || (v === 0 && ZERO_MEANS_ABSENT_BY_INDEX[c] === 1)) vectors[c + 2]!.setItem(n, null);
          else items[c + 2]![n] = v;
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
    if (pending) await pending;
    writer.closeSync();
    for (const [id, [first, last]] of seen) {
      await db.exec('insert seen', 'INSERT INTO sim_seen VALUES ($rank, $first, $last)', { rank: rank.get(id)!, first: first * 1000, last: last * 1000 });
    }
    let files = 0;
    for (let i = 0; i < hours; i++) {
      const dir = path.join(stage, `hour-${i}`);
      if (!fs.existsSync(dir)) continue;
      for (const dateDir of fs.readdirSync(dir)) {
        for (const f of fs.readdirSync(path.join(dir, dateDir))) {
          const to = path.join(layout.table('metrics'), dateDir, `part-${runId}-h${String(i).padStart(4, '0')}-${f.replace(/^part-/, '')}`);
          run.add(path.join(dir, dateDir, f), to);
          run.add(path.join(`${dir}-rollup`, dateDir, f), layout.rollupOf(to));
          files++;
        }
      }
    }
    addRollupVersion(run);
    const gpusFile = path.join(stage, 'gpus.parquet');
    await db.exec('write gpus', GPU_REGISTRY_SQL(quotePath(gpusFile)));
    run.add(gpusFile, path.join(layout.gpusDir, `gpus-${runId}.parquet`));
    if (fs.existsSync(layout.gpusDir)) run.remove(...fs.readdirSync(layout.gpusDir).map((f) => path.join(layout.gpusDir, f)));
    // The registry and failure history go in through the same CSV parse a real fleet's files take,
    // and commit with the telemetry: a killed run leaves neither.
    const registry = [
      { spec: ASSETS_SPEC, file: path.join(stage, 'assets.csv'), text: assetsCsv(plan) },
      { spec: FAILURES_SPEC, file: path.join(stage, 'failures.csv'), text: plan.failures.length > 0 ? failuresCsv(plan) : null },
    ];
    for (const { spec, file, text } of registry) {
      if (text === null) continue;
      fs.writeFileSync(file, text);
      // the fleet's clock, not the machine's: a window ending in the future still imports whole
      await stageRegistryTable(run, spec, (await readRegistryCsv(file, spec, { nowMs: plan.endMs })).rows);
    }
    return {
      lake: layout.root,
      gpus: plan.gpus.length,
      hosts: plan.hosts.length,
      rows,
      hours,
      files,
      failures: plan.failures.length,
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
