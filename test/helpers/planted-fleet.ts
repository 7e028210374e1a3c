/**
 * A small fleet with planted conditions, generated (seeded) for the features and score tests: a CSV
 * export in the lake's own columns and a kernel log with Xid lines. Twelve H100s on two hosts, two
 * days at 2-minute sampling, all running the same load schedule so cohort features have peers.
 *
 *   gpu  host    condition
 *   0    a       healthy
 *   1    a       hot: 14 °C above its peers at equal power, SW thermal throttling in 8 % of loaded samples
 *   2    a       memory: ~1 correctable error per 10 min; two uncorrectable errors with a driver reload
 *                (volatile counters back to 0) between them, so the latest value says 1 and the delta 2
 *   3    a       idle: 1 % activity, GPU_IDLE bit on, low clocks — must not be penalised
 *   4    a       slow: SM clock 1600 MHz under load where its peers hold 1980
 *   5    a       power brake (HW_POWER_BRAKE | HW_SLOWDOWN) in 3 % of samples
 *   6    a       gappy: two 3-hour silences
 *   7    a       Xid 79 (fell off the bus; three log lines within 10 s) and an application Xid 13
 *   8    b       row-remap failure: RMA-grade
 *   9    b       exporter without ECC fields (dcgm-exporter's default counters): memory unknown
 *   10   b       healthy
 *   11   b       healthy
 */
import { Rng } from '../../src/lib/simulate/rng.js';

export const PLANTED_START_MS = Date.UTC(2026, 10, 18);
export const PLANTED_END_MS = Date.UTC(2026, 10, 20);
export const PLANTED_INTERVAL_S = 120;
export const PLANTED_GPUS = 12;
export const MODEL = 'NVIDIA H100 80GB HBM3';

export const uuidOf = (g: number): string => `GPU-00000000-0000-4000-8000-${String(g).padStart(12, '0')}`;
export const hostOf = (g: number): string => (g < 8 ? 'node-a' : 'node-b');
export const pciOf = (g: number): string => `00000000:${(0x18 + (g % 8) * 0x10).toString(16).padStart(2, '0').toUpperCase()}:00.0`;

const COLUMNS = [
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
  'gpu_util',
  'sm_active',
  'sm_occupancy',
  'dram_active',
  'sm_clock_mhz',
  'throttle_reasons',
  'ecc_sbe_volatile',
  'ecc_dbe_volatile',
  'remapped_rows_correctable',
  'remapped_rows_uncorrectable',
  'row_remap_failure',
  'row_remap_pending',
  'xid_last',
  'pcie_replay_count',
] as const;

/** Activity of the shared load schedule in hour h: 40–90 %, so every GPU sees the same load bins. */
const scheduleActivity = (h: number): number => 40 + 10 * ((h * 7) % 6);

export interface PlantedFleet {
  csv: string;
  kernelLog: string;
}

export function plantedFleet(seed = 7): PlantedFleet {
  const rng = new Rng(seed, 1);
  const noise = (a: number): number => (rng.next() * 2 - 1) * a;
  const lines: string[] = [COLUMNS.join(',')];
  const steps = (PLANTED_END_MS - PLANTED_START_MS) / 1000 / PLANTED_INTERVAL_S;
  const sbe = new Array<number>(PLANTED_GPUS).fill(0);
  const dbe = new Array<number>(PLANTED_GPUS).fill(0);
  for (let s = 0; s < steps; s++) {
    const t = PLANTED_START_MS + s * PLANTED_INTERVAL_S * 1000;
    const hour = Math.floor((t - PLANTED_START_MS) / 3_600_000);
    for (let g = 0; g < PLANTED_GPUS; g++) {
      if (g === 6 && ((hour >= 10 && hour < 13) || (hour >= 30 && hour < 33))) continue;
      const idle = g === 3;
      const act = idle ? 1 : Math.max(11, scheduleActivity(hour) + noise(5));
      const power = idle ? 70 + noise(2) : 150 + 5.5 * act + noise(10);
      let temp = idle ? 34 + noise(1) : 28 + 0.07 * power + noise(1);
      if (g === 1) temp += 14;
      let tr = idle ? 0x1 : 0;
      if (g === 1 && rng.next() < 0.08) tr |= 0x20;
      if (g === 5 && rng.next() < 0.03) tr |= 0x80 | 0x08;
      const clock = idle ? 345 : tr & 0x20 ? 1700 + noise(20) : g === 4 ? 1600 + noise(5) : 1980 + noise(5);
      if (g === 2) {
        if (rng.next() < PLANTED_INTERVAL_S / 600) sbe[g]! += 1;
        if (s === 30 * 30) dbe[g] = 1; // hour 30
        if (s === 36 * 30) {
          sbe[g] = 0; // driver reload at hour 36: volatile counters restart
          dbe[g] = 0;
        }
        if (s === 40 * 30) dbe[g] = 1; // hour 40: another one
      }
      const noEcc = g === 9;
      const row: (string | number)[] = [
        new Date(t).toISOString(),
        uuidOf(g),
        hostOf(g),
        g % 8,
        MODEL,
        pciOf(g),
        '570.133.20',
        Math.round(temp),
        Math.round(temp + 6),
        power.toFixed(1),
        700,
        idle ? 0 : Math.min(100, Math.round(act + 15)),
        act.toFixed(1),
        idle ? '0.0' : (40 + noise(2)).toFixed(1),
        idle ? '0.0' : (act * 0.5 + noise(2)).toFixed(1),
        Math.round(clock),
        tr,
        noEcc ? '' : sbe[g]!,
        noEcc ? '' : dbe[g]!,
        noEcc ? '' : g === 8 ? 5 : 0,
        noEcc ? '' : g === 8 && hour >= 44 ? 3 : 0,
        noEcc ? '' : g === 8 && hour >= 44 ? 1 : 0,
        noEcc ? '' : 0,
        g === 7 && hour >= 20 ? 79 : g === 7 && hour >= 10 ? 13 : 0,
        0,
      ];
      lines.push(row.join(','));
    }
  }
  const xidAt = (h: number, sec: number): string => new Date(PLANTED_START_MS + h * 3_600_000 + sec * 1000).toISOString().replace('.000Z', ',000000+00:00');
  const pci7 = `0000:${pciOf(7).slice(9, 11)}:00`;
  const kernelLog = [
    `${xidAt(10, 5)} NVRM: Xid (PCI:${pci7}): 13, pid=4242, name=python, Graphics Exception: ESR 0x404600=0x80000002`,
    `${xidAt(20, 3)} NVRM: Xid (PCI:${pci7}): 79, pid=4242, name=python, GPU has fallen off the bus.`,
    `${xidAt(20, 6)} NVRM: Xid (PCI:${pci7}): 79, pid=4242, name=python, GPU has fallen off the bus.`,
    `${xidAt(20, 12)} NVRM: Xid (PCI:${pci7}): 79, pid=4242, name=python, GPU has fallen off the bus.`,
    '',
  ].join('\n');
  return { csv: `${lines.join('\n')}\n`, kernelLog };
}
