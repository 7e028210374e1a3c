/**
 * The rows the failure models learn from and score: feature vectors per GPU and cut-off (one query,
 * sql/prediction-features.ts), and, for training, each row's outcome from the `failures` registry —
 * when the GPU failed after the cut-off, or when it was last seen (censored).
 */
import type { Db } from '../db/duckdb.js';
import { FAILURE_TYPES, PREDICTION_LOOKBACK_DAYS, type FailureType } from '../features/prediction-features.js';
import { predictionFeaturesSql } from '../sql/prediction-features.js';

export const DAY_MS = 86_400_000;

export interface FeatureMatrix {
  /** Per row: the GPU, the cut-off (ms), host and model. */
  gpu: string[];
  cutoffMs: number[];
  host: (string | null)[];
  model: (string | null)[];
  /** Row-major rows × names.length; NaN where a feature is null. */
  X: Float64Array;
  names: readonly string[];
}

/**
 * Feature rows for the cut-offs anchorMs + k days, k = firstK … lastK (one cut-off: firstK = lastK = 0).
 * Each row uses only data from before its cut-off.
 */
export async function predictionMatrix(db: Db, names: readonly string[], anchorMs: number, firstK: number, lastK: number): Promise<FeatureMatrix> {
  const firstCut = anchorMs + firstK * DAY_MS;
  const lastCut = anchorMs + lastK * DAY_MS;
  // bucket b ends at cut-off anchor + (b + 1) days
  const params = {
    start_us: (firstCut - (PREDICTION_LOOKBACK_DAYS + 1) * DAY_MS) * 1000,
    end_us: lastCut * 1000,
    anchor_us: anchorMs * 1000,
    first_b: firstK - 1,
    last_b: lastK - 1,
  };
  const rows = await db.query('prediction features', predictionFeaturesSql(names), params);
  const X = new Float64Array(rows.length * names.length);
  const out: FeatureMatrix = { gpu: [], cutoffMs: [], host: [], model: [], X, names };
  rows.forEach((r, i) => {
    out.gpu.push(String(r['gpu_uuid']));
    out.cutoffMs.push((r['cutoff'] as Date).getTime());
    out.host.push((r['host'] as string | null) ?? null);
    out.model.push((r['model'] as string | null) ?? null);
    names.forEach((n, j) => {
      const v = r[n];
      X[i * names.length + j] = v === null || v === undefined ? Number.NaN : Number(v);
    });
  });
  return out;
}

/** A GPU's outcome: its failures (time order) and when it was last seen. */
export interface GpuOutcome {
  failures: { atMs: number; type: FailureType }[];
  lastSampleMs: number | null;
}

/**
 * Per GPU: its recorded failures (matched by UUID, or by serial through the asset registry) and its
 * newest sample before `toMs`. Failure types outside FAILURE_TYPES count as `other`.
 */
/**
 * The failures before `toMs` that training cannot use: a serial that no asset record matches, or a GPU
 * without telemetry before `toMs`. Output: count of each.
 */
export async function unmatchedFailures(db: Db, toMs: number): Promise<{ no_asset: number; no_telemetry: number }> {
  const [r] = await db.query<{ no_asset: number; no_telemetry: number }>(
    'failures training cannot use',
    `SELECT count(*) FILTER (WHERE gpu IS NULL) AS no_asset,
            count(*) FILTER (WHERE gpu IS NOT NULL AND gpu NOT IN (SELECT gpu_uuid FROM rollups WHERE hour < make_timestamp($to_us))) AS no_telemetry
     FROM (SELECT coalesce(f.gpu_uuid, a.gpu_uuid) AS gpu FROM failures f LEFT JOIN assets a ON f.gpu_uuid IS NULL AND a.serial = f.serial
           WHERE f.failed_at < make_timestamp($to_us))`,
    { to_us: toMs * 1000 },
  );
  return { no_asset: Number(r?.no_asset ?? 0), no_telemetry: Number(r?.no_telemetry ?? 0) };
}

export async function gpuOutcomes(db: Db, toMs: number): Promise<Map<string, GpuOutcome>> {
  const out = new Map<string, GpuOutcome>();
  const seen = await db.query<{ gpu_uuid: string; last_time: Date }>(
    'last samples',
    'SELECT gpu_uuid, max(last_time) AS last_time FROM rollups WHERE hour < make_timestamp($to_us) GROUP BY gpu_uuid',
    { to_us: toMs * 1000 },
  );
  for (const r of seen) out.set(String(r.gpu_uuid), { failures: [], lastSampleMs: r.last_time.getTime() });
  const failures = await db.query<{ gpu_uuid: string; failed_at: Date; failure_type: string | null }>(
    'failures by gpu',
    `SELECT coalesce(f.gpu_uuid, a.gpu_uuid) AS gpu_uuid, f.failed_at, lower(f.failure_type) AS failure_type
     FROM failures f LEFT JOIN assets a ON f.gpu_uuid IS NULL AND a.serial = f.serial
     WHERE coalesce(f.gpu_uuid, a.gpu_uuid) IS NOT NULL AND f.failed_at IS NOT NULL
     ORDER BY f.failed_at`,
  );
  for (const f of failures) {
    const type = (FAILURE_TYPES as readonly string[]).includes(f.failure_type ?? '') ? (f.failure_type as FailureType) : 'other';
    const o = out.get(f.gpu_uuid) ?? { failures: [], lastSampleMs: null };
    o.failures.push({ atMs: f.failed_at.getTime(), type });
    out.set(f.gpu_uuid, o);
  }
  return out;
}

/** A training row's outcome within the horizon. */
export interface RowLabel {
  /** Days from the cut-off to the failure or to the end of what is known (censoring), at most the horizon. */
  days: number;
  /** Whether the GPU failed within `days`. */
  event: boolean;
  /** The failure's type when it did. */
  type: FailureType | null;
  /** Days from the cut-off to the next failure, however far (null when none is recorded before the end). */
  daysToFailure: number | null;
}

/**
 * The outcome of the row (gpu, cut-off) over `horizonDays`, knowing only what happened before `endMs`:
 * the next failure after the cut-off, else censored at the GPU's last sample (a GPU that left service
 * without a recorded failure) or at `endMs`. Null when nothing is known after the cut-off.
 */
export function labelRow(o: GpuOutcome | undefined, cutoffMs: number, horizonDays: number, endMs: number): RowLabel | null {
  const next = o?.failures.find((f) => f.atMs > cutoffMs) ?? null;
  const horizonEnd = cutoffMs + horizonDays * DAY_MS;
  if (next !== null && next.atMs <= endMs) {
    const event = next.atMs <= horizonEnd;
    const days = (Math.min(next.atMs, horizonEnd) - cutoffMs) / DAY_MS;
    return { days, event, type: event ? next.type : null, daysToFailure: (next.atMs - cutoffMs) / DAY_MS };
  }
  const censorMs = Math.min(endMs, o?.lastSampleMs ?? endMs, horizonEnd);
  if (censorMs <= cutoffMs) return null;
  return { days: (censorMs - cutoffMs) / DAY_MS, event: false, type: null, daysToFailure: null };
}
