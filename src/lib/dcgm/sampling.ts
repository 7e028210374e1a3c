/**
 * What a stream of samples says about load and coverage: when a sample counts as "loaded", when a
 * silence counts as a gap, and how many samples a GPU should have sent. The rollups (sql/rollup.ts)
 * bake the loaded threshold and the gap floor into every rollup row, the features query applies the
 * gap rule across rollup segments, and scoring reads the result; all of them take the numbers from here.
 */

/** A sample is loaded at SM activity (or GPU utilisation) ≥ 10 %: below that the GPU is idle or between jobs, and its clocks and temperature say nothing about how it runs work. */
export const LOADED_MIN_ACTIVITY_PCT = 10;
/** A silence is a gap when longer than 5 min — the reference rule — or 3 sampling intervals, whichever is longer, so a 5-min exporter is not all gaps. */
export const GAP_MIN_S = 300;
export const GAP_MIN_INTERVALS = 3;

/** The silence (s) that counts as a gap for a GPU sampled every `intervalS` seconds. */
export function gapThresholdS(intervalS: number | null): number {
  return Math.max(GAP_MIN_S, GAP_MIN_INTERVALS * (intervalS ?? 0));
}

/** Samples expected over `spanS` seconds at the GPU's own interval. */
export function expectedSamples(spanS: number, intervalS: number): number {
  if (!(intervalS > 0) || !(spanS > 0)) return 0;
  return Math.round(spanS / intervalS);
}
