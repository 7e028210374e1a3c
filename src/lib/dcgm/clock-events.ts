/**
 * The clock-event (throttle) bitmask: DCGM field 112, `DCGM_FI_DEV_CLOCKS_EVENT_REASONS` (formerly
 * `…_CLOCK_THROTTLE_REASONS`), which carries NVML's clocks-event reasons (REFERENCE.md). Ingest stores
 * the mask as given; the rollups count samples per bit (sql/rollup.ts), and the features and scoring
 * read those counts. Which bits mean throttling, and why, is decided here once.
 */

/** The clock-event bits (NVML `nvmlClocksEventReason*`). */
export const CLOCK_EVENT_BITS = {
  gpu_idle: 0x001,
  clocks_setting: 0x002,
  sw_power_cap: 0x004,
  hw_slowdown: 0x008,
  sync_boost: 0x010,
  sw_thermal: 0x020,
  hw_thermal: 0x040,
  hw_power_brake: 0x080,
  display_clocks: 0x100,
} as const;

export const THERMAL_THROTTLE_MASK = CLOCK_EVENT_BITS.sw_thermal | CLOCK_EVENT_BITS.hw_thermal;

/**
 * Bits that hold the SM clock below what the part could boost to: the settings (idle, application
 * clocks, sync boost, power cap), which say nothing about the hardware's health, and the throttle bits
 * (HW slowdown, SW and HW thermal, HW power brake), which the thermal and power rules already charge.
 * A loaded sample with none of them is free to boost, so a slow clock there is the performance signal,
 * and a throttled GPU does not lose performance points on top of its thermal or power points.
 */
export const CLOCK_HELD_MASK =
  CLOCK_EVENT_BITS.gpu_idle |
  CLOCK_EVENT_BITS.clocks_setting |
  CLOCK_EVENT_BITS.sync_boost |
  CLOCK_EVENT_BITS.sw_power_cap |
  CLOCK_EVENT_BITS.hw_slowdown |
  THERMAL_THROTTLE_MASK |
  CLOCK_EVENT_BITS.hw_power_brake;

/** What one clock-event bitmask means for health. GPU_IDLE, CLOCKS_SETTING, SYNC_BOOST and DISPLAY_CLOCKS mean nothing. */
export interface ClockEventCauses {
  /** SW_THERMAL or HW_THERMAL: thermal throttling. */
  thermal: boolean;
  hw_thermal: boolean;
  /** SW_POWER_CAP: power, not thermal. */
  power_cap: boolean;
  power_brake: boolean;
  /** HW_SLOWDOWN with neither HW_THERMAL nor HW_POWER_BRAKE to explain it. */
  hw_slowdown_unattributed: boolean;
}

/** The reference reading of one mask; the rollup SQL's per-bit counts (ROLLUP_CLOCK_EVENTS) follow it. */
export function clockEventCauses(mask: number): ClockEventCauses {
  const has = (bit: number): boolean => (mask & bit) !== 0;
  const hwThermal = has(CLOCK_EVENT_BITS.hw_thermal);
  const brake = has(CLOCK_EVENT_BITS.hw_power_brake);
  return {
    thermal: (mask & THERMAL_THROTTLE_MASK) !== 0,
    hw_thermal: hwThermal,
    power_cap: has(CLOCK_EVENT_BITS.sw_power_cap),
    power_brake: brake,
    hw_slowdown_unattributed: has(CLOCK_EVENT_BITS.hw_slowdown) && !hwThermal && !brake,
  };
}
