/**
 * The Xid classification, kept as data so a config file can override it (docs/scoring.md, "Xid codes").
 *
 * Each code has a class (which part of the GPU it points at), a severity (what it says about the
 * hardware), an action (what the operator does about it) and the catalog mnemonic. Severity and action
 * are separate axes: Xid 63 records a row remap, a healthy repair (watch), that takes effect only at the
 * next GPU reset (reset_gpu). The features query counts Xid events per class and groups the UE and
 * reset-class codes into incidents from this table (sql/features.ts); scoring decides which health
 * dimension a class lowers (`XID_CLASS_DIMENSION` in health/score.ts); application and informational
 * Xids lower none. `counted_by` names the counter that already records the same event (Xid 48 is a DBE
 * the ECC counters count), so one fault is not charged twice when that counter is present. The config
 * file's `xid` overrides are merged here too (`mergeXidOverrides`, read by config.ts), so the table and
 * its override rules stay in one place.
 *
 * Sources, cited per code as: the immediate resolution bucket of NVIDIA's Xid catalog
 * (https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html, as leptonai/gpud's
 * catalog_generated.go mirrors it), GPUd's repair actions per Xid (its xid.go), NVSentinel's mapping of
 * the catalog bucket (RESTART_APP/IGNORE → NONE, RESET_GPU/WORKFLOW_XID_48 → COMPONENT_RESET, RESTART_BM
 * → RESTART_BM, anything else → CONTACT_SUPPORT), and the messages the driver prints
 * (NVIDIA/open-gpu-kernel-modules). The actions follow the catalog's buckets the way GPUd and NVSentinel
 * map them: RESTART_APP or IGNORE → none (monitor where the catalog escalates a persisting one),
 * RESET_GPU → reset_gpu, RESTART_BM or REBOOT_SYSTEM alone → reboot_host, a workflow that ends in
 * hardware inspection → drain_and_diagnose, a failed repair (NVIDIA's RMA criterion) → rma. Where GPUd
 * lists "reboot, then inspect the hardware if it repeats", the action is the first step: repeats are
 * the scoring rules' business.
 */
import { InputError } from '../errors.js';

export const XID_CLASS_NAMES = ['memory', 'thermal', 'power', 'interconnect', 'gpu_hardware', 'firmware', 'application', 'informational'] as const;
export type XidClass = (typeof XID_CLASS_NAMES)[number];

/** rma: replace the GPU; reset: a GPU reset or reboot is needed, repeats point at hardware; watch: trend it; none: not a hardware signal. */
export const XID_SEVERITIES = ['rma', 'reset', 'watch', 'none'] as const;
export type XidSeverity = (typeof XID_SEVERITIES)[number];

/** What an operator does about a fault, least to most disruptive (GPUd's repair actions, in the catalog's buckets). */
export const RECOMMENDED_ACTIONS = ['none', 'monitor', 'reset_gpu', 'reboot_host', 'drain_and_diagnose', 'rma'] as const;
export type RecommendedAction = (typeof RECOMMENDED_ACTIONS)[number];

/** Counters that record the same event as an Xid: dbe/sbe = ECC error counters, retirement = retired pages or remapped rows, remap_failure = the row-remap failure flag. */
export const XID_COUNTERS = ['dbe', 'sbe', 'retirement', 'remap_failure'] as const;
export type XidCounter = (typeof XID_COUNTERS)[number];

export interface XidInfo {
  readonly class: XidClass;
  readonly severity: XidSeverity;
  readonly mnemonic: string;
  /** The counter that already counts this event, when there is one. */
  readonly counted_by?: XidCounter;
  /** What the operator does about it; absent (an override table's new code): its severity's default, `SEVERITY_ACTIONS`. */
  readonly action?: RecommendedAction;
}

export type XidTable = Readonly<Record<number, XidInfo>>;

/** The action of an entry that names none: what each severity asks for at the least. */
const SEVERITY_ACTIONS: Readonly<Record<XidSeverity, RecommendedAction>> = { rma: 'rma', reset: 'reset_gpu', watch: 'monitor', none: 'none' };

function entry(cls: XidClass, severity: XidSeverity, action: RecommendedAction | undefined, mnemonic: string, counted_by?: XidCounter): XidInfo {
  const info: { -readonly [K in keyof XidInfo]: XidInfo[K] } = { class: cls, severity, mnemonic };
  if (counted_by !== undefined) info.counted_by = counted_by;
  if (action !== undefined) info.action = action;
  return Object.freeze(info);
}

/** The default classification. Codes not listed here are `UNCLASSIFIED_XID`. */
export const XID_CLASSES: XidTable = Object.freeze({
  // Application-side: the job faulted, the GPU did not. They never lower a score.
  13: entry('application', 'none', 'none', 'ROBUST_CHANNEL_GR_EXCEPTION'), // RESTART_APP; GPUd CHECK_USER_APP_AND_GPU
  31: entry('application', 'none', 'none', 'ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT'), // RESTART_APP: a fault in the job's own address space
  43: entry('application', 'none', 'none', 'ROBUST_CHANNEL_RESETCHANNEL_VERIF_ERROR'), // IGNORE: the job's channel stopped after its own error
  45: entry('application', 'none', 'none', 'ROBUST_CHANNEL_PREEMPTIVE_REMOVAL'), // WORKFLOW_XID_45: cleanup after another Xid, which carries the fault (GPUd IGNORE)
  68: entry('application', 'none', 'none', 'ROBUST_CHANNEL_NVDEC0_ERROR'), // RESTART_APP: a video-decoder exception in the job
  // Memory.
  48: entry('memory', 'reset', 'reset_gpu', 'ROBUST_CHANNEL_GPU_ECC_DBE', 'dbe'), // WORKFLOW_XID_48 (NVSentinel COMPONENT_RESET): the reset remaps the row; GPUd REBOOT_SYSTEM
  63: entry('memory', 'watch', 'reset_gpu', 'INFOROM_DRAM_RETIREMENT_EVENT', 'retirement'), // a remap recorded, "reset gpu to activate" (driver text); GPUd REBOOT_SYSTEM
  64: entry('memory', 'rma', 'rma', 'INFOROM_DRAM_RETIREMENT_FAILURE', 'remap_failure'), // the remap failed: NVIDIA's RMA criterion; catalog RESET_GPU then CONTACT_SUPPORT
  92: entry('memory', 'watch', 'monitor', 'EXCESSIVE_SBE_INTERRUPTS', 'sbe'), // IGNORE, CONTACT_SUPPORT if it persists: trend the correctable rate
  94: entry('memory', 'reset', 'reset_gpu', 'ROBUST_CHANNEL_CONTAINED_ERROR', 'dbe'), // RESTART_APP for the job, but its row is remapped only at the next reset (GPUd REBOOT_SYSTEM)
  95: entry('memory', 'reset', 'reset_gpu', 'ROBUST_CHANNEL_UNCONTAINED_ERROR', 'dbe'), // RESET_GPU (NVSentinel COMPONENT_RESET): other processes' memory may be corrupt
  140: entry('memory', 'reset', 'reset_gpu', 'UNRECOVERABLE_ECC_ERROR_ESCAPE', 'dbe'), // RESET_GPU: a UE the driver could not mark for offlining or remapping
  160: entry('memory', 'watch', 'reset_gpu', 'CHANNEL_RETIREMENT_EVENT'), // an L2 slice or HBM channel marked for repair, "perform <reset> to activate" (driver text); catalog IGNORE
  161: entry('memory', 'watch', 'monitor', 'CHANNEL_RETIREMENT_FAILURE'), // no spare L2 slice or channel left: IGNORE now, INVESTIGATE_SW; the next one cannot be repaired
  171: entry('memory', 'reset', 'reset_gpu', 'UNCORRECTABLE_DRAM_ERROR', 'dbe'), // printed with Xid 48 to say the UE was in DRAM: the same UE, the same reset
  172: entry('memory', 'reset', 'reset_gpu', 'UNCORRECTABLE_SRAM_ERROR', 'dbe'), // printed with Xid 48 to say the UE was in SRAM; GPUd REBOOT_SYSTEM
  // Micro-controllers and GSP firmware.
  61: entry('firmware', 'reset', 'reset_gpu', 'PMU_BREAKPOINT'), // micro-controller breakpoint: GPUd REBOOT_SYSTEM (the catalog lists it unused on Ampere and later)
  62: entry('firmware', 'reset', 'reset_gpu', 'PMU_HALT_ERROR'), // micro-controller halt: RESET_GPU, CONTACT_SUPPORT if it repeats
  119: entry('firmware', 'reset', 'reset_gpu', 'GSP_RPC_TIMEOUT'), // RESET_GPU, INVESTIGATE_SW if it repeats; GPUd REBOOT_SYSTEM
  120: entry('firmware', 'reset', 'reset_gpu', 'GSP_ERROR'), // RESET_GPU, INVESTIGATE_SW if it repeats; GPUd REBOOT_SYSTEM
  // The GPU as a device.
  46: entry('gpu_hardware', 'reset', 'reset_gpu', 'ROBUST_CHANNEL_GPU_TIMEOUT_ERROR'), // the GPU stopped processing: RESET_GPU; GPUd REBOOT_SYSTEM
  79: entry('gpu_hardware', 'reset', 'reboot_host', 'ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS'), // RESTART_BM (NVSentinel RESTART_BM; GPUd REBOOT_SYSTEM, inspect if it repeats)
  109: entry('gpu_hardware', 'reset', 'reset_gpu', 'ROBUST_CHANNEL_CTXSW_TIMEOUT_ERROR'), // context-switch timeout: RESET_GPU, CONTACT_SUPPORT if it repeats
  110: entry('gpu_hardware', 'reset', 'reset_gpu', 'SEC_FAULT_ERROR'), // security fault: RESET_GPU; GPUd: reboot, then inspect the hardware if it repeats
  143: entry('gpu_hardware', 'reset', 'reset_gpu', 'GPU_INIT_ERROR'), // initialisation failed: RESET_GPU, CONTACT_SUPPORT if it repeats (GPUd HARDWARE_INSPECTION)
  156: entry('gpu_hardware', 'reset', 'reset_gpu', 'RESOURCE_RETIREMENT_EVENT'), // a TPC retired to a spare (driver text): RESET_GPU to activate; GPUd REBOOT_SYSTEM
  157: entry('gpu_hardware', 'watch', 'monitor', 'RESOURCE_RETIREMENT_FAILURE'), // no spare TPC left: IGNORE (work runs on), CONTACT_SUPPORT; the fault may repeat
  158: entry('gpu_hardware', 'reset', 'reset_gpu', 'GPU_FATAL_TIMEOUT'), // RESET_GPU, CONTACT_SUPPORT if it repeats; GPUd REBOOT_SYSTEM
  // Links.
  74: entry('interconnect', 'reset', 'drain_and_diagnose', 'NVLINK_ERROR'), // WORKFLOW_NVLINK_ERR decodes registers we do not have; GPUd adds HARDWARE_INSPECTION, NVSentinel CONTACT_SUPPORT
  121: entry('interconnect', 'watch', 'monitor', 'C2C_ERROR'), // chip-to-chip link: IGNORE, CONTACT_SUPPORT if it persists
  136: entry('interconnect', 'reset', 'reset_gpu', 'ALI_TRAINING_FAIL'), // link training failed: RESET_GPU, INVESTIGATE_LINK_SI if it repeats
  144: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_SAW_ERROR'), // WORKFLOW_NVLINK5_ERR: every fatal row of the decode table is RESET_GPU; GPUd REBOOT_SYSTEM
  145: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_RLW_ERROR'), // as 144
  146: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_TLW_ERROR'), // as 144
  147: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_TREX_ERROR'), // as 144
  148: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_NVLPW_CTRL_ERROR'), // as 144
  149: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_NETIR_ERROR'), // as 144
  150: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_MSE_ERROR'), // as 144 (MSE watchdog: RESET_GPU)
  155: entry('interconnect', 'reset', 'reset_gpu', 'NVLINK_SW_DEFINED_ERROR'), // a link taken down on purpose: RESET_GPU, INVESTIGATE_SW_USER; GPUd REBOOT_SYSTEM
  // Says which recovery the driver wants; the Xid it follows carries the fault. The action is in each
  // message (`GPU_RECOVERY_ACTION_CODES`), read per event by the features query.
  154: entry('informational', 'none', 'none', 'GPU_RECOVERY_ACTION_CHANGED'),
});

/**
 * What an Xid missing from the table counts as: a hardware Xid worth watching. Ignoring it would hide
 * a new hardware code; charging it as a reset-grade fault would punish an unknown one too hard.
 */
export const UNCLASSIFIED_XID: XidInfo = entry('gpu_hardware', 'watch', 'monitor', 'UNCLASSIFIED');

/** The class of an Xid: `overrides` (a table from the config file, or one merged with `mergeXidOverrides`) first, then the defaults. */
export function classifyXid(code: number, overrides?: XidTable): XidInfo {
  return overrides?.[code] ?? XID_CLASSES[code] ?? UNCLASSIFIED_XID;
}

/** The action an Xid asks for: the entry's own, else its severity's. */
export function xidAction(code: number, overrides?: XidTable): RecommendedAction {
  const info = classifyXid(code, overrides);
  return info.action ?? SEVERITY_ACTIONS[info.severity];
}

// ─────────── code families the features query groups into incidents (built-in table only) ───────────

const builtInCodes = (keep: (info: XidInfo) => boolean): readonly number[] =>
  Object.freeze(
    Object.entries(XID_CLASSES)
      .filter(([, info]) => keep(info))
      .map(([code]) => Number(code)),
  );

/** Xids that report an uncorrectable memory error: the ones the DBE counter also counts. One UE logs several (48, then 94 or 95). */
export const UE_XIDS = builtInCodes((x) => x.counted_by === 'dbe');
/** The UE escaped containment: other processes' memory may be corrupt. */
export const UNCONTAINED_UE_XID = 95;
/** The GPU fell off the bus: the driver lost it until the host reboots. */
export const FELL_OFF_BUS_XID = 79;
/** The driver's recovery action changed; the message says to what. */
export const RECOVERY_ACTION_XID = 154;
/** Reset-severity Xids other than the UE ones (those are `UE_XIDS`, so the two families never count one event twice). */
export const RESET_XIDS = builtInCodes((x) => x.severity === 'reset' && x.counted_by !== 'dbe');
/**
 * Xids after which the GPU needs at least a reset: reset or RMA severity, or an action of a reset or
 * more (a repair that waits for the reset: 63, 160).
 */
export const RESET_REQUIRED_XIDS = builtInCodes(
  (x) => x.severity === 'reset' || x.severity === 'rma' || RECOMMENDED_ACTIONS.indexOf(x.action ?? 'none') >= RECOMMENDED_ACTIONS.indexOf('reset_gpu'),
);

/**
 * Xid 154's recovery actions, least to most disruptive. The driver prints NVML's
 * nvmlDeviceGpuRecoveryAction_t: `GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)`.
 * drain_p2p asks to quiesce peer-to-peer (NVLink) traffic and query again; drain_reset says the GPU runs at
 * reduced capacity until drained and reset.
 */
export const GPU_RECOVERY_ACTIONS = ['none', 'drain_p2p', 'drain_reset', 'reset_gpu', 'reboot_host'] as const;
type GpuRecoveryAction = (typeof GPU_RECOVERY_ACTIONS)[number];
/** NVML's values (the hex after "to"; the text in parentheses varies by driver: "Node Reboot Required", "OS Reboot"). */
export const GPU_RECOVERY_ACTION_CODES: Readonly<Record<number, GpuRecoveryAction>> = Object.freeze({
  0: 'none',
  1: 'reset_gpu',
  2: 'reboot_host',
  3: 'drain_p2p',
  4: 'drain_reset',
});
/** The recovery actions that ask for a GPU reset or a reboot. */
export const RESET_RECOVERY_ACTIONS: readonly GpuRecoveryAction[] = ['drain_reset', 'reset_gpu', 'reboot_host'];
/** The new value in an Xid 154 message (a regular expression for DuckDB; group 1 is the hex). */
export const GPU_RECOVERY_ACTION_PATTERN = String.raw`(?i)\bto\s+(0x[0-9a-f]+)`;

// ─────────────────────────────── config overrides ───────────────────────────────

const ENTRY_KEYS = ['class', 'severity', 'mnemonic', 'counted_by', 'action'] as const;
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
 * `{ "13": { "severity": "watch", "class": "gpu_hardware" }, "999": { "class": "memory", "severity": "reset", "mnemonic": "NEW", "action": "reset_gpu" } }`.
 * An entry for a code already in `base` may give any subset of fields (`counted_by: null` removes the
 * link); a new code needs `class` and `severity`. An entry that changes the severity without naming an
 * action takes the new severity's default action (a built-in action was chosen for the built-in
 * severity). Anything malformed is an `InputError` naming the key. `base` is not modified.
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
    let action = severity === prev?.severity ? prev.action : undefined;
    if (raw['action'] !== undefined) action = oneOf(raw['action'], RECOMMENDED_ACTIONS, `${path}.action`);
    out[code] = entry(cls, severity, action, mnemonic, countedBy);
  }
  return Object.freeze(out);
}
