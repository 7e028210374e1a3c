/**
 * The named queries of the fleet report (stage/report.ts): the results a window stage committed for
 * one `at` (scores, predictions, recommendations, features) read back through views of their own,
 * and the last day's raw events from the lake's views (lake-views.ts). Nothing here scores, predicts
 * or values anything again: the report lays out what the lake holds.
 *
 * The result files are single files the stage found by name; their paths are quoted by the lake's one
 * quoting helper (`quoteFile`), every other value is bound.
 */
import { emptySelect, quoteFile } from './lake-views.js';

/** The views the report reads one result file through. */
export const REPORT_RESULT_VIEWS = ['report_scores', 'report_predictions', 'report_recommendations', 'report_features'] as const;
export type ReportResultView = (typeof REPORT_RESULT_VIEWS)[number];

/** The top-level columns of one result file: `name` per column (the file's path quoted by `quoteFile`). */
export function resultFileColumnsSql(file: string): string {
  return `SELECT column_name AS name FROM (DESCRIBE SELECT * FROM read_parquet(${quoteFile(file)}))`;
}

/**
 * The view `view` over one result file, or, without one, empty; either way it has exactly the columns
 * of `columns`, typed as given: those the file lacks (written before they existed) read NULL, and the
 * file's others are never read (a features file has hundreds).
 */
export function reportResultViewSql(
  view: ReportResultView,
  file: string | null,
  columns: Readonly<Record<string, string>>,
  fileColumns: ReadonlySet<string>,
): string {
  const cols = Object.entries(columns).map(([name, type]) => ({ name, type }));
  const body =
    file === null
      ? emptySelect(cols)
      : `SELECT ${cols.map((c) => (fileColumns.has(c.name) ? `"${c.name}"` : `CAST(NULL AS ${c.type}) AS "${c.name}"`)).join(', ')} FROM read_parquet(${quoteFile(file)})`;
  return `CREATE OR REPLACE TEMP VIEW ${view} AS ${body}`;
}

/**
 * REPORT_GPUS_SQL (no parameters) → one row per scored GPU: the score's columns, its prediction's and
 * recommendation's (NULL without), rack and datacenter from the asset registry (its latest deployed row
 * per GPU), the features' temp_excess_at_power and signals_absent, whether it is not reporting, its
 * newest sample in the window and its registry last sighting (epoch ms), its prediction's factor
 * sentences (`risk_factors`, [] without) and the features' dbe_last_24h (its uncorrectable ECC errors
 * in the last day of the window: reset-aware, the rollups stitched as for every feature).
 */
export const REPORT_GPUS_SQL = `
WITH asset AS (
  SELECT gpu_uuid, rack, datacenter FROM assets
  WHERE gpu_uuid IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY gpu_uuid ORDER BY deployed_date DESC NULLS LAST, rack NULLS LAST, datacenter NULLS LAST) = 1
),
seen AS (
  SELECT gpu_uuid, max(last_seen) AS last_seen FROM gpus GROUP BY gpu_uuid
)
SELECT s.gpu_uuid, s.host, s.model, a.rack, a.datacenter,
       s.overall_score, s.health_grade, s.memory_health, s.thermal_health, s.performance_health, s.power_health, s.reliability_health,
       s.recommended_action, s.top_factor,
       coalesce(list_contains(s.degradation_factors, 'not_reporting'), false) AS not_reporting,
       epoch_ms(s.last_sample) AS last_sample_ms,
       epoch_ms(g.last_seen) AS registry_last_seen_ms,
       p.failure_prob_7d, p.failure_prob_30d, p.failure_prob_90d, p.risk_level, p.predicted_failure_type,
       coalesce(list_filter(list_transform(p.top_factors, f -> f.text), t -> t IS NOT NULL), []) AS risk_factors,
       r.decision, r.expected_value, r.rationale, r.warranty_days_left,
       f.temp_excess_at_power, f.signals_absent, f.dbe_last_24h
FROM report_scores s
LEFT JOIN (SELECT * FROM report_predictions QUALIFY row_number() OVER (PARTITION BY gpu_uuid ORDER BY failure_prob_30d DESC) = 1) p USING (gpu_uuid)
LEFT JOIN (SELECT * FROM report_recommendations QUALIFY row_number() OVER (PARTITION BY gpu_uuid ORDER BY expected_value) = 1) r USING (gpu_uuid)
LEFT JOIN (SELECT * FROM report_features QUALIFY row_number() OVER (PARTITION BY gpu_uuid ORDER BY samples DESC) = 1) f USING (gpu_uuid)
LEFT JOIN asset a USING (gpu_uuid)
LEFT JOIN seen g USING (gpu_uuid)`;

/** REPORT_RECOMMENDATIONS_SQL (no parameters) → every row of the recommendations file, as `recommend` wrote it. */
export const REPORT_RECOMMENDATIONS_SQL = 'SELECT * FROM report_recommendations ORDER BY gpu_uuid';

const DAY_START = 'make_timestamp($start_us)';
const DAY_END = 'make_timestamp($end_us)';
const LOOKBACK_START = 'make_timestamp($lookback_us)';

/**
 * REPORT_XIDS_SQL ($start_us, $end_us: the day, µs) → gpu_uuid, host (the events' latest), xid, count,
 * last_ms: the day's Xid events per GPU and code, most events first.
 */
export const REPORT_XIDS_SQL = `
SELECT gpu_uuid, arg_max(host, time) AS host, xid, count(*) AS count, epoch_ms(max(time)) AS last_ms
FROM xid_events
WHERE time >= ${DAY_START} AND time < ${DAY_END}
  AND date BETWEEN CAST(${DAY_START} AS DATE) AND CAST(${DAY_END} AS DATE)
  AND gpu_uuid IS NOT NULL AND xid IS NOT NULL
GROUP BY gpu_uuid, xid
ORDER BY count DESC, gpu_uuid, xid`;

/** The cumulative remap counts whose growth over the day is the report's "remapped rows" (either cause). */
const REMAP_STATES = ['remapped_rows_correctable', 'remapped_rows_uncorrectable'] as const;

/**
 * A remap count's growth over the day: its last reading in the day above the latest reading before the
 * day (in the lookback), or, without one, above its first reading in the day. The counts live in the
 * InfoROM and never fall; a lower reading (a board swapped under the same UUID) adds nothing.
 */
const remapGrowth = (c: string): string => `greatest(
    arg_max(${c}_last, last_time) FILTER (WHERE hour >= ${DAY_START} AND ${c}_last IS NOT NULL)
      - coalesce(arg_max(${c}_last, last_time) FILTER (WHERE hour < ${DAY_START} AND ${c}_last IS NOT NULL),
                 arg_min(${c}_first, first_time) FILTER (WHERE hour >= ${DAY_START} AND ${c}_first IS NOT NULL)), 0)`;

/**
 * REPORT_REMAPS_SQL ($lookback_us, $start_us, $end_us: µs, on the hour; lookback < start < end) →
 * gpu_uuid, host, remapped_rows: per GPU that reported in the day, how many rows it remapped over
 * [start, end) (either cause), NULL where it reports no remap counts. From the hourly rollups' first and
 * last readings (no raw samples); the hours from the lookback give the reading before the day.
 */
export const REPORT_REMAPS_SQL = `
WITH seg AS (
  SELECT * FROM rollups
  WHERE hour >= ${LOOKBACK_START} AND hour < ${DAY_END}
    AND date BETWEEN CAST(${LOOKBACK_START} AS DATE) AND CAST(${DAY_END} AS DATE)
),
remap AS (
  SELECT gpu_uuid,
         arg_max(host, last_time) FILTER (WHERE hour >= ${DAY_START}) AS host,
         ${REMAP_STATES.map((c) => `${remapGrowth(c)} AS ${c}_new`).join(',\n         ')}
  FROM seg GROUP BY gpu_uuid
  HAVING count(*) FILTER (WHERE hour >= ${DAY_START}) > 0
)
SELECT gpu_uuid, host,
       CASE WHEN ${REMAP_STATES.map((c) => `${c}_new IS NULL`).join(' AND ')} THEN NULL
            ELSE ${REMAP_STATES.map((c) => `coalesce(${c}_new, 0)`).join(' + ')} END AS remapped_rows
FROM remap
ORDER BY gpu_uuid`;

/**
 * REPORT_REJECTS_SQL ($start_us, $end_us: the day, µs) → rejected (lines), files (the sources they came
 * from, sorted): what the ingest runs of the day rejected, by the manifest (one row per source and run).
 */
export const REPORT_REJECTS_SQL = `
SELECT coalesce(sum(rejected), 0) AS rejected,
       coalesce(list_sort(list_distinct(list(path) FILTER (WHERE rejected > 0))), []) AS files
FROM manifest
WHERE ingested_at >= ${DAY_START} AND ingested_at < ${DAY_END}`;
