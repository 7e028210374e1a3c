/**
 * What one dcgm-exporter series (metric name + labels) means for the lake: which GPU it belongs to,
 * whether it is a MIG-instance series, and which canonical column (if any) its value fills.
 * Shared by the exposition-text parser (once per distinct label set) and the Prometheus JSON parser.
 */
import { normalizePciBusId, type GpuIdentity, type MetricRow, type OtherSample } from '../schema.js';
import {
  DCGM_FIELD_MAP,
  DRIVER_LABELS,
  HOST_LABELS,
  INDEX_LABELS,
  isDcgmBlank,
  MIG_LABELS,
  MODEL_LABELS,
  PCI_LABELS,
  UUID_LABELS,
  type FieldMapping,
} from '../dcgm/fields.js';
import { canonicalValue } from '../dcgm/values.js';
import type { SourceLine } from './types.js';

export type Labels = Record<string, string>;

function first(labels: Labels, names: readonly string[]): string | null {
  for (const n of names) {
    const v = labels[n];
    if (v !== undefined && v !== '') return v;
  }
  return null;
}

export interface SeriesInfo {
  /** Null when the series names no GPU at all (a host-level or exporter-internal metric). */
  identity: GpuIdentity | null;
  /** True for a MIG GPU-instance series: it repeats the parent's UUID and must not become a GPU row. */
  mig: boolean;
  /** The series' host (Hostname label, else --host), also for series that name no GPU. */
  host: string | null;
}

/**
 * Reads GPU identity from labels. `fallbackHost` (--host) fills in when no Hostname label exists.
 * Prometheus' `exported_*` copies are read when the plain label is missing.
 */
export function seriesInfo(labels: Labels, fallbackHost: string | null): SeriesInfo {
  const uuid = first(labels, UUID_LABELS);
  const mig = first(labels, MIG_LABELS) !== null;
  const host = first(labels, HOST_LABELS) ?? first(labels, ['exported_Hostname', 'exported_hostname']) ?? fallbackHost;
  if (uuid === null) return { identity: null, mig, host };
  const idx = first(labels, INDEX_LABELS);
  const pci = first(labels, PCI_LABELS);
  return {
    mig,
    host,
    identity: {
      gpu_uuid: uuid,
      host,
      // an index of ten digits or more is no GPU index (gpu_index is INTEGER)
      gpu_index: idx !== null && /^\d{1,9}$/.test(idx) ? Number(idx) : null,
      model: first(labels, MODEL_LABELS),
      pci_bus_id: pci === null ? null : (normalizePciBusId(pci) ?? pci),
      driver_version: first(labels, DRIVER_LABELS),
    },
  };
}

/** The canonical column for a metric name, or undefined when it has none. */
export function canonicalField(metric: string): FieldMapping | undefined {
  return DCGM_FIELD_MAP.get(metric);
}

/**
 * Routes one sample of a series to the sink: a canonical column of a GPU row (dcgm/values.ts
 * `canonicalValue`: blanks and absent readings null, units scaled from the printed `text`), or
 * metrics_other.
 */
export function emitSample(
  metric: string,
  labels: Labels,
  info: SeriesInfo,
  value: number,
  text: string | null,
  timeMs: number,
  out: { row(r: MetricRow, from?: SourceLine): void; other(s: OtherSample, from?: SourceLine): void },
  from?: SourceLine,
): void {
  const field = canonicalField(metric);
  if (field && info.identity && !info.mig) {
    out.row({ ...info.identity, time_ms: timeMs, values: { [field.column]: canonicalValue(field, value, text) } }, from);
    return;
  }
  out.other(
    {
      time_ms: timeMs,
      gpu_uuid: info.identity?.gpu_uuid ?? null,
      host: info.host,
      metric,
      value: Number.isFinite(value) && !isDcgmBlank(value) ? value : null,
      labels,
    },
    from,
  );
}
