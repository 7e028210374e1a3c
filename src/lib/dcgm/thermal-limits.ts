/**
 * Per-model temperature limits, as `nvidia-smi -q` reports them under "Temperature": "GPU Max Operating
 * Temp" (the software thermal slowdown holds the die below it), "GPU Slowdown Temp" (hardware slowdown,
 * clocks cut by half or more), "GPU Shutdown Temp", and "Memory Max Operating Temp" (the HBM's own
 * limit; N/A on GDDR parts, which have no memory sensor). Scoring judges a GPU against its own part's
 * limits; a part not listed gets DEFAULT_THERMAL_LIMITS.
 *
 * Sources: public `nvidia-smi -q` captures of each part, cited per entry. Drivers from R550 on print
 * Ada and Hopper limits as margins to "T.Limit" instead ("GPU T.Limit Temp" is the margin from the
 * current temperature to T.Limit; "GPU Slowdown T.Limit Temp: -2 C" means slowdown 2 °C above it);
 * those entries are converted to °C: T.Limit = current + margin = the max operating temperature.
 * An entry whose part we found no capture of takes its nearest sibling's numbers and says so
 * (`confirmed: false`). The telemetry's own limit (DCGM_FI_DEV_GPU_TEMP_TLIMIT) is not ingested.
 */

export interface ThermalLimits {
  /** Which entry matched (for evidence text); `unknown` for the default. */
  readonly part: string;
  /** °C the software thermal slowdown keeps the die under ("GPU Max Operating Temp"). */
  readonly max_operating_c: number;
  /** °C at which the hardware slows its clocks to protect itself ("GPU Slowdown Temp"). */
  readonly slowdown_c: number;
  /** °C at which the GPU shuts down ("GPU Shutdown Temp"). */
  readonly shutdown_c: number;
  /** °C the HBM may run at ("Memory Max Operating Temp"); null when the part has no memory sensor (GDDR). */
  readonly memory_max_c: number | null;
  /** False when no capture of this exact part was found and the numbers are a sibling's. */
  readonly confirmed: boolean;
}

/**
 * A part we do not know: at or above the hottest-rated parts listed (max operating 88 and slowdown 95
 * on the A10G; HBM 95), so an unknown GPU is not judged stricter than a known one.
 */
export const DEFAULT_THERMAL_LIMITS: ThermalLimits = {
  part: 'unknown',
  max_operating_c: 88,
  slowdown_c: 95,
  shutdown_c: 100,
  memory_max_c: 95,
  confirmed: false,
};

type Limits = Omit<ThermalLimits, 'part' | 'confirmed'>;

const AMPERE_HBM: Limits = { max_operating_c: 85, slowdown_c: 89, shutdown_c: 92, memory_max_c: 95 };
const HOPPER_HBM: Limits = { max_operating_c: 87, slowdown_c: 89, shutdown_c: 92, memory_max_c: 95 };
const L4: Limits = { max_operating_c: 86, slowdown_c: 88, shutdown_c: 91, memory_max_c: null };

/** First match wins, so the more specific patterns (L40S before L4, the A100 and H100 variants) come first. */
const LIMITS: readonly { part: string; match: RegExp; limits: Limits; confirmed: boolean }[] = [
  // A100 PCIe 80GB: capture of "NVIDIA A100 80GB PCIe" (300 W): 92 / 89 / 85, memory 95.
  { part: 'A100 80GB PCIe', match: /\bA100\b(?=.*\b80GB\b)(?=.*\bPCIE\b)/i, limits: AMPERE_HBM, confirmed: true },
  // A100 PCIe 40GB: no capture found; the A100 PCIe 80GB and SXM4 40GB report the same four numbers.
  { part: 'A100 40GB PCIe', match: /\bA100\b(?=.*\bPCIE\b)/i, limits: AMPERE_HBM, confirmed: false },
  // A100 SXM4 80GB: no capture naming the part found; the SXM4 40GB and PCIe 80GB report the same numbers
  // (an 8-GPU A100 capture, driver 525.60.13, model not shown, also reads 92 / 89 / 85 / 95).
  { part: 'A100 SXM4 80GB', match: /\bA100\b(?=.*\b80GB\b)/i, limits: AMPERE_HBM, confirmed: false },
  // A100 SXM4 40GB: 8× "NVIDIA A100-SXM4-40GB" (400 W), driver 535.129.03: 92 / 89 / 85, memory 95.
  { part: 'A100 SXM4 40GB', match: /\bA100\b/i, limits: AMPERE_HBM, confirmed: true },
  // H100 NVL and PCIe: no capture found; the H100 SXM's numbers.
  { part: 'H100 NVL', match: /\bH100\b.*\bNVL\b/i, limits: HOPPER_HBM, confirmed: false },
  { part: 'H100 PCIe', match: /\bH100\b.*\bPCIE\b/i, limits: HOPPER_HBM, confirmed: false },
  // H100 SXM5 ("NVIDIA H100 80GB HBM3"), and H800 (its export variant): 8× "NVIDIA H800" (700 W, SXM),
  // driver 525.105.17: shutdown 92, slowdown 89, max operating 87, memory 95.
  { part: 'H100 SXM', match: /\bH[18]00\b/i, limits: HOPPER_HBM, confirmed: true },
  // H200: "NVIDIA H200" (700 W) in T.Limit form: current 28, margin 59 → max operating 87; slowdown −2 → 89;
  // shutdown −8 → 95. The memory limit is printed only as a margin (0 C): 95, the H100's HBM3 limit, is assumed.
  { part: 'H200', match: /\bH200\b/i, limits: { max_operating_c: 87, slowdown_c: 89, shutdown_c: 95, memory_max_c: 95 }, confirmed: false },
  // L40S: no capture found; the L4's numbers (same Ada generation, and the lower of what we know).
  { part: 'L40S', match: /\bL40S\b/i, limits: L4, confirmed: false },
  // L4: "NVIDIA L4" (72 W), driver 550.90.07, T.Limit form: current 33, margin 53 → max operating 86;
  // slowdown −2 → 88; shutdown −5 → 91. GDDR6: no memory sensor.
  { part: 'L4', match: /\bL4\b/i, limits: L4, confirmed: true },
  // A10G (AWS's A10, 300 W): 98 / 95 / 88, memory N/A. A10: no capture found; the A10G's numbers.
  { part: 'A10G', match: /\bA10G\b/i, limits: { max_operating_c: 88, slowdown_c: 95, shutdown_c: 98, memory_max_c: null }, confirmed: true },
  { part: 'A10', match: /\bA10\b/i, limits: { max_operating_c: 88, slowdown_c: 95, shutdown_c: 98, memory_max_c: null }, confirmed: false },
  // T4: "Tesla T4": shutdown 96, slowdown 93, max operating 85, memory N/A.
  { part: 'T4', match: /\bT4\b/i, limits: { max_operating_c: 85, slowdown_c: 93, shutdown_c: 96, memory_max_c: null }, confirmed: true },
  // V100: "Tesla V100-SXM2-16GB" (300 W), "Tesla V100-PCIE-16GB" and "Tesla V100-PCIE-32GB": 90 / 87 / 83,
  // memory 85 (HBM2). V100S and the 32GB SXM2/SXM3 boards are assumed the same.
  { part: 'V100', match: /\bV100S?\b/i, limits: { max_operating_c: 83, slowdown_c: 87, shutdown_c: 90, memory_max_c: 85 }, confirmed: true },
];

/** The limits of `model` as DCGM prints it (`NVIDIA A100-SXM4-80GB`, `NVIDIA H100 80GB HBM3`, `Tesla T4`); the default when unknown. */
export function thermalLimits(model: string | null): ThermalLimits {
  if (model !== null) for (const l of LIMITS) if (l.match.test(model)) return { part: l.part, ...l.limits, confirmed: l.confirmed };
  return DEFAULT_THERMAL_LIMITS;
}
