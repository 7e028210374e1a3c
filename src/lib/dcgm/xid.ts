/**
 * The Xid classification, kept as data so a config file can override it (docs/scoring.md, "Xid codes").
 *
 * Each code has a class (which part of the GPU it points at), a severity (what it says about the
 * hardware) and the catalog mnemonic. The features query counts Xid events per class from this table
 * (sql/features.ts); scoring decides which health dimension a class lowers (`XID_CLASS_DIMENSION` in
 * health/score.ts); application and informational Xids lower none. `counted_by` names the counter that
 * already records the same event (Xid 48 is a DBE the ECC counters count), so one fault is not charged
 * twice when that counter is present. The config file's `xid` overrides are merged here too
 * (`mergeXidOverrides`, read by config.ts), so the table and its override rules stay in one place.
 *
 * Source: NVIDIA's Xid catalog and nverror.h, as summarised in ../shared/formats/REFERENCE.md.
 */
import { InputError } from '../errors.js';

export const XID_CLASS_NAMES = ['memory', 'thermal', 'power', 'interconnect', 'gpu_hardware', 'firmware', 'application', 'informational'] as const;
export type XidClass = (typeof XID_CLASS_NAMES)[number];

/** rma: replace the GPU; reset: a GPU reset or reboot is needed, repeats point at hardware; watch: trend it; none: not a hardware signal. */
export const XID_SEVERITIES = ['rma', 'reset', 'watch', 'none'] as const;
export type XidSeverity = (typeof XID_SEVERITIES)[number];

/** Counters that record the same event as an Xid: dbe/sbe = ECC error counters, retirement = retired pages or remapped rows, remap_failure = the row-remap failure flag. */
export const XID_COUNTERS = ['dbe', 'sbe', 'retirement', 'remap_failure'] as const;
export type XidCounter = (typeof XID_COUNTERS)[number];

export interface XidInfo {
  readonly class: XidClass;
  readonly severity: XidSeverity;
  readonly mnemonic: string;
  /** The counter that already counts this event, when there is one. */
  readonly counted_by?: XidCounter;
}

export type XidTable = Readonly<Record<number, XidInfo>>;

const entry = (cls: XidClass, severity: XidSeverity, mnemonic: string, counted_by?: XidCounter): XidInfo =>
  Object.freeze(counted_by === undefined ? { class: cls, severity, mnemonic } : { class: cls, severity, mnemonic, counted_by });

/** The default classification. Codes not listed here are `UNCLASSIFIED_XID`. */
export const XID_CLASSES: XidTable = Object.freeze({
  // Application-side: the job faulted, the GPU did not. They never lower a score.
  13: entry('application', 'none', 'ROBUST_CHANNEL_GR_EXCEPTION'),
  31: entry('application', 'none', 'ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT'),
  43: entry('application', 'none', 'ROBUST_CHANNEL_RESETCHANNEL_VERIF_ERROR'),
  45: entry('application', 'none', 'ROBUST_CHANNEL_PREEMPTIVE_REMOVAL'),
  68: entry('application', 'none', 'ROBUST_CHANNEL_NVDEC0_ERROR'),
  // Memory.
  48: entry('memory', 'reset', 'ROBUST_CHANNEL_GPU_ECC_DBE', 'dbe'),
  63: entry('memory', 'watch', 'INFOROM_DRAM_RETIREMENT_EVENT', 'retirement'),
  64: entry('memory', 'rma', 'INFOROM_DRAM_RETIREMENT_FAILURE', 'remap_failure'),
  92: entry('memory', 'watch', 'EXCESSIVE_SBE_INTERRUPTS', 'sbe'),
  94: entry('memory', 'reset', 'ROBUST_CHANNEL_CONTAINED_ERROR', 'dbe'),
  95: entry('memory', 'reset', 'ROBUST_CHANNEL_UNCONTAINED_ERROR', 'dbe'),
  140: entry('memory', 'reset', 'UNRECOVERABLE_ECC_ERROR_ESCAPE', 'dbe'),
  // Micro-controllers and GSP firmware.
  61: entry('firmware', 'reset', 'PMU_BREAKPOINT'),
  62: entry('firmware', 'reset', 'PMU_HALT_ERROR'),
  119: entry('firmware', 'reset', 'GSP_RPC_TIMEOUT'),
  120: entry('firmware', 'reset', 'GSP_ERROR'),
  // The GPU as a device.
  79: entry('gpu_hardware', 'reset', 'ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS'),
  109: entry('gpu_hardware', 'watch', 'ROBUST_CHANNEL_CTXSW_TIMEOUT_ERROR'),
  143: entry('gpu_hardware', 'reset', 'GPU_INIT_ERROR'),
  // Links.
  74: entry('interconnect', 'reset', 'NVLINK_ERROR'),
  121: entry('interconnect', 'watch', 'C2C_ERROR'),
  136: entry('interconnect', 'reset', 'ALI_TRAINING_FAIL'),
  144: entry('interconnect', 'reset', 'NVLINK_SAW_ERROR'),
  145: entry('interconnect', 'reset', 'NVLINK_RLW_ERROR'),
  146: entry('interconnect', 'reset', 'NVLINK_TLW_ERROR'),
  147: entry('interconnect', 'reset', 'NVLINK_TREX_ERROR'),
  148: entry('interconnect', 'reset', 'NVLINK_NVLPW_CTRL_ERROR'),
  149: entry('interconnect', 'reset', 'NVLINK_NETIR_ERROR'),
  150: entry('interconnect', 'reset', 'NVLINK_MSE_ERROR'),
  // Says which recovery the driver wants; the Xid it follows carries the fault.
  154: entry('informational', 'none', 'GPU_RECOVERY_ACTION_CHANGED'),
});

/**
 * What an Xid missing from the table counts as: a hardware Xid worth watching. Ignoring it would hide
 * a new hardware code; charging it as a reset-grade fault would punish an unknown one too hard.
 */
export const UNCLASSIFIED_XID: XidInfo = entry('gpu_hardware', 'watch', 'UNCLASSIFIED');

/** The class of an Xid: `overrides` (a table from the config file, or one merged with `mergeXidOverrides`) first, then the defaults. */
export function classifyXid(code: number, overrides?: XidTable): XidInfo {
  return overrides?.[code] ?? XID_CLASSES[code] ?? UNCLASSIFIED_XID;
}

const ENTRY_KEYS = ['class', 'severity', 'mnemonic', 'counted_by'] as const;
const MAX_XID_CODE = 65_535;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown): string =>
  typeof v === 'string' ? `"${v}"` : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);

function oneOf<T extends string>(value: unknown, options: readonly T[], key: string): T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
  throw new InputError(`Config key ${key}: expected one of ${options.join(', ')}; got ${show(value)}.`);
}

/**
 * Lays the `xid` section of a config file over `base`, field by field:
 * `{ "13": { "severity": "watch", "class": "gpu_hardware" }, "999": { "class": "memory", "severity": "reset", "mnemonic": "NEW" } }`.
 * An entry for a code already in `base` may give any subset of fields (`counted_by: null` removes the
 * link); a new code needs `class` and `severity`. Anything malformed is an `InputError` naming the key.
 * `base` is not modified.
 */
export function mergeXidOverrides(base: XidTable, overrides: unknown, key = 'xid'): XidTable {
  if (overrides === undefined || overrides === null) return base;
  if (!isPlainObject(overrides)) {
    throw new InputError(`Config key ${key}: expected an object of Xid code → { class, severity, mnemonic }; got ${show(overrides)}.`, [
      `Try: "${key}": { "13": { "class": "application", "severity": "none" } }`,
    ]);
  }
  const out: Record<number, XidInfo> = { ...base };
  for (const [codeKey, raw] of Object.entries(overrides)) {
    const path = `${key}.${codeKey}`;
    if (!/^\d{1,5}$/.test(codeKey) || Number(codeKey) < 1 || Number(codeKey) > MAX_XID_CODE) {
      throw new InputError(`Config key ${path}: an Xid code must be a whole number from 1 to ${MAX_XID_CODE}.`);
    }
    if (!isPlainObject(raw)) throw new InputError(`Config key ${path}: expected an object with class, severity, mnemonic; got ${show(raw)}.`);
    for (const field of Object.keys(raw)) {
      if (!(ENTRY_KEYS as readonly string[]).includes(field)) {
        throw new InputError(`Config key ${path}.${field}: unknown field; expected ${ENTRY_KEYS.join(', ')}.`);
      }
    }
    const code = Number(codeKey);
    const prev = base[code];
    if (prev === undefined && (raw['class'] === undefined || raw['severity'] === undefined)) {
      throw new InputError(`Config key ${path}: Xid ${code} is not in the built-in table, so it needs both class and severity.`);
    }
    const cls = raw['class'] === undefined ? prev!.class : oneOf(raw['class'], XID_CLASS_NAMES, `${path}.class`);
    const severity = raw['severity'] === undefined ? prev!.severity : oneOf(raw['severity'], XID_SEVERITIES, `${path}.severity`);
    let mnemonic = prev?.mnemonic ?? `XID_${code}`;
    if (raw['mnemonic'] !== undefined) {
      if (typeof raw['mnemonic'] !== 'string' || raw['mnemonic'].trim() === '') {
        throw new InputError(`Config key ${path}.mnemonic: expected a non-empty string; got ${show(raw['mnemonic'])}.`);
      }
      mnemonic = raw['mnemonic'].trim();
    }
    let countedBy = prev?.counted_by;
    if (raw['counted_by'] === null) countedBy = undefined;
    else if (raw['counted_by'] !== undefined) countedBy = oneOf(raw['counted_by'], XID_COUNTERS, `${path}.counted_by`);
    out[code] = entry(cls, severity, mnemonic, countedBy);
  }
  return Object.freeze(out);
}
