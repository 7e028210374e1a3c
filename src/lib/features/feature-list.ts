/**
 * The columns of the features table (docs/features.md, "Columns"), in the order `FEATURES_SQL`
 * (src/lib/sql/features.ts) outputs them: the one list the scorer's type, its row mapping, the docs
 * and the model cards' feature order are derived from or checked against. The SQL stays hand-written
 * (each column is an expression over its CTEs); src/lib/sql/features-columns.test.ts checks that it
 * outputs exactly these columns, in this order, with these types, and feature-list.test.ts checks the docs.
 *
 * `type` is the DuckDB type the query gives the column on a lake with data (DuckDB writes HUGEINT to
 * the features Parquet file as DOUBLE, so readers of that file see DOUBLE there). `kind` says how
 * `toGpuFeatures` reads the value: null is "signal absent" for a `number`, but "nothing seen" (0)
 * for a `count`. `scored` marks the subset the scorer reads (`GpuFeatures`).
 */

/** How a column's value is read into a field. */
interface FeatureKinds {
  /** Null when the signal is absent: never 0. */
  number: number | null;
  /** A count (or a span) of what was seen: null reads as 0. */
  count: number;
  /** A number the query sets in every row (the window): read as it is. */
  always: number;
  text: string | null;
  /** ISO 8601 (UTC), as the stage reads rows. */
  timestamp: string | null;
  /** Xid code → count, stored as JSON text (`{"79":1,"119":2}`); `{}` when empty. */
  xid_counts: Readonly<Record<number, number>>;
}
type FeatureKind = keyof FeatureKinds;

interface FeatureColumn {
  readonly name: string;
  readonly type: 'VARCHAR' | 'TIMESTAMP' | 'DOUBLE' | 'BIGINT' | 'HUGEINT';
  readonly kind: FeatureKind;
  readonly scored: boolean;
  readonly doc: string;
}

export const FEATURE_COLUMNS = [
  // identity and window
  { name: 'gpu_uuid', type: 'VARCHAR', kind: 'text', scored: false, doc: 'GPU UUID.' },
  { name: 'host', type: 'VARCHAR', kind: 'text', scored: false, doc: 'Latest non-null host in the window.' },
  {
    name: 'model',
    type: 'VARCHAR',
    kind: 'text',
    scored: true,
    doc:
      'GPU model name as the source reports it (`NVIDIA H100 80GB HBM3`, `Tesla V100-SXM2-32GB`), latest in the window, or the asset ' +
      "registry's when the telemetry has none; decides row remapping vs page retirement.",
  },
  {
    name: 'power_limit_w',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: 'Latest non-null power-limit reading in the window (W), as reported (the cohort rounds it).',
  },
  { name: 'at', type: 'TIMESTAMP', kind: 'timestamp', scored: false, doc: 'The window end: `--at` rounded down to the hour.' },
  { name: 'window_start', type: 'TIMESTAMP', kind: 'timestamp', scored: false, doc: '`at` − `--since`.' },
  { name: 'window_end', type: 'TIMESTAMP', kind: 'timestamp', scored: false, doc: 'Same as `at`.' },
  {
    name: 'window_s',
    type: 'DOUBLE',
    kind: 'always',
    scored: true,
    doc: 'Length of the scoring window (s): `--since`, ending at `--at` rounded down to the hour.',
  },

  // coverage
  {
    name: 'span_s',
    type: 'DOUBLE',
    kind: 'count',
    scored: true,
    doc: "Seconds from this GPU's first to last sample in the window: the span its counter deltas cover.",
  },
  { name: 'first_sample', type: 'TIMESTAMP', kind: 'timestamp', scored: false, doc: 'First sample of the GPU in the window.' },
  {
    name: 'last_sample',
    type: 'TIMESTAMP',
    kind: 'timestamp',
    scored: false,
    doc: 'Last sample of the GPU in the window (of a GPU silent all window: its last sample ever).',
  },
  {
    name: 'silent_before_end_s',
    type: 'DOUBLE',
    kind: 'count',
    scored: true,
    doc: "Seconds from the GPU's last sample to the fleet's newest sample in the window, less one interval (0 when it kept up).",
  },
  {
    name: 'fleet_last_sample',
    type: 'TIMESTAMP',
    kind: 'timestamp',
    scored: false,
    doc: 'The newest sample of any GPU in the window: tail gaps, silence and expected samples are measured to it, not to the window end, so a lake not ingested for a while does not make every GPU look silent.',
  },
  { name: 'samples', type: 'HUGEINT', kind: 'count', scored: true, doc: 'Rows (samples) of this GPU in the window.' },
  {
    name: 'interval_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      "This GPU's own sampling interval (s): the median of each rollup segment's median gap between samples (for a GPU sampled hourly or " +
      'less, the median gap between segments); null with fewer than 2 samples.',
  },
  {
    name: 'expected_interval_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc:
      "The interval (s) the GPU should sample at: the modal interval of its host's GPUs (each votes its own modal segment interval, " +
      "rounded to the second; ties go to the shorter), or of its model's GPUs in the fleet, or of the fleet, when the host has no other " +
      "GPU that votes; never longer than `interval_s`. A GPU that loses every other scrape keeps its host's interval. Null when nothing votes and interval_s is null.",
  },
  {
    name: 'expected_samples',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      "Samples the GPU should have sent: s ÷ `expected_interval_s`, rounded, + 1, where s runs from the later of window start and the GPU's " +
      "first sample ever in the lake to the fleet's newest sample. Null when expected_interval_s is null or 0.",
  },
  {
    name: 'completeness',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: '`samples` ÷ `expected_samples`, at most 1: the share of the samples due at the host’s interval that arrived. Null without expected_samples.',
  },
  {
    name: 'gaps_over_5min',
    type: 'BIGINT',
    kind: 'count',
    scored: true,
    doc: "Silent stretches longer than `gapThresholdS(interval_s)` inside that span, the tail up to the fleet's newest sample included.",
  },
  {
    name: 'longest_gap_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: "The larger of the longest silence over 300 s (within hours or at seams) and the tail to the fleet's newest sample (s).",
  },
  {
    name: 'signals_absent',
    type: 'VARCHAR',
    kind: 'text',
    scored: false,
    doc:
      'Comma-separated signals the GPU never reported in the window, empty when none: temperature, power, sm_clock, profiling, ' +
      'clock_events, ecc, memory_repair, pcie, nvlink.',
  },
  {
    name: 'loaded_samples',
    type: 'HUGEINT',
    kind: 'count',
    scored: true,
    doc: 'Samples with SM activity (or, without profiling metrics, GPU utilisation) ≥ LOADED_MIN_ACTIVITY_PCT.',
  },
  {
    name: 'throttle_samples',
    type: 'HUGEINT',
    kind: 'count',
    scored: true,
    doc: "Samples with a clock-event (throttle) bitmask; 0 when the source does not export it (dcgm-exporter's default does not).",
  },

  // thermal
  { name: 'temp_mean', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Mean GPU temperature (°C) over all samples.' },
  {
    name: 'temp_std',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'Standard deviation of GPU temperature (°C). Not scored: it measures how the load changes (see docs).',
  },
  { name: 'temp_min', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Lowest GPU temperature (°C).' },
  { name: 'temp_max', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Highest GPU temperature (°C).' },
  { name: 'temp_mean_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU temperature (°C), last hour.' },
  { name: 'temp_std_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of GPU temperature (°C), last hour.' },
  { name: 'temp_min_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Lowest GPU temperature (°C), last hour.' },
  { name: 'temp_max_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest GPU temperature (°C), last hour.' },
  { name: 'temp_mean_6h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU temperature (°C), last 6 hours.' },
  { name: 'temp_std_6h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of GPU temperature (°C), last 6 hours.' },
  { name: 'temp_min_6h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Lowest GPU temperature (°C), last 6 hours.' },
  { name: 'temp_max_6h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest GPU temperature (°C), last 6 hours.' },
  { name: 'temp_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU temperature (°C), last 24 hours.' },
  { name: 'temp_std_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of GPU temperature (°C), last 24 hours.' },
  { name: 'temp_min_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Lowest GPU temperature (°C), last 24 hours.' },
  { name: 'temp_max_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest GPU temperature (°C), last 24 hours.' },
  { name: 'temp_mean_7d', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU temperature (°C), last 168 hours.' },
  { name: 'temp_std_7d', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of GPU temperature (°C), last 168 hours.' },
  { name: 'temp_min_7d', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Lowest GPU temperature (°C), last 168 hours.' },
  { name: 'temp_max_7d', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest GPU temperature (°C), last 168 hours.' },
  { name: 'memory_temp_mean', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean memory (HBM) temperature (°C).' },
  { name: 'memory_temp_max', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Highest memory temperature (°C).' },
  { name: 'memory_temp_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean memory temperature (°C), last 24 hours.' },
  { name: 'memory_temp_max_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest memory temperature (°C), last 24 hours.' },
  {
    name: 'temp_excess_at_power',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'How much hotter (°C) this GPU runs than its model does at equal power draw: the median over its loaded hours of (hourly loaded ' +
      "temperature − the model's fleet least-squares line of temperature on power), less the same figure of the model's median GPU (so hot " +
      'GPUs pulling the line up do not hide themselves). Null without a fit.',
  },
  {
    name: 'temp_excess_slope_per_day',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: "Slope per day (°C/day) of the hourly residuals behind `temp_excess_at_power` (before the median GPU's is subtracted).",
  },
  {
    name: 'temp_at_power_z',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: 'Robust z of `temp_excess_at_power` in the cohort, over the GPUs that have one; σ floor 1 °C.',
  },
  { name: 'temp_slope_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Slope per day (°C/day) of the hourly mean temperature, all samples.' },
  { name: 'temp_spike_hours', type: 'BIGINT', kind: 'count', scored: false, doc: 'Hours whose highest temperature exceeds `temp_mean` + 2 × `temp_std`.' },
  {
    name: 'share_thermal_throttled',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'Share (0–1) of loaded samples with a thermal clock-event bit (SW_THERMAL 0x20 or HW_THERMAL 0x40); null without loaded samples with bits.',
  },
  { name: 'sw_thermal_samples', type: 'HUGEINT', kind: 'count', scored: true, doc: 'Samples (any load) with SW_THERMAL (0x20).' },
  { name: 'hw_thermal_slowdown_samples', type: 'HUGEINT', kind: 'count', scored: true, doc: 'Samples (any load) with HW_THERMAL (0x40).' },
  {
    name: 'thermal_violation_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: 'Delta of the thermal-violation counter (µs) ÷ 10⁶: seconds of thermal violation.',
  },
  { name: 'thermal_violation_share', type: 'DOUBLE', kind: 'number', scored: true, doc: '`thermal_violation_s` ÷ window length (0–1).' },

  // power
  { name: 'power_mean', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Mean power draw (W), all samples.' },
  { name: 'power_std', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Standard deviation of power draw (W), all samples. Not scored.' },
  { name: 'power_max', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Highest power draw (W).' },
  { name: 'power_mean_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean power draw (W), last hour.' },
  { name: 'power_std_1h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of power draw (W), last hour.' },
  { name: 'power_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean power draw (W), last 24 hours.' },
  { name: 'power_std_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of power draw (W), last 24 hours.' },
  {
    name: 'power_cv',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'Like-with-like power variability: the standard deviation of loaded power around its within-hour linear fit on activity, pooled over ' +
      "hours, ÷ mean loaded power. Variation that follows the workload's activity cancels out. Null without 3+ loaded power samples in some hour.",
  },
  { name: 'power_slope_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Slope per day (W/day) of the hourly mean power, all samples.' },
  {
    name: 'power_outlier_hours',
    type: 'BIGINT',
    kind: 'count',
    scored: false,
    doc: 'Hours whose highest power exceeds `power_mean` + 2 × `power_std`, or whose lowest is below `power_mean` − 2 × `power_std`.',
  },
  { name: 'hw_power_brake_samples', type: 'HUGEINT', kind: 'count', scored: true, doc: 'Samples with HW_POWER_BRAKE (0x80).' },
  { name: 'power_brake_share', type: 'DOUBLE', kind: 'number', scored: false, doc: '`hw_power_brake_samples` ÷ `throttle_samples`; null without a bitmask.' },
  {
    name: 'hw_slowdown_samples',
    type: 'HUGEINT',
    kind: 'count',
    scored: true,
    doc: 'Samples with HW_SLOWDOWN (0x08) and neither HW_THERMAL nor HW_POWER_BRAKE: a slowdown the other bits do not explain.',
  },
  { name: 'sw_power_cap_samples', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Samples (any load) with SW_POWER_CAP (0x04).' },
  {
    name: 'sw_power_cap_share',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'Share (0–1) of loaded samples with SW_POWER_CAP (0x04); null without loaded samples with bits.',
  },
  {
    name: 'power_violation_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: 'Delta of the power-violation counter (µs) ÷ 10⁶: seconds of power violation.',
  },
  { name: 'power_violation_share', type: 'DOUBLE', kind: 'number', scored: false, doc: '`power_violation_s` ÷ window length (0–1).' },

  // performance and utilisation
  { name: 'gpu_util_mean', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU utilisation (%).' },
  { name: 'gpu_util_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean GPU utilisation (%), last 24 hours.' },
  { name: 'sm_active_mean', type: 'DOUBLE', kind: 'number', scored: true, doc: 'Mean SM activity (%). Not scored: it describes the workload.' },
  { name: 'sm_active_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean SM activity (%), last 24 hours.' },
  {
    name: 'sm_occupancy_mean',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: "Mean SM occupancy (%). Not scored: occupancy is set by the kernels' launch configuration, not by the hardware.",
  },
  { name: 'dram_active_mean', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean DRAM activity (%).' },
  { name: 'sm_clock_mean', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean SM clock (MHz), all samples.' },
  { name: 'sm_clock_std', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Standard deviation of SM clock (MHz), all samples.' },
  { name: 'sm_clock_mean_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Mean SM clock (MHz), last 24 hours.' },
  { name: 'sm_clock_slope_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Slope per day (MHz/day) of the hourly mean SM clock, all samples.' },
  {
    name: 'sm_clock_std_pct_under_load',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'Standard deviation of SM clock as % of its mean, over loaded samples whose clocks are free to boost (no bit of CLOCK_HELD_MASK: ' +
      'GPU_IDLE, CLOCKS_SETTING, SW_POWER_CAP, SYNC_BOOST, nor a throttle bit, HW_SLOWDOWN, SW/HW_THERMAL, HW_POWER_BRAKE). Null without such samples.',
  },
  {
    name: 'sm_clock_under_load_z',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      "Robust z of this GPU's SM clock under load (hourly means over loaded samples whose clocks are free to boost: no settings or throttle bit) against its cohort in " +
      'the same load bin (10 points of SM activity), averaged over bins weighted by hours; negative = slower than its peers doing comparable work.',
  },
  {
    name: 'activity_per_watt_z',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: "Load-binned robust z of activity per watt (Σ loaded activity ÷ Σ loaded power per loaded hour); σ floor 1 % of the bin's median.",
  },
  { name: 'idle_event_samples', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Samples with GPU_IDLE (0x01).' },

  // memory
  {
    name: 'dram_activity_per_load_z',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      "Robust z of this GPU's DRAM activity against its cohort at the same SM-activity bin; negative = less memory traffic than its peers " +
      'at the same load. Null without profiling metrics.',
  },
  {
    name: 'sbe_delta',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'Correctable (single-bit) ECC errors in the window: the larger of the volatile counter’s reset-aware delta (`counter_increase`, ' +
      'src/lib/dcgm/counters.ts) and the aggregate counter’s high-water delta (a drop adds nothing: `aggregateIncreaseSql`). Null when ECC counters are absent.',
  },
  {
    name: 'dbe_delta',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'Uncorrectable (double-bit) ECC errors in the window, defined as sbe_delta. Null when absent.',
  },
  { name: 'sbe_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: '`sbe_delta` per day of the window.' },
  { name: 'dbe_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: '`dbe_delta` per day of the window.' },
  { name: 'sbe_last_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Correctable ECC errors in the last 24 hours, defined as `sbe_delta`.' },
  { name: 'dbe_last_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Uncorrectable ECC errors in the last 24 hours, defined as `dbe_delta`.' },
  {
    name: 'sbe_accel',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'Correctable-error rate in the last 24 h ÷ rate in the rest of the window (rest count + 1 when it is 0); null when sbe_delta < ' +
      'SBE_ACCEL_MIN_ERRORS or the window is under 2 days.',
  },
  {
    name: 'sbe_slope_per_day',
    type: 'DOUBLE',
    kind: 'number',
    scored: false,
    doc: 'Slope per day of the running total of correctable errors, hour by hour, from the first hour an SBE counter reports.',
  },
  { name: 'retired_pages_sbe', type: 'BIGINT', kind: 'number', scored: true, doc: 'Pages retired after repeated single-bit errors: cumulative state.' },
  {
    name: 'retired_pages_dbe',
    type: 'BIGINT',
    kind: 'number',
    scored: true,
    doc: 'Pages retired after a double-bit error: cumulative state (latest value), pre-Ampere GPUs.',
  },
  { name: 'retired_pages_pending', type: 'BIGINT', kind: 'number', scored: true, doc: 'Pages waiting for a driver reload to be retired (latest value).' },
  {
    name: 'remapped_rows_correctable',
    type: 'BIGINT',
    kind: 'number',
    scored: true,
    doc: 'Rows remapped after correctable errors: cumulative state (latest value), Ampere and later.',
  },
  { name: 'remapped_rows_uncorrectable', type: 'BIGINT', kind: 'number', scored: true, doc: 'Rows remapped after uncorrectable errors: cumulative state.' },
  { name: 'row_remap_failure', type: 'BIGINT', kind: 'number', scored: true, doc: '1 when a row remapping has ever failed (latest value).' },
  { name: 'row_remap_pending', type: 'BIGINT', kind: 'number', scored: true, doc: '1 when a remapping waits for a GPU reset (latest value).' },
  {
    name: 'retired_pages_sbe_new',
    type: 'BIGINT',
    kind: 'number',
    scored: false,
    doc: '`retired_pages_sbe` growth in the window: latest − first reading, at least 0.',
  },
  {
    name: 'retired_pages_dbe_new',
    type: 'BIGINT',
    kind: 'number',
    scored: false,
    doc: '`retired_pages_dbe` growth in the window: latest − first reading, at least 0.',
  },
  {
    name: 'remapped_rows_correctable_new',
    type: 'BIGINT',
    kind: 'number',
    scored: false,
    doc: '`remapped_rows_correctable` growth in the window: latest − first reading, at least 0.',
  },
  {
    name: 'remapped_rows_uncorrectable_new',
    type: 'BIGINT',
    kind: 'number',
    scored: true,
    doc: '`remapped_rows_uncorrectable` growth in the window: latest − first reading, at least 0.',
  },
  {
    name: 'ecc_aggregate_drops',
    type: 'HUGEINT',
    kind: 'count',
    scored: true,
    doc:
      'Readings of the aggregate SBE or DBE counter below the previous reading, in the window (within files and at the seams between ' +
      'them): bad data, since aggregate counters never reset. They add nothing to sbe_delta / dbe_delta.',
  },
  {
    name: 'volatile_reset_last_at',
    type: 'TIMESTAMP',
    kind: 'timestamp',
    scored: true,
    doc:
      'Time of the latest reading of a volatile ECC counter (SBE or DBE) below the previous one in the window: a GPU reset or driver reload. ' +
      "Sample resolution (a drop at a seam between files: the later file's first sample of that hour). A counter at 0 shows no reset. Null when none.",
  },
  {
    name: 'remap_pending_cleared_at',
    type: 'TIMESTAMP',
    kind: 'timestamp',
    scored: true,
    doc:
      'Time of the latest reading of 0 of `row_remap_pending` or `retired_pages_pending` after a reading of 1 or more, in the window: the ' +
      'pending repair took effect (a reset or reload). Sample resolution, like volatile_reset_last_at. Null when none.',
  },

  // links
  {
    name: 'pcie_replay_delta',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'PCIe replays in the window (reset-aware delta). Not scored on its own; see the peak.',
  },
  { name: 'pcie_replay_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: '`pcie_replay_delta` per day of the window.' },
  { name: 'pcie_replay_last_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'PCIe replays in the last 24 hours.' },
  { name: 'pcie_replay_accel', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Acceleration of PCIe replays, defined as `sbe_accel`.' },
  {
    name: 'pcie_replay_peak_per_min',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc:
      'Highest PCIe replay rate over one minute in the window (replays per minute): per reading, the reset-aware rise from the earliest ' +
      'reading at most 60 s before it (or the previous reading, when none) per minute of the time between them, at least a minute.',
  },
  { name: 'nvlink_crc_delta', type: 'DOUBLE', kind: 'number', scored: true, doc: 'NVLink CRC errors in the window (reset-aware delta).' },
  { name: 'nvlink_crc_per_day', type: 'DOUBLE', kind: 'number', scored: false, doc: '`nvlink_crc_delta` per day of the window.' },
  { name: 'nvlink_crc_last_24h', type: 'DOUBLE', kind: 'number', scored: false, doc: 'NVLink CRC errors in the last 24 hours.' },
  { name: 'nvlink_crc_accel', type: 'DOUBLE', kind: 'number', scored: false, doc: 'Acceleration of NVLink CRC errors, defined as `sbe_accel`.' },
  {
    name: 'nvlink_crc_peak_per_s',
    type: 'DOUBLE',
    kind: 'number',
    scored: true,
    doc: 'Highest NVLink CRC error rate over one minute in the window, as errors per second: the per-minute peak (as pcie_replay_peak_per_min) ÷ 60.',
  },

  // Xid
  { name: 'xid_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents in the window: the sum over codes of `xid_counts`; 0 when none.' },
  {
    name: 'xid_counts',
    type: 'VARCHAR',
    kind: 'xid_counts',
    scored: true,
    doc:
      'Xid incidents in the window per code: per code the larger of the kernel-log incidents (`xid_events` table; lines of one code within ' +
      "XID_INCIDENT_GAP_S of the previous count once) and the changes of dcgm-exporter's last-Xid gauge within the window (it never resets, " +
      'so its value at window start is not an event) — both see the same incidents. Classified at scoring time, so a config override needs no new features.',
  },
  { name: 'xid_memory_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class memory.' },
  { name: 'xid_thermal_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class thermal.' },
  { name: 'xid_power_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class power.' },
  { name: 'xid_interconnect_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class interconnect.' },
  {
    name: 'xid_gpu_hardware_events',
    type: 'HUGEINT',
    kind: 'count',
    scored: false,
    doc: 'Xid incidents of the built-in class gpu_hardware (unlisted codes included).',
  },
  { name: 'xid_firmware_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class firmware.' },
  { name: 'xid_application_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class application.' },
  { name: 'xid_informational_events', type: 'HUGEINT', kind: 'count', scored: false, doc: 'Xid incidents of the built-in class informational.' },
  {
    name: 'ue_incidents',
    type: 'BIGINT',
    kind: 'count',
    scored: true,
    doc:
      'Uncorrectable-memory-error incidents from the UE Xids of the built-in table (48, 94, 95, 140, 171, 172): in the kernel log, an event ' +
      'more than XID_GROUP_GAP_S after the previous UE Xid of any of these codes starts one (48 then 94 seconds later is one); on the ' +
      'last-Xid gauge, each hour with a change to one of them. The larger of the two counts.',
  },
  {
    name: 'uncontained_ue_incidents',
    type: 'BIGINT',
    kind: 'count',
    scored: true,
    doc: 'The same for Xid 95 alone (uncontained: other processes’ memory may be corrupt).',
  },
  {
    name: 'reset_xid_incidents',
    type: 'BIGINT',
    kind: 'count',
    scored: true,
    doc: 'The same for the reset-severity Xids of the built-in table other than the UE ones (79, 119, 120, 74, …), grouped across codes.',
  },
  { name: 'fell_off_bus_incidents', type: 'BIGINT', kind: 'count', scored: true, doc: 'The same for Xid 79 (the GPU fell off the bus).' },
  {
    name: 'recovery_action_last',
    type: 'VARCHAR',
    kind: 'text',
    scored: true,
    doc:
      'The recovery action the latest Xid 154 in the window asks for, read from the NVML value after "to" in its message: none, drain_p2p, ' +
      'drain_reset, reset_gpu or reboot_host. Null without such a line (the gauge and the Xid count carry no message).',
  },
  { name: 'recovery_action_last_at', type: 'TIMESTAMP', kind: 'timestamp', scored: false, doc: 'Time of that Xid 154 line.' },
  {
    name: 'last_reset_required_at',
    type: 'TIMESTAMP',
    kind: 'timestamp',
    scored: true,
    doc:
      'Time of the latest event in the window after which the GPU needs a reset: an Xid of reset or RMA severity or a repair waiting for a ' +
      'reset (63, 160) in the built-in table, Xid 154 asking for drain_reset, reset_gpu or reboot_host, or a rise of the DBE counter. Gauge ' +
      "changes and counter rises have no time of their own: they take their segment's last sample (a seam change, the first after the seam).",
  },

  // assets
  { name: 'serial', type: 'VARCHAR', kind: 'text', scored: false, doc: 'Board serial from the asset registry.' },
  { name: 'age_days', type: 'BIGINT', kind: 'number', scored: false, doc: "Days from the asset's `deployed_date` to the window end's date." },
  {
    name: 'warranty_days_left',
    type: 'BIGINT',
    kind: 'number',
    scored: false,
    doc: "Days from the window end's date to the asset's `warranty_expiry`; negative once expired.",
  },
] as const satisfies readonly FeatureColumn[];

type Column = (typeof FEATURE_COLUMNS)[number];
type ScoredColumn = Extract<Column, { scored: true }>;

/**
 * One GPU's features over one window, as the scorer reads them: the `scored` columns of
 * FEATURE_COLUMNS, typed by their kind. Null means the signal is absent for this GPU — never 0.
 *
 * "Loaded" samples are those with SM activity ≥ LOADED_MIN_ACTIVITY_PCT (or, without profiling
 * metrics, GPU utilisation ≥ that). "Cohort" is the GPUs of the same model and power limit in the
 * fleet. Robust z = (x − cohort median) / (1.4826 × cohort MAD); null when the cohort has fewer than
 * COHORT_MIN_GPUS GPUs with the signal.
 */
export type GpuFeatures = { [C in ScoredColumn as C['name']]: FeatureKinds[C['kind']] };

const READ: { [K in FeatureKind]: (v: unknown) => FeatureKinds[K] } = {
  number: (v) => (v === null || v === undefined ? null : Number(v)),
  count: (v) => (v === null || v === undefined ? 0 : Number(v)),
  always: (v) => Number(v),
  text: (v) => (v === null || v === undefined ? null : String(v)),
  timestamp: (v) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v)),
  xid_counts: (v) => {
    if (typeof v !== 'string' || v === '') return {};
    const parsed = JSON.parse(v) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([code, n]) => [Number(code), Number(n)]));
  },
};

const SCORED_COLUMNS: readonly ScoredColumn[] = FEATURE_COLUMNS.filter((c): c is ScoredColumn => c.scored);

/** One row of the features table (as the stage reads it) as the scoring rules read it. */
export function toGpuFeatures(row: Readonly<Record<string, unknown>>): GpuFeatures {
  const out: Record<string, unknown> = {};
  for (const c of SCORED_COLUMNS) out[c.name] = READ[c.kind](row[c.name]);
  return out as GpuFeatures;
}
