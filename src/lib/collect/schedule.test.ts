import { describe, expect, it } from 'vitest';
import { defaultTimeoutMs, firstSlot, nextSlot, slotAtOrAfter, slotAtOrBefore, slotOffsetMs, slotTime } from './schedule.js';

describe('slot offsets', () => {
  it('are stable, inside the interval, and spread targets over it', () => {
    expect(slotOffsetMs('node-17_9400', 10_000)).toBe(slotOffsetMs('node-17_9400', 10_000));
    const offsets = Array.from({ length: 100 }, (_, i) => slotOffsetMs(`node-${i}_9400`, 10_000));
    for (const o of offsets) {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(10_000);
      expect(Number.isInteger(o)).toBe(true);
    }
    // 100 targets fall into most of the ten 1-second buckets, not one
    expect(new Set(offsets.map((o) => Math.floor(o / 1000))).size).toBeGreaterThanOrEqual(8);
  });
});

describe('slot grid', () => {
  const g = { intervalMs: 10_000, offsetMs: 2_500 };

  it('puts slot k at k intervals plus the offset, from the epoch', () => {
    expect(slotTime(g, 0)).toBe(2_500);
    expect(slotTime(g, 3)).toBe(32_500);
    expect(slotAtOrAfter(g, 32_500)).toBe(3);
    expect(slotAtOrAfter(g, 32_501)).toBe(4);
    expect(slotAtOrBefore(g, 32_499)).toBe(2);
    expect(slotAtOrBefore(g, 32_500)).toBe(3);
  });

  it('starts at the next slot, never one the spool holds a scrape of', () => {
    expect(firstSlot(g, 31_000, null)).toBe(3);
    // restarted within the slot it last scraped (sent 40 ms late): that slot is not scraped again
    expect(firstSlot(g, 32_600, 32_540)).toBe(4);
    // the clock was set back below the last scrape: wait for the slot after it
    expect(firstSlot(g, 10_000, 32_540)).toBe(4);
    // the last scrape is long past
    expect(firstSlot(g, 100_000, 32_540)).toBe(10);
  });

  it('moves to the next slot on the grid, however late the scrape ended (no drift)', () => {
    expect(nextSlot(g, 3, 33_100)).toEqual({ k: 4, skipped: 0 });
    expect(nextSlot(g, 3, 42_500)).toEqual({ k: 4, skipped: 0 });
    // still running at slot 4's time: slot 4 is skipped and counted
    expect(nextSlot(g, 3, 42_501)).toEqual({ k: 5, skipped: 1 });
    expect(nextSlot(g, 3, 61_000)).toEqual({ k: 6, skipped: 2 });
    // every slot time stays on the grid
    let k = 3;
    for (const end of [33_000, 44_000, 52_600, 90_000]) k = nextSlot(g, k, end).k;
    expect((slotTime(g, k) - g.offsetMs) % g.intervalMs).toBe(0);
  });

  it('times a scrape out at 80 % of the interval, at most 30 s', () => {
    expect(defaultTimeoutMs(10_000)).toBe(8_000);
    expect(defaultTimeoutMs(250)).toBe(200);
    expect(defaultTimeoutMs(300_000)).toBe(30_000);
  });
});
