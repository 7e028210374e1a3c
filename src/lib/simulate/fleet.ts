/**
 * The fleet plan: hosts, GPUs, assets, failure schedule, replacements and host outages, decided up
 * front from the seed. Pure and cheap (no per-tick work), so a test can plan 100,000 GPU-years to
 * check the failure rate, and the telemetry generator and the CSV writers read the same plan.
 *
 * Failures follow a constant hazard per GPU (exponential time to failure, memoryless, so a GPU's age
 * does not matter): the expected number of failures is rate × GPU-years in the window.
 */
import { InputError } from '../errors.js';
import {
  CAPPED_HOST_SHARE,
  CAPPED_LIMIT_W,
  DATACENTERS,
  DAY_MS,
  DEFAULT_FAILURE_RATE_PER_YEAR,
  DRIVERS,
  FAILURE_TYPES,
  GPUS_PER_HOST,
  HOST_EVENTS,
  HOSTS_PER_RACK,
  HOUR_MS,
  LOAD_PROFILES,
  MODELS,
  PRECURSOR_LEAD_DAYS,
  PROBLEMATIC_HAZARD_RATIO,
  PROFILE_WEIGHTS,
  REPLACEMENT_DELAY_DAYS,
  REPLACEMENT_SHARE,
  SUDDEN_SHARE,
  YEAR_MS,
  type FailureType,
  type LoadProfile,
  type ModelKey,
  type ThrottleField,
} from './hardware.js';
import { Rng, STREAM } from './rng.js';

/** A failure to plant on purpose (demos, tests), on top of the random ones. */
export interface PlantSpec {
  type: FailureType;
  /** No precursor. Default false. */
  sudden?: boolean;
  /** When it fails (snapped to the scrape grid). Default: late in the window. */
  atMs?: number;
  /** Which GPU (index into the initial fleet, i.e. host × 8 + slot). Default: a random healthy one. */
  gpu?: number;
}

export interface PlanOptions {
  /** Initial number of GPUs (default 50); hosts hold 8, the last host holds the remainder. */
  gpus?: number;
  /** Window length in days (default 14); may be fractional. */
  days?: number;
  /** Scrape interval (default 60 000 ms). */
  intervalMs?: number;
  seed?: number;
  /** End of the window, exclusive (default now, rounded down to the interval). */
  endMs?: number;
  /** Failure hazard per GPU-year (defaults 0.02 A100, 0.05 H100). */
  failureRatePerYear?: { a100: number; h100: number };
  /** Known-problematic GPUs (hot, ECC errors); default max(2, round(gpus × 0.06)). */
  problematic?: number;
  /** Plant failures until at least this many fall in the window (default 2; 0 for pure rates). */
  minFailures?: number;
  /** Failures to plant on purpose. */
  plant?: readonly PlantSpec[];
}

export interface ResolvedPlanOptions {
  gpus: number;
  days: number;
  intervalMs: number;
  seed: number;
  endMs: number;
  failureRatePerYear: { a100: number; h100: number };
  problematic: number;
  minFailures: number;
  plant: readonly PlantSpec[];
}

export interface HostOutage {
  startMs: number;
  endMs: number;
  /** The driver reloaded (reboot, maintenance): volatile counters and energy restart at endMs. */
  reset: boolean;
  cause: 'maintenance' | 'crash' | 'network' | 'replacement';
}

export interface PlannedHost {
  index: number;
  name: string;
  datacenter: string;
  rack: string;
  model: ModelKey;
  modelName: string;
  driverVersion: string;
  /** Which name the host's exporter prints for clock-event reasons (field 112). */
  throttleField: ThrottleField;
  profile: LoadProfile;
  /** Enforced power limit (W): the board default or an operator cap. */
  powerLimitW: number;
  /** Cold-aisle inlet temperature (°C). */
  inletC: number;
  /** GPU positions populated (8 except possibly the last host). */
  slots: number;
  deployedMs: number;
  /** Warranty term bought with the rack (years). */
  warrantyYears: number;
  /** Time since the last driver reload when the window opens. */
  uptimeAtStartMs: number;
  /** Sorted by start; scrapes inside an outage are missing. */
  outages: HostOutage[];
  /** Times at which the driver reloaded inside the window (sorted); volatile counters restart there. */
  resetsMs: number[];
  /** Per GPU position, the GPU ids that occupy it over the window, in order. */
  occupants: number[][];
}

export interface GpuTraits {
  /** Multiplier on the model's thermal resistance (airflow position, heatsink contact). */
  thermalMult: number;
  tempOffsetC: number;
  memTempOffsetC: number;
  /** Multiplier on active power (silicon variation). */
  powerEff: number;
  /** Multiplier on the host's load (inference hosts balance unevenly). */
  loadScale: number;
  fbScale: number;
  /** Background rates per hour. */
  sbePerHour: number;
  nvlinkCrcPerHour: number;
  pcieReplayPerHour: number;
  /** Multiplier on the model's non-fatal uncorrectable memory-error rate. */
  uncorrectableMult: number;
  /** Lifetime counts before the window (aggregate ECC, remapped rows) and the last Xid seen. */
  priorSbe: number;
  priorDbe: number;
  priorRemapCorrectable: number;
  priorRemapUncorrectable: number;
  priorXid: number;
}

export interface PlannedFailure {
  gpu: number;
  uuid: string;
  serial: string;
  host: number;
  hostname: string;
  model: ModelKey;
  atMs: number;
  type: FailureType;
  /** No precursor. */
  sudden: boolean;
  /** When the degradation starts (= atMs when sudden). */
  precursorStartMs: number;
  /** The Xid at failure (the one DCGM_FI_DEV_XID_ERRORS shows last), or null. */
  xid: number | null;
  /** Memory failures: row remapping failed (Xid 64, ROW_REMAP_FAILURE 1). */
  remapFailure: boolean;
  /** Scales the precursor's strength (0.6–1.5). */
  intensity: number;
  description: string;
  planted: boolean;
  replacementGpu: number | null;
  replacementAtMs: number | null;
}

export interface PlannedGpu {
  id: number;
  uuid: string;
  serial: string;
  host: number;
  /** GPU index on the host (the `gpu` label); a replacement keeps its predecessor's. */
  index: number;
  /** As dcgm-exporter labels it: `00000000:18:00.0`. */
  pciBusId: string;
  device: string;
  model: ModelKey;
  /** When it starts reporting in this slot (deployment for the initial fleet, the swap for replacements). */
  installedMs: number;
  deployedMs: number;
  warrantyExpiryMs: number;
  purchasePriceUsd: number;
  problematic: boolean;
  hazardPerYear: number;
  failure: PlannedFailure | null;
  /** The failed GPU this one replaced. */
  replaces: number | null;
  traits: GpuTraits;
}

export interface FleetPlan {
  options: ResolvedPlanOptions;
  seed: number;
  /** First scrape time; scrapes are at startMs + k × intervalMs for k < ticks. */
  startMs: number;
  /** Exclusive end of the window. */
  endMs: number;
  intervalMs: number;
  ticks: number;
  hosts: PlannedHost[];
  /** Initial fleet first (id = host × 8 + slot for full hosts), then replacements in order of planning. */
  gpus: PlannedGpu[];
  /** Failures in the window, sorted by time. */
  failures: PlannedFailure[];
  replacements: number;
}

function positiveInteger(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

export function resolvePlanOptions(opts: PlanOptions = {}): ResolvedPlanOptions {
  const gpus = positiveInteger('gpus', opts.gpus ?? 50, 1, 1_000_000);
  const intervalMs = positiveInteger('intervalMs', opts.intervalMs ?? 60_000, 100, DAY_MS);
  const days = opts.days ?? 14;
  if (!(days > 0) || !Number.isFinite(days)) throw new InputError(`days must be a positive number, got ${days}`);
  if (Math.floor((days * DAY_MS) / intervalMs) < 1) throw new InputError('the window is shorter than one scrape interval', ['raise days or lower intervalMs']);
  const seed = opts.seed ?? 1;
  if (!Number.isFinite(seed)) throw new InputError(`seed must be a finite number, got ${seed}`);
  const endMs = opts.endMs ?? Math.floor(Date.now() / intervalMs) * intervalMs;
  if (!Number.isFinite(endMs)) throw new InputError(`endMs must be a finite number, got ${endMs}`);
  const rate = opts.failureRatePerYear ?? DEFAULT_FAILURE_RATE_PER_YEAR;
  for (const k of ['a100', 'h100'] as const) {
    if (!(rate[k] >= 0) || !Number.isFinite(rate[k])) throw new InputError(`failureRatePerYear.${k} must be a non-negative number, got ${rate[k]}`);
  }
  const problematic = Math.min(gpus, positiveInteger('problematic', opts.problematic ?? Math.max(2, Math.round(gpus * 0.06)), 0, 1_000_000));
  const minFailures = positiveInteger('minFailures', opts.minFailures ?? 2, 0, 1_000_000);
  for (const p of opts.plant ?? []) {
    if (!(FAILURE_TYPES as readonly string[]).includes(p.type))
      throw new InputError(`unknown failure type "${p.type}"`, [`use one of ${FAILURE_TYPES.join(', ')}`]);
    if (p.gpu !== undefined) positiveInteger('plant.gpu', p.gpu, 0, gpus - 1);
  }
  return { gpus, days, intervalMs, seed, endMs, failureRatePerYear: { a100: rate.a100, h100: rate.h100 }, problematic, minFailures, plant: opts.plant ?? [] };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Plans the fleet. Pure: the same options give the same plan. */
export function planFleet(opts: PlanOptions = {}): FleetPlan {
  const o = resolvePlanOptions(opts);
  const ticks = Math.floor((o.days * DAY_MS) / o.intervalMs);
  const startMs = o.endMs - ticks * o.intervalMs;
  const lastTickMs = o.endMs - o.intervalMs;
  const snap = (t: number): number => startMs + Math.ceil((t - startMs) / o.intervalMs) * o.intervalMs;

  const hosts = planHosts(o, startMs);
  const gpus: PlannedGpu[] = [];
  for (const h of hosts) {
    for (let s = 0; s < h.slots; s++) {
      const g = newGpu(o, h, s, gpus.length, h.deployedMs, startMs, null);
      gpus.push(g);
      h.occupants.push([g.id]);
    }
  }
  const initial = gpus.length;

  // Known-problematic GPUs: hot, with a steady trickle of ECC errors. They fail more often; the others are
  // scaled down so the fleet's mean hazard stays at the configured rate.
  const prng = new Rng(o.seed, STREAM.problematic);
  const order = Array.from({ length: initial }, (_, i) => i);
  for (let i = 0; i < o.problematic; i++) {
    const j = i + prng.int(initial - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
    makeProblematic(gpus[order[i]!]!, prng);
  }
  const share = o.problematic / initial;
  const healthyMult = 1 / (1 + (PROBLEMATIC_HAZARD_RATIO - 1) * share);
  for (const g of gpus) g.hazardPerYear = o.failureRatePerYear[g.model] * (g.problematic ? PROBLEMATIC_HAZARD_RATIO : 1) * healthyMult;

  const frng = new Rng(o.seed, STREAM.failures);
  const failures: PlannedFailure[] = [];
  let replacements = 0;
  const fail = (g: PlannedGpu, atMs: number, type: FailureType, sudden: boolean, planted: boolean, rng: Rng): void => {
    const f = describeFailure(g, hosts[g.host]!, atMs, type, sudden, planted, rng);
    g.failure = f;
    failures.push(f);
    if (rng.chance(REPLACEMENT_SHARE)) {
      const replAt = snap(atMs + rng.uniform(REPLACEMENT_DELAY_DAYS[0], REPLACEMENT_DELAY_DAYS[1]) * DAY_MS);
      if (replAt <= lastTickMs) {
        const h = hosts[g.host]!;
        const r = newGpu(o, h, g.index, gpus.length, replAt, startMs, g);
        r.hazardPerYear = o.failureRatePerYear[r.model] * healthyMult;
        gpus.push(r);
        h.occupants[g.index]!.push(r.id);
        f.replacementGpu = r.id;
        f.replacementAtMs = replAt;
        replacements++;
        // The swap is a maintenance window that ends with the host rebooting.
        h.outages.push({ startMs: replAt - rng.uniform(1, 4) * HOUR_MS, endMs: replAt, reset: true, cause: 'replacement' });
      }
    }
  };

  // Failures asked for explicitly come first, so the random schedule works around them.
  const plrng = new Rng(o.seed, STREAM.planted);
  const pickHealthy = (): PlannedGpu | null => {
    const candidates = gpus.slice(0, initial).filter((g) => g.failure === null && !g.problematic);
    const pool = candidates.length > 0 ? candidates : gpus.slice(0, initial).filter((g) => g.failure === null);
    return pool.length > 0 ? plrng.pick(pool) : null;
  };
  o.plant.forEach((p, i) => {
    const g = p.gpu !== undefined ? gpus[p.gpu]! : pickHealthy();
    if (!g || g.failure) return;
    const at = p.atMs ?? startMs + (o.endMs - startMs) * (0.6 + (0.35 * (i + 1)) / (o.plant.length + 1));
    fail(g, clamp(snap(at), startMs, lastTickMs), p.type, p.sudden ?? false, true, plrng);
  });

  // Constant hazard: exponential time to failure from the later of window start and installation.
  // Replacements appended while this runs get their own draw.
  let drawn = 0;
  const drawNatural = (): void => {
    for (; drawn < gpus.length; drawn++) {
      const g = gpus[drawn]!;
      if (g.failure || g.hazardPerYear <= 0) continue;
      const from = Math.max(startMs, g.installedMs);
      const t = from + (frng.exp() / g.hazardPerYear) * YEAR_MS;
      if (t > lastTickMs) continue;
      const atMs = snap(t);
      if (atMs > lastTickMs) continue;
      const spec = MODELS[g.model];
      const type = FAILURE_TYPES[frng.weighted(FAILURE_TYPES.map((k) => spec.failureMix[k]))]!;
      fail(g, atMs, type, frng.chance(SUDDEN_SHARE), false, frng);
    }
  };
  drawNatural();

  // A demo of a few GPU-years would otherwise show nothing; plant the shortfall late in the window,
  // the first with a precursor so there is something to predict.
  for (let k = 0; failures.length < o.minFailures; k++) {
    const g = pickHealthy();
    if (!g) break;
    const spec = MODELS[g.model];
    const withPrecursor = k === 0;
    const types = withPrecursor ? FAILURE_TYPES.filter((t) => t !== 'other') : FAILURE_TYPES;
    const type = types[plrng.weighted(types.map((t) => spec.failureMix[t]))]!;
    const at = clamp(snap(startMs + (o.endMs - startMs) * plrng.uniform(0.55, 0.95)), startMs, lastTickMs);
    fail(g, at, type, withPrecursor ? false : plrng.chance(SUDDEN_SHARE), true, plrng);
  }
  drawNatural();

  failures.sort((a, b) => a.atMs - b.atMs || a.gpu - b.gpu);
  for (const h of hosts) finishHostEvents(o, h, startMs);
  return { options: o, seed: o.seed, startMs, endMs: o.endMs, intervalMs: o.intervalMs, ticks, hosts, gpus, failures, replacements };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}

function planHosts(o: ResolvedPlanOptions, startMs: number): PlannedHost[] {
  const rng = new Rng(o.seed, STREAM.layout);
  const nHosts = Math.ceil(o.gpus / GPUS_PER_HOST);
  const nRacks = Math.ceil(nHosts / HOSTS_PER_RACK);
  const monthMs = YEAR_MS / 12;

  interface Rack {
    dc: string;
    name: string;
    model: ModelKey;
    deployedMs: number;
    inlet: number;
    warrantyYears: number;
  }
  const racks: Rack[] = [];
  for (let r = 0; r < nRacks; r++) {
    const dc = DATACENTERS[r % DATACENTERS.length]!;
    const model: ModelKey = rng.chance(0.55) ? 'h100' : 'a100';
    racks.push({ dc, name: `r${pad2(Math.floor(r / DATACENTERS.length) + 1)}`, model, deployedMs: 0, inlet: 0, warrantyYears: rng.chance(0.15) ? 5 : 3 });
  }
  // Both models in any fleet of two racks or more (one-rack fleets alternate per host below).
  if (nRacks >= 2 && racks.every((r) => r.model === racks[0]!.model)) racks[nRacks - 1]!.model = racks[0]!.model === 'h100' ? 'a100' : 'h100';
  for (const r of racks) {
    const [lo, hi] = MODELS[r.model].ageMonths;
    r.deployedMs = Math.min(o.endMs - rng.uniform(lo, hi) * monthMs, startMs - DAY_MS);
    r.inlet = (r.dc === 'dc-a' ? 23 : 26) + rng.uniform(-1.5, 1.5);
  }

  const profileOrder: LoadProfile[] = [...LOAD_PROFILES];
  for (let i = profileOrder.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [profileOrder[i], profileOrder[j]] = [profileOrder[j]!, profileOrder[i]!];
  }
  const hosts: PlannedHost[] = [];
  for (let h = 0; h < nHosts; h++) {
    const rack = racks[Math.floor(h / HOSTS_PER_RACK)]!;
    const model: ModelKey = nRacks === 1 && nHosts >= 2 ? (h % 2 === 0 ? rack.model : rack.model === 'h100' ? 'a100' : 'h100') : rack.model;
    const spec = MODELS[model];
    const driver = DRIVERS[rng.weighted(DRIVERS.map((d) => d.weight))]!;
    const profile = h < profileOrder.length ? profileOrder[h]! : LOAD_PROFILES[rng.weighted(LOAD_PROFILES.map((p) => PROFILE_WEIGHTS[p]))]!;
    const capped = rng.chance(CAPPED_HOST_SHARE);
    const deployedMs = Math.min(rack.deployedMs + rng.uniform(0, 14) * DAY_MS, startMs - DAY_MS);
    hosts.push({
      index: h,
      name: `gpu-${rack.dc.slice(-1)}-${rack.name}-n${pad2((h % HOSTS_PER_RACK) + 1)}`,
      datacenter: rack.dc,
      rack: `${rack.dc}-${rack.name}`,
      model,
      modelName: spec.modelName,
      driverVersion: driver.version,
      throttleField: driver.throttleField,
      profile,
      powerLimitW: capped ? CAPPED_LIMIT_W[model] : spec.powerLimitW,
      inletC: rack.inlet + rng.uniform(-0.5, 0.5),
      slots: Math.min(GPUS_PER_HOST, o.gpus - h * GPUS_PER_HOST),
      deployedMs,
      warrantyYears: rack.warrantyYears,
      uptimeAtStartMs: Math.min(rng.uniform(0.1, 21) * DAY_MS, startMs - deployedMs),
      outages: [],
      resetsMs: [],
      occupants: [],
    });
  }
  // Exercise both names of field 112 in any fleet of two hosts or more.
  if (nHosts >= 2 && hosts.every((h) => h.throttleField === hosts[0]!.throttleField)) {
    const other = DRIVERS.find((d) => d.throttleField !== hosts[0]!.throttleField)!;
    hosts[nHosts - 1]!.driverVersion = other.version;
    hosts[nHosts - 1]!.throttleField = other.throttleField;
  }
  return hosts;
}

function addYears(ms: number, years: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

function newGpu(
  o: ResolvedPlanOptions,
  h: PlannedHost,
  slot: number,
  id: number,
  installedMs: number,
  startMs: number,
  replaces: PlannedGpu | null,
): PlannedGpu {
  const rng = new Rng(o.seed, STREAM.identity, id);
  const spec = MODELS[h.model];
  const uuid = `GPU-${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
  const serial = (h.model === 'h100' ? '1654' : '1652') + rng.digits(9);
  const deployedMs = replaces ? installedMs : h.deployedMs;
  // An RMA unit carries the original's book value and warranty (at least 90 days from the swap).
  const warrantyExpiryMs = replaces ? Math.max(replaces.warrantyExpiryMs, installedMs + 90 * DAY_MS) : addYears(deployedMs, h.warrantyYears);
  const purchasePriceUsd = replaces ? replaces.purchasePriceUsd : Math.round((spec.priceUsd * rng.uniform(0.9, 1.1)) / 10) * 10;
  const ageH = replaces ? 0 : Math.max(0, startMs - deployedMs) / HOUR_MS;
  const r1 = rng.next();
  const sbePerHour = r1 < 0.7 ? 0 : r1 < 0.95 ? rng.uniform(0.001, 0.02) : rng.uniform(0.05, 0.3);
  const nvlinkCrcPerHour = rng.chance(0.2) ? rng.uniform(0.05, 1) : 0;
  const pcieReplayPerHour = rng.chance(0.1) ? rng.uniform(0.01, 0.2) : 0;
  const priorDbe = replaces ? 0 : rng.poisson(spec.uncorrectablePerGpuHour * ageH);
  const appXid = rng.chance(0.4) ? rng.pick([13, 31, 43]) : 0;
  const traits: GpuTraits = {
    // Downstream positions on an HGX tray see pre-heated air.
    thermalMult: clamp(1 + 0.05 * rng.gauss() + (slot >= 4 ? 0.04 : 0), 0.85, 1.2),
    tempOffsetC: rng.uniform(-1.5, 1.5),
    memTempOffsetC: rng.uniform(-4, 2),
    powerEff: clamp(1 + 0.03 * rng.gauss(), 0.92, 1.08),
    loadScale: rng.uniform(0.85, 1.15),
    fbScale: rng.uniform(0.95, 1.03),
    sbePerHour,
    nvlinkCrcPerHour,
    pcieReplayPerHour,
    uncorrectableMult: 1,
    priorSbe: replaces ? 0 : Math.round(sbePerHour * ageH * rng.uniform(0.5, 1.5)),
    priorDbe,
    priorRemapCorrectable: !replaces && rng.chance(0.03) ? 1 + rng.int(2) : 0,
    priorRemapUncorrectable: priorDbe,
    priorXid: replaces ? 0 : priorDbe > 0 ? 63 : appXid,
  };
  return {
    id,
    uuid,
    serial,
    host: h.index,
    index: slot,
    pciBusId: `00000000:${spec.pciBuses[slot]}:00.0`,
    device: `nvidia${slot}`,
    model: h.model,
    installedMs,
    deployedMs,
    warrantyExpiryMs,
    purchasePriceUsd,
    problematic: false,
    hazardPerYear: 0,
    failure: null,
    replaces: replaces ? replaces.id : null,
    traits,
  };
}

function makeProblematic(g: PlannedGpu, rng: Rng): void {
  const t = g.traits;
  g.problematic = true;
  t.thermalMult *= rng.uniform(1.15, 1.3);
  t.tempOffsetC += rng.uniform(3, 7);
  t.memTempOffsetC += rng.uniform(2, 6);
  t.sbePerHour = rng.uniform(2, 20);
  t.priorSbe += Math.round(rng.uniform(5_000, 200_000));
  t.priorRemapCorrectable += 2 + rng.int(7);
  t.uncorrectableMult = 5;
  t.priorXid = 63;
}

function describeFailure(g: PlannedGpu, h: PlannedHost, atMs: number, type: FailureType, sudden: boolean, planted: boolean, rng: Rng): PlannedFailure {
  const [lo, hi] = PRECURSOR_LEAD_DAYS[type];
  const leadDays = rng.uniform(lo, hi);
  const precursorStartMs = sudden ? atMs : Math.max(atMs - leadDays * DAY_MS, g.installedMs);
  const days = Math.max(1, Math.round((atMs - precursorStartMs) / DAY_MS));
  const remapFailure = type === 'memory' && rng.chance(0.3);
  let xid: number | null;
  let description: string;
  switch (type) {
    case 'memory': {
      const ue = g.model === 'h100' ? 95 : 48;
      xid = remapFailure ? 64 : ue;
      description =
        (sudden
          ? `uncorrectable HBM ECC error (Xid ${ue}) with no prior correctable-error trend`
          : `uncorrectable HBM ECC error (Xid ${ue}) after ${days} days of accelerating correctable errors and row remapping`) +
        (remapFailure ? '; row remapping failed (Xid 64)' : '');
      break;
    }
    case 'thermal':
      xid = null;
      description = sudden
        ? 'HW thermal slowdown and shutdown (cooling failure) with no prior temperature trend'
        : `sustained HW thermal slowdown after ${days} days of rising temperature at equal power (cooling / thermal-interface degradation)`;
      break;
    case 'power':
      xid = rng.chance(0.7) ? 79 : 62;
      description = sudden
        ? `power-delivery fault (Xid ${xid}) with no precursor`
        : `power-delivery fault (Xid ${xid}) after ${days} days of HW power-brake episodes and unstable power draw`;
      break;
    case 'interconnect':
      xid = rng.chance(0.5) ? 74 : 79;
      description = sudden
        ? `${xid === 74 ? 'NVLink error' : 'GPU fell off the bus'} (Xid ${xid}) with no precursor`
        : `${xid === 74 ? 'NVLink error' : 'GPU fell off the bus'} (Xid ${xid}) after ${days} days of rising NVLink CRC and PCIe replay errors`;
      break;
    default: {
      xid = [119, 79, 62, 120][rng.weighted([0.4, 0.3, 0.15, 0.15])]!;
      description = sudden
        ? `GPU unrecoverable (Xid ${xid}) with no precursor`
        : `GPU unrecoverable (Xid ${xid}) after ${days} days of recurring GSP errors (Xid 119/120)`;
    }
  }
  return {
    gpu: g.id,
    uuid: g.uuid,
    serial: g.serial,
    host: g.host,
    hostname: h.name,
    model: g.model,
    atMs,
    type,
    sudden,
    precursorStartMs,
    xid,
    remapFailure,
    intensity: rng.uniform(0.6, 1.5),
    description,
    planted,
    replacementGpu: null,
    replacementAtMs: null,
  };
}

/** Random outages (maintenance, crashes, network) plus the replacement windows already planned. */
function finishHostEvents(o: ResolvedPlanOptions, h: PlannedHost, startMs: number): void {
  const rng = new Rng(o.seed, STREAM.hostEvents, h.index);
  for (const ev of HOST_EVENTS) {
    let t = startMs + rng.exp() * ev.meanDays * DAY_MS;
    while (t < o.endMs) {
      const dur = rng.uniform(ev.minutes[0], ev.minutes[1]) * 60_000;
      h.outages.push({ startMs: t, endMs: t + dur, reset: ev.reset, cause: ev.cause });
      t += dur + rng.exp() * ev.meanDays * DAY_MS;
    }
  }
  h.outages.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  h.resetsMs = h.outages
    .filter((x) => x.reset && x.endMs < o.endMs)
    .map((x) => x.endMs)
    .sort((a, b) => a - b);
}

/** GPU-years each model spent reporting inside the window (exposure for failure-rate checks). */
export function exposureGpuYears(plan: FleetPlan): Record<ModelKey, number> {
  const out: Record<ModelKey, number> = { a100: 0, h100: 0 };
  for (const g of plan.gpus) {
    const from = Math.max(plan.startMs, g.installedMs);
    const to = g.failure ? g.failure.atMs : plan.endMs;
    if (to > from) out[g.model] += (to - from) / YEAR_MS;
  }
  return out;
}
