/**
 * dcgm-exporter metric names → canonical columns. Covers the 2.x–4.x field names, the renamed
 * clock-event field, and the old 1.x `dcgm_*` names (dcgm-exporter's etc/1.x-compatibility-metrics.csv).
 * `scale` converts to the canonical unit: DCP ratios (0–1) become percent.
 * Violation counters are stored as DCGM reports them, in µs (dcgm_fields.h; the exporter's CSV help
 * text says ns, which does not match the field definition).
 */
import type { ValueColumn } from '../schema.js';

export interface FieldMapping {
  readonly column: ValueColumn;
  readonly scale: number;
}

const M = (column: ValueColumn, scale = 1): FieldMapping => ({ column, scale });

export const DCGM_FIELD_MAP: ReadonlyMap<string, FieldMapping> = new Map<string, FieldMapping>([
  ['DCGM_FI_DEV_GPU_TEMP', M('gpu_temp')],
  ['DCGM_FI_DEV_MEMORY_TEMP', M('memory_temp')],
  ['DCGM_FI_DEV_POWER_USAGE', M('power_usage')],
  ['DCGM_FI_DEV_ENFORCED_POWER_LIMIT', M('power_limit')],
  ['DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', M('energy_mj')],
  ['DCGM_FI_DEV_GPU_UTIL', M('gpu_util')],
  ['DCGM_FI_DEV_MEM_COPY_UTIL', M('mem_copy_util')],
  ['DCGM_FI_PROF_SM_ACTIVE', M('sm_active', 100)],
  ['DCGM_FI_PROF_SM_OCCUPANCY', M('sm_occupancy', 100)],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', M('tensor_active', 100)],
  ['DCGM_FI_PROF_DRAM_ACTIVE', M('dram_active', 100)],
  ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', M('gr_engine_active', 100)],
  ['DCGM_FI_DEV_SM_CLOCK', M('sm_clock_mhz')],
  ['DCGM_FI_DEV_MEM_CLOCK', M('mem_clock_mhz')],
  ['DCGM_FI_DEV_FB_USED', M('fb_used_mib')],
  ['DCGM_FI_DEV_FB_FREE', M('fb_free_mib')],
  ['DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', M('throttle_reasons')],
  ['DCGM_FI_DEV_CLOCKS_EVENT_REASONS', M('throttle_reasons')],
  ['DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', M('ecc_sbe_volatile')],
  ['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', M('ecc_dbe_volatile')],
  ['DCGM_FI_DEV_ECC_SBE_AGG_TOTAL', M('ecc_sbe_aggregate')],
  ['DCGM_FI_DEV_ECC_DBE_AGG_TOTAL', M('ecc_dbe_aggregate')],
  ['DCGM_FI_DEV_RETIRED_SBE', M('retired_pages_sbe')],
  ['DCGM_FI_DEV_RETIRED_DBE', M('retired_pages_dbe')],
  ['DCGM_FI_DEV_RETIRED_PENDING', M('retired_pages_pending')],
  ['DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS', M('remapped_rows_correctable')],
  ['DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', M('remapped_rows_uncorrectable')],
  ['DCGM_FI_DEV_ROW_REMAP_FAILURE', M('row_remap_failure')],
  ['DCGM_FI_DEV_ROW_REMAP_PENDING', M('row_remap_pending')],
  ['DCGM_FI_DEV_XID_ERRORS', M('xid_last')],
  ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER', M('pcie_replay_count')],
  ['DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL', M('nvlink_crc_errors')],
  ['DCGM_FI_DEV_POWER_VIOLATION', M('power_violation_us')],
  ['DCGM_FI_DEV_THERMAL_VIOLATION', M('thermal_violation_us')],
  // dcgm-exporter 1.x names
  ['dcgm_gpu_temp', M('gpu_temp')],
  ['dcgm_memory_temp', M('memory_temp')],
  ['dcgm_power_usage', M('power_usage')],
  ['dcgm_total_energy_consumption', M('energy_mj')],
  ['dcgm_gpu_utilization', M('gpu_util')],
  ['dcgm_mem_copy_utilization', M('mem_copy_util')],
  ['dcgm_fi_prof_sm_active', M('sm_active', 100)],
  ['dcgm_fi_prof_sm_occupancy', M('sm_occupancy', 100)],
  ['dcgm_fi_prof_pipe_tensor_active', M('tensor_active', 100)],
  ['dcgm_fi_prof_dram_active', M('dram_active', 100)],
  ['dcgm_fi_prof_gr_engine_active', M('gr_engine_active', 100)],
  ['dcgm_sm_clock', M('sm_clock_mhz')],
  ['dcgm_memory_clock', M('mem_clock_mhz')],
  ['dcgm_fb_used', M('fb_used_mib')],
  ['dcgm_fb_free', M('fb_free_mib')],
  ['dcgm_ecc_sbe_volatile_total', M('ecc_sbe_volatile')],
  ['dcgm_ecc_dbe_volatile_total', M('ecc_dbe_volatile')],
  ['dcgm_ecc_sbe_aggregate_total', M('ecc_sbe_aggregate')],
  ['dcgm_ecc_dbe_aggregate_total', M('ecc_dbe_aggregate')],
  ['dcgm_retired_pages_sbe', M('retired_pages_sbe')],
  ['dcgm_retired_pages_dbe', M('retired_pages_dbe')],
  ['dcgm_retired_pages_pending', M('retired_pages_pending')],
  ['dcgm_xid_errors', M('xid_last')],
  ['dcgm_pcie_replay_counter', M('pcie_replay_count')],
  ['dcgm_nvlink_flit_crc_error_count_total', M('nvlink_crc_errors')],
  ['dcgm_power_violation', M('power_violation_us')],
  ['dcgm_thermal_violation', M('thermal_violation_us')],
]);

/**
 * DCGM "blank" sentinels: any value at or above a blank base means missing (NOT_FOUND,
 * NOT_SUPPORTED, NOT_PERMISSIONED are base + 1..3). Old exporters printed them.
 */
export const INT32_BLANK = 0x7ffffff0; // 2147483632
export const FP64_BLANK = 140737488355328.0; // 2^47
/** 2^63 − 16 in DCGM; the nearest double is 2^63, which is what a parsed reading holds. */
export const INT64_BLANK = 2 ** 63;

export function isDcgmBlank(value: number): boolean {
  if (!Number.isFinite(value)) return false;
  // INT32 blanks run up to INT32_MAX (2147483647, which old exporters also printed for "no value").
  // INT64 blanks are 2^63 − 16 … 2^63 − 1, all parsed as 2^63; a value far beyond (1e308) is no blank
  // but nonsense, which ingest's plausible ranges null and count (dcgm/plausible.ts).
  return (value >= INT32_BLANK && value < 2 ** 31) || (value >= FP64_BLANK && value < FP64_BLANK + 16) || (value >= 9.2e18 && value < 9.3e18);
}

/** String sentinels some exporters printed in place of a value. */
export const DCGM_STRING_BLANKS: ReadonlySet<string> = new Set(['<<<NULL>>>', '<<<NOT_FOUND>>>', '<<<NOT_SUPPORTED>>>', '<<<NOT_PERM>>>']);

/** Label names that carry GPU identity, in order of preference. */
export const UUID_LABELS = ['UUID', 'uuid', 'gpu_uuid'] as const;
export const HOST_LABELS = ['Hostname', 'hostname'] as const;
export const INDEX_LABELS = ['gpu'] as const;
export const MODEL_LABELS = ['modelName', 'model_name'] as const;
export const PCI_LABELS = ['pci_bus_id'] as const;
export const DRIVER_LABELS = ['DCGM_FI_DRIVER_VERSION', 'driver_version'] as const;
/** A series with a non-empty MIG instance id belongs to a GPU instance, not to a GPU of its own. */
export const MIG_LABELS = ['GPU_I_ID'] as const;
