/** Named queries of `lake info` and `compact`. They read the views of sql/lake-views.ts. */

/** Totals. Output: rows, files, gpus, hosts, first, last, sources, rejected, other_samples, xid_events. */
export const LAKE_TOTALS_SQL = `
SELECT
  (SELECT coalesce(sum(row_group_num_rows), 0) FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows FROM metrics_parquet_meta)) AS rows,
  (SELECT count(DISTINCT file_name) FROM metrics_parquet_meta) AS files,
  (SELECT count(*) FROM gpus) AS gpus,
  (SELECT count(DISTINCT host) FROM gpus) AS hosts,
  (SELECT min(first_seen) FROM gpus) AS first,
  (SELECT max(last_seen) FROM gpus) AS last,
  (SELECT count(*) FROM manifest) AS sources,
  (SELECT coalesce(sum(rejected), 0) FROM manifest) AS rejected,
  (SELECT count(*) FROM metrics_other) AS other_samples,
  (SELECT count(*) FROM xid_events) AS xid_events`;

/** Non-null values per column, from Parquet statistics (no scan). Output: column_name, present. */
export const COLUMN_PRESENCE_SQL = `
SELECT path_in_schema AS column_name, sum(num_values - coalesce(stats_null_count, 0)) AS present
FROM metrics_parquet_meta GROUP BY path_in_schema`;

/** Per date partition: files and rows, for compaction. Output: date, files. */
export const PARTITION_FILES_SQL = `
SELECT CAST(date AS VARCHAR) AS date, count(DISTINCT filename) AS files
FROM (SELECT date, filename FROM read_parquet($glob, hive_partitioning = true, filename = true)) GROUP BY date`;
