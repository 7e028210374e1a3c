import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { classifyXid, mergeXidOverrides, UNCLASSIFIED_XID, XID_CLASSES, type XidTable } from './xid.js';

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
  it('covers every Xid REFERENCE.md lists', () => {
    const listed = [13, 31, 43, 45, 48, 61, 62, 63, 64, 68, 74, 79, 92, 94, 95, 109, 119, 120, 121, 136, 140, 143, 144, 145, 146, 147, 148, 149, 150, 154];
    for (const code of listed) expect(XID_CLASSES[code], `Xid ${code}`).toBeDefined();
  });

  it('marks application Xids (13, 31, 43, 45, 68) as application with no severity', () => {
    for (const code of [13, 31, 43, 45, 68]) {
      expect(XID_CLASSES[code]).toMatchObject({ class: 'application', severity: 'none' });
    }
  });

  it('classes the hardware Xids by the part they point at', () => {
    for (const code of [48, 63, 64, 92, 94, 95, 140]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('memory');
    for (const code of [74, 121, 136, 144, 145, 146, 147, 148, 149, 150]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('interconnect');
    for (const code of [61, 62, 119, 120]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('firmware');
    for (const code of [79, 109, 143]) expect(XID_CLASSES[code]!.class, `Xid ${code}`).toBe('gpu_hardware');
    expect(XID_CLASSES[154]).toMatchObject({ class: 'informational', severity: 'none' });
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

  it('is frozen', () => {
    expect(Object.isFrozen(XID_CLASSES)).toBe(true);
    expect(Object.isFrozen(XID_CLASSES[48])).toBe(true);
  });
});

describe('classifyXid', () => {
  it('returns the default class', () => {
    expect(classifyXid(79)).toEqual({ class: 'gpu_hardware', severity: 'reset', mnemonic: 'ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS' });
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

describe('mergeXidOverrides', () => {
  it('returns the base for an absent section', () => {
    expect(mergeXidOverrides(XID_CLASSES, undefined)).toBe(XID_CLASSES);
    expect(mergeXidOverrides(XID_CLASSES, null)).toBe(XID_CLASSES);
  });

  it('overrides an existing code field by field and leaves the base alone', () => {
    const merged = mergeXidOverrides(XID_CLASSES, { '13': { class: 'gpu_hardware', severity: 'watch' } });
    expect(merged[13]).toEqual({ class: 'gpu_hardware', severity: 'watch', mnemonic: 'ROBUST_CHANNEL_GR_EXCEPTION' });
    expect(XID_CLASSES[13]!.class).toBe('application');
    expect(merged[48]).toBe(XID_CLASSES[48]);
  });

  it('adds a new code given class and severity', () => {
    const merged = mergeXidOverrides(XID_CLASSES, { '155': { class: 'memory', severity: 'reset', mnemonic: ' NEW_HBM_ERROR ', counted_by: 'dbe' } });
    expect(merged[155]).toEqual({ class: 'memory', severity: 'reset', mnemonic: 'NEW_HBM_ERROR', counted_by: 'dbe' });
    expect(mergeXidOverrides(XID_CLASSES, { '156': { class: 'power', severity: 'watch' } })[156]!.mnemonic).toBe('XID_156');
  });

  it('removes a counter link with counted_by: null', () => {
    expect(mergeXidOverrides(XID_CLASSES, { '48': { counted_by: null } })[48]).toEqual({
      class: 'memory',
      severity: 'reset',
      mnemonic: 'ROBUST_CHANNEL_GPU_ECC_DBE',
    });
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
  });

  it('requires class and severity for a code the table lacks', () => {
    expectInputError(() => mergeXidOverrides(XID_CLASSES, { '157': { class: 'memory' } }), 'xid.157');
  });
});
