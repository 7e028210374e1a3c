/**
 * The failure models' inputs (docs/prediction.md, "Features"): one vector per GPU and cut-off, from the
 * 28 days before the cut-off only. The same list and the same query (sql/prediction-features.ts) make
 * the training rows (every GPU × every cut-off day, one pass) and the rows `predict` scores (every GPU ×
 * one cut-off), so training and serving cannot drift apart.
 *
 * The features are chosen to carry physical meaning and not to depend on a fleet's scale or sampling:
 * rates per day and their acceleration against the GPU's own past (log ratios), counts of repairs and
 * hardware Xid incidents, temperature at equal power and SM clock against the same model's GPUs in the
 * same day, shares of loaded or sampled time. Levels that only say "this fleet is busy" (mean power,
 * temperature in °C, utilisation) are left out, and so is anything that exists only because of how the
 * simulator draws a fleet.
 */

export interface PredictionFeature {
  name: string;
  /** What the value is, in an operator's words; `top_factors` print it beside the value. */
  description: string;
  /**
   * How the failure risk may move as the value grows: 1 never down, -1 never up, 0 free. The hazard
   * model is held to it, so a handful of training failures cannot teach it that more errors are safer,
   * and it carries the direction over to fleets whose levels differ from the training fleet's.
   */
  monotone: 1 | 0 | -1;
  /** How to print the value: a count, a log10 rate (shown as the rate per day), a log2 ratio (shown as ×), a share, a difference. */
  display: 'count' | 'log10_per_day' | 'log2_ratio' | 'share' | 'celsius' | 'percent' | 'flag' | 'log2_rel';
}

export const PREDICTION_FEATURES: readonly PredictionFeature[] = [
  { name: 'sbe_rate_1d', monotone: 1, display: 'log10_per_day', description: 'correctable ECC errors per day, last 24 h' },
  { name: 'sbe_rate_7d', monotone: 1, display: 'log10_per_day', description: 'correctable ECC errors per day, last 7 days' },
  { name: 'sbe_accel_1d', monotone: 1, display: 'log2_ratio', description: 'correctable ECC rate, last 24 h vs days 8–28 before' },
  { name: 'sbe_accel_7d', monotone: 1, display: 'log2_ratio', description: 'correctable ECC rate, last 7 days vs days 8–28 before' },
  { name: 'dbe_28d', monotone: 1, display: 'count', description: 'uncorrectable ECC errors, last 28 days' },
  { name: 'repair_new_7d', monotone: 1, display: 'count', description: 'rows remapped or pages retired, last 7 days' },
  { name: 'repair_new_28d', monotone: 1, display: 'count', description: 'rows remapped or pages retired, last 28 days' },
  { name: 'repair_total', monotone: 1, display: 'log10_per_day', description: 'rows remapped and pages retired over the GPU’s life' },
  { name: 'remap_pending', monotone: 1, display: 'flag', description: 'a row remap or page retirement waits for a reset' },
  { name: 'remap_failure', monotone: 1, display: 'flag', description: 'row remapping failed (no spare row)' },
  { name: 'nvlink_rate_1d', monotone: 1, display: 'log10_per_day', description: 'NVLink CRC errors per day, last 24 h' },
  { name: 'nvlink_accel_7d', monotone: 1, display: 'log2_ratio', description: 'NVLink CRC error rate, last 7 days vs days 8–28 before' },
  { name: 'pcie_rate_1d', monotone: 1, display: 'log10_per_day', description: 'PCIe replays per day, last 24 h' },
  { name: 'pcie_accel_7d', monotone: 1, display: 'log2_ratio', description: 'PCIe replay rate, last 7 days vs days 8–28 before' },
  { name: 'xid_interconnect_7d', monotone: 1, display: 'count', description: 'NVLink/PCIe Xid incidents, last 7 days' },
  { name: 'temp_excess_7d', monotone: 1, display: 'celsius', description: 'temperature above same-model GPUs at equal power, last 7 days' },
  { name: 'temp_excess_change', monotone: 1, display: 'celsius', description: 'change of the temperature at equal power, last 7 days vs days 8–28 before' },
  { name: 'thermal_pressure_7d', monotone: 1, display: 'share', description: 'share of loaded time in thermal slowdown, last 7 days' },
  { name: 'thermal_pressure_change', monotone: 1, display: 'share', description: 'change of the thermal-slowdown share, last 7 days vs days 8–28 before' },
  { name: 'hw_thermal_share_7d', monotone: 1, display: 'share', description: 'share of samples in HW thermal slowdown, last 7 days' },
  { name: 'power_brake_share_7d', monotone: 1, display: 'share', description: 'share of samples with the HW power brake, last 7 days' },
  {
    name: 'power_violation_change',
    monotone: 1,
    display: 'share',
    description: 'change of the share of time power-throttled, last 7 days vs days 8–28 before',
  },
  { name: 'power_noise_rel_7d', monotone: 1, display: 'log2_rel', description: 'power-reading noise at equal load vs same-model GPUs, last 7 days' },
  { name: 'power_noise_change', monotone: 1, display: 'log2_ratio', description: 'power-reading noise at equal load, last 7 days vs days 8–28 before' },
  { name: 'clock_rel_7d', monotone: -1, display: 'percent', description: 'SM clock under load vs same-model GPUs, last 7 days' },
  {
    name: 'clock_rel_change',
    monotone: -1,
    display: 'percent',
    description: 'change of the SM clock under load vs same-model GPUs, last 7 days vs days 8–28 before',
  },
  { name: 'xid_reset_7d', monotone: 1, display: 'count', description: 'Xid incidents that need a reset (79, 62, 119, 120, …), last 7 days' },
  { name: 'xid_reset_28d', monotone: 1, display: 'count', description: 'Xid incidents that need a reset, last 28 days' },
  { name: 'xid_memory_28d', monotone: 1, display: 'count', description: 'memory Xid incidents (48, 63, 64, 94, 95, …), last 28 days' },
  { name: 'xid_application_7d', monotone: 0, display: 'count', description: 'application Xids (13, 31, 43, …), last 7 days' },
  { name: 'loaded_share_7d', monotone: 0, display: 'share', description: 'share of samples under load, last 7 days' },
];

export const PREDICTION_FEATURE_NAMES: readonly string[] = PREDICTION_FEATURES.map((f) => f.name);

/** Days of history before a cut-off that the features read (the longest window, 28 days). */
export const PREDICTION_LOOKBACK_DAYS = 28;

export { FAILURE_TYPES, type FailureType } from '../schema.js';

/** A feature's value in words, as `top_factors` print it: `sbe_accel_7d = 41×`. */
export function formatFeatureValue(f: PredictionFeature, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'missing';
  const round = (x: number, d = 2): string => String(Number(x.toPrecision(3)) === 0 ? 0 : Number(x.toFixed(d)));
  switch (f.display) {
    case 'log10_per_day':
      return round(10 ** v - 1, 1);
    case 'log2_ratio':
    case 'log2_rel':
      return `${round(2 ** v, 1)}×`;
    case 'share':
      return `${round(100 * v, 1)} %`;
    case 'celsius':
      return `${v >= 0 ? '+' : ''}${round(v, 1)} °C`;
    case 'percent':
      return `${v >= 0 ? '+' : ''}${round(v, 2)} %`;
    case 'flag':
      return v >= 0.5 ? 'yes' : 'no';
    default:
      return round(v, 1);
  }
}
