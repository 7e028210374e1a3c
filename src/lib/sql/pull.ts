/**
 * Named queries of `pull`: its records of the chunks already pulled (`_ingest/pulled/part-<run>.parquet`,
 * read through the `pulled` view of sql/lake-views.ts). A record is one (server, selector, step, host
 * unit, time range) whose query_range response landed in the lake in the same commit as the record.
 */

/** Columns of a pulled-chunk record, in file order. */
export const PULLED_COLUMNS = [
  { name: 'run_id', type: 'VARCHAR' },
  /** The Prometheus base URL, without user-info (lib/net/http.ts redactUrl). */
  { name: 'server', type: 'VARCHAR' },
  /** The canonical selector every query of the pull carried (families and --match), without the host matcher. */
  { name: 'selector', type: 'VARCHAR' },
  /** The label the host matcher used (Hostname, hostname, instance); null for the series that have none of them. */
  { name: 'host_label', type: 'VARCHAR' },
  { name: 'host', type: 'VARCHAR' },
  /** First evaluation time (inclusive). */
  { name: 'range_start', type: 'TIMESTAMP' },
  /** End of the range, exclusive: the last evaluation time is range_end − step. */
  { name: 'range_end', type: 'TIMESTAMP' },
  { name: 'step_ms', type: 'BIGINT' },
  { name: 'series', type: 'BIGINT' },
  { name: 'samples', type: 'BIGINT' },
  { name: 'pulled_at', type: 'TIMESTAMP' },
] as const;

/**
 * The ranges already pulled for one server, selector and step. Params: $server, $selector, $step_ms.
 * Columns: host_label, host, start_ms, end_ms.
 */
export const PULLED_RANGES_SQL = `
SELECT host_label, host, epoch_ms(range_start) AS start_ms, epoch_ms(range_end) AS end_ms
FROM pulled
WHERE server = $server AND selector = $selector AND step_ms = $step_ms
ORDER BY host_label NULLS FIRST, host NULLS FIRST, start_ms`;
