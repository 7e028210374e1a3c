import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VALUE_COLUMNS, type ValueColumn } from '../schema.js';
import { planFleet, type FleetPlan, type PlanOptions, type PlantSpec } from './fleet.js';
import { MODELS } from './hardware.js';
import { scrapes, type Scrape } from './telemetry.js';

const DAY = 86_400_000;
const END = Date.UTC(2026, 0, 15);

interface Series {
  t: number[];
  v: Record<ValueColumn, number[]>;
}

/** Every row of a plan, per GPU id (copied out of the reused scrape buffers). */
function collect(plan: FleetPlan, hosts?: number[]): Map<number, Series> {
  const out = new Map<number, Series>();
  for (const sc of scrapes(plan, hosts ? { hosts } : {})) {
    for (let i = 0; i < sc.count; i++) {
      const id = sc.gpus[i]!.id;
      let s = out.get(id);
      if (!s) {
        s = { t: [], v: Object.fromEntries(VALUE_COLUMNS.map((c) => [c.name, []])) as unknown as Record<ValueColumn, number[]> };
        out.set(id, s);
      }
      s.t.push(sc.time_ms);
      for (const c of VALUE_COLUMNS) s.v[c.name].push(sc.values[c.name][i]!);
    }
  }
  return out;
}

function digest(rows: Map<number, Series>): string {
  const h = createHash('sha256');
  for (const [id, s] of [...rows].sort((x, y) => x[0] - y[0])) {
    h.update(String(id));
    h.update(new Uint8Array(Float64Array.from(s.t).buffer));
    for (const c of VALUE_COLUMNS) h.update(new Uint8Array(Float64Array.from(s.v[c.name]).buffer));
  }
  return h.digest('hex');
}

/** Sum of increases of a counter over [from, to), treating a drop as a restart from zero. */
function increase(s: Series, col: ValueColumn, from: number, to: number): number {
  let total = 0;
  let prev: number | null = null;
  for (let k = 0; k < s.t.length; k++) {
    if (s.t[k]! < from || s.t[k]! >= to) continue;
    const x = s.v[col][k]!;
    if (prev !== null) total += x >= prev ? x - prev : x;
    prev = x;
  }
  return total;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

describe('scrapes', () => {
  const base: PlanOptions = { gpus: 32, days: 30, intervalMs: 300_000, seed: 21, endMs: END, failureRatePerYear: { a100: 3, h100: 3 } };
  const plan = planFleet(base);
  const rows = collect(plan);

  it('is deterministic, and a host shard yields exactly the rows of the full run', () => {
    const week = { ...base, days: 5 };
    const once = digest(collect(planFleet(week)));
    expect(digest(collect(planFleet(week)))).toBe(once);
    expect(digest(collect(planFleet({ ...week, seed: 22 })))).not.toBe(once);
    const shard = collect(plan, [1]);
    expect(shard.size).toBeGreaterThan(0);
    expect(digest(shard)).toBe(digest(new Map([...rows].filter(([id]) => plan.gpus[id]!.host === 1))));
  });

  it('reuses one Scrape object per host (no per-sample allocation)', () => {
    const seen = new Set<Scrape>();
    let n = 0;
    for (const sc of scrapes(plan)) {
      seen.add(sc);
      if (++n > 2000) break;
    }
    expect(seen.size).toBe(plan.hosts.length);
  });

  // Row-by-row checks collect problems and assert once: an expect() per value would take seconds.
  it('keeps counters monotone except across the documented driver reloads', () => {
    const resetting: ValueColumn[] = [
      'energy_mj',
      'ecc_sbe_volatile',
      'ecc_dbe_volatile',
      'pcie_replay_count',
      'nvlink_crc_errors',
      'power_violation_us',
      'thermal_violation_us',
    ];
    const never: ValueColumn[] = ['ecc_sbe_aggregate', 'ecc_dbe_aggregate', 'remapped_rows_correctable', 'remapped_rows_uncorrectable', 'row_remap_failure'];
    const problems: string[] = [];
    let drops = 0;
    for (const [id, s] of rows) {
      const resets = plan.hosts[plan.gpus[id]!.host]!.resetsMs;
      for (let k = 1; k < s.t.length; k++) {
        const t1 = s.t[k - 1]!;
        const t2 = s.t[k]!;
        for (const c of never) if (s.v[c][k]! < s.v[c][k - 1]!) problems.push(`gpu ${id} ${c} decreased at ${t2}`);
        for (const c of resetting) {
          if (s.v[c][k]! >= s.v[c][k - 1]!) continue;
          drops++;
          if (!resets.some((r) => r > t1 && r <= t2)) problems.push(`gpu ${id} ${c} dropped without a reload at ${t2}`);
        }
        // XID_ERRORS holds the last Xid and never goes back to 0.
        if (s.v.xid_last[k - 1]! !== 0 && s.v.xid_last[k] === 0) problems.push(`gpu ${id} xid_last reset at ${t2}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(drops).toBeGreaterThan(0);
  });

  it('stops reporting a failed GPU after failed_at, showing the failure Xid last', () => {
    expect(plan.failures.length).toBeGreaterThan(3);
    for (const f of plan.failures) {
      const s = rows.get(f.gpu);
      if (!s) continue; // failed during an outage before its first scrape
      const last = s.t.length - 1;
      expect(s.t[last]!).toBeLessThanOrEqual(f.atMs);
      if (s.t[last] === f.atMs && f.xid !== null) expect(s.v.xid_last[last]).toBe(f.xid);
    }
    for (const f of plan.failures.filter((x) => x.replacementGpu !== null)) {
      const r = rows.get(f.replacementGpu!);
      if (r) expect(r.t[0]!).toBeGreaterThanOrEqual(plan.gpus[f.replacementGpu!]!.installedMs);
    }
  });

  it('prints values exactly as the exporter rounds them, in canonical units', () => {
    const ints: ValueColumn[] = [
      'gpu_temp',
      'memory_temp',
      'gpu_util',
      'mem_copy_util',
      'sm_clock_mhz',
      'mem_clock_mhz',
      'fb_used_mib',
      'fb_free_mib',
      'energy_mj',
      'ecc_sbe_volatile',
      'throttle_reasons',
      'xid_last',
      'power_violation_us',
    ];
    const ratios: ValueColumn[] = ['sm_active', 'sm_occupancy', 'tensor_active', 'dram_active', 'gr_engine_active'];
    const problems: string[] = [];
    for (const [id, s] of rows) {
      for (let k = 0; k < s.t.length; k++) {
        for (const c of ints) if (!Number.isInteger(s.v[c][k])) problems.push(`gpu ${id} ${c}=${s.v[c][k]}`);
        for (const c of ratios) {
          const v = s.v[c][k]!;
          if (v !== Math.round(v * 1e4) / 1e4 || v < 0 || v > 100) problems.push(`gpu ${id} ${c}=${v}`);
        }
        const p = s.v.power_usage[k]!;
        if (p !== Math.round(p * 1000) / 1000) problems.push(`gpu ${id} power=${p}`);
        if (s.v.retired_pages_sbe[k] !== 0 || s.v.retired_pages_dbe[k] !== 0 || s.v.retired_pages_pending[k] !== 0) problems.push(`gpu ${id} retired pages`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('keeps load, power, clocks, temperature and throttle bits consistent', () => {
    const problems: string[] = [];
    for (const [id, s] of rows) {
      const g = plan.gpus[id]!;
      const h = plan.hosts[g.host]!;
      const spec = MODELS[g.model];
      for (let k = 0; k < s.t.length; k++) {
        const bits = s.v.throttle_reasons[k]!;
        const util = s.v.gpu_util[k]!;
        const at = `gpu ${id} t=${s.t[k]}`;
        if (s.v.power_usage[k]! > h.powerLimitW) problems.push(`${at} power above limit`);
        if (s.v.power_limit[k] !== h.powerLimitW) problems.push(`${at} power_limit`);
        if (s.v.sm_clock_mhz[k]! > spec.maxSmClockMhz) problems.push(`${at} clock above max`);
        if (s.v.fb_used_mib[k]! + s.v.fb_free_mib[k]! !== spec.memTotalMib - spec.memReservedMib) problems.push(`${at} fb`);
        if (util === 0) {
          if (!(bits & 0x1) || s.v.sm_clock_mhz[k] !== spec.idleSmClockMhz || s.v.sm_active[k] !== 0) problems.push(`${at} idle`);
        } else if (bits & 0x1 || s.v.gr_engine_active[k]! < s.v.sm_active[k]!) problems.push(`${at} busy`);
        // Under the SW power cap alone, the GPU draws its limit.
        if ((bits & 0xfc) === 0x4 && s.v.power_usage[k]! < 0.97 * h.powerLimitW) problems.push(`${at} capped below limit`);
      }
      if (h.profile === 'training' && !g.failure) {
        const busy = s.v.gpu_util.map((u, k) => (u >= 90 ? k : -1)).filter((k) => k >= 0);
        expect(busy.length / s.t.length).toBeGreaterThan(0.5);
        const sm = mean(busy.map((k) => s.v.sm_active[k]!));
        expect(sm).toBeGreaterThan(75);
        expect(sm).toBeLessThan(96);
        expect(mean(busy.map((k) => s.v.power_usage[k]!)) / h.powerLimitW).toBeGreaterThan(0.8);
        const idle = s.v.gpu_util.map((u, k) => (u === 0 ? k : -1)).filter((k) => k >= 0);
        if (idle.length > 10) expect(mean(busy.map((k) => s.v.gpu_temp[k]!))).toBeGreaterThan(mean(idle.map((k) => s.v.gpu_temp[k]!)) + 15);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});

describe('precursors', () => {
  // Plant one failure of each kind on GPUs of a training host (load makes thermal throttling visible).
  const base: PlanOptions = {
    gpus: 48,
    days: 30,
    intervalMs: 600_000,
    seed: 4,
    endMs: END,
    minFailures: 0,
    failureRatePerYear: { a100: 0, h100: 0 },
    problematic: 2,
  };
  const probe = planFleet(base);
  const training = probe.hosts.filter((h) => h.profile === 'training' && h.slots === 8);
  const busy = training[0]!.index * 8;
  const other = (training[1] ?? probe.hosts.find((h) => h.profile !== 'idle' && h.index !== training[0]!.index)!).index * 8;
  const healthySlot = (slot: number): number => {
    let g = slot;
    while (probe.gpus[g]!.problematic) g++;
    return g;
  };
  const at = (day: number): number => probe.startMs + day * DAY;
  const specs: Record<string, PlantSpec> = {
    memory: { type: 'memory', atMs: at(26), gpu: healthySlot(busy) },
    memorySudden: { type: 'memory', sudden: true, atMs: at(26), gpu: healthySlot(busy + 2) },
    thermal: { type: 'thermal', atMs: at(27), gpu: healthySlot(busy + 4) },
    power: { type: 'power', atMs: at(25), gpu: healthySlot(other) },
    interconnect: { type: 'interconnect', atMs: at(27), gpu: healthySlot(other + 3) },
  };
  const plan = planFleet({ ...base, plant: Object.values(specs) });
  const rows = collect(plan);
  const failing = new Set(plan.failures.map((f) => f.gpu));
  const healthy = [...rows.keys()].filter((id) => !failing.has(id) && !plan.gpus[id]!.problematic);
  const week = (spec: PlantSpec): [number, number] => [spec.atMs! - 7 * DAY, spec.atMs!];

  it('plans the planted failures', () => {
    expect(plan.failures.map((f) => f.gpu).sort()).toEqual(
      Object.values(specs)
        .map((s) => s.gpu!)
        .sort(),
    );
  });

  it('shows accelerating correctable ECC errors before a memory failure, and none before a sudden one', () => {
    const [from, to] = week(specs.memory!);
    const baseline = mean(healthy.map((id) => increase(rows.get(id)!, 'ecc_sbe_aggregate', from, to)));
    const degrading = increase(rows.get(specs.memory!.gpu!)!, 'ecc_sbe_aggregate', from, to);
    expect(degrading).toBeGreaterThan(1000);
    expect(degrading).toBeGreaterThan(100 * (baseline + 1));
    // The rate accelerates: the last week has more than the week before.
    expect(degrading).toBeGreaterThan(increase(rows.get(specs.memory!.gpu!)!, 'ecc_sbe_aggregate', from - 7 * DAY, from));
    const sudden = increase(rows.get(specs.memorySudden!.gpu!)!, 'ecc_sbe_aggregate', from, to);
    expect(sudden).toBeLessThan(Math.max(100, 0.01 * degrading));
    const s = rows.get(specs.memorySudden!.gpu!)!;
    expect(s.v.ecc_dbe_aggregate[s.t.length - 1]!).toBeGreaterThan(s.v.ecc_dbe_aggregate[0]!);
  });

  it('shows rising temperature at equal load and thermal slowdown before a thermal failure', () => {
    const id = specs.thermal!.gpu!;
    const host = plan.gpus[id]!.host;
    const peers = [...rows.keys()].filter((g) => plan.gpus[g]!.host === host && g !== id && !failing.has(g) && !plan.gpus[g]!.problematic);
    const gap = (from: number, to: number): number => {
      const s = rows.get(id)!;
      const diffs: number[] = [];
      s.t.forEach((t, k) => {
        if (t < from || t >= to) return;
        const others = peers
          .map((p) => rows.get(p)!)
          .map((p) => p.v.gpu_temp[p.t.indexOf(t)])
          .filter((x): x is number => x !== undefined);
        if (others.length) diffs.push(s.v.gpu_temp[k]! - mean(others));
      });
      return mean(diffs);
    };
    const [from, to] = week(specs.thermal!);
    expect(gap(to - 3 * DAY, to) - gap(plan.startMs, plan.startMs + 3 * DAY)).toBeGreaterThan(4);
    const s = rows.get(id)!;
    const slow = s.t.filter((t, k) => t >= from && t < to && (s.v.throttle_reasons[k]! & 0x60) !== 0).length;
    expect(slow).toBeGreaterThan(5);
    expect(increase(s, 'thermal_violation_us', from, to)).toBeGreaterThan(0);
  });

  it('shows HW power-brake episodes before a power failure', () => {
    const [from, to] = week(specs.power!);
    const brakes = (id: number): number => {
      const s = rows.get(id)!;
      return s.t.filter((t, k) => t >= from && t < to && (s.v.throttle_reasons[k]! & 0x80) !== 0).length;
    };
    const failingBrakes = brakes(specs.power!.gpu!);
    expect(failingBrakes).toBeGreaterThanOrEqual(3);
    expect(failingBrakes).toBeGreaterThan(Math.max(...healthy.map(brakes)));
  });

  it('shows NVLink CRC and PCIe replay growth before an interconnect failure', () => {
    const [from, to] = week(specs.interconnect!);
    const s = rows.get(specs.interconnect!.gpu!)!;
    const crc = increase(s, 'nvlink_crc_errors', from, to);
    expect(crc).toBeGreaterThan(1000);
    expect(crc).toBeGreaterThan(10 * Math.max(...healthy.map((id) => increase(rows.get(id)!, 'nvlink_crc_errors', from, to))));
    expect(increase(s, 'pcie_replay_count', from, to)).toBeGreaterThan(10);
  });
});
