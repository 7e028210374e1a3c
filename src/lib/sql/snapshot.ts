/**
 * The fleet snapshot the demo prints: per GPU over the window, the signals an operator looks at
 * first. Counter increases are reset-aware (a volatile counter that drops started again from zero).
 * Params: $start_us, $end_us (microseconds since the epoch, UTC). Output: one row per GPU, most worrying first.
 */
/** Xids that point at the hardware (REFERENCE: Xid catalog); application Xids (13, 31, 43, 45) do not. */
export const HARDWARE_XIDS = [48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 121, 136, 140, 143] as const;

export const FLEET_SNAPSHOT_SQL = `
WITH w AS (
  SELECT gpu_uuid, host, model, time, gpu_temp, power_usage, throttle_reasons, xid_last,
         ecc_sbe_volatile, ecc_dbe_volatile, remapped_rows_correctable, remapped_rows_uncorrectable, row_remap_failure,
         ecc_sbe_volatile - lag(ecc_sbe_volatile) OVER g AS d_sbe,
         ecc_dbe_volatile - lag(ecc_dbe_volatile) OVER g AS d_dbe,
         xid_last IS DISTINCT FROM lag(xid_last) OVER g AND lag(xid_last) OVER g IS NOT NULL AS xid_changed
  FROM metrics
  WHERE time >= make_timestamp($start_us) AND time < make_timestamp($end_us)
    AND date BETWEEN CAST(make_timestamp($start_us) AS DATE) AND CAST(make_timestamp($end_us) AS DATE)
  WINDOW g AS (PARTITION BY gpu_uuid ORDER BY time)
)
SELECT gpu_uuid, max(host) AS host, max(model) AS model, count(*) AS samples,
       round(avg(gpu_temp), 1) AS temp_mean, max(gpu_temp) AS temp_max,
       round(avg(power_usage), 0) AS power_mean_w,
       round(100.0 * count(*) FILTER (WHERE (throttle_reasons & 104) <> 0) / count(*), 1) AS thermal_throttle_pct,
       coalesce(sum(CASE WHEN d_sbe >= 0 THEN d_sbe WHEN d_sbe < 0 THEN ecc_sbe_volatile END), 0) AS sbe_errors,
       coalesce(sum(CASE WHEN d_dbe >= 0 THEN d_dbe WHEN d_dbe < 0 THEN ecc_dbe_volatile END), 0) AS dbe_errors,
       max(remapped_rows_correctable) + max(remapped_rows_uncorrectable) AS remapped_rows,
       coalesce(max(row_remap_failure), 0) AS row_remap_failure,
       count(*) FILTER (WHERE xid_changed AND xid_last IN (${HARDWARE_XIDS.join(', ')})) AS hw_xid_events,
       count(*) FILTER (WHERE xid_changed AND xid_last <> 0) AS xid_events,
       arg_max(xid_last, time) AS last_xid,
       max(time) AS last_seen
FROM w GROUP BY gpu_uuid
ORDER BY row_remap_failure DESC, dbe_errors DESC, hw_xid_events DESC, remapped_rows DESC NULLS LAST, sbe_errors DESC,
         thermal_throttle_pct DESC, temp_max DESC, gpu_uuid`;

/** Newest sample in the lake. Output: newest (TIMESTAMP or null). */
export const NEWEST_SAMPLE_SQL = `SELECT max(last_seen) AS newest FROM gpus`;
