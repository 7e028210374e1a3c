/**
 * The feature vector per GPU over one window (docs/features.md), computed from the hourly rollups
 * (src/lib/sql/rollup.ts), the Xid events, the GPU registry and the asset registry — never from the
 * raw samples. The window is whole hours: [$start_us, $end_us), both on the hour.
 *
 * The query runs in stages, each a CTE:
 *   seg      rollup segments in the window (one per GPU, hour and metrics file)
 *   cseg     counters stitched across segments, reset-aware at each seam (a reading below the
 *            previous segment's last started again from zero: `counter_increase`, dcgm/counters.ts;
 *            the aggregate ECC counters by their high-water rule), with each segment's counter
 *            events: drops, resets, pending flags cleared, link-error peaks per minute
 *   hr       one row per GPU and hour: segments merged (sums, min of mins, max of maxes)
 *   win      per GPU: window statistics, rolling 1 h / 6 h / 24 h / 7 d windows, trends, counters
 *   expected per GPU: the sampling interval its host (or model, or fleet) runs at, and the samples due
 *   cohort   robust z-scores against GPUs of the same model and power limit at the same load
 *   xid_*    Xid incidents per code (kernel log vs last-Xid gauge), per family across codes (UE,
 *            reset-class, fell off the bus; built-in table), Xid 154's action, the last event needing a reset
 * Cohort features need the whole fleet, so filters (--gpu, --host) apply to the output, not here.
 */
import { AGGREGATE_COUNTERS, aggregateIncreaseSql, VOLATILE_ECC_COUNTERS } from '../dcgm/counters.js';
import { GAP_MIN_INTERVALS, GAP_MIN_S } from '../dcgm/sampling.js';
import {
  FELL_OFF_BUS_XID,
  GPU_RECOVERY_ACTION_CODES,
  GPU_RECOVERY_ACTION_PATTERN,
  RECOVERY_ACTION_XID,
  RESET_RECOVERY_ACTIONS,
  RESET_REQUIRED_XIDS,
  RESET_XIDS,
  UE_XIDS,
  UNCLASSIFIED_XID,
  UNCONTAINED_UE_XID,
  XID_CLASS_NAMES,
  XID_CLASSES,
} from '../dcgm/xid.js';
import { COHORT_MIN_GPUS, SBE_ACCEL_MIN_ERRORS, XID_GROUP_GAP_S, XID_INCIDENT_GAP_S } from '../features/definitions.js';
import {
  ROLLUP_CLEARING_STATES,
  ROLLUP_CLOCK_EVENTS,
  ROLLUP_COUNTER_COLUMNS,
  ROLLUP_RATE_COUNTERS,
  ROLLUP_STAT_COLUMNS,
  ROLLUP_STATE_COLUMNS,
} from './rollup.js';

/** Rolling windows ending at the window end, each clipped to the window. */
export const ROLLING_WINDOWS = [
  { name: '1h', hours: 1 },
  { name: '6h', hours: 6 },
  { name: '24h', hours: 24 },
  { name: '7d', hours: 168 },
] as const;

/** An hour counts as loaded for the like-with-like features when at least half its samples are. */
export const LOADED_HOUR_MIN_SHARE = 0.5;
/** Width (percentage points of SM activity) of the load bins cohort features compare within. */
export const LOAD_BIN_PCT = 10;
/**
 * Floors of the cohort's robust σ, so a cohort of near-identical readings does not turn a trivial
 * difference into a many-σ event: 0.5 % of the median SM clock (≈ 7 MHz), 1 point of DRAM activity,
 * 1 °C of temperature excess, 1 % of the median activity per watt.
 */
export const COHORT_SIGMA_FLOOR = { clock_rel: 0.005, dram_pct: 1, temp_c: 1, per_watt_rel: 0.01 } as const;

/** The window's bounds, bound as microseconds. */
const START = 'make_timestamp($start_us)';
const END = 'make_timestamp($end_us)';

/** The built-in Xid classification as rows (code, class); score applies the config file's overrides to `xid_counts`. */
const XID_CLASS_VALUES = Object.entries(XID_CLASSES)
  .map(([code, info]) => `(${Number(code)}, '${info.class}')`)
  .join(', ');
const XID_CLASS_COLUMNS = XID_CLASS_NAMES.map((c) => `coalesce(sum(n) FILTER (WHERE cls = '${c}'), 0) AS xid_${c}_events`).join(',\n         ');

/** Xid families counted as incidents across codes (built-in table): feature `<family>_incidents`. */
const XID_FAMILIES = {
  ue: UE_XIDS,
  uncontained_ue: [UNCONTAINED_UE_XID],
  reset_xid: RESET_XIDS,
  fell_off_bus: [FELL_OFF_BUS_XID],
} as const satisfies Record<string, readonly number[]>;
const XID_FAMILY_NAMES = Object.keys(XID_FAMILIES) as (keyof typeof XID_FAMILIES)[];
const XID_FAMILY_VALUES = XID_FAMILY_NAMES.flatMap((f) => XID_FAMILIES[f].map((code) => `(${code}, '${f}')`)).join(', ');
/** Per family, the larger of the kernel-log and the gauge incident counts (they see the same incidents, like `xid_counts`). */
const XID_FAMILY_COLUMNS = XID_FAMILY_NAMES.map(
  (f) =>
    `greatest(coalesce(max(n) FILTER (WHERE src = 'log' AND family = '${f}'), 0), coalesce(max(n) FILTER (WHERE src = 'gauge' AND family = '${f}'), 0)) AS ${f}_incidents`,
).join(',\n         ');
/** Xid 154's recovery actions as rows (NVML value, name). */
const RECOVERY_ACTION_VALUES = Object.entries(GPU_RECOVERY_ACTION_CODES)
  .map(([code, action]) => `(${Number(code)}, '${action}')`)
  .join(', ');
const sqlList = (xs: readonly (string | number)[]): string => xs.map((x) => (typeof x === 'number' ? String(x) : `'${x}'`)).join(', ');

const sumOf = (cols: readonly string[]): string => cols.map((c) => `sum(${c}) AS ${c}`).join(', ');

/**
 * The CTE `name`: the modal sampling interval among the GPUs of each `key` (host, model; the whole
 * fleet when null), from the votes in `interval_votes`: the interval most GPUs vote for (ties: the
 * shorter), and how many GPUs voted.
 */
function modalInterval(name: string, key: string | null): string {
  if (key === null)
    return `${name} AS (
  SELECT count(*) AS gpus, first(iv ORDER BY votes DESC, iv) AS iv
  FROM (SELECT iv, count(*) OVER (PARTITION BY iv) AS votes FROM interval_votes)
)`;
  return `${name} AS (
  SELECT ${key}, count(*) AS gpus, first(iv ORDER BY votes DESC, iv) AS iv
  FROM (SELECT ${key}, iv, count(*) OVER (PARTITION BY ${key}, iv) AS votes FROM interval_votes WHERE ${key} IS NOT NULL)
  GROUP BY ${key}
)`;
}
const MODAL_INTERVALS = [modalInterval('host_interval', 'host'), modalInterval('model_interval', 'model'), modalInterval('fleet_interval', null)].join(',\n');

const STAT_MERGE = ROLLUP_STAT_COLUMNS.map(
  (c) => `sum(${c}_n) AS ${c}_n, sum(${c}_sum) AS ${c}_sum, sum(${c}_ssq) AS ${c}_ssq, min(${c}_min) AS ${c}_min, max(${c}_max) AS ${c}_max`,
).join(',\n         ');

const LOADED_SUMS = [
  'ld_samples',
  'ld_gpu_temp_n',
  'ld_gpu_temp_sum',
  'ld_power_usage_n',
  'ld_power_usage_sum',
  'ld_power_usage_ssq',
  'ld_activity_sum',
  'ld_pa_n',
  'ld_pa_a_sum',
  'ld_pa_a_ssq',
  'ld_pa_ap_sum',
  'ld_dram_active_n',
  'ld_dram_active_sum',
  'ldf_sm_clock_n',
  'ldf_sm_clock_sum',
  'ldf_sm_clock_ssq',
  'tr_n',
  ...Object.keys(ROLLUP_CLOCK_EVENTS).map((k) => `tr_${k}`),
  'ld_tr_n',
  'ld_tr_thermal',
  'ld_tr_power_cap',
];

const isAggregate = (c: string): boolean => (AGGREGATE_COUNTERS as readonly string[]).includes(c);

/**
 * Per counter, from the segments before this one (in first-sample order): the latest reading (of the
 * segment that ended last) and the highest reading (the highest last reading; for an aggregate counter
 * the highest reading of all, its high-water mark). Per pending flag, the latest reading.
 */
const COUNTER_PREV = [
  ...ROLLUP_COUNTER_COLUMNS.map(
    (c) => `arg_max(${c}_last, last_time) OVER earlier_segs AS ${c}_prev, max(${c}_${isAggregate(c) ? 'max' : 'last'}) OVER earlier_segs AS ${c}_prev_max`,
  ),
  ...ROLLUP_CLEARING_STATES.map((c) => `arg_max(${c}_last, last_time) OVER earlier_segs AS ${c}_prev`),
].join(',\n           ');

/**
 * A counter's increase in one segment. A segment that starts after every earlier one ended adds its
 * own reset-aware increase plus the seam from the latest earlier reading (a drop at the seam is a
 * restart from zero). A segment that overlaps an earlier one in time (two sources for one GPU, a late
 * file) adds only how far it raises the highest reading so far: adding both segments' increases, or
 * reading its first value against the other's last as a reset, would count the same errors twice or a
 * counter's lifetime total as new. An aggregate counter never resets: each segment adds how far its
 * highest reading rises above the high-water mark of the window so far (its own first reading when it
 * is the first), overlapping or not, so a drop and the climb back add nothing.
 */
const COUNTER_STITCH = ROLLUP_COUNTER_COLUMNS.map((c) =>
  isAggregate(c)
    ? `CASE WHEN ${c}_first IS NULL THEN NULL
              ELSE ${aggregateIncreaseSql(`${c}_max`, `coalesce(${c}_prev_max, ${c}_first)`)} END AS ${c}_d`
    : `CASE WHEN ${c}_first IS NULL THEN NULL
              WHEN is_overlap THEN greatest(${c}_last - coalesce(${c}_prev_max, ${c}_last), 0)
              ELSE ${c}_inc + counter_increase(${c}_first, ${c}_prev) END AS ${c}_d`,
).join(',\n         ');

/** A change from the latest earlier reading to this segment's first, seen only where the segment follows the others (an overlap is another source, not a change). */
const atSeam = (cond: string): string => `NOT is_overlap AND ${cond}`;

/**
 * Per segment, the counter events in it and at its seam (the seam's change is dated at the segment's
 * first sample): drops of the aggregate ECC counters (bad data), the latest drop of a volatile ECC
 * counter (a GPU reset or driver reload), the latest clearing of a pending flag (1 or more, then 0),
 * and the link counters' peak rise per minute (the seam's own step, reset-aware, per minute of its
 * length, at least a minute).
 */
const SEG_EVENTS = [
  `${AGGREGATE_COUNTERS.map((c) => `${c}_drops + CASE WHEN ${atSeam(`${c}_first < ${c}_prev`)} THEN 1 ELSE 0 END`).join(' + ')} AS aggregate_drops`,
  `greatest(${VOLATILE_ECC_COUNTERS.map((c) => `${c}_last_drop, CASE WHEN ${atSeam(`${c}_first < ${c}_prev`)} THEN first_time END`).join(', ')}) AS volatile_reset_at`,
  `greatest(${ROLLUP_CLEARING_STATES.map((c) => `${c}_cleared_at, CASE WHEN ${atSeam(`${c}_first = 0 AND ${c}_prev >= 1`)} THEN first_time END`).join(', ')}) AS pending_cleared_at`,
  ...ROLLUP_RATE_COUNTERS.map(
    (c) =>
      `greatest(${c}_peak_per_min, CASE WHEN ${atSeam(`${c}_first IS NOT NULL AND ${c}_prev IS NOT NULL`)}
                THEN 60 * counter_increase(${c}_first, ${c}_prev) / greatest(epoch(first_time) - epoch(prev_end), 60) END) AS ${c}_peak_per_min`,
  ),
].join(',\n         ');

const COUNTER_HOURLY = ROLLUP_COUNTER_COLUMNS.map((c) => `sum(${c}_d) AS ${c}_d`).join(', ');

/** Per GPU and rolling window: temperature mean/std/min/max, power mean/std, memory temperature, utilisation, SM clock. */
const ROLLING = ROLLING_WINDOWS.map(({ name, hours }) => {
  const f = `FILTER (WHERE hour >= ${END} - INTERVAL ${hours} HOUR)`;
  const mean = (c: string): string => `sum(${c}_sum) ${f} / nullif(sum(${c}_n) ${f}, 0)`;
  const std = (c: string): string =>
    `sqrt(greatest(0, (sum(${c}_ssq) ${f} - sum(${c}_sum) ${f} ^ 2 / nullif(sum(${c}_n) ${f}, 0)) / nullif(sum(${c}_n) ${f} - 1, 0)))`;
  return [
    `${mean('gpu_temp')} AS temp_mean_${name}`,
    `${std('gpu_temp')} AS temp_std_${name}`,
    `min(gpu_temp_min) ${f} AS temp_min_${name}`,
    `max(gpu_temp_max) ${f} AS temp_max_${name}`,
    `${mean('power_usage')} AS power_mean_${name}`,
    `${std('power_usage')} AS power_std_${name}`,
    `${mean('memory_temp')} AS memory_temp_mean_${name}`,
    `max(memory_temp_max) ${f} AS memory_temp_max_${name}`,
    `${mean('gpu_util')} AS gpu_util_mean_${name}`,
    `${mean('sm_active')} AS sm_active_mean_${name}`,
    `${mean('sm_clock_mhz')} AS sm_clock_mean_${name}`,
  ].join(',\n         ');
}).join(',\n         ');

const wmean = (c: string): string => `sum(${c}_sum) / nullif(sum(${c}_n), 0)`;
const wstd = (c: string): string => `sqrt(greatest(0, (sum(${c}_ssq) - sum(${c}_sum) ^ 2 / nullif(sum(${c}_n), 0)) / nullif(sum(${c}_n) - 1, 0)))`;

/** A counter's window delta: null when the GPU never reported it. */
const delta = (c: string): string => `sum(${c}_d)`;
const deltaLast24 = (c: string): string => `sum(${c}_d) FILTER (WHERE hour >= ${END} - INTERVAL 24 HOUR)`;

/**
 * Acceleration of a counter: its rate over the last 24 h ÷ its rate over the rest of the window (the rest
 * counted as 1 when it is 0). Null under SBE_ACCEL_MIN_ERRORS events or in a window under 2 days.
 */
const accel = (total: string, last24: string): string =>
  `CASE WHEN ${total} >= ${SBE_ACCEL_MIN_ERRORS} AND epoch(${END}) - epoch(${START}) >= 2 * 86400 THEN
         ${last24} / (greatest(${total} - ${last24}, 1) / ((epoch(${END}) - epoch(${START})) / 86400.0 - 1)) END`;

const STATE_LAST = ROLLUP_STATE_COLUMNS.map((c) => `arg_max(${c}_last, last_time) AS ${c}, arg_min(${c}_first, first_time) AS ${c}_at_start`).join(
  ',\n         ',
);

/** Cumulative counts whose growth in the window is a feature of its own: pages retired / rows remapped this window. */
export const STATE_GROWTH_COLUMNS = ['retired_pages_sbe', 'retired_pages_dbe', 'remapped_rows_correctable', 'remapped_rows_uncorrectable'] as const;

/**
 * One row per GPU with every feature of docs/features.md.
 * Params: $start_us, $end_us (µs since the epoch, on the hour). Output: the columns of docs/features.md, in that order.
 */
/**
 * The CTEs `seg`, `cseg`, `hr`, `hc` and `h`: a GPU's rollup segments in [start, end) stitched in time
 * order (counters reset-aware at each seam, overlapping segments not counted twice) and merged into one
 * row per GPU and hour, with the hourly derived values the features use. `start` and `end` are SQL
 * expressions for timestamps on the hour. FEATURES_SQL and the prediction features
 * (sql/prediction-features.ts) read the same hours from here, so training, serving and scoring share
 * one definition of every counter and loaded-hour value.
 */
export function stitchedHoursCtes(start: string, end: string): string {
  return `seg AS (
  SELECT * FROM rollups
  WHERE hour >= ${start} AND hour < ${end} AND date BETWEEN CAST(${start} AS DATE) AND CAST(${end} AS DATE)
),
cseg AS (
  SELECT gpu_uuid, hour, first_time, last_time, samples, long_gaps, dt_median, xid_changes, is_overlap,
         ${ROLLUP_STATE_COLUMNS.map((c) => `${c}_first, ${c}_last`).join(', ')},
         epoch(first_time) - epoch(prev_end) AS seam_dt,
         CASE WHEN NOT is_overlap AND xid_prev IS NOT NULL AND xid_prev IS DISTINCT FROM xid_gauge_first THEN xid_gauge_first END AS xid_seam_change,
         ${COUNTER_STITCH},
         ${SEG_EVENTS}
  FROM (
    SELECT *, coalesce(first_time <= prev_end, false) AS is_overlap FROM (
      SELECT *,
             max(last_time) OVER earlier_segs AS prev_end,
             arg_max(xid_gauge_last, last_time) OVER earlier_segs AS xid_prev,
             ${COUNTER_PREV}
      FROM seg WINDOW earlier_segs AS (PARTITION BY gpu_uuid ORDER BY first_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    )
  )
),
hr AS (
  SELECT gpu_uuid, hour,
         arg_max(host, last_time) AS host, arg_max(model, last_time) AS model,
         arg_max(power_limit, last_time) AS power_limit,
         sum(samples) AS samples,
         ${STAT_MERGE},
         ${sumOf(LOADED_SUMS)}
  FROM seg GROUP BY gpu_uuid, hour
),
hc AS (
  SELECT gpu_uuid, hour, ${COUNTER_HOURLY},
         greatest(sum(ecc_sbe_volatile_d), sum(ecc_sbe_aggregate_d)) AS sbe_d
  FROM cseg GROUP BY gpu_uuid, hour
),
h AS (
  SELECT hr.*, hc.* EXCLUDE (gpu_uuid, hour),
         epoch(hr.hour) / 86400.0 AS day,
         gpu_temp_sum / nullif(gpu_temp_n, 0) AS temp_h,
         power_usage_sum / nullif(power_usage_n, 0) AS power_h,
         sm_clock_mhz_sum / nullif(sm_clock_mhz_n, 0) AS clock_h,
         ld_samples >= ${LOADED_HOUR_MIN_SHARE} * hr.samples AND ld_samples > 0 AS loaded_hour,
         ld_activity_sum / nullif(ld_samples, 0) AS ld_activity_h,
         ld_gpu_temp_sum / nullif(ld_gpu_temp_n, 0) AS ld_temp_h,
         ld_power_usage_sum / nullif(ld_power_usage_n, 0) AS ld_power_h,
         ldf_sm_clock_sum / nullif(ldf_sm_clock_n, 0) AS ldf_clock_h,
         ld_dram_active_sum / nullif(ld_dram_active_n, 0) AS ld_dram_h,
         ld_pa_a_sum / nullif(ld_power_usage_sum, 0) AS ld_per_watt_h,
         -- residual sum of squares of loaded power after a linear fit on activity within the hour
         CASE WHEN ld_pa_n >= 3 THEN greatest(0,
           (ld_power_usage_ssq - ld_power_usage_sum ^ 2 / ld_pa_n)
           - CASE WHEN ld_pa_a_ssq - ld_pa_a_sum ^ 2 / ld_pa_n > 1e-9
                  THEN (ld_pa_ap_sum - ld_pa_a_sum * ld_power_usage_sum / ld_pa_n) ^ 2 / (ld_pa_a_ssq - ld_pa_a_sum ^ 2 / ld_pa_n)
                  ELSE 0 END) END AS power_resid_ss,
         sum(sbe_d) OVER (PARTITION BY hr.gpu_uuid ORDER BY hr.hour) AS sbe_cum
  FROM hr JOIN hc USING (gpu_uuid, hour)
)`;
}

export const FEATURES_SQL = `
WITH ${stitchedHoursCtes(START, END)},
fleet AS (
  -- coverage is measured to the fleet's newest sample, not to --at: a lake that was not ingested for
  -- a while (or an --at past the data) must not make every GPU look silent
  SELECT max(last_time) AS data_end FROM seg
),
temp_fit AS (
  -- the fleet's temperature at a given power, per model: least squares over loaded hours
  SELECT model, regr_intercept(ld_temp_h, ld_power_h) AS a, regr_slope(ld_temp_h, ld_power_h) AS b, regr_count(ld_temp_h, ld_power_h) AS n
  FROM (SELECT gpu_uuid, arg_max(model, hour) OVER (PARTITION BY gpu_uuid) AS model, ld_temp_h, ld_power_h FROM h WHERE loaded_hour)
  GROUP BY model
),
excess_raw AS (
  SELECT h.gpu_uuid, m.model, median(h.ld_temp_h - (f.a + f.b * h.ld_power_h)) AS resid,
         regr_slope(h.ld_temp_h - (f.a + f.b * h.ld_power_h), h.day) AS temp_excess_slope_per_day
  FROM h JOIN (SELECT gpu_uuid, arg_max(model, hour) AS model FROM h GROUP BY gpu_uuid) m USING (gpu_uuid)
  JOIN temp_fit f ON f.model = m.model AND f.n >= 2 AND f.b IS NOT NULL
  WHERE h.loaded_hour AND h.ld_temp_h IS NOT NULL AND h.ld_power_h IS NOT NULL
  GROUP BY h.gpu_uuid, m.model
),
excess AS (
  -- measured from the model's median GPU, so the hot GPUs that pull the least-squares line up do not hide themselves
  SELECT gpu_uuid, resid - median(resid) OVER (PARTITION BY model) AS temp_excess_at_power, temp_excess_slope_per_day
  FROM excess_raw
),
gapcount AS (
  -- the interval: median of the segments' own medians; a GPU sampled hourly or less has none, so its seams
  SELECT gpu_uuid, coalesce(median(dt_median), median(seam_dt) FILTER (WHERE seam_dt > 0)) AS interval_s,
         min(first_time) AS first_time, max(last_time) AS last_time,
         list(seam_dt) FILTER (WHERE seam_dt > ${GAP_MIN_S}) AS seam_gaps,
         flatten(list(long_gaps)) AS inner_gaps
  FROM cseg GROUP BY gpu_uuid
),
gaps AS (
  SELECT gpu_uuid, interval_s, first_time, last_time,
         greatest(${GAP_MIN_S}, ${GAP_MIN_INTERVALS} * coalesce(interval_s, 0)) AS gap_threshold_s,
         len(list_filter(coalesce(inner_gaps, []) || coalesce(seam_gaps, []), x -> x > greatest(${GAP_MIN_S}, ${GAP_MIN_INTERVALS} * coalesce(interval_s, 0))))
           + CASE WHEN epoch(data_end) - epoch(last_time) > greatest(${GAP_MIN_S}, ${GAP_MIN_INTERVALS} * coalesce(interval_s, 0)) THEN 1 ELSE 0 END AS gaps_over_5min,
         greatest(coalesce(list_max(coalesce(inner_gaps, []) || coalesce(seam_gaps, [])), 0), epoch(data_end) - epoch(last_time)) AS longest_gap_s
  FROM gapcount, fleet
),
states AS (
  SELECT gpu_uuid, ${STATE_LAST} FROM cseg GROUP BY gpu_uuid
),
counter_events AS (
  SELECT gpu_uuid,
         sum(aggregate_drops) AS ecc_aggregate_drops,
         max(volatile_reset_at) AS volatile_reset_last_at,
         max(pending_cleared_at) AS remap_pending_cleared_at,
         max(pcie_replay_count_peak_per_min) AS pcie_replay_peak_per_min,
         max(nvlink_crc_errors_peak_per_min) / 60.0 AS nvlink_crc_peak_per_s
  FROM cseg GROUP BY gpu_uuid
),
xid_ev AS (
  -- the window's Xid events of known GPUs: kernel-log lines, and rises of dcgm-exporter's opt-in Xid count
  SELECT gpu_uuid, xid, time, message FROM xid_events WHERE time >= ${START} AND time < ${END} AND gpu_uuid IS NOT NULL AND xid > 0
),
xid_log AS (
  SELECT gpu_uuid, xid, count(*) AS n FROM (
    SELECT gpu_uuid, xid, time, lag(time) OVER (PARTITION BY gpu_uuid, xid ORDER BY time) AS prev FROM xid_ev
  ) WHERE prev IS NULL OR epoch(time) - epoch(prev) > ${XID_INCIDENT_GAP_S}
  GROUP BY gpu_uuid, xid
),
xid_gauge_ev AS (
  -- the last-Xid gauge's changes, each with the latest time it can have happened (the rollup keeps no
  -- times): a change inside a segment at the segment's last sample, a change at a seam at its first
  SELECT gpu_uuid, hour, xid, time FROM (
    SELECT gpu_uuid, hour, unnest(xid_changes) AS xid, last_time AS time FROM cseg
    UNION ALL
    SELECT gpu_uuid, hour, xid_seam_change, first_time FROM cseg WHERE xid_seam_change IS NOT NULL
  ) WHERE xid > 0
),
xid_gauge AS (
  -- one change per GPU, hour and code: overlapping segments of one hour see the same change
  SELECT gpu_uuid, xid, count(DISTINCT hour) AS n FROM xid_gauge_ev GROUP BY gpu_uuid, xid
),
xids AS (
  -- the kernel log and the last-Xid gauge see the same incidents: per code the larger count, not the sum
  SELECT gpu_uuid, sum(n) AS xid_events,
         '{' || string_agg('"' || xid || '":' || n, ',' ORDER BY xid) || '}' AS xid_counts,
         ${XID_CLASS_COLUMNS}
  FROM (
    SELECT c.gpu_uuid, c.xid, c.n, coalesce(k.cls, '${UNCLASSIFIED_XID.class}') AS cls
    FROM (SELECT gpu_uuid, xid, max(n) AS n FROM (SELECT * FROM xid_log UNION ALL SELECT * FROM xid_gauge) GROUP BY gpu_uuid, xid) c
    LEFT JOIN (VALUES ${XID_CLASS_VALUES}) k(code, cls) ON k.code = c.xid
  ) GROUP BY gpu_uuid
),
xid_fam AS (
  -- per GPU and family (built-in table), incidents: in the log, a family event more than XID_GROUP_GAP_S
  -- after the previous one of any of its codes starts one; on the gauge, each hour with a change to one
  SELECT gpu_uuid, family, 'log' AS src, count(*) FILTER (WHERE prev IS NULL OR epoch(time) - epoch(prev) > ${XID_GROUP_GAP_S}) AS n FROM (
    SELECT e.gpu_uuid, f.family, e.time, lag(e.time) OVER (PARTITION BY e.gpu_uuid, f.family ORDER BY e.time) AS prev
    FROM xid_ev e JOIN (VALUES ${XID_FAMILY_VALUES}) f(code, family) ON f.code = e.xid
  ) GROUP BY ALL
  UNION ALL
  SELECT g.gpu_uuid, f.family, 'gauge', count(DISTINCT g.hour)
  FROM xid_gauge_ev g JOIN (VALUES ${XID_FAMILY_VALUES}) f(code, family) ON f.code = g.xid GROUP BY ALL
),
xid_fam_n AS (
  SELECT gpu_uuid, ${XID_FAMILY_COLUMNS} FROM xid_fam GROUP BY gpu_uuid
),
xid_recovery AS (
  -- Xid 154: the recovery action the driver now wants, the NVML value after "to" in its message; lines
  -- without one (dcgm-exporter's Xid count) say nothing
  SELECT gpu_uuid, arg_max(action, time) AS recovery_action_last, max(time) AS recovery_action_last_at,
         max(time) FILTER (WHERE action IN (${sqlList(RESET_RECOVERY_ACTIONS)})) AS reset_asked_at
  FROM xid_ev JOIN (VALUES ${RECOVERY_ACTION_VALUES}) a(code, action)
    ON a.code = TRY_CAST(regexp_extract(message, '${GPU_RECOVERY_ACTION_PATTERN}', 1) AS INTEGER)
  WHERE xid = ${RECOVERY_ACTION_XID}
  GROUP BY gpu_uuid
),
xid_need AS (
  -- the latest event after which the GPU needs a reset: an Xid that requires one (log or gauge), Xid 154
  -- asking for one, or a rise of the DBE counter (a UE without an Xid; at its segment's last sample)
  SELECT gpu_uuid, max(time) AS last_reset_required_at FROM (
    SELECT gpu_uuid, time FROM xid_ev WHERE xid IN (${sqlList(RESET_REQUIRED_XIDS)})
    UNION ALL SELECT gpu_uuid, time FROM xid_gauge_ev WHERE xid IN (${sqlList(RESET_REQUIRED_XIDS)})
    UNION ALL SELECT gpu_uuid, reset_asked_at FROM xid_recovery
    UNION ALL SELECT gpu_uuid, last_time FROM cseg WHERE greatest(ecc_dbe_volatile_d, ecc_dbe_aggregate_d) > 0
  ) GROUP BY gpu_uuid
),
xid_reset AS (
  SELECT gpu_uuid, n.* EXCLUDE (gpu_uuid), r.recovery_action_last, r.recovery_action_last_at, d.last_reset_required_at
  FROM xid_fam_n n FULL JOIN xid_recovery r USING (gpu_uuid) FULL JOIN xid_need d USING (gpu_uuid)
),
win AS (
  SELECT gpu_uuid,
         arg_max(host, hour) AS host,
         arg_max(model, hour) AS model,
         arg_max(power_limit, hour) AS power_limit_w,
         sum(samples) AS samples,
         sum(ld_samples) AS loaded_samples,
         ${wmean('gpu_temp')} AS temp_mean, ${wstd('gpu_temp')} AS temp_std, min(gpu_temp_min) AS temp_min, max(gpu_temp_max) AS temp_max,
         ${wmean('memory_temp')} AS memory_temp_mean, max(memory_temp_max) AS memory_temp_max,
         ${wmean('power_usage')} AS power_mean, ${wstd('power_usage')} AS power_std, max(power_usage_max) AS power_max,
         ${wmean('gpu_util')} AS gpu_util_mean,
         ${wmean('sm_active')} AS sm_active_mean, ${wmean('sm_occupancy')} AS sm_occupancy_mean, ${wmean('dram_active')} AS dram_active_mean,
         ${wmean('sm_clock_mhz')} AS sm_clock_mean, ${wstd('sm_clock_mhz')} AS sm_clock_std,
         ${ROLLING},
         -- like-with-like variability: the spread of loaded power around its within-hour linear fit on
         -- activity, pooled over hours, over mean loaded power (variation the workload explains cancels)
         sqrt(sum(power_resid_ss) FILTER (WHERE ld_pa_n >= 3) / nullif(sum(ld_pa_n - 2) FILTER (WHERE ld_pa_n >= 3), 0))
           / nullif(sum(ld_power_usage_sum) / nullif(sum(ld_power_usage_n), 0), 0) AS power_cv,
         100 * sqrt(greatest(0, (sum(ldf_sm_clock_ssq) - sum(ldf_sm_clock_sum) ^ 2 / nullif(sum(ldf_sm_clock_n), 0)) / nullif(sum(ldf_sm_clock_n) - 1, 0)))
           / nullif(sum(ldf_sm_clock_sum) / nullif(sum(ldf_sm_clock_n), 0), 0) AS sm_clock_std_pct_under_load,
         regr_slope(temp_h, day) AS temp_slope_per_day,
         regr_slope(power_h, day) AS power_slope_per_day,
         regr_slope(clock_h, day) AS sm_clock_slope_per_day,
         regr_slope(sbe_cum, day) FILTER (WHERE sbe_cum IS NOT NULL) AS sbe_slope_per_day,
         sum(tr_n) AS throttle_samples,
         sum(tr_idle) AS idle_event_samples,
         sum(tr_power_cap) AS sw_power_cap_samples,
         sum(tr_sw_thermal) AS sw_thermal_samples,
         sum(tr_hw_thermal) AS hw_thermal_slowdown_samples,
         sum(tr_power_brake) AS hw_power_brake_samples,
         sum(tr_slowdown_unattributed) AS hw_slowdown_samples,
         sum(ld_tr_thermal) / nullif(sum(ld_tr_n), 0) AS share_thermal_throttled,
         sum(ld_tr_power_cap) / nullif(sum(ld_tr_n), 0) AS sw_power_cap_share,
         sum(tr_power_brake) / nullif(sum(tr_n), 0) AS power_brake_share,
         greatest(${delta('ecc_sbe_volatile')}, ${delta('ecc_sbe_aggregate')}) AS sbe_delta,
         greatest(${delta('ecc_dbe_volatile')}, ${delta('ecc_dbe_aggregate')}) AS dbe_delta,
         greatest(${deltaLast24('ecc_sbe_volatile')}, ${deltaLast24('ecc_sbe_aggregate')}) AS sbe_last_24h,
         greatest(${deltaLast24('ecc_dbe_volatile')}, ${deltaLast24('ecc_dbe_aggregate')}) AS dbe_last_24h,
         ${delta('pcie_replay_count')} AS pcie_replay_delta,
         ${deltaLast24('pcie_replay_count')} AS pcie_replay_last_24h,
         ${delta('nvlink_crc_errors')} AS nvlink_crc_delta,
         ${deltaLast24('nvlink_crc_errors')} AS nvlink_crc_last_24h,
         ${delta('power_violation_us')} / 1e6 AS power_violation_s,
         ${delta('thermal_violation_us')} / 1e6 AS thermal_violation_s
  FROM h GROUP BY gpu_uuid
),
interval_votes AS (
  -- each GPU votes its modal interval: the rounded median interval of its segments with the most
  -- intervals behind it (ties: the shorter); rounded to the second from 1 s up, so jitter does not split votes
  SELECT v.gpu_uuid, w.host, w.model, first(v.iv ORDER BY v.n DESC, v.iv) AS iv FROM (
    SELECT gpu_uuid, CASE WHEN dt_median >= 1 THEN round(dt_median) ELSE round(dt_median, 3) END AS iv, sum(dt_n) AS n
    FROM seg WHERE dt_median > 0 GROUP BY ALL
  ) v JOIN win w USING (gpu_uuid)
  GROUP BY v.gpu_uuid, w.host, w.model
),
${MODAL_INTERVALS},
expected AS (
  -- the interval the GPU's host runs at (its model's in the fleet, or the fleet's, when the host has
  -- no other GPU that votes), never longer than the GPU's own; expected samples at that interval
  SELECT gp.gpu_uuid, e.expected_interval_s,
         CASE WHEN e.expected_interval_s > 0 THEN greatest(1, round((epoch(fl.data_end) - epoch(greatest(${START}, least(coalesce(r.first_seen, gp.first_time), gp.first_time)))) / e.expected_interval_s) + 1) END AS expected_samples
  FROM (
    SELECT gp.gpu_uuid,
           least(coalesce(CASE WHEN hm.gpus >= 2 THEN hm.iv END, CASE WHEN mm.gpus >= 2 THEN mm.iv END, CASE WHEN fm.gpus >= 2 THEN fm.iv END), gp.interval_s) AS expected_interval_s
    FROM gaps gp JOIN win w USING (gpu_uuid)
    LEFT JOIN host_interval hm ON hm.host = w.host
    LEFT JOIN model_interval mm ON mm.model = w.model
    CROSS JOIN fleet_interval fm
  ) e JOIN gaps gp USING (gpu_uuid) CROSS JOIN fleet fl LEFT JOIN gpus r USING (gpu_uuid)
),
anomalies AS (
  SELECT h.gpu_uuid,
         count(*) FILTER (WHERE h.gpu_temp_max > w.temp_mean + 2 * w.temp_std) AS temp_spike_hours,
         count(*) FILTER (WHERE h.power_usage_max > w.power_mean + 2 * w.power_std OR h.power_usage_min < w.power_mean - 2 * w.power_std) AS power_outlier_hours
  FROM h JOIN win w USING (gpu_uuid) GROUP BY h.gpu_uuid
),
gpu_cohort AS (
  -- a fleet whose exporter leaves the power limit out (dcgm-exporter's default) forms cohorts by model alone
  SELECT w.gpu_uuid, coalesce(w.model, a.model, '') AS model, coalesce(round(w.power_limit_w), -1) AS power_limit_w FROM win w LEFT JOIN assets a USING (gpu_uuid)
),
binned AS (
  -- loaded hours binned by SM activity, one value per GPU and bin
  SELECT h.gpu_uuid, c.model, c.power_limit_w, floor(h.ld_activity_h / ${LOAD_BIN_PCT}) AS bin, count(*) AS hours,
         median(h.ldf_clock_h) AS clock, median(h.ld_dram_h) AS dram, median(h.ld_per_watt_h) AS per_watt
  FROM h JOIN gpu_cohort c USING (gpu_uuid)
  WHERE h.loaded_hour
  GROUP BY ALL
),
bin_med AS (
  SELECT model, power_limit_w, bin,
         median(clock) AS clock_med, count(clock) AS clock_n,
         median(dram) AS dram_med, count(dram) AS dram_n,
         median(per_watt) AS per_watt_med, count(per_watt) AS per_watt_n
  FROM binned GROUP BY ALL
),
bin_mad AS (
  SELECT b.model, b.power_limit_w, b.bin, m.clock_med, m.clock_n, m.dram_med, m.dram_n, m.per_watt_med, m.per_watt_n,
         median(abs(b.clock - m.clock_med)) AS clock_mad, median(abs(b.dram - m.dram_med)) AS dram_mad, median(abs(b.per_watt - m.per_watt_med)) AS per_watt_mad
  FROM binned b JOIN bin_med m USING (model, power_limit_w, bin) GROUP BY ALL
),
bin_z AS (
  SELECT b.gpu_uuid, b.hours,
         CASE WHEN m.clock_n >= ${COHORT_MIN_GPUS} THEN (b.clock - m.clock_med) / greatest(1.4826 * m.clock_mad, ${COHORT_SIGMA_FLOOR.clock_rel} * abs(m.clock_med)) END AS clock_z,
         CASE WHEN m.dram_n >= ${COHORT_MIN_GPUS} THEN (b.dram - m.dram_med) / greatest(1.4826 * m.dram_mad, ${COHORT_SIGMA_FLOOR.dram_pct}) END AS dram_z,
         CASE WHEN m.per_watt_n >= ${COHORT_MIN_GPUS} THEN (b.per_watt - m.per_watt_med) / greatest(1.4826 * m.per_watt_mad, ${COHORT_SIGMA_FLOOR.per_watt_rel} * abs(m.per_watt_med)) END AS per_watt_z
  FROM binned b JOIN bin_mad m USING (model, power_limit_w, bin)
),
load_z AS (
  SELECT gpu_uuid,
         sum(clock_z * hours) / nullif(sum(hours) FILTER (WHERE clock_z IS NOT NULL), 0) AS sm_clock_under_load_z,
         sum(dram_z * hours) / nullif(sum(hours) FILTER (WHERE dram_z IS NOT NULL), 0) AS dram_activity_per_load_z,
         sum(per_watt_z * hours) / nullif(sum(hours) FILTER (WHERE per_watt_z IS NOT NULL), 0) AS activity_per_watt_z
  FROM bin_z GROUP BY gpu_uuid
),
excess_z AS (
  SELECT e.gpu_uuid,
         CASE WHEN count(*) OVER c >= ${COHORT_MIN_GPUS} THEN
           (e.temp_excess_at_power - median(e.temp_excess_at_power) OVER c)
             / greatest(1.4826 * median(abs(e.temp_excess_at_power - m.med)) OVER c, ${COHORT_SIGMA_FLOOR.temp_c}) END AS temp_at_power_z
  FROM excess e JOIN gpu_cohort g USING (gpu_uuid)
  JOIN (SELECT g2.model, g2.power_limit_w, median(e2.temp_excess_at_power) AS med FROM excess e2 JOIN gpu_cohort g2 USING (gpu_uuid) GROUP BY ALL) m
    ON m.model IS NOT DISTINCT FROM g.model AND m.power_limit_w IS NOT DISTINCT FROM g.power_limit_w
  WINDOW c AS (PARTITION BY g.model, g.power_limit_w)
)
SELECT w.gpu_uuid, w.host, coalesce(w.model, a.model) AS model, w.power_limit_w,
       ${END} AS at, ${START} AS window_start, ${END} AS window_end,
       epoch(${END}) - epoch(${START}) AS window_s,
       -- coverage
       epoch(gp.last_time) - epoch(gp.first_time) AS span_s,
       gp.first_time AS first_sample, gp.last_time AS last_sample,
       greatest(0, epoch(fl.data_end) - epoch(gp.last_time) - coalesce(gp.interval_s, 0)) AS silent_before_end_s,
       fl.data_end AS fleet_last_sample,
       w.samples, gp.interval_s, ex.expected_interval_s, ex.expected_samples,
       least(1, w.samples / ex.expected_samples) AS completeness,
       gp.gaps_over_5min, gp.longest_gap_s,
       concat_ws(',',
         CASE WHEN w.temp_mean IS NULL THEN 'temperature' END,
         CASE WHEN w.power_mean IS NULL THEN 'power' END,
         CASE WHEN w.sm_clock_mean IS NULL THEN 'sm_clock' END,
         CASE WHEN w.sm_active_mean IS NULL THEN 'profiling' END,
         CASE WHEN w.throttle_samples = 0 THEN 'clock_events' END,
         CASE WHEN w.sbe_delta IS NULL AND w.dbe_delta IS NULL THEN 'ecc' END,
         CASE WHEN st.remapped_rows_correctable IS NULL AND st.remapped_rows_uncorrectable IS NULL AND st.row_remap_failure IS NULL
                   AND st.retired_pages_sbe IS NULL AND st.retired_pages_dbe IS NULL THEN 'memory_repair' END,
         CASE WHEN w.pcie_replay_delta IS NULL THEN 'pcie' END,
         CASE WHEN w.nvlink_crc_delta IS NULL THEN 'nvlink' END) AS signals_absent,
       w.loaded_samples, w.throttle_samples,
       -- thermal
       w.temp_mean, w.temp_std, w.temp_min, w.temp_max,
       w.temp_mean_1h, w.temp_std_1h, w.temp_min_1h, w.temp_max_1h,
       w.temp_mean_6h, w.temp_std_6h, w.temp_min_6h, w.temp_max_6h,
       w.temp_mean_24h, w.temp_std_24h, w.temp_min_24h, w.temp_max_24h,
       w.temp_mean_7d, w.temp_std_7d, w.temp_min_7d, w.temp_max_7d,
       w.memory_temp_mean, w.memory_temp_max, w.memory_temp_mean_24h, w.memory_temp_max_24h,
       e.temp_excess_at_power, e.temp_excess_slope_per_day, ez.temp_at_power_z,
       w.temp_slope_per_day, an.temp_spike_hours,
       w.share_thermal_throttled, w.sw_thermal_samples, w.hw_thermal_slowdown_samples, w.thermal_violation_s,
       w.thermal_violation_s / (epoch(${END}) - epoch(${START})) AS thermal_violation_share,
       -- power
       w.power_mean, w.power_std, w.power_max,
       w.power_mean_1h, w.power_std_1h, w.power_mean_24h, w.power_std_24h,
       w.power_cv, w.power_slope_per_day, an.power_outlier_hours,
       w.hw_power_brake_samples, w.power_brake_share, w.hw_slowdown_samples, w.sw_power_cap_samples, w.sw_power_cap_share, w.power_violation_s,
       w.power_violation_s / (epoch(${END}) - epoch(${START})) AS power_violation_share,
       -- performance and utilisation
       w.gpu_util_mean, w.gpu_util_mean_24h, w.sm_active_mean, w.sm_active_mean_24h, w.sm_occupancy_mean, w.dram_active_mean,
       w.sm_clock_mean, w.sm_clock_std, w.sm_clock_mean_24h, w.sm_clock_slope_per_day,
       w.sm_clock_std_pct_under_load, lz.sm_clock_under_load_z, lz.activity_per_watt_z, w.idle_event_samples,
       -- memory
       lz.dram_activity_per_load_z,
       w.sbe_delta, w.dbe_delta,
       w.sbe_delta / ((epoch(${END}) - epoch(${START})) / 86400.0) AS sbe_per_day,
       w.dbe_delta / ((epoch(${END}) - epoch(${START})) / 86400.0) AS dbe_per_day,
       w.sbe_last_24h, w.dbe_last_24h,
       ${accel('w.sbe_delta', 'w.sbe_last_24h')} AS sbe_accel,
       w.sbe_slope_per_day,
       st.retired_pages_sbe, st.retired_pages_dbe, st.retired_pages_pending,
       st.remapped_rows_correctable, st.remapped_rows_uncorrectable, st.row_remap_failure, st.row_remap_pending,
       ${STATE_GROWTH_COLUMNS.map((c) => `greatest(st.${c} - st.${c}_at_start, 0) AS ${c}_new`).join(', ')},
       ce.ecc_aggregate_drops, ce.volatile_reset_last_at, ce.remap_pending_cleared_at,
       -- links
       w.pcie_replay_delta, w.pcie_replay_delta / ((epoch(${END}) - epoch(${START})) / 86400.0) AS pcie_replay_per_day, w.pcie_replay_last_24h, ${accel('w.pcie_replay_delta', 'w.pcie_replay_last_24h')} AS pcie_replay_accel, ce.pcie_replay_peak_per_min,
       w.nvlink_crc_delta, w.nvlink_crc_delta / ((epoch(${END}) - epoch(${START})) / 86400.0) AS nvlink_crc_per_day, w.nvlink_crc_last_24h, ${accel('w.nvlink_crc_delta', 'w.nvlink_crc_last_24h')} AS nvlink_crc_accel, ce.nvlink_crc_peak_per_s,
       -- Xid
       coalesce(x.xid_events, 0) AS xid_events, coalesce(x.xid_counts, '{}') AS xid_counts,
       ${XID_CLASS_NAMES.map((c) => `coalesce(x.xid_${c}_events, 0) AS xid_${c}_events`).join(', ')},
       ${XID_FAMILY_NAMES.map((f) => `coalesce(xr.${f}_incidents, 0) AS ${f}_incidents`).join(', ')},
       xr.recovery_action_last, xr.recovery_action_last_at, xr.last_reset_required_at,
       -- assets
       a.serial, date_diff('day', a.deployed_date, CAST(${END} AS DATE)) AS age_days,
       date_diff('day', CAST(${END} AS DATE), a.warranty_expiry) AS warranty_days_left
FROM win w
JOIN gaps gp USING (gpu_uuid)
CROSS JOIN fleet fl
LEFT JOIN states st USING (gpu_uuid)
LEFT JOIN counter_events ce USING (gpu_uuid)
LEFT JOIN expected ex USING (gpu_uuid)
LEFT JOIN excess e USING (gpu_uuid)
LEFT JOIN excess_z ez USING (gpu_uuid)
LEFT JOIN load_z lz USING (gpu_uuid)
LEFT JOIN anomalies an USING (gpu_uuid)
LEFT JOIN xids x USING (gpu_uuid)
LEFT JOIN xid_reset xr USING (gpu_uuid)
LEFT JOIN assets a USING (gpu_uuid)
LEFT JOIN gpus r USING (gpu_uuid)
ORDER BY w.gpu_uuid`;

/**
 * How far back a sample makes a GPU one the window must account for (days before the window end): a
 * GPU that reported in the last 30 days but sent nothing in the window died, fell off the bus or lost
 * its exporter, whatever the window's length (`--since 24h` included). A GPU silent for longer than a
 * month that the asset registry does not list is taken as gone; one the registry lists stays.
 */
export const SILENT_LOOKBACK_DAYS = 30;

const RECENT = `(${END} - INTERVAL ${SILENT_LOOKBACK_DAYS} DAY)`;

/**
 * GPUs the window must account for that sent nothing in it (run after FEATURES_SQL filled `features`):
 * every GPU of the asset registry in service by the window end (`deployed_date` empty or on or before
 * it), and every GPU with samples in the SILENT_LOOKBACK_DAYS before the window end, that has no row
 * in `features`. Each with its last sample before the window end (null when none is known) and its
 * status: `removed` when the registry's `removed_date` is on or before the window end; `failed` when
 * the failure history records a failure by the window end (by UUID, or by serial through the
 * registry) and no sample came after it; else `not_reporting`.
 * Params: $start_us, $end_us. Output: temp table silent_gpus (gpu_uuid, last_sample, status).
 */
export const SILENT_GPUS_STATUS_SQL = `
CREATE OR REPLACE TEMP TABLE silent_gpus AS
WITH registry AS (
  -- removed_date is newer than the registry: an assets table written before it reads as never removed
  SELECT gpu_uuid, serial, deployed_date, removed_date FROM (
    SELECT CAST(NULL AS VARCHAR) AS gpu_uuid, CAST(NULL AS DATE) AS removed_date WHERE false
    UNION ALL BY NAME SELECT * FROM assets
  )
),
recent AS (
  SELECT gpu_uuid, max(last_time) AS last_time FROM rollups
  WHERE hour >= ${RECENT} AND hour < ${END} AND date BETWEEN CAST(${RECENT} AS DATE) AND CAST(${END} AS DATE)
  GROUP BY gpu_uuid
),
known AS (
  SELECT gpu_uuid FROM recent
  UNION
  SELECT gpu_uuid FROM registry WHERE gpu_uuid IS NOT NULL AND (deployed_date IS NULL OR deployed_date <= CAST(${END} AS DATE))
),
removed AS (
  SELECT DISTINCT gpu_uuid FROM registry WHERE gpu_uuid IS NOT NULL AND removed_date <= CAST(${END} AS DATE)
),
failed AS (
  SELECT coalesce(f.gpu_uuid, a.gpu_uuid) AS gpu_uuid, max(f.failed_at) AS failed_at
  FROM failures f LEFT JOIN registry a ON f.gpu_uuid IS NULL AND a.serial = f.serial
  WHERE f.failed_at <= ${END}
  GROUP BY 1
),
silent AS (
  -- the last sample before the window end: in the lookback, else the registry's when it is older
  SELECT k.gpu_uuid, coalesce(r.last_time, CASE WHEN g.last_seen < ${START} THEN g.last_seen END) AS last_sample
  FROM known k
  LEFT JOIN recent r USING (gpu_uuid)
  LEFT JOIN gpus g USING (gpu_uuid)
  WHERE k.gpu_uuid NOT IN (SELECT gpu_uuid FROM features)
)
SELECT s.gpu_uuid, s.last_sample,
       CASE WHEN rm.gpu_uuid IS NOT NULL THEN 'removed'
            WHEN fl.failed_at IS NOT NULL AND (s.last_sample IS NULL OR s.last_sample <= fl.failed_at) THEN 'failed'
            ELSE 'not_reporting' END AS status
FROM silent s
LEFT JOIN removed rm USING (gpu_uuid)
LEFT JOIN failed fl USING (gpu_uuid)
ORDER BY s.gpu_uuid`;

/**
 * A row for each `not_reporting` GPU of silent_gpus (SILENT_GPUS_STATUS_SQL), so it is reported as not
 * reporting instead of vanishing from a short window: no samples, `last_sample` its last one before
 * the window (null when none is known), silent from then (from the window start when unknown) to the
 * fleet's newest sample, the other features null. Params: $start_us, $end_us.
 */
export const SILENT_GPUS_SQL = `
INSERT INTO features BY NAME
SELECT s.gpu_uuid, coalesce(g.host, a.host) AS host, coalesce(g.model, a.model) AS model,
       ${END} AS at, ${START} AS window_start, ${END} AS window_end, epoch(${END}) - epoch(${START}) AS window_s,
       0 AS span_s, s.last_sample, f.newest AS fleet_last_sample,
       epoch(f.newest) - epoch(coalesce(s.last_sample, ${START})) AS silent_before_end_s,
       0 AS samples, 0 AS loaded_samples, 0 AS throttle_samples, 0 AS gaps_over_5min,
       epoch(f.newest) - epoch(${START}) AS longest_gap_s,
       'temperature,power,sm_clock,profiling,clock_events,ecc,memory_repair,pcie,nvlink' AS signals_absent,
       0 AS sw_thermal_samples, 0 AS hw_thermal_slowdown_samples, 0 AS hw_power_brake_samples, 0 AS hw_slowdown_samples,
       0 AS sw_power_cap_samples, 0 AS idle_event_samples, 0 AS ecc_aggregate_drops, 0 AS xid_events, '{}' AS xid_counts,
       ${XID_CLASS_NAMES.map((c) => `0 AS xid_${c}_events`).join(', ')},
       ${XID_FAMILY_NAMES.map((f) => `0 AS ${f}_incidents`).join(', ')},
       a.serial, date_diff('day', a.deployed_date, CAST(${END} AS DATE)) AS age_days,
       date_diff('day', CAST(${END} AS DATE), a.warranty_expiry) AS warranty_days_left
FROM silent_gpus s
CROSS JOIN (SELECT max(fleet_last_sample) AS newest FROM features) f
LEFT JOIN gpus g USING (gpu_uuid)
LEFT JOIN assets a USING (gpu_uuid)
WHERE f.newest IS NOT NULL AND s.status = 'not_reporting'`;

/**
 * GPUs with samples in the window that the failure history records as failed at or after their last
 * sample (by gpu_uuid, or by serial through the assets), up to the window end: dead, with nothing left
 * to score. Param: $end_us. Output: gpu_uuid.
 */
const FAILED_SINCE_LAST_SAMPLE = `
SELECT x.gpu_uuid
FROM features x
JOIN (SELECT coalesce(f.gpu_uuid, a.gpu_uuid) AS gpu_uuid, max(f.failed_at) AS failed_at
      FROM failures f LEFT JOIN assets a ON f.gpu_uuid IS NULL AND a.serial = f.serial
      WHERE f.failed_at <= ${END}
      GROUP BY 1) f USING (gpu_uuid)
WHERE x.samples > 0 AND x.last_sample <= f.failed_at`;

/** How many reporting GPUs FAILED_REPORTING_DELETE_SQL leaves out. Param: $end_us. Output: n. */
export const FAILED_REPORTING_COUNT_SQL = `SELECT count(*) AS n FROM (${FAILED_SINCE_LAST_SAMPLE})`;

/** Drops the rows of GPUs that died in the window (FAILED_SINCE_LAST_SAMPLE). Param: $end_us. */
export const FAILED_REPORTING_DELETE_SQL = `DELETE FROM features WHERE gpu_uuid IN (${FAILED_SINCE_LAST_SAMPLE})`;

/** How many silent GPUs (SILENT_GPUS_STATUS_SQL) are left out as failed and as removed. Output: failed, removed. */
export const SILENT_LEFT_OUT_SQL = `SELECT count(*) FILTER (WHERE status = 'failed') AS failed, count(*) FILTER (WHERE status = 'removed') AS removed FROM silent_gpus`;

/** Newest hour with rolled-up data, and the oldest. Output: newest, oldest (TIMESTAMP or null). */
export const ROLLUP_RANGE_SQL = `SELECT max(last_time) AS newest, min(first_time) AS oldest FROM rollups`;
