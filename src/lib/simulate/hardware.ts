/**
 * Hardware facts and field-data rates the simulator is calibrated to. Every number here is either a
 * datasheet / real-output value or a rate with its source named; docs/simulation.md explains each.
 */
import { FAILURE_TYPES, type FailureType } from '../schema.js';

export const MODEL_KEYS = ['a100', 'h100'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

export { FAILURE_TYPES, type FailureType };

export const LOAD_PROFILES = ['training', 'inference', 'idle'] as const;
export type LoadProfile = (typeof LOAD_PROFILES)[number];

export interface ModelSpec {
  readonly key: ModelKey;
  /** dcgm-exporter's modelName label (NVML device name). */
  readonly modelName: string;
  /** nvidia-smi memory.total and memory.reserved; used + free + reserved = total. */
  readonly memTotalMib: number;
  readonly memReservedMib: number;
  /** Default (board) power limit and idle draw. */
  readonly powerLimitW: number;
  readonly idlePowerW: number;
  /** Demand at full activity (sm 1, tensor 1, dram 1) above idle; sustained training lands near the limit. */
  readonly activePowerW: number;
  readonly maxSmClockMhz: number;
  readonly idleSmClockMhz: number;
  readonly memClockMhz: number;
  /** Steady-state GPU temperature rise per watt at nominal airflow (°C/W). */
  readonly thermalResistance: number;
  /** SW thermal slowdown (GPU max operating temp) and HW thermal slowdown thresholds, °C. */
  readonly swThermalC: number;
  readonly hwThermalC: number;
  /** Street price of a new unit when bought, USD. */
  readonly priceUsd: number;
  /** PCI bus numbers of the 8 GPUs on the reference HGX/DGX board. */
  readonly pciBuses: readonly string[];
  /** Range of ages at the end of the window, months. */
  readonly ageMonths: readonly [number, number];
  /** Non-fatal uncorrectable memory errors per GPU-hour (NCSA Delta). */
  readonly uncorrectablePerGpuHour: number;
  /** Share of each failure type among this model's failures. */
  readonly failureMix: Readonly<Record<FailureType, number>>;
  /** Xids an uncorrectable memory error raises on this model (in order; the last is the one that sticks). */
  readonly uncorrectableXids: readonly number[];
}

export const MODELS: Readonly<Record<ModelKey, ModelSpec>> = {
  a100: {
    key: 'a100',
    modelName: 'NVIDIA A100-SXM4-80GB',
    memTotalMib: 81920,
    memReservedMib: 557,
    powerLimitW: 400,
    idlePowerW: 56,
    activePowerW: 520,
    maxSmClockMhz: 1410,
    idleSmClockMhz: 210,
    memClockMhz: 1593,
    thermalResistance: 0.11,
    swThermalC: 85,
    hwThermalC: 90,
    priceUsd: 15_000,
    pciBuses: ['07', '0F', '47', '4E', '87', '90', 'B7', 'BD'],
    ageMonths: [14, 36],
    uncorrectablePerGpuHour: 1 / 283_000,
    failureMix: { memory: 0.28, thermal: 0.1, power: 0.14, interconnect: 0.24, other: 0.24 },
    uncorrectableXids: [48, 63],
  },
  h100: {
    key: 'h100',
    modelName: 'NVIDIA H100 80GB HBM3',
    memTotalMib: 81559,
    memReservedMib: 479,
    powerLimitW: 700,
    idlePowerW: 72,
    activePowerW: 960,
    maxSmClockMhz: 1980,
    idleSmClockMhz: 345,
    memClockMhz: 2619,
    thermalResistance: 0.062,
    swThermalC: 87,
    hwThermalC: 92,
    priceUsd: 30_000,
    pciBuses: ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'],
    ageMonths: [0, 30],
    uncorrectablePerGpuHour: 1 / 89_000,
    failureMix: { memory: 0.34, thermal: 0.08, power: 0.12, interconnect: 0.22, other: 0.24 },
    uncorrectableXids: [94, 63],
  },
};

export const GPUS_PER_HOST = 8;

/** Failure hazard defaults, per GPU-year (constant hazard; see docs/simulation.md). */
export const DEFAULT_FAILURE_RATE_PER_YEAR: Readonly<Record<ModelKey, number>> = { a100: 0.02, h100: 0.05 };

/** Share of failures with no precursor at all (sudden). */
export const SUDDEN_SHARE = 0.25;

/** Known-problematic GPUs fail this many times as often as the rest; the rest are scaled down so the fleet mean stays at the configured rate. */
export const PROBLEMATIC_HAZARD_RATIO = 3;

/** Share of failed GPUs that get a replacement, and its delay (days). */
export const REPLACEMENT_SHARE = 0.7;
export const REPLACEMENT_DELAY_DAYS: readonly [number, number] = [2, 10];

/** How long before the failure each precursor starts (days, uniform). */
export const PRECURSOR_LEAD_DAYS: Readonly<Record<FailureType, readonly [number, number]>> = {
  memory: [7, 28],
  thermal: [14, 42],
  power: [3, 21],
  interconnect: [5, 21],
  other: [2, 10],
};

/** Host events: mean days between events, duration range (minutes), whether the driver reloads. */
export const HOST_EVENTS = [
  { cause: 'maintenance', meanDays: 21, minutes: [5, 20], reset: true },
  { cause: 'crash', meanDays: 60, minutes: [10, 45], reset: true },
  { cause: 'network', meanDays: 30, minutes: [60, 480], reset: false },
] as const;

/** Probability that one scrape of one host is missing (exporter timeout, scraper restart). */
export const SCRAPE_MISS_PROBABILITY = 0.002;

/** Application Xids (13, 31, 43) per busy GPU-hour: about one a month. */
export const APP_XID_PER_HOUR = 1 / (30 * 24);

/** Healthy GPUs' rare HW power-brake episodes (PSU transients) per GPU-hour: about one a year. */
export const HEALTHY_BRAKE_PER_HOUR = 1 / 8766;

/** Power-limit caps some operators set (fraction of hosts, and the cap). */
export const CAPPED_HOST_SHARE = 0.1;
export const CAPPED_LIMIT_W: Readonly<Record<ModelKey, number>> = { a100: 350, h100: 600 };

/** Drivers in the fleet; the 535 branch runs an exporter that still prints CLOCK_THROTTLE_REASONS. */
export const DRIVERS = [
  { version: '535.183.01', throttleField: 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', weight: 0.35 },
  { version: '550.127.05', throttleField: 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', weight: 0.4 },
  { version: '570.124.06', throttleField: 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', weight: 0.25 },
] as const;
export type ThrottleField = (typeof DRIVERS)[number]['throttleField'];

/** Host load-profile mix. */
export const PROFILE_WEIGHTS: Readonly<Record<LoadProfile, number>> = { training: 0.45, inference: 0.35, idle: 0.2 };

export const DATACENTERS = ['dc-a', 'dc-b'] as const;
export const HOSTS_PER_RACK = 4;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const YEAR_MS = 365.25 * DAY_MS;
