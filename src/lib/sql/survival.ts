/**
 * The queries behind `gpuhealth survival`: GPU lifetimes from the registry alone (the views assets,
 * failures and gpus of lake-views.ts; no telemetry needed). Times come back as epoch milliseconds, so
 * the stage does its date arithmetic on plain numbers.
 */

/**
 * SURVIVAL_FAILURES_VIEW_SQL (no parameters) → temp view survival_failures(gpu_uuid, failed_at): each
 * failure with the asset it belongs to: the one its gpu_uuid names, else the one its serial names
 * (when exactly one asset has that serial); gpu_uuid is null for a failure no asset matches.
 */
export const SURVIVAL_FAILURES_VIEW_SQL = `
CREATE OR REPLACE TEMP VIEW survival_failures AS
WITH serials AS (
  SELECT serial, min(gpu_uuid) AS gpu_uuid
  FROM assets
  WHERE serial IS NOT NULL
  GROUP BY serial
  HAVING count(DISTINCT gpu_uuid) = 1
)
SELECT coalesce(a.gpu_uuid, s.gpu_uuid) AS gpu_uuid, f.failed_at
FROM failures f
LEFT JOIN (SELECT DISTINCT gpu_uuid FROM assets) a ON a.gpu_uuid = f.gpu_uuid
-- (a plain equi-join: a condition on a.gpu_uuid here would make it a nested loop; coalesce picks)
LEFT JOIN serials s ON s.serial = f.serial
WHERE f.failed_at IS NOT NULL`;

/**
 * SURVIVAL_ASSETS_SQL (no parameters; reads survival_failures) → one row per asset: gpu_uuid, model,
 * lot, rack, datacenter, host, slot (its gpu_index in its host, from telemetry; null without),
 * deployed_ms, removed_ms (midnight UTC of the dates), failed_ms (its first failure at or after its
 * deployment), failures_before (failures dated before its deployment).
 */
export const SURVIVAL_ASSETS_SQL = `
WITH per_gpu AS (
  SELECT f.gpu_uuid,
         min(f.failed_at) FILTER (WHERE f.failed_at >= CAST(a.deployed_date AS TIMESTAMP)) AS first_failure,
         count(*) FILTER (WHERE f.failed_at < CAST(a.deployed_date AS TIMESTAMP)) AS failures_before
  FROM survival_failures f
  JOIN assets a ON a.gpu_uuid = f.gpu_uuid
  GROUP BY f.gpu_uuid
),
slots AS (
  SELECT gpu_uuid, arg_max(gpu_index, last_seen) AS gpu_index FROM gpus GROUP BY gpu_uuid
)
SELECT a.gpu_uuid, a.model, a.lot, a.rack, a.datacenter, a.host, s.gpu_index AS slot,
       epoch_ms(CAST(a.deployed_date AS TIMESTAMP)) AS deployed_ms,
       epoch_ms(CAST(a.removed_date AS TIMESTAMP)) AS removed_ms,
       epoch_ms(p.first_failure) AS failed_ms,
       coalesce(p.failures_before, 0) AS failures_before
FROM assets a
LEFT JOIN per_gpu p ON p.gpu_uuid = a.gpu_uuid
LEFT JOIN slots s ON s.gpu_uuid = a.gpu_uuid
ORDER BY a.gpu_uuid`;

/**
 * SURVIVAL_FACTS_SQL (no parameters; reads survival_failures) → one row: newest_ms, the newest date
 * the registry, the failures or the telemetry know (the default observation end); unmatched, the
 * failures no asset matches.
 */
export const SURVIVAL_FACTS_SQL = `
SELECT epoch_ms(greatest(
         (SELECT max(CAST(deployed_date AS TIMESTAMP)) FROM assets),
         (SELECT max(CAST(removed_date AS TIMESTAMP)) FROM assets),
         (SELECT max(failed_at) FROM failures),
         (SELECT max(last_seen) FROM gpus))) AS newest_ms,
       (SELECT count(*) FROM survival_failures WHERE gpu_uuid IS NULL) AS unmatched`;
