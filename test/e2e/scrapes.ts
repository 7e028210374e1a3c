/**
 * Seeded generators of dcgm-exporter scrapes for the end-to-end tests. Everything here is
 * deterministic: the same arguments give the same bytes.
 */
import zlib from 'node:zlib';

/** mulberry32, the seeded generator the model trainers use: a small PRNG in [0, 1). */
import { mulberry32 as rng } from '../../src/lib/model/random.js';

export { rng };

export const T0 = Date.UTC(2026, 0, 1); // 2026-01-01T00:00:00Z

export interface Gpu {
  index: number;
  uuid: string;
  pci: string;
  host: string;
}

export function gpus(n: number, host = 'node-1', tag = 'aaaa'): Gpu[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    uuid: `GPU-${tag}${String(i).padStart(4, '0')}-1111-2222-3333-444444444444`,
    pci: `00000000:${(0x18 + i).toString(16).toUpperCase()}:00.0`,
    host,
  }));
}

function labels(g: Gpu): string {
  return `gpu="${g.index}",UUID="${g.uuid}",pci_bus_id="${g.pci}",device="nvidia${g.index}",modelName="NVIDIA H100 80GB HBM3",Hostname="${g.host}",DCGM_FI_DRIVER_VERSION="570.133.20"`;
}

/** The values one GPU reports at one instant (what the lake should hold afterwards). */
export interface Sample {
  uuid: string;
  timeMs: number;
  gpu_temp: number;
  power_usage: number;
  /** DCGM ratio 0–1 as exported; the lake stores it ×100. */
  sm_active: number;
  ecc_sbe_volatile?: number;
}

export interface ScrapeOptions {
  gpus: Gpu[];
  /** Scrape instants (ms). */
  times: number[];
  seed: number;
  /** Write each sample's ms timestamp (as a Prometheus-scraped file would); default true. */
  timestamps?: boolean;
  /** Include the ECC counters; default false (dcgm-exporter's default counters omit them). */
  ecc?: boolean;
  /** HELP/TYPE comment lines per family; default true. */
  comments?: boolean;
}

export interface Scrape {
  text: string;
  samples: Sample[];
}

/**
 * A multi-scrape exposition file: per instant, one family after another (GPU_TEMP, POWER_USAGE,
 * SM_ACTIVE[, ECC_SBE_VOL_TOTAL]), one series per GPU, as dcgm-exporter writes them.
 */
export function scrape(o: ScrapeOptions): Scrape {
  const r = rng(o.seed);
  const ts = o.timestamps ?? true;
  const comments = o.comments ?? true;
  const out: string[] = [];
  const samples: Sample[] = [];
  for (const t of o.times) {
    const now = o.gpus.map((g) => ({
      uuid: g.uuid,
      timeMs: t,
      gpu_temp: 35 + Math.floor(r() * 50),
      power_usage: Math.round((80 + r() * 600) * 1000) / 1000,
      sm_active: Math.round(r() * 1e6) / 1e6,
      ...(o.ecc ? { ecc_sbe_volatile: Math.floor(r() * 5) } : {}),
    }));
    samples.push(...now);
    const stamp = ts ? ` ${t}` : '';
    const family = (name: string, type: string, help: string, value: (s: Sample) => string): void => {
      if (comments) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [i, g] of o.gpus.entries()) out.push(`${name}{${labels(g)}} ${value(now[i]!)}${stamp}`);
    };
    family('DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature (in C).', (s) => String(s.gpu_temp));
    family('DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw (in W).', (s) => s.power_usage.toFixed(3));
    family('DCGM_FI_PROF_SM_ACTIVE', 'gauge', 'The ratio of cycles an SM has at least 1 warp assigned.', (s) => s.sm_active.toFixed(6));
    if (o.ecc) family('DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', 'counter', 'Total number of single-bit volatile ECC errors.', (s) => String(s.ecc_sbe_volatile));
  }
  return { text: `${out.join('\n')}\n`, samples };
}

/** `count` instants `stepMs` apart from `startMs`. */
export function instants(startMs: number, count: number, stepMs = 10_000): number[] {
  return Array.from({ length: count }, (_, i) => startMs + i * stepMs);
}

/** gzip of `text`, cut to `fraction` of its bytes (a file copied while it was being written). */
export function truncatedGzip(text: string, fraction: number): Buffer {
  const gz = zlib.gzipSync(Buffer.from(text));
  return gz.subarray(0, Math.floor(gz.length * fraction));
}

/**
 * A gzip stream whose decompressible content is exactly `intact`, followed by the start of a
 * block holding `lost` that is cut off: the reader sees `intact`, then an unexpected end of file.
 * With `intact` ending mid-line this reproduces a torn last line precisely.
 */
export function gzipCutAfter(intact: string, lost: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gz = zlib.createGzip();
    const chunks: Buffer[] = [];
    let cut = -1;
    gz.on('data', (d: Buffer) => chunks.push(d));
    gz.on('error', reject);
    gz.on('end', () => resolve(Buffer.concat(chunks).subarray(0, cut)));
    gz.write(intact);
    gz.flush(zlib.constants.Z_FULL_FLUSH, () => {
      cut = Buffer.concat(chunks).length;
      gz.end(lost);
    });
  });
}
