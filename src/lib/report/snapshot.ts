/** A per-GPU snapshot of the last days of telemetry, most worrying first (used by `demo`). */
import { InputError } from '../cli/errors.js';
import { withDb } from '../db/duckdb.js';
import { createLakeViews } from '../db/lake-views.js';
import { lakeLayout } from '../lake/layout.js';
import { recoverBeforeRead } from '../lake/txn.js';
import { FLEET_SNAPSHOT_SQL, NEWEST_SAMPLE_SQL } from '../sql/snapshot.js';

export interface SnapshotRow {
  gpu_uuid: string;
  host: string | null;
  model: string | null;
  samples: number;
  temp_mean: number | null;
  temp_max: number | null;
  power_mean_w: number | null;
  thermal_throttle_pct: number;
  sbe_errors: number;
  dbe_errors: number;
  remapped_rows: number | null;
  row_remap_failure: number;
  hw_xid_events: number;
  xid_events: number;
  last_xid: number | null;
  last_seen: string;
}

export interface Snapshot {
  window_start: string;
  window_end: string;
  gpus: SnapshotRow[];
}

export async function fleetSnapshot(lake: string, windowMs: number, atMs?: number): Promise<Snapshot> {
  const layout = lakeLayout(lake);
  await recoverBeforeRead(layout);
  return withDb(async (db) => {
    await createLakeViews(db, layout);
    const newest = (await db.query<{ newest: Date | null }>('newest sample', NEWEST_SAMPLE_SQL))[0]?.newest ?? null;
    if (newest === null) throw new InputError(`the lake at ${layout.root} holds no telemetry`, ['gpuhealth ingest PATH first']);
    const end = atMs ?? newest.getTime() + 1;
    const start = end - windowMs;
    const rows = await db.query('fleet snapshot', FLEET_SNAPSHOT_SQL, { start_us: start * 1000, end_us: end * 1000 });
    return {
      window_start: new Date(start).toISOString(),
      window_end: new Date(end).toISOString(),
      gpus: rows.map((r) => ({ ...r, last_seen: (r.last_seen as Date).toISOString() }) as SnapshotRow),
    };
  });
}
