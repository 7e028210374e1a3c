/**
 * What each canonical column can physically hold. A value outside its range is damage, a unit mix-up
 * or a sentinel (−40 °C, negative watts, 1e308 W, a negative counter), not telemetry: ingest stores it
 * as null and counts it per column in its summary, so that it neither drives a score nor hides the
 * rest of its row. The ranges are wide on purpose: they catch the impossible, not the unusual (a hot
 * GPU is for the scores to judge). docs/schema.md lists them with these reasons.
 */
import type { ValueColumn } from '../schema.js';

export interface PlausibleRange {
  readonly min: number;
  readonly max: number;
  readonly why: string;
}

const PERCENT: PlausibleRange = { min: 0, max: 100.5, why: 'a share of time or capacity, 0–100 % (half a point of rounding allowed)' };
const COUNT: PlausibleRange = { min: 0, max: Number.MAX_VALUE, why: 'a count: never negative' };
const FLAG: PlausibleRange = { min: 0, max: 1, why: 'a flag: 0 or 1' };
const TEMP: PlausibleRange = {
  min: 0,
  max: 150,
  why: 'a GPU in service sits above its coolant or inlet air (above 0 °C) and shuts down near 90–110 °C; 150 °C leaves room for any part',
};
const POWER: PlausibleRange = { min: 0, max: 3000, why: 'no single GPU draws or is capped at more than 3 kW (a B200 is rated at 1.2 kW); never negative' };

export const PLAUSIBLE_RANGES: Readonly<Record<ValueColumn, PlausibleRange>> = {
  gpu_temp: TEMP,
  memory_temp: TEMP,
  power_usage: POWER,
  power_limit: POWER,
  energy_mj: { min: 0, max: 1e16, why: 'energy since the driver loaded: 3 kW for 100 years is 1e16 mJ; never negative' },
  gpu_util: PERCENT,
  mem_copy_util: PERCENT,
  sm_active: PERCENT,
  sm_occupancy: PERCENT,
  tensor_active: PERCENT,
  dram_active: PERCENT,
  gr_engine_active: PERCENT,
  sm_clock_mhz: { min: 0, max: 5000, why: 'GPU clocks run below 3 GHz' },
  mem_clock_mhz: { min: 0, max: 50_000, why: 'memory clocks (GDDR data rates included) run below 30 GHz' },
  fb_used_mib: { min: 0, max: 4_194_304, why: 'framebuffer memory: no GPU has 4 TiB' },
  fb_free_mib: { min: 0, max: 4_194_304, why: 'framebuffer memory: no GPU has 4 TiB' },
  throttle_reasons: { min: 0, max: Number.MAX_VALUE, why: 'a bitmask: never negative' },
  ecc_sbe_volatile: COUNT,
  ecc_dbe_volatile: COUNT,
  ecc_sbe_aggregate: COUNT,
  ecc_dbe_aggregate: COUNT,
  retired_pages_sbe: COUNT,
  retired_pages_dbe: COUNT,
  retired_pages_pending: COUNT,
  remapped_rows_correctable: COUNT,
  remapped_rows_uncorrectable: COUNT,
  row_remap_failure: FLAG,
  row_remap_pending: FLAG,
  xid_last: { min: 0, max: 65_535, why: 'Xid codes are small positive numbers (0 for none)' },
  pcie_replay_count: COUNT,
  nvlink_crc_errors: COUNT,
  power_violation_us: { min: 0, max: Number.MAX_VALUE, why: 'time spent throttled: never negative' },
  thermal_violation_us: { min: 0, max: Number.MAX_VALUE, why: 'time spent throttled: never negative' },
};

/** A SQL condition true when `column` (a canonical value column) holds a value outside its range. */
export function implausibleSql(column: ValueColumn, expr: string = column): string {
  const r = PLAUSIBLE_RANGES[column];
  const parts = [`${expr} < ${r.min}`];
  if (r.max < Number.MAX_VALUE) parts.push(`${expr} > ${r.max}`);
  return `(${parts.join(' OR ')})`;
}
