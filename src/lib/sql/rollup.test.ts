import { describe, expect, it } from 'vitest';
import { CLOCK_HELD_MASK } from '../dcgm/clock-events.js';
import { COUNTER_INCREASE_MACRO_SQL } from '../dcgm/counters.js';
import { GAP_MIN_S, LOADED_MIN_ACTIVITY_PCT } from '../dcgm/sampling.js';
import { ROLLUP_SQL, ROLLUP_VERSION, rollupVersionOf } from './rollup.js';

describe('ROLLUP_VERSION', () => {
  it('is a hash of the rollup SQL and the counter macro', () => {
    expect(ROLLUP_VERSION).toMatch(/^[0-9a-f]{12}$/);
    expect(rollupVersionOf(ROLLUP_SQL, COUNTER_INCREASE_MACRO_SQL)).toBe(ROLLUP_VERSION);
    expect(rollupVersionOf(ROLLUP_SQL)).toBe(ROLLUP_VERSION);
  });

  it('bakes in the definitions, so changing one changes the version', () => {
    expect(ROLLUP_SQL).toContain(`coalesce(sm_active, gpu_util) >= ${LOADED_MIN_ACTIVITY_PCT} AS loaded`);
    expect(ROLLUP_SQL).toContain(`dt > ${GAP_MIN_S}`);
    expect(ROLLUP_SQL).toContain('counter_increase(');
    expect(ROLLUP_SQL).toContain(`& ${CLOCK_HELD_MASK} = 0`);
    const loaded15 = ROLLUP_SQL.replace(`>= ${LOADED_MIN_ACTIVITY_PCT} AS loaded`, '>= 15 AS loaded');
    expect(loaded15).not.toBe(ROLLUP_SQL);
    expect(rollupVersionOf(loaded15)).not.toBe(ROLLUP_VERSION);
    const otherCounterRule = COUNTER_INCREASE_MACRO_SQL.replace('ELSE value END', 'ELSE 0 END');
    expect(otherCounterRule).not.toBe(COUNTER_INCREASE_MACRO_SQL);
    expect(rollupVersionOf(ROLLUP_SQL, otherCounterRule)).not.toBe(ROLLUP_VERSION);
  });

  it('is never the hand-bumped number of older releases, so their rollups are rebuilt once', () => {
    expect(['1', '2', '3']).not.toContain(ROLLUP_VERSION);
  });
});
