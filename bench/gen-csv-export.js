// Generates history as CSV exports of a telemetry table in the lake's own columns (30 of them: time,
// the 6 identity columns and 23 value columns), one file per host, as `\copy (SELECT … ORDER BY time)
// TO … CSV HEADER` writes a TimescaleDB table: PostgreSQL timestamptz text (`2025-01-01 00:15:00+00`),
// every instant's GPUs together, empty fields for nulls. Seeded, so every run measures the same bytes.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../dist/lib/model/random.js';

export const HEADER = [
  'time',
  'gpu_uuid',
  'host',
  'gpu_index',
  'model',
  'pci_bus_id',
  'driver_version',
  'gpu_temp',
  'memory_temp',
  'power_usage',
  'power_limit',
  'energy_mj',
  'gpu_util',
  'mem_copy_util',
  'sm_active',
  'sm_occupancy',
  'tensor_active',
  'dram_active',
  'gr_engine_active',
  'sm_clock_mhz',
  'mem_clock_mhz',
  'fb_used_mib',
  'fb_free_mib',
  'throttle_reasons',
  'ecc_sbe_volatile',
  'ecc_dbe_volatile',
  'ecc_sbe_aggregate',
  'ecc_dbe_aggregate',
  'xid_last',
  'pcie_replay_count',
];

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** `2026-05-01 00:15:00+00`, as PostgreSQL prints a timestamptz in UTC. */
function pgTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00`;
}

function hex(r, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

/**
 * Writes `hosts` files (host-NNN.csv) of `gpusPerHost` GPUs × `days` days at `intervalMs`;
 * returns { files, bytes, rows }.
 */
export function generateCsvExports(dir, { hosts = 50, gpusPerHost = 8, days = 180, intervalMs = 15 * 60_000, seed = 11, startMs = Date.UTC(2025, 0, 1) } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const r = mulberry32(seed);
  const steps = Math.round((days * 86_400_000) / intervalMs);
  let bytes = 0;
  let rows = 0;
  for (let h = 0; h < hosts; h++) {
    const host = `gpu-node-${pad(h, 3)}`;
    const gpus = Array.from({ length: gpusPerHost }, (_, g) => ({
      uuid: `GPU-${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`,
      id: `,${host},${g},NVIDIA H100 80GB HBM3,00000000:${(0x18 + g * 0x10).toString(16).toUpperCase()}:00.0,570.133.20`,
      energy: Math.floor(r() * 1e12),
      sbe: Math.floor(r() * 5),
    }));
    const file = path.join(dir, `${host}.csv`);
    const fd = fs.openSync(file, 'w');
    let buf = `${HEADER.join(',')}\n`;
    for (let s = 0; s < steps; s++) {
      const t = pgTime(startMs + s * intervalMs);
      for (const g of gpus) {
        const busy = r() < 0.7;
        const util = busy ? 60 + Math.floor(r() * 41) : Math.floor(r() * 5);
        const power = busy ? 350 + r() * 340 : 70 + r() * 30;
        g.energy += Math.round(power * (intervalMs / 1000) * 1000);
        if (r() < 0.001) g.sbe++;
        const used = busy ? 40_000 + Math.floor(r() * 40_000) : 500;
        const memTemp = r() < 0.02 ? '' : String(45 + Math.floor(r() * 30));
        buf += `${t},${g.uuid}${g.id},${30 + Math.floor(util / 3 + r() * 10)},${memTemp},${power.toFixed(3)},700,${g.energy},${util},${Math.floor(util / 2)},`;
        buf += `${(util * 0.9).toFixed(2)},${(util * 0.4).toFixed(2)},${(util * r() * 0.5).toFixed(2)},${(util * 0.3).toFixed(2)},${util.toFixed(2)},`;
        buf += `${busy ? 1980 - (r() < 0.1 ? 345 : 0) : 345},2619,${used},${81_559 - used},${r() < 0.15 ? 4 : 0},${g.sbe},0,${g.sbe + 7},0,,0\n`;
        rows++;
      }
      if (buf.length > 1 << 20) {
        bytes += fs.writeSync(fd, buf);
        buf = '';
      }
    }
    bytes += fs.writeSync(fd, buf);
    fs.closeSync(fd);
  }
  return { files: hosts, bytes, rows };
}

// node bench/gen-csv-export.js DIR [HOSTS] [DAYS]
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [dir, hosts, days] = process.argv.slice(2);
  const g = generateCsvExports(dir, { hosts: hosts ? Number(hosts) : undefined, days: days ? Number(days) : undefined });
  console.log(`${g.files} files, ${(g.bytes / 1e6).toFixed(0)} MB, ${g.rows} rows`);
}
