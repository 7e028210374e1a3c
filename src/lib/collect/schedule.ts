/**
 * When each target is scraped. Slots lie on a fixed grid, `k * interval + offset`, counted from the
 * epoch, so that a scrape that ran late never pushes the next one later (no drift) and a restarted
 * collect keeps the same slots. The offset is a stable fraction of the interval taken from a hash of
 * the target's name: 100 targets spread their scrapes (and their writes) over the interval instead
 * of all firing at once, and a target keeps its phase across restarts.
 */
import crypto from 'node:crypto';

/** The shortest --interval (tests use a few hundred ms; exporters refresh every second at best). */
export const MIN_INTERVAL_MS = 100;
/** --timeout by default: this share of the interval (the write and fsync must fit in what is left)… */
export const DEFAULT_TIMEOUT_SHARE = 0.8;
/** …but never more than this: an exporter that takes longer is broken, not slow. */
export const MAX_DEFAULT_TIMEOUT_MS = 30_000;

/** The default --timeout for an interval. */
export function defaultTimeoutMs(intervalMs: number): number {
  return Math.min(MAX_DEFAULT_TIMEOUT_MS, Math.floor(intervalMs * DEFAULT_TIMEOUT_SHARE));
}

/** The target's phase within the interval: [0, interval), the same for the same name and interval. */
export function slotOffsetMs(name: string, intervalMs: number): number {
  const h = crypto.createHash('sha256').update(name).digest().readUInt32BE(0);
  return Math.floor((h / 2 ** 32) * intervalMs);
}

export interface SlotGrid {
  intervalMs: number;
  offsetMs: number;
}

/** The time of slot k. */
export const slotTime = (g: SlotGrid, k: number): number => k * g.intervalMs + g.offsetMs;

/** The first slot whose time is at or after t. */
export const slotAtOrAfter = (g: SlotGrid, t: number): number => Math.ceil((t - g.offsetMs) / g.intervalMs);

/** The slot whose time is at or before t (the one a scrape sent at t belongs to). */
export const slotAtOrBefore = (g: SlotGrid, t: number): number => Math.floor((t - g.offsetMs) / g.intervalMs);

/**
 * The first slot to scrape at start: not in the past, and after the slot of the last scrape the spool
 * holds (`lastScrapeMs`, from the trailer of the target's hour file), so that a restart within one
 * slot, or after the clock was set back, never scrapes a slot twice.
 */
export function firstSlot(g: SlotGrid, nowMs: number, lastScrapeMs: number | null): number {
  const k = slotAtOrAfter(g, nowMs);
  return lastScrapeMs === null ? k : Math.max(k, slotAtOrBefore(g, lastScrapeMs) + 1);
}

/**
 * The slot after a scrape of slot k that ended at `endMs`: k + 1, or a later one when the scrape (or
 * its write) ran past k + 1's time; `skipped` counts the slots passed over.
 */
export function nextSlot(g: SlotGrid, k: number, endMs: number): { k: number; skipped: number } {
  const next = Math.max(k + 1, slotAtOrAfter(g, endMs));
  return { k: next, skipped: next - (k + 1) };
}
