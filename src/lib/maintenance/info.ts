/**
 * `gpuhealth lake info`: what the lake holds and how well each health signal is covered. Counts
 * come from Parquet statistics, so this stays instant on a lake of hundreds of millions of rows.
 */
import { rollupState } from './rollups.js';
import { withDb } from '../db/duckdb.js';
import { createLakeViews } from '../sql/lake-views.js';
import { COLUMN_PRESENCE_SQL, LAKE_TOTALS_SQL } from '../sql/lake.js';
import { lakeLayout } from '../lake/layout.js';
import { checkLakePath } from '../lake/run.js';
import { recoverBeforeRead } from '../lake/txn.js';

/** Health signals, the columns behind each, and how to switch them on in dcgm-exporter. */
export const SIGNALS = [
  { signal: 'temperature', columns: ['gpu_temp'], enable: ['DCGM_FI_DEV_GPU_TEMP, gauge, GPU temperature (in C).'] },
  { signal: 'memory_temperature', columns: ['memory_temp'], enable: ['DCGM_FI_DEV_MEMORY_TEMP, gauge, Memory temperature (in C).'] },
  { signal: 'power', columns: ['power_usage'], enable: ['DCGM_FI_DEV_POWER_USAGE, gauge, Power draw (in W).'] },
  { signal: 'power_limit', columns: ['power_limit'], enable: ['DCGM_FI_DEV_ENFORCED_POWER_LIMIT, gauge, Enforced power limit (in W).'] },
  { signal: 'utilization', columns: ['gpu_util'], enable: ['DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %).'] },
  {
    signal: 'sm_activity',
    columns: ['sm_active', 'sm_occupancy', 'dram_active'],
    enable: [
      'DCGM_FI_PROF_SM_ACTIVE, gauge, The ratio of cycles an SM has at least 1 warp assigned.',
      'DCGM_FI_PROF_SM_OCCUPANCY, gauge, The ratio of number of warps resident on an SM.',
      'DCGM_FI_PROF_DRAM_ACTIVE, gauge, Ratio of cycles the device memory interface is active.',
    ],
  },
  { signal: 'sm_clock', columns: ['sm_clock_mhz'], enable: ['DCGM_FI_DEV_SM_CLOCK, gauge, SM clock frequency (in MHz).'] },
  { signal: 'clock_events', columns: ['throttle_reasons'], enable: ['DCGM_FI_DEV_CLOCKS_EVENT_REASONS, gauge, Current clock event reasons (bitmask).'] },
  {
    signal: 'ecc_errors',
    columns: ['ecc_sbe_volatile', 'ecc_dbe_volatile', 'ecc_sbe_aggregate', 'ecc_dbe_aggregate'],
    enable: [
      'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL, counter, Total number of single-bit volatile ECC errors.',
      'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, counter, Total number of double-bit volatile ECC errors.',
      'DCGM_FI_DEV_ECC_SBE_AGG_TOTAL, counter, Total number of single-bit persistent ECC errors.',
      'DCGM_FI_DEV_ECC_DBE_AGG_TOTAL, counter, Total number of double-bit persistent ECC errors.',
    ],
  },
  {
    signal: 'retired_pages',
    columns: ['retired_pages_sbe', 'retired_pages_dbe', 'retired_pages_pending'],
    enable: [
      'DCGM_FI_DEV_RETIRED_SBE, counter, Total number of retired pages due to single-bit errors.',
      'DCGM_FI_DEV_RETIRED_DBE, counter, Total number of retired pages due to double-bit errors.',
      'DCGM_FI_DEV_RETIRED_PENDING, counter, Total number of pages pending retirement.',
    ],
  },
  {
    signal: 'remapped_rows',
    columns: ['remapped_rows_correctable', 'remapped_rows_uncorrectable', 'row_remap_failure'],
    enable: [
      'DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS, counter, Number of remapped rows for correctable errors',
      'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS, counter, Number of remapped rows for uncorrectable errors',
      'DCGM_FI_DEV_ROW_REMAP_FAILURE, gauge, Whether remapping of rows has failed',
    ],
  },
  { signal: 'xid', columns: ['xid_last'], enable: ['DCGM_FI_DEV_XID_ERRORS, gauge, Value of the last XID error encountered.'] },
  { signal: 'pcie_replays', columns: ['pcie_replay_count'], enable: ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER, counter, Total number of PCIe retries.'] },
  {
    signal: 'nvlink_errors',
    columns: ['nvlink_crc_errors'],
    enable: ['DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL, counter, Total number of NVLink flow-control CRC errors.'],
  },
  {
    signal: 'violations',
    columns: ['power_violation_us', 'thermal_violation_us'],
    enable: [
      'DCGM_FI_DEV_POWER_VIOLATION, counter, Throttling duration due to power constraints (in us).',
      'DCGM_FI_DEV_THERMAL_VIOLATION, counter, Throttling duration due to thermal constraints (in us).',
    ],
  },
] as const;

export interface SignalCoverage {
  signal: string;
  columns: string[];
  /** Share of rows (0–1) where the signal's best-covered column has a value. */
  coverage: number;
  status: 'present' | 'partial' | 'missing';
  enable: string[];
}

export interface LakeInfo {
  lake: string;
  rows: number;
  files: number;
  gpus: number;
  hosts: number;
  first: string | null;
  last: string | null;
  sources: number;
  rejected_lines: number;
  other_samples: number;
  xid_events: number;
  coverage: SignalCoverage[];
  missing_signals: string[];
  /** Metrics files whose hourly rollup is missing or of an older format (the next features/score run builds them). */
  rollups_pending: number;
}

export async function lakeInfo(lake: string): Promise<LakeInfo> {
  const layout = lakeLayout(lake);
  checkLakePath(layout);
  await recoverBeforeRead(layout);
  return withDb(async (db) => {
    await createLakeViews(db, layout);
    const t = (await db.query('lake totals', LAKE_TOTALS_SQL))[0]!;
    const present = new Map(
      (await db.query<{ column_name: string; present: number }>('column presence', COLUMN_PRESENCE_SQL)).map((r) => [r.column_name, r.present]),
    );
    const rows = Number(t.rows);
    const coverage: SignalCoverage[] = SIGNALS.map((s) => {
      const best = Math.max(0, ...s.columns.map((c) => present.get(c) ?? 0));
      const share = rows > 0 ? best / rows : 0;
      return {
        signal: s.signal,
        columns: [...s.columns],
        coverage: Math.round(share * 10000) / 10000,
        status: share >= 0.95 ? 'present' : share > 0 ? 'partial' : 'missing',
        enable: share >= 0.95 ? [] : [...s.enable],
      };
    });
    const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);
    return {
      lake: layout.root,
      rows,
      files: Number(t.files),
      gpus: Number(t.gpus),
      hosts: Number(t.hosts),
      first: iso(t.first),
      last: iso(t.last),
      sources: Number(t.sources),
      rejected_lines: Number(t.rejected),
      other_samples: Number(t.other_samples),
      xid_events: Number(t.xid_events),
      coverage,
      missing_signals: coverage.filter((c) => c.status === 'missing').map((c) => c.signal),
      rollups_pending: rollupState(layout).missing.length,
    };
  });
}
