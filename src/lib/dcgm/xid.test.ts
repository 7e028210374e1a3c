import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import {
  classifyXid,
  GPU_RECOVERY_ACTION_CODES,
  GPU_RECOVERY_ACTIONS,
  mergeXidOverrides,
  RECOMMENDED_ACTIONS,
  RESET_RECOVERY_ACTIONS,
  RESET_REQUIRED_XIDS,
  RESET_XIDS,
  UE_XIDS,
  UNCLASSIFIED_XID,
  XID_CLASSES,
  type XidTable,
  xidAction,
} from './xid.js';

const expectInputError = (fn: () => unknown, key: string): void => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).exitCode).toBe(2);
  expect((caught as Error).message).toContain(`Config key ${key}`);
};

describe('XID_CLASSES', () => {
  it('covers every Xid REFERENCE.md lists, and the reset-class and memory codes of the newer catalog', () => {
    const listed = [13, 31, 43, 45, 48, 61, 62, 63, 64, 68, 74, 79, 92, 94, 95, 109, 119, 120, 121, 136, 140, 143, 144, 145, 146, 147, 148, 149, 150, 154];
    const newer = [46, 110, 155, 156, 157, 158, 160, 161, 171, 172];
    for (const code of [...listed, ...newer]) expect(XID_CLASSES[code], `Xid ${code}`).toBeDefined();
  });

  it('marks application Xids (13, 31, 43, 45, 68) as application with no severity', () => {
    for (const code of [13, 31, 43, 45, 68]) {
      expect(XID_CLASSES[code]).toMatchObject({ class: 'application', severity: 'none' });
    }
  });

  it('classes the hardware Xids by the part they point at', () => {
    for (const code of [48, 63, 64, 92, 94, 95, 140, 160, 161, 171, 172]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('memory');
    for (const code of [74, 121, 136, 144, 145, 146, 147, 148, 149, 150, 155]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('interconnect');
    for (const code of [61, 62, 119, 120]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('firmware');
    for (const code of [46, 79, 109, 110, 143, 156, 157, 158]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('gpu_hardware');
    expect(XID_CLASSES[154]).toMatchObject({ class: 'informational', severity: 'none' });
  });

  it('makes the catalog RESET_GPU codes reset-class, with a GPU reset as their action', () => {
    for (const code of [46, 109, 110, 155, 156, 158]) {
      expect(XID_CLASSES[code], `Xid ${code}`).toMatchObject({ severity: 'reset', action: 'reset_gpu' });
    }
  });

  it('reads the uncorrectable-error detail codes (171 DRAM, 172 SRAM) as the UE Xid 48 reports, and 160 as a repair waiting for a reset', () => {
    for (const code of [171, 172]) expect(XID_CLASSES[code], `Xid ${code}`).toMatchObject({ severity: 'reset', counted_by: 'dbe', action: 'reset_gpu' });
    expect(XID_CLASSES[160]).toMatchObject({ severity: 'watch', action: 'reset_gpu' });
    expect(XID_CLASSES[160]!.counted_by).toBeUndefined();
  });

  it('makes only a failed retirement / row remap (64) RMA-grade', () => {
    const rma = Object.entries(XID_CLASSES)
      .filter(([, v]) => v.severity === 'rma')
      .map(([k]) => Number(k));
    expect(rma).toEqual([64]);
  });

  it('links the memory Xids to the counters that record the same event', () => {
    expect(XID_CLASSES[48]!.counted_by).toBe('dbe');
    expect(XID_CLASSES[94]!.counted_by).toBe('dbe');
    expect(XID_CLASSES[95]!.counted_by).toBe('dbe');
    expect(XID_CLASSES[140]!.counted_by).toBe('dbe');
    expect(XID_CLASSES[63]!.counted_by).toBe('retirement');
    expect(XID_CLASSES[64]!.counted_by).toBe('remap_failure');
    expect(XID_CLASSES[92]!.counted_by).toBe('sbe');
    expect(XID_CLASSES[74]!.counted_by).toBeUndefined();
  });

  it('names an action for every code, never milder than its severity asks for', () => {
    const least = { rma: 'rma', reset: 'reset_gpu', watch: 'monitor', none: 'none' } as const;
    for (const [code, info] of Object.entries(XID_CLASSES)) {
      expect(info.action, `Xid ${code}`).toBeDefined();
      expect(RECOMMENDED_ACTIONS.indexOf(info.action!), `Xid ${code}`).toBeGreaterThanOrEqual(RECOMMENDED_ACTIONS.indexOf(least[info.severity]));
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(XID_CLASSES)).toBe(true);
    expect(Object.isFrozen(XID_CLASSES[48])).toBe(true);
  });
});

describe('classifyXid', () => {
  it('returns the default class', () => {
    expect(classifyXid(79)).toEqual({ class: 'gpu_hardware', severity: 'reset', action: 'reboot_host', mnemonic: 'ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS' });
  });

  it('treats an unknown code as a hardware Xid to watch', () => {
    expect(classifyXid(9999)).toBe(UNCLASSIFIED_XID);
    expect(UNCLASSIFIED_XID).toMatchObject({ class: 'gpu_hardware', severity: 'watch' });
  });

  it('looks in the overrides first', () => {
    const overrides: XidTable = { 13: { class: 'gpu_hardware', severity: 'watch', mnemonic: 'GR_EXCEPTION_PERSISTENT' } };
    expect(classifyXid(13, overrides).class).toBe('gpu_hardware');
    expect(classifyXid(48, overrides).class).toBe('memory');
  });
});

describe('xidAction', () => {
  it('orders the actions least to most disruptive', () => {
    expect(RECOMMENDED_ACTIONS).toEqual(['none', 'monitor', 'reset_gpu', 'reboot_host', 'drain_and_diagnose', 'rma']);
  });

  it('follows the catalog buckets: RESTART_APP → none, RESET_GPU → reset_gpu, RESTART_BM → reboot_host, a failed repair → rma', () => {
    expect(xidAction(13)).toBe('none');
    expect(xidAction(92)).toBe('monitor');
    expect(xidAction(48)).toBe('reset_gpu');
    expect(xidAction(95)).toBe('reset_gpu');
    expect(xidAction(63)).toBe('reset_gpu');
    expect(xidAction(119)).toBe('reset_gpu');
    expect(xidAction(79)).toBe('reboot_host');
    expect(xidAction(74)).toBe('drain_and_diagnose');
    expect(xidAction(64)).toBe('rma');
    expect(xidAction(154)).toBe('none');
  });

  it('watches an unknown code, and gives an entry without an action its severity default', () => {
    expect(xidAction(9999)).toBe('monitor');
    const table: XidTable = { 13: { class: 'gpu_hardware', severity: 'reset', mnemonic: 'GR_EXCEPTION_PERSISTENT' } };
    expect(xidAction(13, table)).toBe('reset_gpu');
    expect(xidAction(79, table)).toBe('reboot_host');
  });
});

describe('the code families the features query groups', () => {
  it('takes the UE Xids from the DBE link, and the reset Xids without them', () => {
    expect([...UE_XIDS]).toEqual([48, 94, 95, 140, 171, 172]);
    expect(RESET_XIDS).toEqual(expect.arrayContaining([46, 61, 62, 74, 79, 109, 110, 119, 120, 136, 143, 144, 150, 155, 156, 158]));
    for (const code of UE_XIDS) expect(RESET_XIDS).not.toContain(code);
    expect(RESET_XIDS).not.toContain(63);
  });

  it('needs a reset after a UE, a reset-class Xid, a pending or failed repair, and not after a watch or application Xid', () => {
    for (const code of [48, 94, 95, 140, 171, 172, 79, 74, 119, 63, 64, 160, 156]) expect(RESET_REQUIRED_XIDS, `Xid ${code}`).toContain(code);
    for (const code of [13, 31, 43, 45, 68, 92, 121, 154, 157, 161]) expect(RESET_REQUIRED_XIDS, `Xid ${code}`).not.toContain(code);
  });

  it('reads Xid 154 with NVML’s recovery-action values', () => {
    expect(GPU_RECOVERY_ACTION_CODES).toEqual({ 0: 'none', 1: 'reset_gpu', 2: 'reboot_host', 3: 'drain_p2p', 4: 'drain_reset' });
    expect(new Set(Object.values(GPU_RECOVERY_ACTION_CODES))).toEqual(new Set(GPU_RECOVERY_ACTIONS));
    expect(RESET_RECOVERY_ACTIONS).toEqual(['drain_reset', 'reset_gpu', 'reboot_host']);
  });
});

describe('mergeXidOverrides', () => {
  it('returns the base for an absent section', () => {
    expect(mergeXidOverrides(XID_CLASSES, undefined)).toBe(XID_CLASSES);
    expect(mergeXidOverrides(XID_CLASSES, null)).toBe(XID_CLASSES);
  });

  it('overrides an existing code field by field and leaves the base alone', () => {
    const merged = mergeXidOverrides(XID_CLASSES, { '13': { class: 'gpu_hardware', severity: 'watch' } });
    // a new severity without an action takes that severity's default
    expect(merged[13]).toEqual({ class: 'gpu_hardware', severity: 'watch', mnemonic: 'ROBUST_CHANNEL_GR_EXCEPTION' });
    expect(xidAction(13, merged)).toBe('monitor');
    expect(XID_CLASSES[13]!.class).toBe('application');
    expect(merged[48]).toBe(XID_CLASSES[48]);
  });

  it('adds a new code given class and severity', () => {
    const merged = mergeXidOverrides(XID_CLASSES, { '990': { class: 'memory', severity: 'reset', mnemonic: ' NEW_HBM_ERROR ', counted_by: 'dbe' } });
    expect(merged[990]).toEqual({ class: 'memory', severity: 'reset', mnemonic: 'NEW_HBM_ERROR', counted_by: 'dbe' });
    expect(mergeXidOverrides(XID_CLASSES, { '991': { class: 'power', severity: 'watch' } })[991]!.mnemonic).toBe('XID_991');
  });

  it('removes a counter link with counted_by: null', () => {
    expect(mergeXidOverrides(XID_CLASSES, { '48': { counted_by: null } })[48]).toEqual({
      class: 'memory',
      severity: 'reset',
      action: 'reset_gpu',
      mnemonic: 'ROBUST_CHANNEL_GPU_ECC_DBE',
    });
  });

  it('sets the action, and keeps the built-in one while the severity stays', () => {
    const merged = mergeXidOverrides(XID_CLASSES, {
      '74': { action: 'reset_gpu' },
      '79': { class: 'interconnect' },
      '63': { severity: 'reset' },
      '999': { class: 'memory', severity: 'watch', action: 'drain_and_diagnose' },
    });
    expect(xidAction(74, merged)).toBe('reset_gpu');
    expect(merged[74]!.severity).toBe('reset');
    expect(xidAction(79, merged)).toBe('reboot_host');
    expect(xidAction(63, merged)).toBe('reset_gpu');
    expect(xidAction(999, merged)).toBe('drain_and_diagnose');
    expect(xidAction(74)).toBe('drain_and_diagnose');
  });

  it('rejects a section that is not an object', () => {
    expectInputError(() => mergeXidOverrides(XID_CLASSES, [1, 2]), 'xid');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, 'memory'), 'xid');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, 5, 'health.xid'), 'health.xid');
  });

  it('names the bad key', () => {
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { abc: { class: 'memory', severity: 'reset' } }), 'xid.abc');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '0': { class: 'memory', severity: 'reset' } }), 'xid.0');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': 'memory' }), 'xid.48');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { class: 'ram' } }), 'xid.48.class');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { severity: 'fatal' } }), 'xid.48.severity');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { mnemonic: '' } }), 'xid.48.mnemonic');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { counted_by: 'ecc' } }), 'xid.48.counted_by');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { colour: 'red' } }), 'xid.48.colour');
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '48': { action: 'reboot' } }), 'xid.48.action');
  });

  it('requires class and severity for a code the table lacks', () => {
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '992': { class: 'memory' } }), 'xid.992');
  });
});
