/**
 * Per-tick telemetry: walks the plan's window scrape by scrape and yields, for every host that was
 * scraped at that instant, the canonical values of each reporting GPU. Values are already rounded the
 * way dcgm-exporter prints them (integers for integer fields, 6 decimals for DCP ratios, mW for power)
 * and converted to canonical units, so the exposition text and a direct-to-lake writer hold the same
 * numbers.
 *
 * Speed matters (the scale benchmark pushes 605 M GPU-rows through here), so the loop allocates
 * nothing per sample: one reusable Scrape (and value buffer) per host, GPU state in plain numeric
 * fields, Gaussian noise from a table, and Poisson counters driven by accumulated hazard (one add and
 * one compare per tick; random draws only when an event happens).
 */
import { InputError } from '../errors.js';
import { INT32_BLANK } from '../dcgm/fields.js';
import { VALUE_COLUMNS, VALUE_INDEX, type ValueColumn } from '../schema.js';
import type { FleetPlan, PlannedGpu, PlannedHost } from './fleet.js';
import { APP_XID_PER_HOUR, DAY_MS, HEALTHY_BRAKE_PER_HOUR, HOUR_MS, MODELS, SCRAPE_MISS_PROBABILITY, type ModelSpec } from './hardware.js';
import { Rng, STREAM } from './rng.js';

/** One scrape of one host. Reused: valid until the generator is resumed. */
export interface Scrape {
  time_ms: number;
  host: PlannedHost;
  /** GPUs in this scrape; entries [0, count) of `gpus` and of every value array are valid. */
  count: number;
  gpus: PlannedGpu[];
  /** Canonical columns (schema.ts units), one slot per GPU of this scrape. */
  values: Readonly<Record<ValueColumn, Float64Array>>;
  /** Xid events raised at this instant: `gpu[k]` is a position in `gpus`. */
  xids: { count: number; gpu: Int32Array; xid: Int32Array };
}

export interface ScrapeOptions {
  /** Called with (ticks done, ticks total) after each simulated hour. */
  progress?: (done: number, total: number) => void;
  /**
   * Simulate only these hosts (indices into plan.hosts). Hosts are independent (own random streams),
   * so shards run in separate workers produce exactly the rows of a full run.
   */
  hosts?: readonly number[];
}

const NCOL = VALUE_COLUMNS.length;
const W = 8; // value-buffer stride: GPUs per host
const off = (c: ValueColumn): number => VALUE_INDEX[c] * W;
const O_GPU_TEMP = off('gpu_temp');
const O_MEM_TEMP = off('memory_temp');
const O_POWER = off('power_usage');
const O_LIMIT = off('power_limit');
const O_ENERGY = off('energy_mj');
const O_UTIL = off('gpu_util');
const O_MEMCOPY = off('mem_copy_util');
const O_SM = off('sm_active');
const O_OCC = off('sm_occupancy');
const O_TENSOR = off('tensor_active');
const O_DRAM = off('dram_active');
const O_GR = off('gr_engine_active');
const O_SMCLK = off('sm_clock_mhz');
const O_MEMCLK = off('mem_clock_mhz');
const O_FBUSED = off('fb_used_mib');
const O_FBFREE = off('fb_free_mib');
const O_THROTTLE = off('throttle_reasons');
const O_SBE_VOL = off('ecc_sbe_volatile');
const O_DBE_VOL = off('ecc_dbe_volatile');
const O_SBE_AGG = off('ecc_sbe_aggregate');
const O_DBE_AGG = off('ecc_dbe_aggregate');
const O_RET_SBE = off('retired_pages_sbe');
const O_RET_DBE = off('retired_pages_dbe');
const O_RET_PEND = off('retired_pages_pending');
const O_REMAP_C = off('remapped_rows_correctable');
const O_REMAP_U = off('remapped_rows_uncorrectable');
const O_REMAP_FAIL = off('row_remap_failure');
const O_REMAP_PEND = off('row_remap_pending');
const O_XID = off('xid_last');
const O_PCIE = off('pcie_replay_count');
const O_NVL = off('nvlink_crc_errors');
const O_PVIOL = off('power_violation_us');
const O_TVIOL = off('thermal_violation_us');

// Clock-event reason bits (REFERENCE.md).
const GPU_IDLE = 0x1;
const SW_POWER_CAP = 0x4;
const HW_SLOWDOWN = 0x8;
const SW_THERMAL = 0x20;
const HW_THERMAL = 0x40;
const HW_POWER_BRAKE = 0x80;

// Degradation kinds.
const DEG_NONE = 0;
const DEG_MEMORY = 1;
const DEG_THERMAL = 2;
const DEG_POWER = 3;
const DEG_INTERCONNECT = 4;
const DEG_OTHER = 5;
const DEG_CODE = { memory: DEG_MEMORY, thermal: DEG_THERMAL, power: DEG_POWER, interconnect: DEG_INTERCONNECT, other: DEG_OTHER } as const;

const PROFILE_TRAINING = 0;
const PROFILE_INFERENCE = 1;
const PROFILE_IDLE = 2;

/** Temperature time constant: the die follows a power step within a few minutes. */
const THERMAL_TAU_MS = 90_000;

const E4 = Math.exp(4) - 1;

/** Precursor strength curves of severity s ∈ [0, 1] (s = elapsed share of the precursor window). */
export const precursor = {
  /** Extra correctable (SBE) errors per hour: exponential acceleration to ~1,500/h × intensity. */
  sbePerHour: (s: number, intensity: number): number => (1500 * intensity * (Math.exp(4 * s) - 1)) / E4,
  /** Extra NVLink CRC flit errors per hour (cubic growth to ~2,000/h). */
  nvlinkPerHour: (s: number, intensity: number): number => 2000 * intensity * s * s * s,
  /** Extra PCIe replays per hour. */
  pciePerHour: (s: number, intensity: number): number => 40 * intensity * s * s,
  /** HW power-brake episodes per hour. */
  brakePerHour: (s: number, intensity: number): number => intensity * (0.05 + 4 * s * s),
  /** HW thermal-slowdown episodes per hour (only in the last 30 %). */
  hwThermalPerHour: (s: number, intensity: number): number => (s > 0.7 ? 3 * intensity * ((s - 0.7) / 0.3) ** 2 : 0),
  /** Xid 74 (interconnect) or 119/120 (other) episodes per hour. */
  xidPerHour: (s: number, intensity: number, kind: number): number =>
    kind === DEG_INTERCONNECT ? (s > 0.5 ? 0.4 * intensity * ((s - 0.5) / 0.5) ** 2 : 0) : 0.3 * intensity * s * s,
  /** Thermal resistance multiplier and offset (°C) from cooling degradation. */
  thermalMult: (s: number, intensity: number): number => 1 + 0.6 * intensity * s ** 1.5,
  thermalOffsetC: (s: number, intensity: number): number => 5 * intensity * s,
};

/** Expected correctable row remaps over a memory precursor (spread as 3 s², so most come late). */
const REMAPS_PER_MEMORY_PRECURSOR = 8;

interface Ctx {
  dtMs: number;
  dtH: number;
  dtUs: number;
  alpha: number;
}

class HostSim {
  readonly plan: PlannedHost;
  readonly spec: ModelSpec;
  readonly rng: Rng;
  readonly profile: number;
  readonly scrape: Scrape;
  readonly buf: Float64Array;
  readonly gpuBySlot: (GpuSim | null)[];
  readonly occPtr: Int32Array;
  readonly nextChange: Float64Array;
  outIdx = 0;
  resetIdx = 0;
  /** No scrapes before this time (any outage). */
  missingUntil = -Infinity;
  /** GPUs powered off before this time (reboot outages). */
  offUntil = -Infinity;
  // Load state.
  level = 0;
  fbHeld = 0;
  inJob = false;
  phaseUntil = 0;
  jobStart = 0;
  ckptPeriodMs = 0;
  ckptDurMs = 0;
  smRatio = 0.85;
  occRatio = 0.4;
  tensorRatio = 0.5;
  dramRatio = 0.4;
  peakHour = 15;
  burstMask = 0;
  burstUntil = -Infinity;
  nextBurst = 0;
  burstLevel = 0;
  inletNow = 25;
  /** Writing into the scrape this tick (false when the scrape is missing). */
  writing = false;

  constructor(plan: PlannedHost, seed: number, startMs: number) {
    this.plan = plan;
    this.spec = MODELS[plan.model];
    this.rng = new Rng(seed, STREAM.host, plan.index);
    this.profile = plan.profile === 'training' ? PROFILE_TRAINING : plan.profile === 'inference' ? PROFILE_INFERENCE : PROFILE_IDLE;
    this.buf = new Float64Array(NCOL * W);
    const values = {} as Record<ValueColumn, Float64Array>;
    VALUE_COLUMNS.forEach((c, i) => {
      values[c.name] = this.buf.subarray(i * W, i * W + W);
    });
    this.scrape = { time_ms: 0, host: plan, count: 0, gpus: [], values, xids: { count: 0, gpu: new Int32Array(64), xid: new Int32Array(64) } };
    this.gpuBySlot = new Array<GpuSim | null>(plan.slots).fill(null);
    this.occPtr = new Int32Array(plan.slots);
    this.nextChange = new Float64Array(plan.slots).fill(-Infinity);
    const r = this.rng;
    const memScale = this.spec.memTotalMib / 81920;
    if (this.profile === PROFILE_TRAINING) {
      this.inJob = r.chance(0.85);
      if (this.inJob) this.startJob(startMs - r.uniform(0, 2) * DAY_MS, startMs + r.uniform(0.2, 4) * DAY_MS);
      else this.phaseUntil = startMs + r.uniform(0, 6) * HOUR_MS;
    } else if (this.profile === PROFILE_INFERENCE) {
      this.fbHeld = r.uniform(30_000, 65_000) * memScale;
      this.smRatio = r.uniform(0.6, 0.8);
      this.occRatio = r.uniform(0.2, 0.35);
      this.tensorRatio = r.uniform(0.25, 0.45);
      this.dramRatio = r.uniform(0.45, 0.65);
      this.peakHour = r.uniform(13, 19);
    } else {
      this.smRatio = r.uniform(0.5, 0.85);
      this.occRatio = r.uniform(0.2, 0.45);
      this.tensorRatio = r.uniform(0.1, 0.5);
      this.dramRatio = r.uniform(0.2, 0.6);
      this.nextBurst = startMs + r.exp() * 2 * DAY_MS;
    }
  }

  private startJob(start: number, until: number): void {
    const r = this.rng;
    this.inJob = true;
    this.jobStart = start;
    this.phaseUntil = until;
    this.ckptPeriodMs = r.uniform(20, 60) * 60_000;
    this.ckptDurMs = r.uniform(1, 3) * 60_000;
    this.fbHeld = r.uniform(60_000, 78_000) * (this.spec.memTotalMib / 81920);
    this.smRatio = r.uniform(0.82, 0.93);
    this.occRatio = r.uniform(0.35, 0.5);
    this.tensorRatio = r.uniform(0.45, 0.65);
    this.dramRatio = r.uniform(0.3, 0.5);
  }

  /** Host-wide load level at time t (0–1) and the memory jobs hold. */
  advanceLoad(t: number): void {
    const r = this.rng;
    const hod = (t / HOUR_MS) % 24;
    this.inletNow = this.plan.inletC + 0.8 * Math.sin((2 * Math.PI * (hod - 9)) / 24);
    if (this.profile === PROFILE_TRAINING) {
      if (t >= this.phaseUntil) {
        if (this.inJob) {
          this.inJob = false;
          this.fbHeld = 0;
          this.phaseUntil = t + (r.chance(0.5) ? r.uniform(5, 30) * 60_000 : r.uniform(1, 12) * HOUR_MS);
        } else {
          this.startJob(t, t + r.uniform(0.5, 6) * DAY_MS);
        }
      }
      // Checkpoints: a few minutes of I/O-bound low activity every 20–60 minutes.
      this.level = this.inJob ? ((t - this.jobStart) % this.ckptPeriodMs < this.ckptDurMs ? 0.12 : 0.985) : 0;
    } else if (this.profile === PROFILE_INFERENCE) {
      const d = 0.5 + 0.5 * Math.cos((2 * Math.PI * (hod - this.peakHour)) / 24);
      const dow = Math.floor(t / DAY_MS + 4) % 7; // 0 = Sunday
      this.level = (0.12 + 0.7 * d) * (dow === 0 || dow === 6 ? 0.75 : 1);
    } else {
      if (t >= this.burstUntil && t >= this.nextBurst) {
        this.burstMask = (r.u32() & 0xff) | (1 << r.int(this.plan.slots));
        this.burstLevel = r.uniform(0.3, 0.9);
        this.burstUntil = t + r.uniform(10, 90) * 60_000;
        this.nextBurst = this.burstUntil + r.exp() * 2 * DAY_MS;
        this.fbHeld = r.uniform(5_000, 30_000);
      }
      this.level = t < this.burstUntil ? this.burstLevel : 0;
    }
  }

  emitXid(pos: number, xid: number): void {
    if (!this.writing) return;
    const x = this.scrape.xids;
    if (x.count >= x.gpu.length) return;
    x.gpu[x.count] = pos;
    x.xid[x.count] = xid;
    x.count++;
  }
}

class GpuSim {
  readonly gpu: PlannedGpu;
  readonly spec: ModelSpec;
  readonly rng: Rng;
  readonly slot: number;
  // Fixed per GPU.
  readonly rTh: number;
  readonly tOff: number;
  readonly mOff: number;
  readonly idleW: number;
  readonly activeW: number;
  readonly loadScale: number;
  readonly fbScale: number;
  readonly memUsable: number;
  readonly degKind: number;
  readonly degStart: number;
  readonly failAt: number;
  readonly intensity: number;
  readonly incSbe: number;
  readonly incNvl: number;
  readonly incPcie: number;
  readonly rareBase: number;
  readonly appRate: number;
  readonly ueRate: number;
  readonly remapBase: number;
  failed = false;
  // State.
  temp = NaN;
  memTemp = NaN;
  energy = 0;
  sbeVol = 0;
  dbeVol = 0;
  sbeAgg = 0;
  dbeAgg = 0;
  remapC = 0;
  remapU = 0;
  remapFail = 0;
  remapPending = 0;
  xid = 0;
  pcie = 0;
  nvl = 0;
  powerViol = 0;
  thermViol = 0;
  brakeUntil = -Infinity;
  hwThermUntil = -Infinity;
  /** Accumulated hazard and next threshold per Poisson process: SBE, NVLink CRC, PCIe replay, rare events. */
  private readonly acc = new Float64Array(4);
  private readonly thr = new Float64Array(4);

  constructor(gpu: PlannedGpu, host: HostSim, seed: number, ctx: Ctx, startMs: number) {
    this.gpu = gpu;
    this.spec = MODELS[gpu.model];
    this.rng = new Rng(seed, STREAM.gpu, gpu.id);
    this.slot = gpu.index;
    const t = gpu.traits;
    const spec = this.spec;
    this.rTh = spec.thermalResistance * t.thermalMult;
    this.tOff = t.tempOffsetC;
    this.mOff = t.memTempOffsetC;
    this.idleW = spec.idlePowerW * (0.5 + 0.5 * t.powerEff);
    this.activeW = spec.activePowerW * t.powerEff;
    this.loadScale = t.loadScale;
    this.fbScale = t.fbScale;
    this.memUsable = spec.memTotalMib - spec.memReservedMib;
    const f = gpu.failure;
    this.degKind = f && !f.sudden ? DEG_CODE[f.type] : DEG_NONE;
    this.degStart = f ? f.precursorStartMs : Infinity;
    this.failAt = f ? f.atMs : Infinity;
    this.intensity = f ? f.intensity : 1;
    this.incSbe = t.sbePerHour * ctx.dtH;
    this.incNvl = t.nvlinkCrcPerHour * ctx.dtH;
    this.incPcie = t.pcieReplayPerHour * ctx.dtH;
    this.appRate = APP_XID_PER_HOUR * (host.profile === PROFILE_IDLE ? 0.1 : 1);
    this.ueRate = spec.uncorrectablePerGpuHour * t.uncorrectableMult;
    this.remapBase = gpu.problematic ? 0.002 : 0;
    this.rareBase = this.appRate + this.ueRate + HEALTHY_BRAKE_PER_HOUR + this.remapBase;
    for (let p = 0; p < 4; p++) this.thr[p] = this.rng.exp();
    this.initCounters(host, startMs);
  }

  /** Counters as they stand when the GPU starts reporting: history before the window, since the last reload. */
  private initCounters(host: HostSim, startMs: number): void {
    const g = this.gpu;
    const t = g.traits;
    const r = this.rng;
    this.xid = t.priorXid;
    this.dbeAgg = t.priorDbe;
    this.remapU = t.priorRemapUncorrectable;
    this.remapC = t.priorRemapCorrectable;
    this.sbeAgg = t.priorSbe;
    if (g.installedMs >= startMs) return; // a replacement: a new board, counters at zero
    const upMs = host.plan.uptimeAtStartMs;
    const upH = upMs / HOUR_MS;
    const lastReset = startMs - upMs;
    const integ = (fn: (s: number, i: number) => number, from: number, to: number): number => {
      if (this.degKind === DEG_NONE || to <= from) return 0;
      const n = 48;
      const step = (to - from) / n;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += fn(this.severity(from + (k + 0.5) * step), this.intensity);
      return (sum * step) / HOUR_MS;
    };
    const degFrom = Math.max(this.degStart, g.installedMs);
    let memAll = 0;
    let memUp = 0;
    if (this.degKind === DEG_MEMORY) {
      memAll = integ(precursor.sbePerHour, degFrom, startMs);
      memUp = integ(precursor.sbePerHour, Math.max(degFrom, lastReset), startMs);
      const remaps = integ((s, i) => (REMAPS_PER_MEMORY_PRECURSOR * i * 3 * s * s) / Math.max(1, (this.failAt - this.degStart) / HOUR_MS), degFrom, startMs);
      this.remapC += r.poisson(remaps);
    }
    this.sbeVol = r.poisson(t.sbePerHour * upH + memUp);
    this.sbeAgg += this.sbeVol + r.poisson(Math.max(0, memAll - memUp));
    if (this.degKind === DEG_INTERCONNECT) {
      this.nvl = r.poisson(integ(precursor.nvlinkPerHour, Math.max(degFrom, lastReset), startMs));
      this.pcie = r.poisson(integ(precursor.pciePerHour, Math.max(degFrom, lastReset), startMs));
    }
    this.nvl += r.poisson(t.nvlinkCrcPerHour * upH);
    this.pcie += r.poisson(t.pcieReplayPerHour * upH);
    const spec = this.spec;
    const limit = host.plan.powerLimitW;
    const meanW = host.profile === PROFILE_TRAINING ? 0.8 * limit : host.profile === PROFILE_INFERENCE ? 0.45 * limit : spec.idlePowerW * 1.2;
    this.energy = Math.round(meanW * upMs);
    const capShare = host.profile === PROFILE_TRAINING ? (limit < spec.powerLimitW ? 0.6 : 0.15) : 0;
    this.powerViol = Math.round(upMs * 1000 * capShare * r.uniform(0.5, 1.5));
    this.thermViol = g.problematic ? Math.round(upMs * 1000 * 0.02 * r.uniform(0.5, 1.5)) : 0;
    if (g.problematic && r.chance(0.3)) this.remapPending = 1;
  }

  severity(t: number): number {
    if (t <= this.degStart) return 0;
    const s = (t - this.degStart) / (this.failAt - this.degStart);
    return Math.min(s, 1);
  }

  /** Driver reload: volatile counters and energy restart; pending row remaps are applied. */
  reset(): void {
    this.energy = 0;
    this.sbeVol = 0;
    this.dbeVol = 0;
    this.pcie = 0;
    this.nvl = 0;
    this.powerViol = 0;
    this.thermViol = 0;
    this.remapPending = 0;
    this.temp = NaN;
    this.memTemp = NaN;
  }

  /** Poisson count for process p with mean `inc` this tick (accumulated-hazard method; normal above 25). */
  private count(p: number, inc: number): number {
    if (inc <= 0) return 0;
    if (inc > 25) return Math.max(0, Math.round(inc + Math.sqrt(inc) * this.rng.gauss()));
    let a = this.acc[p]! + inc;
    let th = this.thr[p]!;
    let n = 0;
    while (a >= th) {
      a -= th;
      th = this.rng.exp();
      n++;
    }
    this.acc[p] = a;
    this.thr[p] = th;
    return n;
  }

  private setXid(h: HostSim, pos: number, xid: number): void {
    this.xid = xid;
    h.emitXid(pos, xid);
  }

  /** Rates (per hour) of the rare discrete events at severity s. */
  private rareRates(s: number, out: Float64Array): number {
    const i = this.intensity;
    const k = this.degKind;
    out[0] = this.appRate;
    out[1] = this.ueRate;
    out[2] = HEALTHY_BRAKE_PER_HOUR + (k === DEG_POWER && s > 0 ? precursor.brakePerHour(s, i) : 0);
    out[3] =
      this.remapBase + (k === DEG_MEMORY && s > 0 ? (REMAPS_PER_MEMORY_PRECURSOR * i * 3 * s * s) / Math.max(1, (this.failAt - this.degStart) / HOUR_MS) : 0);
    out[4] = k === DEG_THERMAL && s > 0 ? precursor.hwThermalPerHour(s, i) : 0;
    out[5] = (k === DEG_INTERCONNECT || k === DEG_OTHER) && s > 0 ? precursor.xidPerHour(s, i, k) : 0;
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5];
  }

  private fireRare(h: HostSim, pos: number, t: number, s: number, ctx: Ctx): void {
    const rates = RATES_SCRATCH;
    this.rareRates(s, rates);
    const r = this.rng;
    switch (r.weighted(rates)) {
      case 0:
        this.setXid(h, pos, r.pick(APP_XIDS));
        break;
      case 1: {
        // Contained uncorrectable error: the row is remapped, the job restarts, the GPU lives on.
        this.dbeVol++;
        this.dbeAgg++;
        this.remapU++;
        this.remapPending = 1;
        for (const x of this.spec.uncorrectableXids) this.setXid(h, pos, x);
        break;
      }
      case 2: {
        // The episode began somewhere in the last interval: a scrape sees it only if it is still on.
        const durMs = r.uniform(10, 180) * 1000;
        this.brakeUntil = t - r.next() * ctx.dtMs + durMs;
        this.powerViol += Math.round(durMs * 1000);
        break;
      }
      case 3:
        this.remapC++;
        this.remapPending = 1;
        this.setXid(h, pos, 63);
        break;
      case 4: {
        const durMs = r.uniform(30, 300) * 1000;
        this.hwThermUntil = t - r.next() * ctx.dtMs + durMs;
        this.thermViol += Math.round(durMs * 1000);
        break;
      }
      default:
        if (this.degKind === DEG_INTERCONNECT) {
          this.nvl += Math.round(r.uniform(50, 500) * this.intensity);
          this.setXid(h, pos, 74);
        } else {
          this.setXid(h, pos, r.chance(0.7) ? 119 : 120);
        }
    }
  }

  /** The failure itself: the last scrape that shows this GPU. */
  private fail(h: HostSim, pos: number, t: number, ctx: Ctx): void {
    const f = this.gpu.failure!;
    const r = this.rng;
    this.failed = true;
    switch (f.type) {
      case 'memory': {
        const n = 1 + r.int(4);
        this.dbeVol += n;
        this.dbeAgg += n;
        this.remapU++;
        this.remapPending = 1;
        this.setXid(h, pos, this.gpu.model === 'h100' ? 95 : 48);
        if (f.remapFailure) {
          this.remapFail = 1;
          this.setXid(h, pos, 64);
        }
        break;
      }
      case 'thermal':
        this.hwThermUntil = t + ctx.dtMs;
        this.thermViol += ctx.dtUs;
        break;
      case 'power':
        this.brakeUntil = t + ctx.dtMs;
        this.powerViol += ctx.dtUs;
        if (f.xid !== null) this.setXid(h, pos, f.xid);
        break;
      case 'interconnect':
        this.nvl += Math.round(r.uniform(1000, 20_000));
        this.pcie += Math.round(r.uniform(10, 200));
        if (f.xid !== null) this.setXid(h, pos, f.xid);
        break;
      default:
        if (f.xid !== null) this.setXid(h, pos, f.xid);
    }
  }

  /** Advances one tick and writes this GPU's row at `pos` of the host's buffer. */
  step(h: HostSim, t: number, ctx: Ctx, pos: number): void {
    const r = this.rng;
    const spec = this.spec;
    const buf = h.buf;
    const k = this.degKind;
    const s = k !== DEG_NONE && t > this.degStart ? this.severity(t) : 0;
    const i = this.intensity;
    const N = NOISE;
    r.fillGauss(N, NOISE_PER_ROW);

    // --- load ---
    let u: number;
    if (h.profile === PROFILE_TRAINING) u = h.level > 0 ? h.level + 0.008 * N[0]! : 0;
    else if (h.profile === PROFILE_INFERENCE) u = h.level * this.loadScale + 0.05 * N[0]!;
    else u = (h.burstMask >>> this.slot) & 1 && h.level > 0 ? h.level * this.loadScale + 0.05 * N[0]! : 0;
    if (u < 0.02) u = 0;
    else if (u > 1) u = 1;

    let util: number, sm: number, occ: number, tensor: number, dram: number, gr: number, memcopy: number, pd: number;
    let bits = 0;
    if (u === 0) {
      util = 0;
      sm = 0;
      occ = 0;
      tensor = 0;
      dram = 0;
      gr = 0;
      memcopy = 0;
      pd = this.idleW * (1 + 0.02 * N[1]!);
      bits = GPU_IDLE;
    } else {
      util = Math.round(u * 100 + 1.2 * N[2]!);
      util = util < 1 ? 1 : Math.min(util, 100);
      sm = clamp01(u * h.smRatio * (1 + 0.02 * N[3]!));
      occ = clamp01(sm * h.occRatio * (1 + 0.04 * N[4]!));
      tensor = clamp01(sm * h.tensorRatio * (1 + 0.04 * N[5]!));
      dram = clamp01(u * h.dramRatio * (1 + 0.05 * N[6]!));
      gr = clamp01(u * 0.985 + 0.004 * N[7]!);
      if (gr < sm) gr = sm;
      memcopy = Math.round(dram * 90 + N[8]!);
      memcopy = memcopy < 0 ? 0 : Math.min(memcopy, 100);
      pd = this.idleW + this.activeW * (0.5 * sm + 0.3 * tensor + 0.2 * dram);
    }
    let sigma = 0.012;
    if (k === DEG_POWER && s > 0) {
      sigma += 0.08 * s * i;
      if (r.next() < 0.04 * s) pd *= 0.6; // unstable delivery: sudden dips
    }
    pd *= 1 + sigma * N[1]!;

    // --- power cap ---
    const limit = h.plan.powerLimitW;
    let p = pd;
    let clockScale = 1;
    if (pd > limit) {
      p = limit * (0.995 - 0.002 * Math.abs(N[12]!));
      clockScale = clockFactor(limit / pd);
      bits |= SW_POWER_CAP;
      const share = (pd / limit - 1) * 10 + 0.3;
      this.powerViol += Math.round(ctx.dtUs * Math.min(share, 1));
    }

    // --- thermal ---
    let rEff = this.rTh;
    let tOff = this.tOff;
    if (k === DEG_THERMAL && s > 0) {
      rEff *= precursor.thermalMult(s, i);
      tOff += precursor.thermalOffsetC(s, i);
    }
    const inlet = h.inletNow;
    let tss = inlet + tOff + rEff * p;
    if (u > 0 && tss > spec.swThermalC) {
      let allowed = (spec.swThermalC - 0.5 - inlet - tOff) / rEff;
      if (allowed < 0.45 * limit) allowed = 0.45 * limit;
      if (allowed < p) {
        clockScale *= clockFactor(allowed / p);
        p = allowed;
        tss = inlet + tOff + rEff * p;
        bits |= SW_THERMAL;
        this.thermViol += ctx.dtUs;
      }
    }

    // --- discrete events ---
    const nSbe = this.count(0, s > 0 && k === DEG_MEMORY ? this.incSbe + precursor.sbePerHour(s, i) * ctx.dtH : this.incSbe);
    if (nSbe > 0) {
      this.sbeVol += nSbe;
      this.sbeAgg += nSbe;
    }
    if (s > 0 && k === DEG_INTERCONNECT) {
      this.nvl += this.count(1, this.incNvl + precursor.nvlinkPerHour(s, i) * ctx.dtH);
      this.pcie += this.count(2, this.incPcie + precursor.pciePerHour(s, i) * ctx.dtH);
    } else {
      if (this.incNvl > 0) this.nvl += this.count(1, this.incNvl);
      if (this.incPcie > 0) this.pcie += this.count(2, this.incPcie);
    }
    const rareRate = s > 0 ? this.rareRates(s, RATES_SCRATCH) : this.rareBase;
    if (this.count(3, rareRate * ctx.dtH) > 0) this.fireRare(h, pos, t, s, ctx);
    if (t >= this.failAt && !this.failed) this.fail(h, pos, t, ctx);

    // --- episodes (HW power brake, HW thermal slowdown) ---
    if (t < this.brakeUntil) {
      bits |= HW_POWER_BRAKE | HW_SLOWDOWN;
      clockScale *= 0.5;
      p *= 0.55;
    }
    if (t < this.hwThermUntil) {
      bits |= HW_THERMAL | HW_SLOWDOWN;
      clockScale *= 0.45;
      p *= 0.6;
      tss = spec.hwThermalC + 2 + Math.abs(N[13]!);
      this.temp = tss;
    }

    // --- temperatures follow power with a lag ---
    const mss = inlet + this.mOff + rEff * 0.92 * p;
    if (Number.isNaN(this.temp)) {
      this.temp = tss;
      this.memTemp = mss;
    } else {
      this.temp += ctx.alpha * (tss - this.temp);
      this.memTemp += ctx.alpha * (mss - this.memTemp);
    }

    // --- what the exporter prints ---
    const powerMw = Math.round(p * 1000);
    this.energy += Math.round((powerMw * ctx.dtMs) / 1000);
    // Counters that pass 2^31 could print a value an ingester must read as DCGM's INT32 "blank"
    // sentinel; step over that 16-wide window (a 1e-7 chance per sample, but the lake must match).
    if (this.energy >= INT32_BLANK && this.energy < 2 ** 31) this.energy = 2 ** 31;
    if (this.powerViol >= INT32_BLANK && this.powerViol < 2 ** 31) this.powerViol = 2 ** 31;
    if (this.thermViol >= INT32_BLANK && this.thermViol < 2 ** 31) this.thermViol = 2 ** 31;
    if (!h.writing) return;
    const fb = h.fbHeld > 0 && (u > 0 || h.profile !== PROFILE_IDLE) ? Math.min(this.memUsable, Math.round(h.fbHeld * this.fbScale + 20 * N[11]!)) : 0;
    buf[O_GPU_TEMP + pos] = Math.round(this.temp + 0.3 * N[9]!);
    buf[O_MEM_TEMP + pos] = Math.round(this.memTemp + 0.3 * N[10]!);
    buf[O_POWER + pos] = powerMw / 1000;
    buf[O_LIMIT + pos] = limit;
    buf[O_ENERGY + pos] = this.energy;
    buf[O_UTIL + pos] = util;
    buf[O_MEMCOPY + pos] = memcopy;
    if (u === 0) {
      buf[O_SM + pos] = 0;
      buf[O_OCC + pos] = 0;
      buf[O_TENSOR + pos] = 0;
      buf[O_DRAM + pos] = 0;
      buf[O_GR + pos] = 0;
    } else {
      buf[O_SM + pos] = ratioPct(sm);
      buf[O_OCC + pos] = ratioPct(occ);
      buf[O_TENSOR + pos] = ratioPct(tensor);
      buf[O_DRAM + pos] = ratioPct(dram);
      buf[O_GR + pos] = ratioPct(gr);
    }
    buf[O_SMCLK + pos] = u === 0 ? spec.idleSmClockMhz : Math.round((spec.maxSmClockMhz * Math.min(clockScale, 1)) / 15) * 15;
    buf[O_MEMCLK + pos] = spec.memClockMhz;
    buf[O_FBUSED + pos] = fb;
    buf[O_FBFREE + pos] = this.memUsable - fb;
    buf[O_THROTTLE + pos] = bits;
    buf[O_SBE_VOL + pos] = this.sbeVol;
    buf[O_DBE_VOL + pos] = this.dbeVol;
    buf[O_SBE_AGG + pos] = this.sbeAgg;
    buf[O_DBE_AGG + pos] = this.dbeAgg;
    buf[O_RET_SBE + pos] = 0;
    buf[O_RET_DBE + pos] = 0;
    buf[O_RET_PEND + pos] = 0;
    buf[O_REMAP_C + pos] = this.remapC;
    buf[O_REMAP_U + pos] = this.remapU;
    buf[O_REMAP_FAIL + pos] = this.remapFail;
    buf[O_REMAP_PEND + pos] = this.remapPending;
    buf[O_XID + pos] = this.xid;
    buf[O_PCIE + pos] = this.pcie;
    buf[O_NVL + pos] = this.nvl;
    buf[O_PVIOL + pos] = this.powerViol;
    buf[O_TVIOL + pos] = this.thermViol;
  }
}

const APP_XIDS = [13, 31, 43, 13, 31] as const;
const RATES_SCRATCH = new Float64Array(6);
/** Per-row Gaussian noise, drawn in one call (see Rng.fillGauss). */
const NOISE_PER_ROW = 14;
const NOISE = new Float64Array(NOISE_PER_ROW);

/**
 * How far SM clocks drop when power must drop by `ratio` (< 1): dynamic power goes roughly with
 * f·V² ∝ f^1.7, so f ∝ ratio^0.6. A cubic in (1 − ratio) stands in for Math.pow (hot path, and
 * within 1.5 % over the 0.4–1 range the simulator uses).
 */
function clockFactor(ratio: number): number {
  const e = 1 - ratio;
  return 1 - e * (0.6 + e * (0.12 + 0.056 * e));
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}

/**
 * A DCP ratio as the exporter prints it (6 decimals, `0.873215`) in the lake's percent: the double
 * nearest the decimal 87.3215, which is what the ingester stores (it scales the printed decimal, not
 * the binary value, so 0.058619 becomes 5.8619 rather than 5.8618999999999994).
 */
function ratioPct(x: number): number {
  return Math.round(x * 1e6) / 1e4;
}

/**
 * Yields one Scrape per host per tick of the plan's window. Order: UTC hour by UTC hour; within an
 * hour, host by host (index order); within a host, tick by tick. Simulating one host for an hour at a
 * time keeps its eight GPUs in cache (10,000 GPUs stepped tick-major ran 3× slower), and it is the
 * order hourly per-host files are written in. Hosts are independent, so any order or subset (`hosts`)
 * gives the same values. Missing scrapes (host outages, exporter misses) are not yielded; a failed GPU
 * appears for the last time at its failure instant. The yielded object is reused for that host.
 */
export function* scrapes(plan: FleetPlan, opts: ScrapeOptions = {}): Generator<Scrape, void, undefined> {
  const dtMs = plan.intervalMs;
  const ctx: Ctx = { dtMs, dtH: dtMs / HOUR_MS, dtUs: dtMs * 1000, alpha: 1 - Math.exp(-dtMs / THERMAL_TAU_MS) };
  const hosts = (opts.hosts ?? plan.hosts.map((h) => h.index)).map((i) => {
    const h = plan.hosts[i];
    if (!h) throw new InputError(`no host ${i} in the plan (it has ${plan.hosts.length})`);
    return new HostSim(h, plan.seed, plan.startMs);
  });
  for (let block = Math.floor(plan.startMs / HOUR_MS) * HOUR_MS; block < plan.endMs; block += HOUR_MS) {
    const kFrom = Math.max(0, Math.ceil((block - plan.startMs) / dtMs));
    const kTo = Math.min(plan.ticks, Math.ceil((block + HOUR_MS - plan.startMs) / dtMs));
    if (kFrom >= kTo) continue;
    for (let hi = 0; hi < hosts.length; hi++) {
      const h = hosts[hi]!;
      for (let k = kFrom; k < kTo; k++) {
        const t = plan.startMs + k * dtMs;
        if (hostTick(plan, h, t, ctx)) yield h.scrape;
      }
    }
    opts.progress?.(kTo, plan.ticks);
  }
}

/** Advances one host by one tick; true when the scrape is there to yield. */
function hostTick(plan: FleetPlan, h: HostSim, t: number, ctx: Ctx): boolean {
  const ph = h.plan;
  // Outages: a reboot powers the GPUs off; a network outage only hides them.
  while (h.outIdx < ph.outages.length && ph.outages[h.outIdx]!.startMs <= t) {
    const o = ph.outages[h.outIdx++]!;
    if (o.endMs > h.missingUntil) h.missingUntil = o.endMs;
    if (o.reset && o.endMs > h.offUntil) h.offUntil = o.endMs;
  }
  if (t < h.offUntil) return false;
  while (h.resetIdx < ph.resetsMs.length && ph.resetsMs[h.resetIdx]! <= t) {
    h.resetIdx++;
    for (const g of h.gpuBySlot) g?.reset();
  }
  const missing = t < h.missingUntil || h.rng.next() < SCRAPE_MISS_PROBABILITY;
  h.writing = !missing;
  h.advanceLoad(t);
  const sc = h.scrape;
  sc.xids.count = 0;
  let pos = 0;
  for (let slot = 0; slot < ph.slots; slot++) {
    if (t >= h.nextChange[slot]!) updateSlot(plan, h, slot, t, ctx);
    const g = h.gpuBySlot[slot];
    if (!g) continue;
    g.step(h, t, ctx, pos);
    if (!missing) sc.gpus[pos++] = g.gpu;
  }
  if (missing || pos === 0) return false;
  sc.time_ms = t;
  sc.count = pos;
  return true;
}

/** Removes a GPU after its failure instant and installs the next occupant once it is in. */
function updateSlot(plan: FleetPlan, h: HostSim, slot: number, t: number, ctx: Ctx): void {
  const list = h.plan.occupants[slot]!;
  let cur = h.gpuBySlot[slot];
  if (cur && cur.failAt < t) cur = null;
  while (!cur && h.occPtr[slot]! < list.length) {
    const g = plan.gpus[list[h.occPtr[slot]!]!]!;
    if (g.installedMs > t) break;
    h.occPtr[slot]!++;
    const failAt = g.failure ? g.failure.atMs : Infinity;
    if (failAt < t) continue;
    cur = new GpuSim(g, h, plan.seed, ctx, plan.startMs);
  }
  h.gpuBySlot[slot] = cur ?? null;
  const nextInstall = h.occPtr[slot]! < list.length ? plan.gpus[list[h.occPtr[slot]!]!]!.installedMs : Infinity;
  const removeAt = cur && cur.failAt < Infinity ? cur.failAt + 1 : Infinity;
  h.nextChange[slot] = Math.min(nextInstall, removeAt);
}
