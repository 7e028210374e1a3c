/**
 * The canonical telemetry schema (DESIGN §3): one row per (gpu_uuid, time), units fixed.
 * Every parser converts into these columns; anything without a column goes to `metrics_other`.
 */

export type ColumnKind = 'time' | 'id' | 'gauge' | 'counter' | 'state';
export type SqlType = 'TIMESTAMP' | 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE';

export interface ColumnSpec {
  readonly name: string;
  readonly type: SqlType;
  readonly kind: ColumnKind;
  readonly unit: string;
}

/** Identity columns, in order. `time` is stored as a UTC TIMESTAMP (microseconds). */
export const ID_COLUMNS = [
  { name: 'time', type: 'TIMESTAMP', kind: 'time', unit: 'UTC' },
  { name: 'gpu_uuid', type: 'VARCHAR', kind: 'id', unit: '' },
  { name: 'host', type: 'VARCHAR', kind: 'id', unit: '' },
  { name: 'gpu_index', type: 'INTEGER', kind: 'id', unit: '' },
  { name: 'model', type: 'VARCHAR', kind: 'id', unit: '' },
  { name: 'pci_bus_id', type: 'VARCHAR', kind: 'id', unit: '' },
  { name: 'driver_version', type: 'VARCHAR', kind: 'id', unit: '' },
] as const satisfies readonly ColumnSpec[];

/** Numeric telemetry columns, in order. */
export const VALUE_COLUMNS = [
  { name: 'gpu_temp', type: 'DOUBLE', kind: 'gauge', unit: '°C' },
  { name: 'memory_temp', type: 'DOUBLE', kind: 'gauge', unit: '°C' },
  { name: 'power_usage', type: 'DOUBLE', kind: 'gauge', unit: 'W' },
  { name: 'power_limit', type: 'DOUBLE', kind: 'gauge', unit: 'W' },
  { name: 'energy_mj', type: 'DOUBLE', kind: 'counter', unit: 'mJ' },
  { name: 'gpu_util', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'mem_copy_util', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'sm_active', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'sm_occupancy', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'tensor_active', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'dram_active', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'gr_engine_active', type: 'DOUBLE', kind: 'gauge', unit: '%' },
  { name: 'sm_clock_mhz', type: 'DOUBLE', kind: 'gauge', unit: 'MHz' },
  { name: 'mem_clock_mhz', type: 'DOUBLE', kind: 'gauge', unit: 'MHz' },
  { name: 'fb_used_mib', type: 'DOUBLE', kind: 'gauge', unit: 'MiB' },
  { name: 'fb_free_mib', type: 'DOUBLE', kind: 'gauge', unit: 'MiB' },
  { name: 'throttle_reasons', type: 'BIGINT', kind: 'state', unit: 'bitmask' },
  { name: 'ecc_sbe_volatile', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'ecc_dbe_volatile', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'ecc_sbe_aggregate', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'ecc_dbe_aggregate', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'retired_pages_sbe', type: 'BIGINT', kind: 'state', unit: 'count' },
  { name: 'retired_pages_dbe', type: 'BIGINT', kind: 'state', unit: 'count' },
  { name: 'retired_pages_pending', type: 'BIGINT', kind: 'state', unit: 'count' },
  { name: 'remapped_rows_correctable', type: 'BIGINT', kind: 'state', unit: 'count' },
  { name: 'remapped_rows_uncorrectable', type: 'BIGINT', kind: 'state', unit: 'count' },
  { name: 'row_remap_failure', type: 'BIGINT', kind: 'state', unit: 'flag' },
  { name: 'row_remap_pending', type: 'BIGINT', kind: 'state', unit: 'flag' },
  { name: 'xid_last', type: 'INTEGER', kind: 'state', unit: 'Xid code' },
  { name: 'pcie_replay_count', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'nvlink_crc_errors', type: 'BIGINT', kind: 'counter', unit: 'count' },
  { name: 'power_violation_us', type: 'DOUBLE', kind: 'counter', unit: 'µs' },
  { name: 'thermal_violation_us', type: 'DOUBLE', kind: 'counter', unit: 'µs' },
] as const satisfies readonly ColumnSpec[];

export const METRIC_COLUMNS = [...ID_COLUMNS, ...VALUE_COLUMNS] as const;

export type ValueColumn = (typeof VALUE_COLUMNS)[number]['name'];
export type IdColumn = (typeof ID_COLUMNS)[number]['name'];
export const VALUE_COLUMN_NAMES: readonly ValueColumn[] = VALUE_COLUMNS.map((c) => c.name);
export const VALUE_INDEX: Readonly<Record<ValueColumn, number>> = Object.fromEntries(VALUE_COLUMNS.map((c, i) => [c.name, i])) as Record<ValueColumn, number>;

/** Identity of one GPU as a source describes it; null where the source does not say. */
export interface GpuIdentity {
  gpu_uuid: string;
  host: string | null;
  gpu_index: number | null;
  model: string | null;
  pci_bus_id: string | null;
  driver_version: string | null;
}

/** One (partial) canonical row: the values a source gave for one GPU at one instant. */
export interface MetricRow extends GpuIdentity {
  time_ms: number;
  values: Partial<Record<ValueColumn, number | null>>;
}

/** A sample with no canonical column (long form). `labels` keeps every label the source gave. */
export interface OtherSample {
  time_ms: number;
  gpu_uuid: string | null;
  host: string | null;
  metric: string;
  value: number | null;
  labels: Record<string, string>;
}

export interface XidEvent {
  time_ms: number;
  gpu_uuid: string | null;
  host: string | null;
  pci_bus_id: string | null;
  xid: number;
  source: string;
  message: string;
}

export const XID_COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'gpu_uuid', type: 'VARCHAR' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'pci_bus_id', type: 'VARCHAR' },
  { name: 'xid', type: 'INTEGER' },
  { name: 'source', type: 'VARCHAR' },
  { name: 'message', type: 'VARCHAR' },
] as const;

export const OTHER_COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'gpu_uuid', type: 'VARCHAR' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'metric', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'labels', type: 'VARCHAR' },
] as const;

/**
 * The registry tables `assets import` and `failures import` write (one row per GPU; one per failure).
 * registry/specs.ts documents and checks each column of the CSV; the lake views read these types.
 */
export const ASSET_COLUMNS = [
  { name: 'gpu_uuid', type: 'VARCHAR' },
  { name: 'serial', type: 'VARCHAR' },
  { name: 'model', type: 'VARCHAR' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'datacenter', type: 'VARCHAR' },
  { name: 'rack', type: 'VARCHAR' },
  { name: 'deployed_date', type: 'DATE' },
  { name: 'warranty_expiry', type: 'DATE' },
  { name: 'purchase_price', type: 'DOUBLE' },
  // added later, so at the end: older assets files lack them and read as NULL there (lake-views.ts)
  { name: 'lot', type: 'VARCHAR' },
  { name: 'removed_date', type: 'DATE' },
] as const;

/** Failure types of the failure history (failures.csv's `failure_type`), which the type model tells apart. */
export const FAILURE_TYPES = ['memory', 'thermal', 'power', 'interconnect', 'other'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export const FAILURE_COLUMNS = [
  { name: 'gpu_uuid', type: 'VARCHAR' },
  { name: 'serial', type: 'VARCHAR' },
  { name: 'failed_at', type: 'TIMESTAMP' },
  { name: 'failure_type', type: 'VARCHAR' },
  { name: 'xid', type: 'INTEGER' },
  { name: 'description', type: 'VARCHAR' },
] as const;

/**
 * PCI bus ids are written many ways (`00000000:9B:00.0`, `0000:9b:00.0`, `PCI:0000:9b:00`).
 * The lake keeps one: 4-hex-digit domain, lower case, with function (`0000:9b:00.0`).
 */
export function normalizePciBusId(raw: string): string | null {
  const m = /^(?:PCI:)?(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/.exec(raw.trim());
  if (!m) return null;
  const domain = (m[1] ?? '0').slice(-4).padStart(4, '0');
  return `${domain}:${m[2]!.padStart(2, '0')}:${m[3]!.padStart(2, '0')}.${m[4] ?? '0'}`.toLowerCase();
}
