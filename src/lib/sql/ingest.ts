/**
 * Named queries of `ingest`. They read the views of sql/lake-views.ts (metrics, metrics_other,
 * xid_events, manifest, gpus) and of ingest/staging-views.ts (staged_*); user values are bound
 * ($name), never spliced. The new_metrics, new_other and new_xid tables are database tables, not
 * TEMP ones, so that the Parquet writes can run on several connections at once.
 */
import { ID_COLUMNS, METRIC_COLUMNS, VALUE_COLUMNS, type ValueColumn } from '../schema.js';
import { implausibleSql } from '../dcgm/plausible.js';
import { RECOVERY_ACTION_XID } from '../dcgm/xid.js';
import { emptySelect } from './lake-views.js';

const idAggs = ID_COLUMNS.filter((c) => c.name !== 'time' && c.name !== 'gpu_uuid')
  .map((c) => `max(${c.name}) AS ${c.name}`)
  .join(',\n    ');
/** A staged value, null where it is physically impossible (dcgm/plausible.ts). */
const plausible = (c: ValueColumn): string => `CASE WHEN ${implausibleSql(c)} THEN NULL ELSE ${c} END`;

const valueAggs = VALUE_COLUMNS.map((c) =>
  c.type === 'DOUBLE' ? `max(${plausible(c.name)}) AS ${c.name}` : `CAST(round(max(${plausible(c.name)})) AS ${c.type}) AS ${c.name}`,
).join(',\n    ');

const idCols = ID_COLUMNS.filter((c) => c.name !== 'time' && c.name !== 'gpu_uuid')
  .map((c) => c.name)
  .join(', ');
const valueCasts = VALUE_COLUMNS.map((c) =>
  c.type === 'DOUBLE' ? `${plausible(c.name)} AS ${c.name}` : `CAST(round(${plausible(c.name)}) AS ${c.type}) AS ${c.name}`,
).join(',\n    ');

/** Per value column, how many staged values are physically impossible (stored as null). */
export const COUNT_IMPLAUSIBLE_SQL = `
SELECT ${VALUE_COLUMNS.map((c) => `count(*) FILTER (WHERE ${implausibleSql(c.name)}) AS ${c.name}`).join(',\n    ')}
FROM staged_wide WHERE gpu_uuid IS NOT NULL`;

/** Staged rows that share a (gpu_uuid, time) with another staged row. Output: n. */
export const COUNT_STAGED_OVERLAP_SQL = `
SELECT count(*) - count(DISTINCT (gpu_uuid, time_ms)) AS n FROM staged_wide WHERE gpu_uuid IS NOT NULL`;

/**
 * Merges staged partial rows into one row per (gpu_uuid, time) (partial rows come from several
 * sources or label sets of one GPU). Output: the metrics columns.
 */
export const MERGE_STAGED_METRICS_SQL = `
CREATE OR REPLACE TABLE new_metrics AS
SELECT make_timestamp(time_ms * 1000) AS time, gpu_uuid,
    ${idAggs},
    ${valueAggs}
FROM staged_wide
WHERE gpu_uuid IS NOT NULL
GROUP BY gpu_uuid, time_ms`;

/** The same when no two staged rows share a (gpu_uuid, time): no aggregation needed (the common case). */
export const COPY_STAGED_METRICS_SQL = `
CREATE OR REPLACE TABLE new_metrics AS
SELECT make_timestamp(time_ms * 1000) AS time, gpu_uuid, ${idCols},
    ${valueCasts}
FROM staged_wide
WHERE gpu_uuid IS NOT NULL`;

/**
 * Drops new rows whose (gpu_uuid, time) the lake already holds. Params: none (dates from new rows).
 * The run's identity columns may be ENUMs of its own values (ingest/staging-views.ts): compared as text.
 */
/** Where rows may already be: the lake's views, or the files earlier rounds of this run wrote (sql/lake-views.ts). */
export type ExistingRows = 'lake' | 'run';
const existing = (from: ExistingRows, table: string): string => (from === 'lake' ? table : `run_${table}`);

export const dropExistingMetricsSql = (from: ExistingRows): string => `
DELETE FROM new_metrics n
USING (
  SELECT gpu_uuid, time FROM ${existing(from, 'metrics')}
  WHERE date BETWEEN (SELECT CAST(min(time) AS DATE) FROM new_metrics) AND (SELECT CAST(max(time) AS DATE) FROM new_metrics)
) m
WHERE CAST(n.gpu_uuid AS VARCHAR) = m.gpu_uuid AND n.time = m.time`;

/**
 * New rows whose (gpu_uuid, time) the lake holds already, with the lake file that holds each and
 * whether the new row fills a column the lake's row lacks (a growing spool file ingested half-written,
 * an export split by metric families): ingest then rewrites that file with the columns merged
 * (REWRITE_FILLED_FILE_SQL). Reads the view metrics_files (sql/lake-views.ts). Output table
 * lake_repeats: file, gpu_uuid, time, fills, and one conflict flag per value column (both non-null
 * and different: the lake's value is kept).
 */
export const FIND_LAKE_REPEATS_SQL = `
CREATE OR REPLACE TEMP TABLE lake_repeats AS
SELECT m.filename AS file, m.gpu_uuid, m.time,
    ${METRIC_COLUMNS.filter((c) => c.name !== 'time' && c.name !== 'gpu_uuid')
      .map((c) => `(m.${c.name} IS NULL AND n.${c.name} IS NOT NULL)`)
      .join(' OR\n    ')} AS fills,
    ${VALUE_COLUMNS.map((c) => `(m.${c.name} IS NOT NULL AND n.${c.name} IS NOT NULL AND m.${c.name} <> n.${c.name}) AS conflict_${c.name}`).join(',\n    ')}
FROM new_metrics n
JOIN (
  SELECT * FROM metrics_files
  WHERE date BETWEEN (SELECT CAST(min(time) AS DATE) FROM new_metrics) AND (SELECT CAST(max(time) AS DATE) FROM new_metrics)
) m ON CAST(n.gpu_uuid AS VARCHAR) = m.gpu_uuid AND n.time = m.time`;

/** How many repeated rows fill lake columns, and per value column how many values conflict. */
export const COUNT_LAKE_REPEATS_SQL = `
SELECT count(*) FILTER (WHERE fills) AS filled,
    ${VALUE_COLUMNS.map((c) => `count(*) FILTER (WHERE conflict_${c.name}) AS ${c.name}`).join(',\n    ')}
FROM lake_repeats`;

/** Drops the new rows the lake holds (found by FIND_LAKE_REPEATS_SQL), then the table of them. */
export const DROP_LAKE_REPEATS_FROM_NEW_SQL = `
DELETE FROM new_metrics n USING lake_repeats r WHERE CAST(n.gpu_uuid AS VARCHAR) = r.gpu_uuid AND n.time = r.time;
DROP TABLE lake_repeats`;

/** The lake files that hold rows a repeat fills. Output: file. */
export const FILES_TO_FILL_SQL = `SELECT DISTINCT file FROM lake_repeats WHERE fills ORDER BY file`;

/**
 * One lake metrics file, rewritten with the columns its rows lack taken from the new rows of the same
 * (gpu_uuid, time): the lake's values win where both have one. Sorted as ingest writes it. \`file\` and
 * \`target\` are quoted paths; the file is read through an empty typed select so that a file written
 * before a column existed gets it too.
 */
export function rewriteFilledFileSql(file: string, target: string): string {
  const merged = METRIC_COLUMNS.map((c) =>
    c.name === 'time' || c.name === 'gpu_uuid' ? `m.${c.name}` : `coalesce(m.${c.name}, CAST(n.${c.name} AS ${c.type})) AS ${c.name}`,
  ).join(', ');
  return `COPY (
  SELECT ${merged}
  FROM (${emptySelect(METRIC_COLUMNS)} UNION ALL BY NAME SELECT * FROM read_parquet(${file})) m
  LEFT JOIN new_metrics n ON CAST(n.gpu_uuid AS VARCHAR) = m.gpu_uuid AND n.time = m.time
  ORDER BY m.gpu_uuid, m.time
) TO ${target} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`;
}

/**
 * Other samples, one per (GPU, time, metric, labels); repeats within one source were resolved in
 * staged_other (the last wins). Grouping on the labels' hash keeps the long label text out of the key.
 */
export const MERGE_STAGED_OTHER_SQL = `
CREATE OR REPLACE TABLE new_other AS
SELECT make_timestamp(time_ms * 1000) AS time, gpu_uuid, max(host) AS host, metric, last(value) AS value, any_value(labels) AS labels
FROM staged_other
GROUP BY gpu_uuid, time_ms, metric, labels_hash`;

/**
 * Staged other samples that repeat a (GPU, time, metric, labels) of another staged sample, counted
 * on hashes (staged_other.sample_key): a collision can only over-count. Output: n.
 */
export const COUNT_STAGED_OTHER_OVERLAP_SQL = `
SELECT count(*) - count(DISTINCT (sample_key, time_ms)) AS n FROM staged_other`;

/** The same as MERGE_STAGED_OTHER_SQL when nothing repeats (the common case): no aggregation. */
export const COPY_STAGED_OTHER_SQL = `
CREATE OR REPLACE TABLE new_other AS
SELECT make_timestamp(time_ms * 1000) AS time, gpu_uuid, host, metric, value, labels FROM staged_other`;

export const dropExistingOtherSql = (from: ExistingRows): string => `
DELETE FROM new_other n
USING (
  SELECT gpu_uuid, time, metric, labels FROM ${existing(from, 'metrics_other')}
  WHERE date BETWEEN (SELECT CAST(min(time) AS DATE) FROM new_other) AND (SELECT CAST(max(time) AS DATE) FROM new_other)
) m
WHERE CAST(n.gpu_uuid AS VARCHAR) IS NOT DISTINCT FROM m.gpu_uuid AND n.time = m.time AND CAST(n.metric AS VARCHAR) = m.metric
  AND CAST(n.labels AS VARCHAR) = m.labels`;

/**
 * Xid events; a missing gpu_uuid is filled from the GPUs the lake (or this run) knows by host and
 * PCI bus id. De-duplicated by (time, GPU or PCI address, xid), and for Xid 154 by its message too:
 * the driver can log two recovery-action changes in one timestamp ("to 0x3", then "to 0x1"), and the
 * features read the action from the message.
 */
export const MERGE_STAGED_XID_SQL = `
CREATE OR REPLACE TABLE new_xid AS
WITH known AS (
  SELECT gpu_uuid, host, pci_bus_id FROM gpus WHERE pci_bus_id IS NOT NULL
  UNION
  SELECT DISTINCT gpu_uuid, host, pci_bus_id FROM run_gpus WHERE pci_bus_id IS NOT NULL
)
SELECT DISTINCT ON (x.time_ms, coalesce(x.gpu_uuid, k.gpu_uuid, x.pci_bus_id), x.xid, CASE WHEN x.xid = ${RECOVERY_ACTION_XID} THEN x.message END)
    make_timestamp(x.time_ms * 1000) AS time,
    coalesce(x.gpu_uuid, k.gpu_uuid) AS gpu_uuid,
    x.host, x.pci_bus_id, x.xid, x.source, x.message
FROM staged_xid x
LEFT JOIN known k ON x.gpu_uuid IS NULL AND k.pci_bus_id = x.pci_bus_id AND (x.host IS NULL OR k.host = x.host)`;

export const dropExistingXidSql = (from: ExistingRows): string => `
DELETE FROM new_xid n
USING (SELECT time, gpu_uuid, pci_bus_id, xid, message FROM ${existing(from, 'xid_events')}) m
WHERE n.time = m.time AND n.xid = m.xid AND coalesce(n.gpu_uuid, n.pci_bus_id) IS NOT DISTINCT FROM coalesce(m.gpu_uuid, m.pci_bus_id)
  AND (n.xid <> ${RECOVERY_ACTION_XID} OR n.message IS NOT DISTINCT FROM m.message)`;

/** GPUs known before this run, for sources without UUIDs. Output: gpu identity columns. */
export const KNOWN_GPUS_SQL = `
SELECT gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version FROM gpus`;

/** GPUs seen in this run's staged rows so far (for mapping dmon / dmesg sources). */
export const STAGED_GPUS_SQL = `
SELECT gpu_uuid, max(host) AS host, max(gpu_index) AS gpu_index, max(model) AS model,
       max(pci_bus_id) AS pci_bus_id, max(driver_version) AS driver_version
FROM staged_wide WHERE gpu_uuid IS NOT NULL GROUP BY gpu_uuid`;

/**
 * The GPUs of this run's new metrics rows, a row per GPU and round (ingest merges and writes a
 * round of sources at a time): the xid merge and the registry read it, and the line formats map to it.
 */
export const CREATE_RUN_GPUS_SQL = `
CREATE OR REPLACE TABLE run_gpus (
  gpu_uuid VARCHAR, host VARCHAR, gpu_index INTEGER, model VARCHAR, pci_bus_id VARCHAR, driver_version VARCHAR,
  first_seen TIMESTAMP, last_seen TIMESTAMP)`;

/** Adds the GPUs of a round's new rows (after the rows the lake holds were dropped). */
export const ADD_RUN_GPUS_SQL = `
INSERT INTO run_gpus
SELECT CAST(gpu_uuid AS VARCHAR), CAST(arg_max(host, time) AS VARCHAR), arg_max(gpu_index, time), CAST(arg_max(model, time) AS VARCHAR),
       arg_max(pci_bus_id, time), arg_max(driver_version, time), min(time), max(time)
FROM new_metrics GROUP BY gpu_uuid`;

/** This run's GPUs so far, latest identity each. Output: gpu identity columns. */
export const RUN_GPUS_SQL = `
SELECT gpu_uuid, arg_max(host, last_seen) AS host, arg_max(gpu_index, last_seen) AS gpu_index, arg_max(model, last_seen) AS model,
       arg_max(pci_bus_id, last_seen) AS pci_bus_id, arg_max(driver_version, last_seen) AS driver_version
FROM run_gpus GROUP BY gpu_uuid`;

export const COUNT_RUN_GPUS_SQL = `SELECT count(DISTINCT gpu_uuid) AS n FROM run_gpus`;

/** The time span of one of a round's tables (new_metrics, new_other, new_xid). Output: t0, t1. */
export const roundSpanSql = (table: string): string => `SELECT min(time) AS t0, max(time) AS t1 FROM ${table}`;

/** The GPUs of one of a round's tables, null for rows without one. Output: gpu_uuid. */
export const roundGpusSql = (table: string): string => `SELECT DISTINCT CAST(gpu_uuid AS VARCHAR) AS gpu_uuid FROM ${table}`;

/** Drops a finished round's tables, views and types before the next round's merge. */
export const DROP_ROUND_SQL = `
DROP VIEW IF EXISTS staged_wide; DROP VIEW IF EXISTS staged_other; DROP VIEW IF EXISTS staged_other_keyed;
DROP TABLE IF EXISTS new_metrics; DROP TABLE IF EXISTS new_other; DROP TABLE IF EXISTS new_xid; DROP TABLE IF EXISTS new_rollups;
DROP TYPE IF EXISTS staged_gpu_uuid; DROP TYPE IF EXISTS staged_host; DROP TYPE IF EXISTS staged_model; DROP TYPE IF EXISTS staged_metric;
DROP TYPE IF EXISTS staged_labels`;

/** The GPU registry after this run: one row per gpu_uuid with its latest identity. */
export const MERGE_GPUS_SQL = `
CREATE OR REPLACE TEMP TABLE new_gpus AS
WITH seen AS (
  SELECT gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version, first_seen, last_seen FROM gpus
  UNION ALL
  SELECT gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version, first_seen, last_seen FROM run_gpus
)
SELECT gpu_uuid, arg_max(host, last_seen) AS host, arg_max(gpu_index, last_seen) AS gpu_index,
       arg_max(model, last_seen) AS model, arg_max(pci_bus_id, last_seen) AS pci_bus_id,
       arg_max(driver_version, last_seen) AS driver_version, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM seen GROUP BY gpu_uuid ORDER BY gpu_uuid`;

/** Every source already in the lake. Output: path, size, mtime_ms, sha256, head_sha256, given_time_ms. */
export const KNOWN_SOURCES_SQL = `SELECT path, size, epoch_ms(mtime) AS mtime_ms, sha256, head_sha256, epoch_ms(given_time) AS given_time_ms FROM manifest`;

/** Counts of what this run adds. */
export const NEW_COUNTS_SQL = `
SELECT (SELECT count(*) FROM new_metrics) AS rows,
       (SELECT count(DISTINCT gpu_uuid) FROM new_metrics) AS gpus,
       (SELECT count(*) FROM new_other) AS others,
       (SELECT count(*) FROM new_xid) AS xids,
       (SELECT min(time) FROM new_metrics) AS time_min,
       (SELECT max(time) FROM new_metrics) AS time_max`;

/** Row count of staged merged rows before dropping those the lake holds. */
export const COUNT_NEW_METRICS_SQL = `SELECT count(*) AS n FROM new_metrics`;

/** ` REPLACE (CAST(c AS VARCHAR) AS c, …)` for a SELECT *: ENUM columns written as text. */
function asTextSql(columns: readonly string[]): string {
  return columns.length ? ` REPLACE (${columns.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')})` : '';
}

/**
 * The rows of a table per UTC date, for writing it in groups of dates (ingest/rounds.ts
 * writeByDates). `time` names its time column. Output: date (text), n.
 */
export function rowsPerDateSql(table: string, time: string): string {
  return `SELECT CAST(CAST(${time} AS DATE) AS VARCHAR) AS date, count(*) AS n FROM ${table} GROUP BY ALL ORDER BY 1`;
}

/** A table's rows of the dates [$from, $to) (bound, ISO dates); `time` names its time column. */
export function datesWhere(time: string): string {
  return `${time} >= CAST($from AS DATE) AND ${time} < CAST($to AS DATE)`;
}

/**
 * COPY a table's rows of the dates [$from, $to) to date-partitioned zstd Parquet, sorted; `target`
 * is a quoted staging path, written a group of dates at a time (hence OVERWRITE_OR_IGNORE: the
 * groups' dates differ). `asText` names ENUM columns (createStagingViews `enums`): sorted as ENUMs
 * (integers in text order), written as text, so each row group's statistics and dictionary hold
 * only its own values.
 */
export function copyPartitionedSql(table: string, target: string, orderBy: string | null, asText: readonly string[] = []): string {
  return `COPY (SELECT *${asTextSql(asText)}, CAST(time AS DATE) AS date FROM (SELECT * FROM ${table} WHERE ${datesWhere('time')}${orderBy ? ` ORDER BY ${orderBy}` : ''}))
TO ${target} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), FILENAME_PATTERN 'part-{i}', ROW_GROUP_SIZE 122880, OVERWRITE_OR_IGNORE)`;
}

export function copyTableSql(table: string, target: string): string {
  return `COPY (SELECT * FROM ${table}) TO ${target} (FORMAT parquet, COMPRESSION zstd)`;
}
