/**
 * The failure models' feature rows (features/prediction-features.ts) for many cut-offs in one pass over
 * the hourly rollups: the training rows of `train` (every GPU × every cut-off day) and the rows `predict`
 * scores (every GPU × one cut-off) come from this one query, so training and serving read the same code.
 *
 * Cut-offs lie on a grid of whole days from an anchor (training: midnight; predict: `--at`). Hours are
 * stitched once over the whole span (stitchedHoursCtes, the definitions `features` uses), put into the
 * day bucket that ends at a cut-off, and summed per GPU and bucket; each cut-off's windows (last day,
 * last 7 days, days 8–28 before, last 28 days) are window frames over a dense grid of buckets, so a day
 * without data is a day, not a skipped row. The fleet-relative values (temperature at equal power, SM
 * clock under load, power noise) compare a GPU with the same model's GPUs in the same bucket, so every
 * value at a cut-off uses only data from before it.
 *
 * The cohort-relative values need COHORT_MIN_GPUS GPUs of the model in the bucket; below that they are
 * null, as in `features`.
 */
import { RESET_XIDS, XID_CLASSES } from '../dcgm/xid.js';
import { COHORT_MIN_GPUS, XID_INCIDENT_GAP_S } from '../features/definitions.js';
import { stitchedHoursCtes } from './features.js';

const START = 'make_timestamp($start_us)';
const END = 'make_timestamp($end_us)';
/** The day bucket of a timestamp expression: bucket b covers [anchor + b days, anchor + b + 1 days) and ends at cut-off b. */
const bucketOf = (t: string): string => `CAST(floor((epoch_us(${t}) - $anchor_us) / 86400000000.0) AS BIGINT)`;

const codesOfClass = (cls: string): string =>
  Object.entries(XID_CLASSES)
    .filter(([, info]) => info.class === cls)
    .map(([code]) => code)
    .join(', ') || '-1';

/** Xid families the features count, as (code, family) rows. */
const XID_FAMILY_ROWS = [
  ...RESET_XIDS.map((c) => `(${c}, 'reset')`),
  ...codesOfClass('memory')
    .split(', ')
    .map((c) => `(${c}, 'memory')`),
  ...codesOfClass('interconnect')
    .split(', ')
    .map((c) => `(${c}, 'interconnect')`),
  ...codesOfClass('application')
    .split(', ')
    .map((c) => `(${c}, 'application')`),
].join(', ');

/** Frames over the dense bucket grid (one row per GPU and day bucket). */
const W1 = 'ROWS CURRENT ROW';
const W7 = 'ROWS BETWEEN 6 PRECEDING AND CURRENT ROW';
const W8 = 'ROWS BETWEEN 7 PRECEDING AND CURRENT ROW';
const W28 = 'ROWS BETWEEN 27 PRECEDING AND CURRENT ROW';
const W29 = 'ROWS BETWEEN 28 PRECEDING AND CURRENT ROW';
const BASE = 'ROWS BETWEEN 27 PRECEDING AND 7 PRECEDING';
const over = (frame: string): string => `OVER (PARTITION BY gpu_uuid ORDER BY b ${frame})`;
const sumOver = (x: string, frame: string): string => `sum(${x}) ${over(frame)}`;

/** Errors per day over a frame: the count ÷ the frame's hours with data, × 24 (null when the counter never reported). */
const perDay = (count: string, frame: string): string => `24.0 * ${count} / greatest(${sumOver('hours', frame)}, 1)`;
const eccSum = (kind: 'sbe' | 'dbe', frame: string): string => `greatest(${sumOver(`${kind}_v`, frame)}, ${sumOver(`${kind}_a`, frame)})`;
const log10Rate = (count: string, frame: string): string => `log10(1 + ${perDay(count, frame)})`;
/** Acceleration: log2 of (rate over the frame + 1) ÷ (rate over days 8–28 before + 1); null without a baseline. */
const accel = (count: (frame: string) => string, frame: string): string =>
  `CASE WHEN ${sumOver('hours', BASE)} > 0 THEN log2((1 + ${perDay(count(frame), frame)}) / (1 + ${perDay(count(BASE), BASE)})) END`;
const share = (num: string, den: string, frame: string): string => `${sumOver(num, frame)} / nullif(${sumOver(den, frame)}, 0)`;
const weighted = (x: string, w: string, frame: string): string =>
  `sum(${x} * ${w}) ${over(frame)} / nullif(sum(CASE WHEN ${x} IS NOT NULL THEN ${w} END) ${over(frame)}, 0)`;
/** Thermal pressure: the share of loaded samples with a thermal bit, or (no bitmask) the violation counter's share of the time with data. */
const thermalPressure = (frame: string): string =>
  `coalesce(${share('ld_tr_thermal', 'ld_tr_n', frame)}, ${sumOver('tviol', frame)} / nullif(${sumOver('hours', frame)} * 3.6e9, 0))`;
const powerViolationShare = (frame: string): string => `${sumOver('pviol', frame)} / nullif(${sumOver('hours', frame)} * 3.6e9, 0)`;
const powerCv = (frame: string): string =>
  `sqrt(${sumOver('p_ss', frame)} / nullif(${sumOver('p_dof', frame)}, 0)) / nullif(${sumOver('ldp_sum', frame)} / nullif(${sumOver('ldp_n', frame)}, 0), 0)`;

/**
 * The feature expressions, by name, in the order of PREDICTION_FEATURES (a test checks the two agree).
 * Each reads the columns of `grid_rows` (one row per GPU and day bucket).
 */
export const PREDICTION_FEATURE_SQL: Readonly<Record<string, string>> = {
  sbe_rate_1d: log10Rate(eccSum('sbe', W1), W1),
  sbe_rate_7d: log10Rate(eccSum('sbe', W7), W7),
  sbe_accel_1d: accel((f) => eccSum('sbe', f), W1),
  sbe_accel_7d: accel((f) => eccSum('sbe', f), W7),
  dbe_28d: eccSum('dbe', W28),
  repair_new_7d: `greatest(0, max(repair_total) ${over(W8)} - min(repair_total) ${over(W8)})`,
  repair_new_28d: `greatest(0, max(repair_total) ${over(W29)} - min(repair_total) ${over(W29)})`,
  repair_total: `log10(1 + last_value(repair_total IGNORE NULLS) ${over(W28)})`,
  remap_pending: `CASE WHEN last_value(pending IGNORE NULLS) ${over(W7)} >= 1 THEN 1 WHEN last_value(pending IGNORE NULLS) ${over(W7)} IS NOT NULL THEN 0 END`,
  remap_failure: `CASE WHEN last_value(rfail IGNORE NULLS) ${over(W28)} >= 1 THEN 1 WHEN last_value(rfail IGNORE NULLS) ${over(W28)} IS NOT NULL THEN 0 END`,
  nvlink_rate_1d: log10Rate(sumOver('nvl', W1), W1),
  nvlink_accel_7d: accel((f) => sumOver('nvl', f), W7),
  pcie_rate_1d: log10Rate(sumOver('pcie', W1), W1),
  pcie_accel_7d: accel((f) => sumOver('pcie', f), W7),
  xid_interconnect_7d: `coalesce(${sumOver('x_interconnect', W7)}, 0)`,
  temp_excess_7d: weighted('temp_excess', 'resid_hours', W7),
  temp_excess_change: `${weighted('temp_excess', 'resid_hours', W7)} - ${weighted('temp_excess', 'resid_hours', BASE)}`,
  thermal_pressure_7d: thermalPressure(W7),
  thermal_pressure_change: `${thermalPressure(W7)} - ${thermalPressure(BASE)}`,
  hw_thermal_share_7d: share('tr_hw_thermal', 'tr_n', W7),
  power_brake_share_7d: share('tr_power_brake', 'tr_n', W7),
  power_violation_change: `${powerViolationShare(W7)} - ${powerViolationShare(BASE)}`,
  power_noise_rel_7d: weighted('power_noise_rel', 'hours', W7),
  power_noise_change: `log2(nullif(${powerCv(W7)}, 0) / nullif(${powerCv(BASE)}, 0))`,
  clock_rel_7d: weighted('clock_rel', 'clk_n', W7),
  clock_rel_change: `${weighted('clock_rel', 'clk_n', W7)} - ${weighted('clock_rel', 'clk_n', BASE)}`,
  xid_reset_7d: `coalesce(${sumOver('x_reset', W7)}, 0)`,
  xid_reset_28d: `coalesce(${sumOver('x_reset', W28)}, 0)`,
  xid_memory_28d: `coalesce(${sumOver('x_memory', W28)}, 0)`,
  xid_application_7d: `coalesce(${sumOver('x_application', W7)}, 0)`,
  loaded_share_7d: share('ld_samples', 'samples', W7),
};

/**
 * One row per GPU and cut-off: gpu_uuid, cutoff, host, model, samples_7d, samples_1d, last_sample, then
 * the features in PREDICTION_FEATURES order. Rows only for GPUs with samples in the 7 days before the
 * cut-off. Params: $start_us, $end_us (the hours read: 29 days before the first cut-off up to the last;
 * on the hour), $anchor_us (a cut-off; the grid's origin), $first_b, $last_b (the buckets whose ends are
 * the cut-offs wanted).
 */
export function predictionFeaturesSql(names: readonly string[]): string {
  const features = names.map((n) => {
    const expr = PREDICTION_FEATURE_SQL[n];
    if (expr === undefined) throw new Error(`unknown prediction feature ${n}`);
    return `CAST(${expr} AS DOUBLE) AS ${n}`;
  });
  return `
WITH ${stitchedHoursCtes(START, END)},
hb AS (
  SELECT h.*, ${bucketOf('hour')} AS b FROM h
),
ld AS (
  SELECT gpu_uuid, b, model, ld_temp_h, ld_power_h FROM hb
  WHERE loaded_hour AND model IS NOT NULL AND ld_temp_h IS NOT NULL AND ld_power_h IS NOT NULL
),
temp_fit AS (
  -- the model's temperature at a given power in this day bucket: least squares over its GPUs' loaded hours
  SELECT model, b, regr_intercept(ld_temp_h, ld_power_h) AS a, regr_slope(ld_temp_h, ld_power_h) AS s, count(DISTINCT gpu_uuid) AS gpus
  FROM ld GROUP BY model, b
),
temp_resid AS (
  SELECT ld.gpu_uuid, ld.b, ld.model, avg(ld.ld_temp_h - (f.a + f.s * ld.ld_power_h)) AS resid, count(*) AS resid_hours
  FROM ld JOIN temp_fit f USING (model, b)
  WHERE f.gpus >= ${COHORT_MIN_GPUS} AND f.s IS NOT NULL
  GROUP BY ld.gpu_uuid, ld.b, ld.model
),
temp_excess AS (
  -- from the model's median GPU, so hot GPUs that pull the line up do not hide themselves
  SELECT gpu_uuid, b, resid - median(resid) OVER (PARTITION BY model, b) AS temp_excess, resid_hours FROM temp_resid
),
gd AS (
  SELECT gpu_uuid, b,
         arg_max(host, hour) AS host, arg_max(model, hour) AS model, round(arg_max(power_limit, hour)) AS power_limit,
         sum(samples) AS samples, count(*) AS hours, max(hour) AS last_hour, sum(ld_samples) AS ld_samples,
         sum(ecc_sbe_volatile_d) AS sbe_v, sum(ecc_sbe_aggregate_d) AS sbe_a,
         sum(ecc_dbe_volatile_d) AS dbe_v, sum(ecc_dbe_aggregate_d) AS dbe_a,
         sum(pcie_replay_count_d) AS pcie, sum(nvlink_crc_errors_d) AS nvl,
         sum(power_violation_us_d) AS pviol, sum(thermal_violation_us_d) AS tviol,
         sum(tr_n) AS tr_n, sum(tr_hw_thermal) AS tr_hw_thermal, sum(tr_power_brake) AS tr_power_brake,
         sum(ld_tr_n) AS ld_tr_n, sum(ld_tr_thermal) AS ld_tr_thermal,
         sum(ldf_sm_clock_sum) AS clk_sum, sum(ldf_sm_clock_n) AS clk_n,
         sum(power_resid_ss) FILTER (WHERE ld_pa_n >= 3) AS p_ss, sum(ld_pa_n - 2) FILTER (WHERE ld_pa_n >= 3) AS p_dof,
         sum(ld_power_usage_sum) AS ldp_sum, sum(ld_power_usage_n) AS ldp_n
  FROM hb GROUP BY gpu_uuid, b
),
gd_rel AS (
  -- per day bucket, against the same model (and power limit) that day: SM clock under load and power noise
  SELECT gpu_uuid, b,
         CASE WHEN count(clk) OVER c >= ${COHORT_MIN_GPUS} THEN 100 * (clk / nullif(median(clk) OVER c, 0) - 1) END AS clock_rel,
         CASE WHEN count(cv) OVER c >= ${COHORT_MIN_GPUS} THEN log2(nullif(cv, 0) / nullif(median(cv) OVER c, 0)) END AS power_noise_rel
  FROM (
    SELECT gpu_uuid, b, model, power_limit,
           CASE WHEN clk_n > 0 THEN clk_sum / clk_n END AS clk,
           sqrt(p_ss / nullif(p_dof, 0)) / nullif(ldp_sum / nullif(ldp_n, 0), 0) AS cv
    FROM gd WHERE model IS NOT NULL
  )
  WINDOW c AS (PARTITION BY model, power_limit, b)
),
gs AS (
  -- the GPU's memory-repair state at the end of each bucket
  SELECT gpu_uuid, b,
         CASE WHEN coalesce(rr_c, rr_u, rp_s, rp_d) IS NOT NULL THEN coalesce(rr_c, 0) + coalesce(rr_u, 0) + coalesce(rp_s, 0) + coalesce(rp_d, 0) END AS repair_total,
         greatest(rr_pending, rp_pending) AS pending, rfail
  FROM (
    SELECT gpu_uuid, ${bucketOf('hour')} AS b,
           arg_max(remapped_rows_correctable_last, last_time) AS rr_c, arg_max(remapped_rows_uncorrectable_last, last_time) AS rr_u,
           arg_max(retired_pages_sbe_last, last_time) AS rp_s, arg_max(retired_pages_dbe_last, last_time) AS rp_d,
           arg_max(row_remap_pending_last, last_time) AS rr_pending, arg_max(retired_pages_pending_last, last_time) AS rp_pending,
           arg_max(row_remap_failure_last, last_time) AS rfail
    FROM cseg GROUP BY ALL
  )
),
xid_log AS (
  -- kernel-log incidents: an event counts unless it repeats its code on the GPU within XID_INCIDENT_GAP_S
  SELECT gpu_uuid, xid, ${bucketOf('time')} AS b, count(*) AS n FROM (
    SELECT gpu_uuid, xid, time, lag(time) OVER (PARTITION BY gpu_uuid, xid ORDER BY time) AS prev
    FROM xid_events WHERE time >= ${START} AND time < ${END} AND gpu_uuid IS NOT NULL AND xid > 0
  ) WHERE prev IS NULL OR epoch(time) - epoch(prev) > ${XID_INCIDENT_GAP_S}
  GROUP BY ALL
),
xid_gauge AS (
  -- changes of dcgm-exporter's last-Xid gauge: one per GPU, hour and code
  SELECT gpu_uuid, xid, ${bucketOf('hour')} AS b, count(DISTINCT hour) AS n FROM (
    SELECT gpu_uuid, hour, unnest(xid_changes) AS xid FROM cseg
    UNION ALL SELECT gpu_uuid, hour, xid_seam_change FROM cseg WHERE xid_seam_change IS NOT NULL
  ) WHERE xid > 0 GROUP BY ALL
),
xd AS (
  -- the log and the gauge see the same incidents: per code the larger count
  SELECT gpu_uuid, b,
         sum(n) FILTER (WHERE family = 'reset') AS x_reset, sum(n) FILTER (WHERE family = 'memory') AS x_memory,
         sum(n) FILTER (WHERE family = 'interconnect') AS x_interconnect, sum(n) FILTER (WHERE family = 'application') AS x_application
  FROM (SELECT gpu_uuid, b, xid, max(n) AS n FROM (SELECT * FROM xid_log UNION ALL SELECT * FROM xid_gauge) GROUP BY ALL) c
  JOIN (VALUES ${XID_FAMILY_ROWS}) f(code, family) ON f.code = c.xid
  GROUP BY gpu_uuid, b
),
grid AS (
  -- every day bucket from the GPU's first to 6 after its last (it still counts as reporting then), within the cut-offs wanted
  SELECT gpu_uuid, unnest(range(b0, least(b1 + 7, $last_b + 1))) AS b
  FROM (SELECT gpu_uuid, min(b) AS b0, max(b) AS b1 FROM gd GROUP BY gpu_uuid)
),
grid_rows AS (
  SELECT g.gpu_uuid, g.b,
         d.* EXCLUDE (gpu_uuid, b), coalesce(d.hours, 0) AS hours_d, coalesce(d.samples, 0) AS samples_d,
         r.clock_rel, r.power_noise_rel, s.repair_total, s.pending, s.rfail, t.temp_excess, t.resid_hours,
         x.x_reset, x.x_memory, x.x_interconnect, x.x_application
  FROM grid g
  LEFT JOIN gd d USING (gpu_uuid, b)
  LEFT JOIN gd_rel r USING (gpu_uuid, b)
  LEFT JOIN gs s USING (gpu_uuid, b)
  LEFT JOIN temp_excess t USING (gpu_uuid, b)
  LEFT JOIN xd x USING (gpu_uuid, b)
),
rows AS (
  SELECT gpu_uuid, b,
         make_timestamp($anchor_us + (b + 1) * 86400000000) AS cutoff,
         last_value(host IGNORE NULLS) ${over(W28)} AS host,
         last_value(model IGNORE NULLS) ${over(W28)} AS model,
         ${sumOver('samples_d', W7)} AS samples_7d,
         ${sumOver('samples_d', W1)} AS samples_1d,
         max(last_hour) ${over(W7)} AS last_hour,
         ${features.join(',\n         ')}
  FROM (SELECT * REPLACE (hours_d AS hours, samples_d AS samples) FROM grid_rows)
)
SELECT * EXCLUDE (b) FROM rows
WHERE b BETWEEN $first_b AND $last_b AND samples_7d > 0
ORDER BY cutoff, gpu_uuid`;
}

/**
 * TELEMETRY_HOURS_SQL ($start_us, $end_us) → gpu_uuid, hours: the hours with at least one sample of
 * each GPU in the window; predict falls back on the lifetime prior below a day's worth.
 */
export const TELEMETRY_HOURS_SQL = `
SELECT gpu_uuid, count(DISTINCT hour) AS hours
FROM rollups
WHERE hour >= make_timestamp($start_us) AND hour < make_timestamp($end_us)
GROUP BY gpu_uuid`;
