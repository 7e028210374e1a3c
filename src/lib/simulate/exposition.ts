/**
 * dcgm-exporter text exposition of one scrape, byte for byte the way the exporter's Go template
 * renders it (internal/pkg/rendermetrics): per family a `# HELP` and a `# TYPE` line, then one sample
 * per GPU; families in DCGM field-id order; integers with %d, doubles with %f (6 decimals); label
 * order gpu, UUID, pci_bus_id, device, modelName, Hostname, DCGM_FI_DRIVER_VERSION. Unlike the exporter
 * we add a Prometheus timestamp (ms) to every sample, as a collector spooling scrapes would.
 */
import type { ValueColumn } from '../schema.js';
import type { FleetPlan, PlannedGpu, PlannedHost } from './fleet.js';
import type { ThrottleField } from './hardware.js';
import type { Scrape } from './telemetry.js';

export interface Family {
  /** DCGM field id: the exporter's output order. */
  readonly fieldId: number;
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly column: ValueColumn;
  /** `int` prints %d; `double` prints %f; `ratio` is a double that the lake stores ×100. */
  readonly format: 'int' | 'double' | 'ratio';
}

const THROTTLE = 'THROTTLE'; // placeholder name for field 112; resolved per host

/** Health fields the simulated exporters are configured with, in field-id order. Help texts as in dcgm-exporter's etc/*.csv. */
export const FAMILIES: readonly Family[] = [
  { fieldId: 100, name: 'DCGM_FI_DEV_SM_CLOCK', type: 'gauge', help: 'SM clock frequency (in MHz).', column: 'sm_clock_mhz', format: 'int' },
  { fieldId: 101, name: 'DCGM_FI_DEV_MEM_CLOCK', type: 'gauge', help: 'Memory clock frequency (in MHz).', column: 'mem_clock_mhz', format: 'int' },
  { fieldId: 112, name: THROTTLE, type: 'gauge', help: '', column: 'throttle_reasons', format: 'int' },
  { fieldId: 140, name: 'DCGM_FI_DEV_MEMORY_TEMP', type: 'gauge', help: 'Memory temperature (in C).', column: 'memory_temp', format: 'int' },
  { fieldId: 150, name: 'DCGM_FI_DEV_GPU_TEMP', type: 'gauge', help: 'GPU temperature (in C).', column: 'gpu_temp', format: 'int' },
  { fieldId: 155, name: 'DCGM_FI_DEV_POWER_USAGE', type: 'gauge', help: 'Power draw (in W).', column: 'power_usage', format: 'double' },
  {
    fieldId: 156,
    name: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
    type: 'counter',
    help: 'Total energy consumption since boot (in mJ).',
    column: 'energy_mj',
    format: 'int',
  },
  {
    fieldId: 164,
    name: 'DCGM_FI_DEV_ENFORCED_POWER_LIMIT',
    type: 'gauge',
    help: 'Effective power limit that the driver enforces after taking into account all limiters (in W).',
    column: 'power_limit',
    format: 'double',
  },
  { fieldId: 202, name: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', type: 'counter', help: 'Total number of PCIe retries.', column: 'pcie_replay_count', format: 'int' },
  { fieldId: 203, name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).', column: 'gpu_util', format: 'int' },
  { fieldId: 204, name: 'DCGM_FI_DEV_MEM_COPY_UTIL', type: 'gauge', help: 'Memory utilization (in %).', column: 'mem_copy_util', format: 'int' },
  { fieldId: 230, name: 'DCGM_FI_DEV_XID_ERRORS', type: 'gauge', help: 'Value of the last XID error encountered.', column: 'xid_last', format: 'int' },
  {
    fieldId: 240,
    name: 'DCGM_FI_DEV_POWER_VIOLATION',
    type: 'counter',
    help: 'Throttling duration due to power constraints (in ns).',
    column: 'power_violation_us',
    format: 'int',
  },
  {
    fieldId: 241,
    name: 'DCGM_FI_DEV_THERMAL_VIOLATION',
    type: 'counter',
    help: 'Throttling duration due to thermal constraints (in ns).',
    column: 'thermal_violation_us',
    format: 'int',
  },
  { fieldId: 251, name: 'DCGM_FI_DEV_FB_FREE', type: 'gauge', help: 'Framebuffer memory free (in MiB).', column: 'fb_free_mib', format: 'int' },
  { fieldId: 252, name: 'DCGM_FI_DEV_FB_USED', type: 'gauge', help: 'Framebuffer memory used (in MiB).', column: 'fb_used_mib', format: 'int' },
  {
    fieldId: 310,
    name: 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL',
    type: 'counter',
    help: 'Total number of single-bit volatile ECC errors.',
    column: 'ecc_sbe_volatile',
    format: 'int',
  },
  {
    fieldId: 311,
    name: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL',
    type: 'counter',
    help: 'Total number of double-bit volatile ECC errors.',
    column: 'ecc_dbe_volatile',
    format: 'int',
  },
  {
    fieldId: 312,
    name: 'DCGM_FI_DEV_ECC_SBE_AGG_TOTAL',
    type: 'counter',
    help: 'Total number of single-bit persistent ECC errors.',
    column: 'ecc_sbe_aggregate',
    format: 'int',
  },
  {
    fieldId: 313,
    name: 'DCGM_FI_DEV_ECC_DBE_AGG_TOTAL',
    type: 'counter',
    help: 'Total number of double-bit persistent ECC errors.',
    column: 'ecc_dbe_aggregate',
    format: 'int',
  },
  {
    fieldId: 390,
    name: 'DCGM_FI_DEV_RETIRED_SBE',
    type: 'counter',
    help: 'Total number of retired pages due to single-bit errors.',
    column: 'retired_pages_sbe',
    format: 'int',
  },
  {
    fieldId: 391,
    name: 'DCGM_FI_DEV_RETIRED_DBE',
    type: 'counter',
    help: 'Total number of retired pages due to double-bit errors.',
    column: 'retired_pages_dbe',
    format: 'int',
  },
  {
    fieldId: 392,
    name: 'DCGM_FI_DEV_RETIRED_PENDING',
    type: 'counter',
    help: 'Total number of pages pending retirement.',
    column: 'retired_pages_pending',
    format: 'int',
  },
  {
    fieldId: 393,
    name: 'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
    type: 'counter',
    help: 'Number of remapped rows for uncorrectable errors',
    column: 'remapped_rows_uncorrectable',
    format: 'int',
  },
  {
    fieldId: 394,
    name: 'DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS',
    type: 'counter',
    help: 'Number of remapped rows for correctable errors',
    column: 'remapped_rows_correctable',
    format: 'int',
  },
  {
    fieldId: 395,
    name: 'DCGM_FI_DEV_ROW_REMAP_FAILURE',
    type: 'gauge',
    help: 'Whether remapping of rows has failed',
    column: 'row_remap_failure',
    format: 'int',
  },
  {
    fieldId: 396,
    name: 'DCGM_FI_DEV_ROW_REMAP_PENDING',
    type: 'gauge',
    help: 'Whether remapping of rows is pending.',
    column: 'row_remap_pending',
    format: 'int',
  },
  {
    fieldId: 409,
    name: 'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL',
    type: 'counter',
    help: 'Total number of NVLink flow-control CRC errors.',
    column: 'nvlink_crc_errors',
    format: 'int',
  },
  {
    fieldId: 1001,
    name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    type: 'gauge',
    help: 'Ratio of time the graphics engine is active.',
    column: 'gr_engine_active',
    format: 'ratio',
  },
  {
    fieldId: 1002,
    name: 'DCGM_FI_PROF_SM_ACTIVE',
    type: 'gauge',
    help: 'The ratio of cycles an SM has at least 1 warp assigned.',
    column: 'sm_active',
    format: 'ratio',
  },
  {
    fieldId: 1003,
    name: 'DCGM_FI_PROF_SM_OCCUPANCY',
    type: 'gauge',
    help: 'The ratio of number of warps resident on an SM.',
    column: 'sm_occupancy',
    format: 'ratio',
  },
  {
    fieldId: 1004,
    name: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
    type: 'gauge',
    help: 'Ratio of cycles the tensor (HMMA) pipe is active.',
    column: 'tensor_active',
    format: 'ratio',
  },
  {
    fieldId: 1005,
    name: 'DCGM_FI_PROF_DRAM_ACTIVE',
    type: 'gauge',
    help: 'Ratio of cycles the device memory interface is active sending or receiving data.',
    column: 'dram_active',
    format: 'ratio',
  },
];

const THROTTLE_HELP: Readonly<Record<ThrottleField, string>> = {
  DCGM_FI_DEV_CLOCK_THROTTLE_REASONS: 'Current clock throttle reasons.',
  DCGM_FI_DEV_CLOCKS_EVENT_REASONS: 'Current clock event reasons.',
};

/** The families one host's exporter prints (field 112 under the name its version uses). */
export function familiesFor(throttleField: ThrottleField): Family[] {
  return FAMILIES.map((f) => (f.name === THROTTLE ? { ...f, name: throttleField, help: THROTTLE_HELP[throttleField] } : f));
}

const P3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Go's %f for a value already rounded to 6 decimals, given as integer millionths (k ≥ 0). */
function formatMicros(k: number): string {
  const whole = Math.floor(k / 1e6);
  const frac = k - whole * 1e6;
  return `${whole}.${P3[Math.floor(frac / 1000)]!}${P3[frac % 1000]!}`;
}

/** The exposition text of one canonical value. */
export function formatValue(f: Family, v: number): string {
  if (f.format === 'int') return String(v);
  const k = Math.round(f.format === 'ratio' ? v * 1e4 : v * 1e6);
  return k < 0 ? `-${formatMicros(-k)}` : formatMicros(k);
}

/**
 * A growing byte buffer the renderer writes into: the text is ASCII, so bytes are written directly
 * (no intermediate strings; at 30 M+ lines per demo, string concatenation spends its time in GC).
 */
export class ByteSink {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 1 << 20) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** The bytes written so far (a view, not a copy). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  toString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length).toString('latin1');
  }
}

interface HostRender {
  families: Family[];
  /** `# HELP …\n# TYPE …\n` per family. */
  headers: Uint8Array[];
  headerBytes: number;
}

interface RenderCache {
  hosts: Map<number, HostRender>;
  /** Per GPU id: `NAME{labels} ` per family. */
  prefixes: Map<number, Uint8Array[]>;
  maxPrefix: number;
}

const caches = new WeakMap<FleetPlan, RenderCache>();
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function cacheFor(plan: FleetPlan): RenderCache {
  let c = caches.get(plan);
  if (!c) {
    c = { hosts: new Map(), prefixes: new Map(), maxPrefix: 0 };
    caches.set(plan, c);
  }
  return c;
}

function hostRender(c: RenderCache, host: PlannedHost): HostRender {
  let r = c.hosts.get(host.index);
  if (!r) {
    const families = familiesFor(host.throttleField);
    const headers = families.map((f) => ascii(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`));
    r = { families, headers, headerBytes: headers.reduce((n, h) => n + h.length, 0) };
    c.hosts.set(host.index, r);
  }
  return r;
}

/** dcgm-exporter's label set for a GPU, in the exporter's order. */
export function gpuLabels(gpu: PlannedGpu, host: PlannedHost): string {
  return `gpu="${gpu.index}",UUID="${gpu.uuid}",pci_bus_id="${gpu.pciBusId}",device="${gpu.device}",modelName="${host.modelName}",Hostname="${host.name}",DCGM_FI_DRIVER_VERSION="${host.driverVersion}"`;
}

function prefixes(c: RenderCache, r: HostRender, gpu: PlannedGpu, host: PlannedHost): Uint8Array[] {
  let p = c.prefixes.get(gpu.id);
  if (!p) {
    const labels = gpuLabels(gpu, host);
    p = r.families.map((f) => ascii(`${f.name}{${labels}} `));
    for (const x of p) if (x.length > c.maxPrefix) c.maxPrefix = x.length;
    c.prefixes.set(gpu.id, p);
  }
  return p;
}

const DIGITS = new Uint8Array(24);

/** Writes a non-negative integer (< 2^53) in decimal; returns the new position. */
function writeUint(b: Uint8Array, pos: number, v: number): number {
  if (v < 10) {
    b[pos] = 48 + v;
    return pos + 1;
  }
  let n = 0;
  while (v > 0) {
    const q = Math.floor(v / 10);
    DIGITS[n++] = 48 + (v - q * 10);
    v = q;
  }
  while (n > 0) b[pos++] = DIGITS[--n]!;
  return pos;
}

/** Writes k millionths as Go's %f (`12.345678`); k is a non-negative integer. */
function writeMicros(b: Uint8Array, pos: number, k: number): number {
  const whole = Math.floor(k / 1e6);
  let frac = k - whole * 1e6;
  pos = writeUint(b, pos, whole);
  b[pos] = 46; // '.'
  for (let d = 6; d >= 1; d--) {
    const q = Math.floor(frac / 10);
    b[pos + d] = 48 + (frac - q * 10);
    frac = q;
  }
  return pos + 7;
}

function writeNumber(b: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    b[pos++] = 45; // '-'
    v = -v;
  }
  return writeUint(b, pos, v);
}

const TS = new Uint8Array(24);

/** Appends the exposition text of one scrape to `sink`. */
export function renderScrapeTo(sink: ByteSink, scrape: Scrape, plan: FleetPlan): void {
  const c = cacheFor(plan);
  const r = hostRender(c, scrape.host);
  const n = scrape.count;
  const pre: Uint8Array[][] = PRE;
  for (let i = 0; i < n; i++) pre[i] = prefixes(c, r, scrape.gpus[i]!, scrape.host);
  // ` <ms>\n`
  TS[0] = 32;
  let tsLen = writeUint(TS, 1, scrape.time_ms);
  TS[tsLen++] = 10;
  const fams = r.families;
  sink.reserve(r.headerBytes + n * fams.length * (c.maxPrefix + 32 + tsLen));
  const b = sink.bytes;
  let pos = sink.length;
  for (let fi = 0; fi < fams.length; fi++) {
    const f = fams[fi]!;
    const h = r.headers[fi]!;
    b.set(h, pos);
    pos += h.length;
    const col = scrape.values[f.column];
    const mul = f.format === 'int' ? 0 : f.format === 'ratio' ? 1e4 : 1e6;
    for (let i = 0; i < n; i++) {
      const p = pre[i]![fi]!;
      b.set(p, pos);
      pos += p.length;
      const v = col[i]!;
      if (mul === 0) pos = writeNumber(b, pos, v);
      else {
        const k = Math.round(v * mul);
        if (k < 0) {
          b[pos++] = 45;
          pos = writeMicros(b, pos, -k);
        } else pos = writeMicros(b, pos, k);
      }
      for (let j = 0; j < tsLen; j++) b[pos + j] = TS[j]!;
      pos += tsLen;
    }
  }
  sink.length = pos;
}

const PRE: Uint8Array[][] = [];

/** The exposition text of one scrape: HELP/TYPE per family, one sample per GPU, each with the scrape's ms timestamp. */
export function renderScrape(scrape: Scrape, plan: FleetPlan): string {
  const sink = new ByteSink(64 * 1024);
  renderScrapeTo(sink, scrape, plan);
  return sink.toString();
}
