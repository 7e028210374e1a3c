/**
 * Hourly rollups (DESIGN §2, `rollups/hour/`): per GPU, per hour, per metrics file, the aggregates
 * every window feature is computed from, so `features` and `score` never re-read the raw samples.
 * They play the part TimescaleDB's continuous aggregates played in the original design.
 *
 * One rollup file belongs to one metrics file (same partition, same name) and is written in the same
 * commit: by ingest for the files it adds, by compact for the files it merges, and by `ensureRollups`
 * for lakes written before rollups existed. A (GPU, hour) that several metrics files share has one
 * row per file, a "segment"; the features query stitches segments in time order, so a counter that
 * rises between two files is still counted (reset-aware at the seams as within a segment).
 *
 * Everything mergeable is kept as sums (count, sum, sum of squares, min, max); counters keep their first
 * and last reading and the increase between them (reset-aware, the `counter_increase` macro; the
 * aggregate ECC counters by their high-water rule instead: dcgm/counters.ts), how often and when last
 * they fell, and, for the link-error counters, their peak increase over one minute; state gauges keep
 * their first and last reading, and the pending flags when they last cleared. The definitions a rollup
 * bakes in (loaded threshold, gap floor, clock-event bits, counter rules) come from src/lib/dcgm/, and
 * ROLLUP_VERSION is a hash of the SQL they produce.
 */
import { createHash } from 'node:crypto';
import { CLOCK_EVENT_BITS, CLOCK_HELD_MASK, THERMAL_THROTTLE_MASK } from '../dcgm/clock-events.js';
import { AGGREGATE_COUNTERS, aggregateIncreaseSql, COUNTER_INCREASE_MACRO_SQL } from '../dcgm/counters.js';
import { GAP_MIN_S, LOADED_MIN_ACTIVITY_PCT } from '../dcgm/sampling.js';

/** Gauges with full statistics: `<col>_n`, `_sum`, `_ssq`, `_min`, `_max`. */
export const ROLLUP_STAT_COLUMNS = ['gpu_temp', 'memory_temp', 'power_usage', 'sm_clock_mhz', 'gpu_util', 'sm_active', 'sm_occupancy', 'dram_active'] as const;

/**
 * Counters: `<col>_first`, `_last` (readings), `_inc` (increase within the segment: reset-aware, or by
 * the high-water rule for AGGREGATE_COUNTERS, which also keep `_max`), `_drops` (readings below the
 * previous one) and `_last_drop` (the time of the latest such reading).
 */
export const ROLLUP_COUNTER_COLUMNS = [
  'ecc_sbe_volatile',
  'ecc_dbe_volatile',
  'ecc_sbe_aggregate',
  'ecc_dbe_aggregate',
  'pcie_replay_count',
  'nvlink_crc_errors',
  'power_violation_us',
  'thermal_violation_us',
] as const;

/** Counters whose peak increase over one minute is kept (`<col>_peak_per_min`): DCGM judges link errors per minute. */
export const ROLLUP_RATE_COUNTERS = ['pcie_replay_count', 'nvlink_crc_errors'] as const;

/** Cumulative state: `<col>_first` and `<col>_last` (the window's new retirements / remaps are last − first). */
export const ROLLUP_STATE_COLUMNS = [
  'retired_pages_sbe',
  'retired_pages_dbe',
  'retired_pages_pending',
  'remapped_rows_correctable',
  'remapped_rows_uncorrectable',
  'row_remap_failure',
  'row_remap_pending',
] as const;

/** Pending flags that a reset or driver reload clears: `<col>_cleared_at`, the latest reading of 0 after one of 1 or more. */
export const ROLLUP_CLEARING_STATES = ['retired_pages_pending', 'row_remap_pending'] as const;

/** Clock-event counts: samples with each bit (or combination) set. `tr_n` counts samples with a bitmask at all. */
const B = CLOCK_EVENT_BITS;
export const ROLLUP_CLOCK_EVENTS = {
  idle: `(throttle_reasons & ${B.gpu_idle}) <> 0`,
  power_cap: `(throttle_reasons & ${B.sw_power_cap}) <> 0`,
  hw_slowdown: `(throttle_reasons & ${B.hw_slowdown}) <> 0`,
  sw_thermal: `(throttle_reasons & ${B.sw_thermal}) <> 0`,
  hw_thermal: `(throttle_reasons & ${B.hw_thermal}) <> 0`,
  power_brake: `(throttle_reasons & ${B.hw_power_brake}) <> 0`,
  thermal: `(throttle_reasons & ${THERMAL_THROTTLE_MASK}) <> 0`,
  slowdown_unattributed: `(throttle_reasons & ${B.hw_slowdown}) <> 0 AND (throttle_reasons & ${B.hw_thermal | B.hw_power_brake}) = 0`,
} as const;

const statCols = ROLLUP_STAT_COLUMNS.map(
  (c) => `count(${c}) AS ${c}_n, sum(${c}) AS ${c}_sum, sum(${c} * ${c}) AS ${c}_ssq, min(${c}) AS ${c}_min, max(${c}) AS ${c}_max`,
).join(',\n       ');

const isAggregate = (c: string): boolean => (AGGREGATE_COUNTERS as readonly string[]).includes(c);

const counterCols = ROLLUP_COUNTER_COLUMNS.map((c) =>
  [
    `arg_min(${c}, time) AS ${c}_first`,
    `arg_max(${c}, time) AS ${c}_last`,
    isAggregate(c)
      ? `${aggregateIncreaseSql(`max(${c})`, `arg_min(${c}, time)`)} AS ${c}_inc, max(${c}) AS ${c}_max`
      : `coalesce(sum(counter_increase(${c}, prev_${c})), 0) AS ${c}_inc`,
    `count(*) FILTER (WHERE ${c} < prev_${c}) AS ${c}_drops`,
    `max(time) FILTER (WHERE ${c} < prev_${c}) AS ${c}_last_drop`,
  ].join(', '),
).join(',\n       ');

const clearedCols = ROLLUP_CLEARING_STATES.map((c) => `max(time) FILTER (WHERE ${c} = 0 AND prev_${c} >= 1) AS ${c}_cleared_at`).join(', ');

const stateCols = ROLLUP_STATE_COLUMNS.map((c) => `arg_min(${c}, time) AS ${c}_first, arg_max(${c}, time) AS ${c}_last`).join(',\n       ');

const eventCols = Object.entries(ROLLUP_CLOCK_EVENTS)
  .map(([name, cond]) => `count(*) FILTER (WHERE ${cond}) AS tr_${name}`)
  .join(',\n       ');

/** The time of a rate counter's reading (NULL where it has none), for the windows that look back from it. */
const readingTime = (c: string): string => `CASE WHEN ${c} IS NOT NULL THEN time END`;

const lags = [
  ...[...ROLLUP_COUNTER_COLUMNS, ...ROLLUP_CLEARING_STATES, 'xid_last'].map((c) => `lag(${c} IGNORE NULLS) OVER seg AS prev_${c}`),
  ...ROLLUP_RATE_COUNTERS.flatMap((c) => [
    `lag(${readingTime(c)} IGNORE NULLS) OVER seg AS prev_${c}_time`,
    `first_value(${c} IGNORE NULLS) OVER last_minute AS minute_${c}`,
    `first_value(${readingTime(c)} IGNORE NULLS) OVER last_minute AS minute_${c}_time`,
  ]),
].join(',\n         ');

/**
 * Per reading of a rate counter, its rise per minute: from the earliest reading at most 60 s before it
 * (reset-aware), or, when there is none, from the previous reading, over the time between them, at
 * least a minute. At 10–60 s sampling that is the count over the last minute; a step longer than a
 * minute (sparse sampling, a silence) gives its average rate, never more. These windows share the
 * lags' partition and order, so they cost no second sort.
 */
const ratePerMin = ROLLUP_RATE_COUNTERS.map(
  (c) => `CASE WHEN ${c} IS NULL THEN NULL
            WHEN minute_${c}_time < time THEN 60 * counter_increase(${c}, minute_${c}) / greatest(epoch(time) - epoch(minute_${c}_time), 60)
            WHEN prev_${c} IS NOT NULL THEN 60 * counter_increase(${c}, prev_${c}) / greatest(epoch(time) - epoch(prev_${c}_time), 60) END`,
);

const ratePeakCols = ROLLUP_RATE_COUNTERS.map((c, i) => `max(${ratePerMin[i]}) AS ${c}_peak_per_min`).join(',\n       ');

/**
 * Rolls up the rows of the view `rollup_input` (metrics rows of one file). No params.
 * Output: one row per (gpu_uuid, hour) with the columns documented in docs/features.md. A metrics file
 * lies in one date partition, so its rollup does too (the partition folder gives `date` on read).
 */
export const ROLLUP_SQL = `
WITH s AS (
  SELECT *,
         date_trunc('hour', time) AS hour,
         coalesce(sm_active, gpu_util) >= ${LOADED_MIN_ACTIVITY_PCT} AS loaded,
         epoch(time) - epoch(lag(time) OVER seg) AS dt,
         ${lags}
  FROM rollup_input
  WINDOW seg AS (PARTITION BY gpu_uuid, date_trunc('hour', time) ORDER BY time),
         last_minute AS (seg RANGE BETWEEN INTERVAL 60 SECONDS PRECEDING AND CURRENT ROW)
)
SELECT gpu_uuid, hour,
       arg_max(host, time) AS host,
       arg_max(model, time) AS model,
       arg_max(power_limit, time) AS power_limit,
       min(time) AS first_time, max(time) AS last_time, count(*) AS samples,
       count(dt) AS dt_n, median(dt) AS dt_median,
       coalesce(list(dt ORDER BY time) FILTER (WHERE dt > ${GAP_MIN_S}), []) AS long_gaps,
       ${statCols},
       count(*) FILTER (WHERE loaded) AS ld_samples,
       count(gpu_temp) FILTER (WHERE loaded) AS ld_gpu_temp_n, sum(gpu_temp) FILTER (WHERE loaded) AS ld_gpu_temp_sum,
       count(power_usage) FILTER (WHERE loaded) AS ld_power_usage_n, sum(power_usage) FILTER (WHERE loaded) AS ld_power_usage_sum,
       sum(power_usage * power_usage) FILTER (WHERE loaded) AS ld_power_usage_ssq,
       sum(coalesce(sm_active, gpu_util)) FILTER (WHERE loaded) AS ld_activity_sum,
       -- sums for regressing power on activity within the hour (power_cv compares like with like)
       count(*) FILTER (WHERE loaded AND power_usage IS NOT NULL) AS ld_pa_n,
       sum(coalesce(sm_active, gpu_util)) FILTER (WHERE loaded AND power_usage IS NOT NULL) AS ld_pa_a_sum,
       sum(coalesce(sm_active, gpu_util) ^ 2) FILTER (WHERE loaded AND power_usage IS NOT NULL) AS ld_pa_a_ssq,
       sum(coalesce(sm_active, gpu_util) * power_usage) FILTER (WHERE loaded AND power_usage IS NOT NULL) AS ld_pa_ap_sum,
       count(dram_active) FILTER (WHERE loaded) AS ld_dram_active_n, sum(dram_active) FILTER (WHERE loaded) AS ld_dram_active_sum,
       count(sm_clock_mhz) FILTER (WHERE loaded AND coalesce(throttle_reasons, 0) & ${CLOCK_HELD_MASK} = 0) AS ldf_sm_clock_n,
       sum(sm_clock_mhz) FILTER (WHERE loaded AND coalesce(throttle_reasons, 0) & ${CLOCK_HELD_MASK} = 0) AS ldf_sm_clock_sum,
       sum(sm_clock_mhz * sm_clock_mhz) FILTER (WHERE loaded AND coalesce(throttle_reasons, 0) & ${CLOCK_HELD_MASK} = 0) AS ldf_sm_clock_ssq,
       count(throttle_reasons) AS tr_n,
       ${eventCols},
       count(throttle_reasons) FILTER (WHERE loaded) AS ld_tr_n,
       count(*) FILTER (WHERE loaded AND ${ROLLUP_CLOCK_EVENTS.thermal}) AS ld_tr_thermal,
       count(*) FILTER (WHERE loaded AND ${ROLLUP_CLOCK_EVENTS.power_cap}) AS ld_tr_power_cap,
       ${counterCols},
       ${ratePeakCols},
       ${stateCols},
       ${clearedCols},
       arg_min(xid_last, time) AS xid_gauge_first,
       arg_max(xid_last, time) AS xid_gauge_last,
       coalesce(list(xid_last ORDER BY time) FILTER (WHERE prev_xid_last IS NOT NULL AND xid_last <> prev_xid_last), []) AS xid_changes
FROM s
GROUP BY gpu_uuid, hour`;

/**
 * The rollup format of `sql`, the rollup query, with the counter macro it calls: the first 12 hex digits
 * of their SHA-256. Everything a rollup row means is in that text (the columns, the loaded threshold,
 * the gap floor, the clock-event bits, the counter rule), so changing any definition changes the
 * version, and `ensureRollups` rebuilds rollups of another version from the raw samples.
 */
export function rollupVersionOf(sql: string, counterMacroSql: string = COUNTER_INCREASE_MACRO_SQL): string {
  return createHash('sha256').update(sql).update('\0').update(counterMacroSql).digest('hex').slice(0, 12);
}

/** The version written to `rollups/hour/_version` beside rollups made by ROLLUP_SQL. */
export const ROLLUP_VERSION = rollupVersionOf(ROLLUP_SQL);

/** ROLLUP_SQL's rows kept as the database table `table`, for copyRollupsByDateSql. */
export function createRollupTableSql(table: string): string {
  return `CREATE OR REPLACE TABLE ${table} AS ${ROLLUP_SQL}`;
}

/**
 * Writes a rollup table's rows of the dates [$from, $to) (bound) as one file per date partition,
 * sorted like the metrics; `target` is a quoted folder (written a group of dates at a time, as the
 * metrics are: ingest/rounds.ts writeByDates). Right where each date's metrics rows are one file (the
 * rollup of a file is per hour).
 * Identity columns may be ENUMs (an ingest run's new rows): gpu_uuid is written as text, so that
 * row-group statistics are its own (see the metrics write in ingest/rounds.ts).
 */
export function copyRollupsByDateSql(table: string, target: string): string {
  return `COPY (SELECT * REPLACE (CAST(gpu_uuid AS VARCHAR) AS gpu_uuid), CAST(hour AS DATE) AS date FROM (SELECT * FROM ${table} WHERE hour >= CAST($from AS DATE) AND hour < CAST($to AS DATE) ORDER BY gpu_uuid, hour))
TO ${target} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part-{i}', ROW_GROUP_SIZE 122880, OVERWRITE_OR_IGNORE)`;
}

/** Writes ROLLUP_SQL's rows to one Parquet file, sorted like the metrics. */
export function copyRollupSql(target: string): string {
  return `COPY (${ROLLUP_SQL}
ORDER BY gpu_uuid, hour)
TO ${target} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`;
}
