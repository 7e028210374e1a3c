/**
 * The original design's rule-based failure risk, kept only as a baseline the failure models must beat
 * (docs/prediction.md): ECC 40 %, thermal 30 %, throttling 20 %, power instability 10 %, each component
 * scaled to 0–1, the weighted sum scaled to 0–100. It reads one window's features (docs/features.md).
 * Its thresholds are the proof of concept's kind of rule: fixed levels, no trend, no cohort.
 */

export interface LegacyRiskInput {
  sbe_per_day: number | null;
  dbe_delta: number | null;
  temp_max: number | null;
  share_thermal_throttled: number | null;
  power_brake_share: number | null;
  power_cv: number | null;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

export function legacyRiskScore(f: LegacyRiskInput): number {
  // 1 correctable error a day scores 0.33, 100 a day 0.67, 1,000 a day 1; any uncorrectable error adds half
  const ecc = clamp01(Math.log10(1 + (f.sbe_per_day ?? 0)) / 3 + ((f.dbe_delta ?? 0) > 0 ? 0.5 : 0));
  // from 75 °C (none) to 90 °C (full)
  const thermal = f.temp_max === null ? 0 : clamp01((f.temp_max - 75) / 15);
  const throttling = clamp01((f.share_thermal_throttled ?? 0) + (f.power_brake_share ?? 0));
  // 10 % unexplained power spread is full instability
  const power = clamp01((f.power_cv ?? 0) / 0.1);
  return 100 * (0.4 * ecc + 0.3 * thermal + 0.2 * throttling + 0.1 * power);
}
