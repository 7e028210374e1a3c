// Generates a dcgm-exporter-shaped corpus for the ingest benchmark: one file per host per hour of
// 10 s scrapes, 8 GPUs per host, 30 fields, HELP/TYPE lines, ms timestamps, families in field-id
// order (as the exporter prints them). Seeded, so every run measures the same bytes.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../dist/lib/model/random.js';

const FIELDS = [
  ['DCGM_FI_DEV_SM_CLOCK', 'gauge', 'SM clock frequency (in MHz).', (r) => 1980 - (r() < 0.1 ? 400 : 0)],
  ['DCGM_FI_DEV_MEM_CLOCK', 'gauge', 'Memory clock frequency (in MHz).', () => 2619],
  ['DCGM_FI_DEV_MEMORY_TEMP', 'gauge', 'Memory temperature (in C).', (r) => 50 + Math.floor(r() * 20)],
  ['DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature (in C).', (r) => 40 + Math.floor(r() * 40)],
  ['DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw (in W).', (r) => (100 + r() * 600).toFixed(6)],
  ['DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'counter', 'Total energy consumption since boot (in mJ).', (_r, s) => 9_000_000_000 + s * 4_000_000],
  ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'Total number of PCIe retries.', () => 0],
  ['DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).', (r) => Math.floor(r() * 100)],
  ['DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization (in %).', (r) => Math.floor(r() * 60)],
  ['DCGM_FI_DEV_ENC_UTIL', 'gauge', 'Encoder utilization (in %).', () => 0],
  ['DCGM_FI_DEV_DEC_UTIL', 'gauge', 'Decoder utilization (in %).', () => 0],
  ['DCGM_FI_DEV_XID_ERRORS', 'gauge', 'Value of the last XID error encountered.', () => 0],
  ['DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free (in MiB).', (r) => Math.floor(r() * 80000)],
  ['DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used (in MiB).', (r) => Math.floor(r() * 80000)],
  ['DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', 'counter', 'Total number of single-bit volatile ECC errors.', () => 0],
  ['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', 'counter', 'Total number of double-bit volatile ECC errors.', () => 0],
  ['DCGM_FI_DEV_ECC_SBE_AGG_TOTAL', 'counter', 'Total number of single-bit persistent ECC errors.', () => 3],
  ['DCGM_FI_DEV_ECC_DBE_AGG_TOTAL', 'counter', 'Total number of double-bit persistent ECC errors.', () => 0],
  ['DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS', 'counter', 'Number of remapped rows for correctable errors', () => 0],
  ['DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', 'counter', 'Number of remapped rows for uncorrectable errors', () => 0],
  ['DCGM_FI_DEV_ROW_REMAP_FAILURE', 'gauge', 'Whether remapping of rows has failed', () => 0],
  ['DCGM_FI_DEV_CLOCKS_EVENT_REASONS', 'gauge', 'Current clock event reasons.', (r) => (r() < 0.2 ? 4 : 0)],
  ['DCGM_FI_DEV_POWER_VIOLATION', 'counter', 'Throttling duration due to power constraints (in us).', (_r, s) => s * 1000],
  ['DCGM_FI_DEV_THERMAL_VIOLATION', 'counter', 'Throttling duration due to thermal constraints (in us).', () => 0],
  ['DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', 'counter', 'Total number of NVLink bandwidth counters for all lanes.', (_r, s) => s * 123456],
  ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'gauge', 'Ratio of time the graphics engine is active.', (r) => r().toFixed(6)],
  ['DCGM_FI_PROF_SM_ACTIVE', 'gauge', 'The ratio of cycles an SM has at least 1 warp assigned.', (r) => r().toFixed(6)],
  ['DCGM_FI_PROF_SM_OCCUPANCY', 'gauge', 'The ratio of number of warps resident on an SM.', (r) => r().toFixed(6)],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'gauge', 'Ratio of cycles the tensor (HMMA) pipe is active.', (r) => r().toFixed(6)],
  ['DCGM_FI_PROF_DRAM_ACTIVE', 'gauge', 'Ratio of cycles the device memory interface is active.', (r) => r().toFixed(6)],
];

function hex(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

/** Writes the corpus; returns { files, bytes, samples }. */
export function generateCorpus(dir, { targetBytes = 1.1e9, hostsPerHour = 40, seed = 7, startMs = Date.UTC(2026, 10, 1) } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const r = mulberry32(seed);
  const scrapesPerHour = 360;
  let bytes = 0,
    samples = 0,
    files = 0;
  for (let hour = 0; bytes < targetBytes; hour++) {
    for (let h = 0; h < hostsPerHour && bytes < targetBytes; h++) {
      const host = `gpu-node-${String(h).padStart(4, '0')}`;
      const gpus = Array.from({ length: 8 }, (_, g) => {
        const rr = mulberry32(seed * 1000 + h * 8 + g);
        return `gpu="${g}",UUID="GPU-${hex(rr, 8)}-${hex(rr, 4)}-${hex(rr, 4)}-${hex(rr, 4)}-${hex(rr, 12)}",pci_bus_id="00000000:${(0x18 + g * 16).toString(16).toUpperCase()}:00.0",device="nvidia${g}",modelName="NVIDIA H100 80GB HBM3",Hostname="${host}",DCGM_FI_DRIVER_VERSION="550.127.05"`;
      });
      const t0 = startMs + hour * 3_600_000;
      const file = path.join(dir, host, `${host}_${new Date(t0).toISOString().slice(0, 13)}-00-00Z.prom`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const fd = fs.openSync(file, 'w');
      for (let s = 0; s < scrapesPerHour; s++) {
        const ts = t0 + s * 10_000;
        const step = hour * scrapesPerHour + s;
        const parts = [];
        for (const [name, type, help, gen] of FIELDS) {
          parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
          for (const labels of gpus) {
            parts.push(`${name}{${labels}} ${gen(r, step)} ${ts}\n`);
            samples++;
          }
        }
        const text = parts.join('');
        fs.writeSync(fd, text);
        bytes += Buffer.byteLength(text);
      }
      fs.closeSync(fd);
      files++;
    }
  }
  return { files, bytes, samples };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'bench/out/corpus';
  const target = Number(process.argv[3] ?? 1.1e9);
  const t = Date.now();
  const res = generateCorpus(dir, { targetBytes: target });
  console.log(JSON.stringify({ ...res, seconds: (Date.now() - t) / 1000 }));
}
