/**
 * `gpuhealth features`: the per-GPU feature vector over a window (docs/features.md), computed from
 * the hourly rollups in one DuckDB query and written to `lake/features/date=<at>/features-<at>.parquet`.
 * Scoring and the failure models read the same table.
 */
import { InputError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { LakeLayout } from '../lake/layout.js';
import {
  FAILED_REPORTING_COUNT_SQL,
  FAILED_REPORTING_DELETE_SQL,
  FEATURES_SQL,
  ROLLUP_RANGE_SQL,
  SILENT_GPUS_SQL,
  SILENT_GPUS_STATUS_SQL,
  SILENT_LEFT_OUT_SQL,
} from '../sql/features.js';
import { selectGpus } from './select.js';
import { HOUR_MS, windowFile, windowSummary, withWindowStage, type StageWindow, type StageWrites, type WindowOptions } from './window.js';

export type FeatureRow = Record<string, unknown> & { gpu_uuid: string; host: string | null; model: string | null };

export interface FeaturesResult extends StageWindow {
  /** GPUs with a row: those with telemetry in the window and those not reporting (before --gpu / --host filters). */
  gpus_total: number;
  /** GPUs the window accounts for that sent nothing in it (rows with no samples; sql/features.ts SILENT_GPUS_STATUS_SQL). */
  silent: number;
  /** Silent GPUs left out: recorded as failed (no sample since), or removed from service (assets' removed_date). */
  left_out: { failed: number; removed: number };
  /** The fleet's newest sample in the window: coverage (gaps, silence, completeness) is measured to it. */
  newest_sample: string | null;
  rows: FeatureRow[];
  /** The file written, or null with write: false. */
  file: string | null;
  rollups_built: number;
  /** What the run did to the lake (rollups kept, tables not written and why). */
  writes: StageWrites;
  seconds: number;
}

/** The feature table's size and the silent GPUs it accounts for (computeFeatureTable). */
export interface FeatureTableSummary {
  gpus: number;
  newestSample: string | null;
  silent: number;
  /** GPUs left out as recorded failed (silent in the window, or silent since the failure) or removed. */
  leftOut: { failed: number; removed: number };
}

export function featuresFile(layout: LakeLayout, startMs: number, endMs: number): string {
  return windowFile(layout.featuresDir, 'features', startMs, endMs);
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

/**
 * Computes the feature table into the temp table `features` of `db` (lake views must exist): a row
 * per GPU with telemetry in the window, and one per GPU not reporting (known to the asset registry or
 * seen in the 30 days before the window end, silent in it, not recorded as failed or removed).
 * Throws InputError when the window holds no telemetry, saying where the data is.
 */
export async function computeFeatureTable(db: Db, startMs: number, endMs: number): Promise<FeatureTableSummary> {
  const params = { start_us: startMs * 1000, end_us: endMs * 1000 };
  await db.exec('features', `CREATE OR REPLACE TEMP TABLE features AS ${FEATURES_SQL}`, params);
  await db.exec('silent gpu status', SILENT_GPUS_STATUS_SQL, params);
  await db.exec('silent gpus', SILENT_GPUS_SQL, params);
  // a GPU that died in the window (recorded failed, no sample since) is not graded as a live one
  const [died] = await db.query<{ n: number }>('gpus failed in the window', FAILED_REPORTING_COUNT_SQL, { end_us: endMs * 1000 });
  await db.exec('drop gpus failed in the window', FAILED_REPORTING_DELETE_SQL, { end_us: endMs * 1000 });
  const { n, newest, silent } = (
    await db.query<{ n: number; newest: Date | null; silent: number }>(
      'count features',
      'SELECT count(*) AS n, max(fleet_last_sample) AS newest, count(*) FILTER (WHERE samples = 0) AS silent FROM features',
    )
  )[0]!;
  const leftOut = (await db.query<{ failed: number; removed: number }>('silent gpus left out', SILENT_LEFT_OUT_SQL))[0]!;
  if (n === 0) {
    const range = (await db.query<{ newest: Date | null; oldest: Date | null }>('rollup range', ROLLUP_RANGE_SQL))[0];
    const window = `${new Date(startMs).toISOString()} – ${new Date(endMs).toISOString()}`;
    if (!range?.newest) throw new InputError(`the lake holds no telemetry`, ['gpuhealth ingest PATH first']);
    const newest = range.newest.toISOString();
    // the window ends on the hour before --at, so the hour after the newest sample takes it in
    const suggest = new Date(Math.floor(range.newest.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS).toISOString().replace('.000Z', 'Z');
    throw new InputError(`no telemetry in the window ${window}; the lake's samples run from ${iso(range.oldest)} to ${newest}`, [
      `--at ${suggest} (the window ends at --at rounded down to the hour; default now)`,
    ]);
  }
  return {
    gpus: Number(n),
    newestSample: newest ? newest.toISOString() : null,
    silent: Number(silent),
    leftOut: { failed: Number(leftOut.failed) + Number(died!.n), removed: Number(leftOut.removed) },
  };
}

/** Reads every row of `features`, timestamps as ISO strings. */
export async function readFeatureRows(db: Db): Promise<FeatureRow[]> {
  const rows = await db.query<FeatureRow>('read features', 'SELECT * FROM features ORDER BY gpu_uuid');
  return rows.map((r) => {
    const out: FeatureRow = { ...r };
    for (const [k, v] of Object.entries(out)) if (v instanceof Date) out[k] = v.toISOString();
    return out;
  });
}

export async function computeFeatures(opts: WindowOptions): Promise<FeaturesResult> {
  const t0 = Date.now();
  return withWindowStage(opts, async (stage) => {
    const { db, layout, startMs, endMs } = stage;
    stage.progress('computing features');
    const table = await computeFeatureTable(db, startMs, endMs);
    let file: string | null = null;
    if (stage.writable) {
      const target = featuresFile(layout, startMs, endMs);
      if (await stage.writeTables([{ table: 'features', target }])) file = target;
    }
    const rows = selectGpus(await readFeatureRows(db), opts.gpus, opts.hosts);
    return {
      ...windowSummary(startMs, endMs),
      gpus_total: table.gpus,
      silent: table.silent,
      left_out: table.leftOut,
      newest_sample: table.newestSample,
      rows,
      file,
      rollups_built: stage.rollupsBuilt,
      writes: stage.writes(),
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
