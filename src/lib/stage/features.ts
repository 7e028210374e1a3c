/**
 * `gpuhealth features`: the per-GPU feature vector over a window (docs/features.md), computed from
 * the hourly rollups in one DuckDB query and written to `lake/features/date=<at>/features-<at>.parquet`.
 * Scoring and the failure models read the same table.
 */
import { InputError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { LakeLayout } from '../lake/layout.js';
import { FEATURES_SQL, ROLLUP_RANGE_SQL, SILENT_GPUS_SQL } from '../sql/features.js';
import { selectGpus } from './select.js';
import { HOUR_MS, windowFile, windowSummary, withWindowStage, type StageWindow, type WindowOptions } from './window.js';

export type FeatureRow = Record<string, unknown> & { gpu_uuid: string; host: string | null; model: string | null };

export interface FeaturesResult extends StageWindow {
  /** GPUs with telemetry in the window (before --gpu / --host filters). */
  gpus_total: number;
  /** The fleet's newest sample in the window: coverage (gaps, silence, completeness) is measured to it. */
  newest_sample: string | null;
  rows: FeatureRow[];
  /** The file written, or null with write: false. */
  file: string | null;
  rollups_built: number;
  seconds: number;
}

export function featuresFile(layout: LakeLayout, startMs: number, endMs: number): string {
  return windowFile(layout.featuresDir, 'features', startMs, endMs);
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

/**
 * Computes the feature table into the temp table `features` of `db` (lake views must exist).
 * Throws InputError when the window holds no telemetry, saying where the data is.
 */
export async function computeFeatureTable(db: Db, startMs: number, endMs: number): Promise<{ gpus: number; newestSample: string | null }> {
  const params = { start_us: startMs * 1000, end_us: endMs * 1000 };
  await db.exec('features', `CREATE OR REPLACE TEMP TABLE features AS ${FEATURES_SQL}`, params);
  await db.exec('silent gpus', SILENT_GPUS_SQL, params);
  const { n, newest } = (
    await db.query<{ n: number; newest: Date | null }>('count features', 'SELECT count(*) AS n, max(fleet_last_sample) AS newest FROM features')
  )[0]!;
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
  return { gpus: n, newestSample: newest ? newest.toISOString() : null };
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
    const { gpus: total, newestSample } = await computeFeatureTable(db, startMs, endMs);
    let file: string | null = null;
    if (opts.write !== false) {
      file = featuresFile(layout, startMs, endMs);
      await stage.writeTables([{ table: 'features', target: file }]);
    }
    const rows = selectGpus(await readFeatureRows(db), opts.gpus, opts.hosts);
    return {
      ...windowSummary(startMs, endMs),
      gpus_total: total,
      newest_sample: newestSample,
      rows,
      file,
      rollups_built: stage.rollupsBuilt,
      seconds: (Date.now() - t0) / 1000,
    };
  });
}
