import { describe, expect, it } from 'vitest';
import { CLOCK_EVENT_BITS, CLOCK_HELD_MASK, clockEventCauses, THERMAL_THROTTLE_MASK } from './clock-events.js';

describe('clock-event bits', () => {
  it('never counts GPU_IDLE or the settings bits as throttling', () => {
    for (const mask of [0x1, 0x2, 0x10, 0x100, 0x113]) {
      expect(clockEventCauses(mask), `0x${mask.toString(16)}`).toEqual({
        thermal: false,
        hw_thermal: false,
        power_cap: false,
        power_brake: false,
        hw_slowdown_unattributed: false,
      });
    }
  });

  it('counts SW power cap as power, not thermal', () => {
    expect(clockEventCauses(0x4)).toMatchObject({ thermal: false, power_cap: true });
  });

  it('counts SW and HW thermal as thermal', () => {
    expect(clockEventCauses(0x20)).toMatchObject({ thermal: true, hw_thermal: false });
    expect(clockEventCauses(0x48)).toMatchObject({ thermal: true, hw_thermal: true, hw_slowdown_unattributed: false });
    expect(THERMAL_THROTTLE_MASK).toBe(0x60);
  });

  it('attributes HW slowdown to the brake when both are set (0x88, seen on H100s)', () => {
    expect(clockEventCauses(0x88)).toMatchObject({ power_brake: true, hw_slowdown_unattributed: false, thermal: false });
    expect(clockEventCauses(0x8)).toMatchObject({ hw_slowdown_unattributed: true });
  });

  it('holds the clock for the settings bits and for every throttle bit, so a free-to-boost sample has none of them', () => {
    expect(CLOCK_HELD_MASK).toBe(0xff);
    for (const bit of [CLOCK_EVENT_BITS.hw_slowdown, CLOCK_EVENT_BITS.sw_thermal, CLOCK_EVENT_BITS.hw_thermal, CLOCK_EVENT_BITS.hw_power_brake]) {
      expect(CLOCK_HELD_MASK & bit).toBe(bit);
    }
    expect(CLOCK_HELD_MASK & CLOCK_EVENT_BITS.display_clocks).toBe(0);
  });
});
