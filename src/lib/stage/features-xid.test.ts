/**
 * The Xid incident and reset features against a small lake built by the real ingest: UE Xids grouped
 * across codes in time, Xid 154's recovery action read from its message, Xid 79, and the latest event
 * that needs a reset from the kernel log, the last-Xid gauge and the DBE counter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidOf } from '../../../test/helpers/planted-fleet.js';
import { ingest } from '../ingest/ingest.js';
import { computeFeatures, type FeatureRow } from './features.js';

const AT = Date.UTC(2026, 10, 20);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hour 6 of the window, where most events happen. */
const T0 = AT - DAY + 6 * HOUR;
const GPUS = 13;

const iso = (ms: number): string => new Date(ms).toISOString();
const pci = (g: number): string => `0000:${(0x18 + g).toString(16)}:00`;
/** A kernel-log line in `dmesg --time-format iso` form. */
const nvrm = (ms: number, g: number, xid: number, text: string): string =>
  `${iso(ms).replace('.000Z', ',000000+00:00')} NVRM: Xid (PCI:${pci(g)}): ${xid}, ${text}`;
const recovery = (ms: number, g: number, from: string, to: string): string => nvrm(ms, g, 154, `GPU recovery action changed from ${from} to ${to}`);

/** Gauge-only GPU: the last-Xid gauge goes 0 → 48 → 63 within hour 9 (one UE, then its row remap). */
const GAUGE_GPU = 8;
const GAUGE_HOUR = AT - DAY + 9 * HOUR;
/** Gauge-only GPU: the last-Xid gauge reads 79 from the first sample of hour 15 (a change at a segment seam). */
const SEAM_GPU = 12;
const SEAM_HOUR = AT - DAY + 15 * HOUR;
/** Counter-only GPU: the volatile DBE counter rises in hour 12. */
const DBE_GPU = 10;
const DBE_HOUR = AT - DAY + 12 * HOUR;

function telemetry(): string {
  const lines = ['time,gpu_uuid,host,model,gpu_temp,xid_last,ecc_dbe_volatile'];
  for (let t = AT - DAY; t < AT; t += 60_000) {
    for (let g = 0; g < GPUS; g++) {
      let xid = g === GAUGE_GPU && t >= GAUGE_HOUR + 20 * 60_000 ? (t >= GAUGE_HOUR + 21 * 60_000 ? 63 : 48) : 0;
      if (g === SEAM_GPU && t >= SEAM_HOUR) xid = 79;
      const dbe = g === DBE_GPU && t >= DBE_HOUR + 30 * 60_000 ? 1 : 0;
      lines.push([iso(t), uuidOf(g), 'node-a', 'NVIDIA H100 80GB HBM3', 60, xid, dbe].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

function kernelLog(): string {
  const s = 1000;
  const lines = Array.from({ length: GPUS }, (_, g) => `${iso(AT - DAY).replace('.000Z', ',000000+00:00')} NVRM: GPU at PCI:${pci(g)}: ${uuidOf(g)}`);
  lines.push(
    // GPU 0: one UE logs 48, then 94 two seconds later
    nvrm(T0, 0, 48, 'pid=1, name=python, Ch 00000008, intr 00000000. An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer'),
    nvrm(T0 + 2 * s, 0, 94, 'pid=1, name=python, Contained: CE User Channel (0x9). RST: No, D-RST: No'),
    // GPU 1: two UEs an hour apart; the second uncontained
    nvrm(T0, 1, 48, 'pid=1, name=python, DBE'),
    nvrm(T0 + HOUR, 1, 48, 'pid=2, name=python, DBE'),
    nvrm(T0 + HOUR + s, 1, 95, 'pid=2, name=python, Uncontained: FBHUB. RST: Yes, D-RST: No'),
    // GPUs 2–6: one Xid 154 each, for every recovery action (the text in parentheses varies by driver)
    recovery(T0, 2, '0x0 (None)', '0x1 (GPU Reset Required)'),
    recovery(T0, 3, '0x0 (None)', '0x2 (Node Reboot Required)'),
    recovery(T0, 4, '0x0 (None)', '0x3 (Drain P2P)'),
    recovery(T0, 5, '0x0 (None)', '0x4 (Drain and Reset)'),
    recovery(T0, 6, '0x0 (None)', '0x2 (OS Reboot)'),
    // GPU 7: a GSP failure ending with the GPU off the bus (one incident), and the bus again 3 h later
    nvrm(T0, 7, 119, 'pid=3, name=python, Timeout after 6s of waiting for RPC response from GPU0 GSP!'),
    nvrm(T0 + 5 * s, 7, 120, 'pid=3, name=python, GSP task exception'),
    nvrm(T0 + 20 * s, 7, 79, 'pid=3, name=python, GPU has fallen off the bus.'),
    nvrm(T0 + 26 * s, 7, 79, 'pid=3, name=python, GPU has fallen off the bus.'),
    recovery(T0 + 27 * s, 7, '0x0 (None)', '0x2 (Node Reboot Required)'),
    nvrm(T0 + 3 * HOUR, 7, 79, 'pid=4, name=python, GPU has fallen off the bus.'),
    // GPU 9: asked for a reset, then reset (back to none); a line without a value says nothing
    recovery(T0, 9, '0x0 (None)', '0x1 (GPU Reset Required)'),
    recovery(T0 + 2 * HOUR, 9, '0x1 (GPU Reset Required)', '0x0 (None)'),
    nvrm(T0 + 3 * HOUR, 9, 154, 'GPU recovery action changed'),
    '',
  );
  return lines.join('\n');
}

const roots: string[] = [];
let rows: FeatureRow[] = [];
const gpu = (g: number): FeatureRow => rows.find((r) => r.gpu_uuid === uuidOf(g))!;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-features-xid-'));
  roots.push(dir);
  const lake = path.join(dir, 'lake');
  fs.writeFileSync(path.join(dir, 'gpu.csv'), telemetry());
  fs.writeFileSync(path.join(dir, 'kern.log'), kernelLog());
  await ingest({ lake, inputs: [path.join(dir, 'gpu.csv')] });
  await ingest({ lake, inputs: [path.join(dir, 'kern.log')] });
  rows = (await computeFeatures({ lake, sinceMs: DAY, atMs: AT, write: false })).rows;
}, 60_000);

afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

describe('uncorrectable-error incidents', () => {
  it('count Xid 48 and 94 two seconds apart as one UE', () => {
    expect(gpu(0)['xid_counts']).toBe('{"48":1,"94":1}');
    expect(gpu(0)).toMatchObject({ ue_incidents: 1, uncontained_ue_incidents: 0, reset_xid_incidents: 0, last_reset_required_at: iso(T0 + 2000) });
  });

  it('count two UEs an hour apart as two, the uncontained one apart', () => {
    expect(gpu(1)).toMatchObject({ ue_incidents: 2, uncontained_ue_incidents: 1, last_reset_required_at: iso(T0 + HOUR + 1000) });
  });

  it('count a UE the gauge shows (48, then its remap 63) once, at the last sample of its hour', () => {
    expect(gpu(GAUGE_GPU)['xid_counts']).toBe('{"48":1,"63":1}');
    expect(gpu(GAUGE_GPU)).toMatchObject({ ue_incidents: 1, recovery_action_last: null, last_reset_required_at: iso(GAUGE_HOUR + 59 * 60_000) });
  });

  it('are 0 on a GPU without Xids, with no reset required', () => {
    expect(gpu(11)).toMatchObject({ xid_events: 0, ue_incidents: 0, reset_xid_incidents: 0, fell_off_bus_incidents: 0, last_reset_required_at: null });
  });
});

describe("Xid 154's recovery action", () => {
  it('is read from the value after "to", whatever the text says', () => {
    expect([2, 3, 4, 5, 6].map((g) => gpu(g)['recovery_action_last'])).toEqual(['reset_gpu', 'reboot_host', 'drain_p2p', 'drain_reset', 'reboot_host']);
    expect(gpu(2)['recovery_action_last_at']).toBe(iso(T0));
  });

  it('needs a reset for reset_gpu, reboot_host and drain_reset, not for drain_p2p', () => {
    for (const g of [2, 3, 5, 6]) expect(gpu(g)['last_reset_required_at'], `GPU ${g}`).toBe(iso(T0));
    expect(gpu(4)['last_reset_required_at']).toBeNull();
  });

  it('takes the latest line with a value; a reset back to none keeps the time the reset was asked for', () => {
    expect(gpu(9)).toMatchObject({ recovery_action_last: 'none', recovery_action_last_at: iso(T0 + 2 * HOUR), last_reset_required_at: iso(T0) });
  });

  it('is null without an Xid 154', () => {
    expect(gpu(0)).toMatchObject({ recovery_action_last: null, recovery_action_last_at: null });
  });
});

describe('reset-class incidents', () => {
  it('group a GSP failure and the fall off the bus it ends in, and count Xid 79 on its own', () => {
    expect(gpu(7)['xid_counts']).toBe('{"79":2,"119":1,"120":1,"154":1}');
    expect(gpu(7)).toMatchObject({
      reset_xid_incidents: 2,
      fell_off_bus_incidents: 2,
      ue_incidents: 0,
      recovery_action_last: 'reboot_host',
      last_reset_required_at: iso(T0 + 3 * HOUR),
    });
  });

  it('date a gauge change at a segment seam at the first sample after it', () => {
    expect(gpu(SEAM_GPU)).toMatchObject({ fell_off_bus_incidents: 1, reset_xid_incidents: 1, last_reset_required_at: iso(SEAM_HOUR) });
  });

  it('take a rise of the DBE counter as a reset-requiring event, at the last sample of its hour', () => {
    expect(gpu(DBE_GPU)).toMatchObject({ dbe_delta: 1, ue_incidents: 0, last_reset_required_at: iso(DBE_HOUR + 59 * 60_000) });
  });
});
