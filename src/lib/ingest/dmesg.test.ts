import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GpuIdentity } from '../schema.js';
import { runParser, staticResolver } from '../../../test/helpers/parse.js';
import { dmesgParser } from './dmesg.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/dmesg/${name}`, import.meta.url), 'utf8');
const iso = (ms: number): string => new Date(ms).toISOString();

describe('dmesgParser.sniff', () => {
  it('is sure of logs with NVRM lines', () => {
    for (const f of ['dmesg-T-xid119-gsp.log', 'dmesg-iso-comma.log', 'journalctl-short-new-year.log', 'journalctl-short-iso.log', 'dmesg-since-boot.log']) {
      expect(dmesgParser.sniff(fixture(f)), f).toBe(0.95);
    }
  });

  it('half-believes a kernel log without NVRM lines', () => {
    expect(dmesgParser.sniff(fixture('kern-log-no-nvrm.log'))).toBe(0.5);
    expect(dmesgParser.sniff('[    5.118233] nvidia: loading out-of-tree module taints kernel.\n[    5.2] usb 1-1: new device\n')).toBe(0.5);
    expect(dmesgParser.sniff('Feb 23 16:24:18 node kernel: mlx5_core 0000:0c:00.0: link up\n')).toBe(0.5);
  });

  it('does not claim other formats', () => {
    expect(dmesgParser.sniff('#Entity   POWER             TMPTR\nID         W                 C\nGPU 0     45.000            38\n')).toBe(0);
    expect(dmesgParser.sniff('timestamp, name, index, temperature.gpu\n2025/02/23 16:24:18.123, NVIDIA H100, 0, 63\n')).toBe(0);
    expect(dmesgParser.sniff('DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-1"} 63\n')).toBe(0);
  });
});

describe('dmesgParser', () => {
  it('reads dmesg -T in --tz, learns GPU-at-PCI lines, and ignores GSP dumps and stack traces', async () => {
    const resolver = staticResolver();
    const out = await runParser(dmesgParser, fixture('dmesg-T-xid119-gsp.log'), { tz: 'America/New_York', resolver });
    expect(out.rejects).toEqual([]);
    // 10 March 2025 is the day after the US switch to daylight time: EDT, UTC−4.
    expect(out.xids.map((x) => ({ ...x, time: iso(x.time_ms) }))).toEqual([
      {
        time: '2025-03-10T18:47:03.000Z',
        time_ms: Date.parse('2025-03-10T18:47:03Z'),
        gpu_uuid: 'GPU-3f1c9a27-5b0e-4d2a-9c61-7a8e2f4b1d09',
        host: null,
        pci_bus_id: '0000:18:00.0',
        xid: 119,
        source: 'dmesg',
        message: 'pid=88123, name=python3, Timeout after 6s of waiting for RPC response from GPU1 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20801702 0x8).',
      },
      {
        time: '2025-03-10T18:47:09.000Z',
        time_ms: Date.parse('2025-03-10T18:47:09Z'),
        gpu_uuid: 'GPU-3f1c9a27-5b0e-4d2a-9c61-7a8e2f4b1d09',
        host: null,
        pci_bus_id: '0000:18:00.0',
        xid: 119,
        source: 'dmesg',
        message: 'pid=88123, name=python3, Timeout after 6s of waiting for RPC response from GPU1 GSP! Expected function 10 (FREE) (0xa55a0100 0x0).',
      },
      // Before its GPU-at-PCI line: not mapped yet.
      {
        time: '2025-03-10T18:52:40.000Z',
        time_ms: Date.parse('2025-03-10T18:52:40Z'),
        gpu_uuid: null,
        host: null,
        pci_bus_id: '0000:2a:00.0',
        xid: 79,
        source: 'dmesg',
        message: "pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
      },
      {
        time: '2025-03-10T19:31:27.000Z',
        time_ms: Date.parse('2025-03-10T19:31:27Z'),
        gpu_uuid: 'GPU-b7d40e19-8c2f-4a66-a1e3-55c0d9f27b8e',
        host: null,
        pci_bus_id: '0000:2a:00.0',
        xid: 13,
        source: 'dmesg',
        message: 'pid=90211, name=train.py, Graphics Exception: ESR 0x405840=0x1000000 0x405844=0x0',
      },
    ]);
    expect(out.warnings).toEqual([expect.stringMatching(/Xid events at PCI 0000:2a:00\.0 have no GPU UUID yet.*--gpu-map.*--host/)]);
    expect(resolver.byPci(null, '0000:18:00.0')?.gpu_uuid).toBe('GPU-3f1c9a27-5b0e-4d2a-9c61-7a8e2f4b1d09');
    expect(resolver.byPci(null, '0000:2a:00.0')?.gpu_uuid).toBe('GPU-b7d40e19-8c2f-4a66-a1e3-55c0d9f27b8e');
  });

  it('reads dmesg --time-format iso with a comma before the fraction and any offset', async () => {
    const out = await runParser(dmesgParser, fixture('dmesg-iso-comma.log'), { host: 'node-c' });
    expect(out.rejects).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.xids.map((x) => [iso(x.time_ms), x.xid, x.gpu_uuid, x.host, x.pci_bus_id])).toEqual([
      ['2025-07-14T09:40:55.123Z', 48, 'GPU-0c9e4b71-2d3a-4f58-8e16-b9a7c5d3e210', 'node-c', '0000:3b:00.0'],
      ['2025-07-14T09:40:55.131Z', 63, 'GPU-0c9e4b71-2d3a-4f58-8e16-b9a7c5d3e210', 'node-c', '0000:3b:00.0'],
      ['2025-07-14T09:40:55.000Z', 94, 'GPU-0c9e4b71-2d3a-4f58-8e16-b9a7c5d3e210', 'node-c', '0000:3b:00.0'],
    ]);
    expect(out.xids[1]!.message).toBe('pid=5512, name=vllm, Row Remapper: New row marked for remapping, reset gpu to activate.');
  });

  it('infers the year of journalctl -k short dates from the file time, across New Year', async () => {
    const out = await runParser(dmesgParser, fixture('journalctl-short-new-year.log'), {
      defaultTimeMs: Date.parse('2025-01-02T12:00:00Z'),
      host: 'ignored-host',
    });
    expect(out.rejects).toEqual([]);
    expect(out.xids.map((x) => [iso(x.time_ms), x.xid, x.host, x.pci_bus_id])).toEqual([
      ['2024-12-31T23:59:58.000Z', 31, 'gpu-node-07', '0000:41:00.0'],
      ['2025-01-01T00:00:03.000Z', 13, 'gpu-node-07', '0000:41:00.0'],
      // syslog day padded with a space, and the printk stamp inside the message
      ['2025-01-01T00:00:09.000Z', 43, 'gpu-node-07', '0000:41:00.0'],
    ]);
    expect(out.xids[2]!.message).toBe('pid=30117, name=python, Ch 00000010');
    expect(out.warnings).toEqual([expect.stringMatching(/0000:41:00\.0 on gpu-node-07/)]);
  });

  it('reads journalctl short dates in --tz', async () => {
    const out = await runParser(dmesgParser, fixture('journalctl-short-new-year.log'), {
      defaultTimeMs: Date.parse('2025-01-02T12:00:00Z'),
      tz: 'Europe/Berlin',
    });
    expect(out.xids.map((x) => iso(x.time_ms))).toEqual(['2024-12-31T22:59:58.000Z', '2024-12-31T23:00:03.000Z', '2024-12-31T23:00:09.000Z']);
  });

  it('rejects journalctl short dates when there is no file time to take the year from', async () => {
    const out = await runParser(dmesgParser, fixture('journalctl-short-new-year.log'));
    expect(out.xids).toEqual([]);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'syslog timestamp has no year; pass --time <when the log was saved>'],
      [3, 'syslog timestamp has no year; pass --time <when the log was saved>'],
      [4, 'syslog timestamp has no year; pass --time <when the log was saved>'],
    ]);
    expect(out.warnings).toEqual([expect.stringMatching(/3 Xid lines rejected: syslog dates have no year/)]);
  });

  it('reads journalctl -o short-iso; the host in the line wins over --host', async () => {
    const resolver = staticResolver();
    const out = await runParser(dmesgParser, fixture('journalctl-short-iso.log'), { host: 'other', resolver });
    expect(out.rejects).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.xids).toEqual([
      {
        time_ms: Date.parse('2025-02-23T16:24:18Z'),
        gpu_uuid: 'GPU-6a2e0f3b-91c4-4d7e-b805-1f3c7e9a4d62',
        host: 'gpu-node-12',
        pci_bus_id: '0000:9b:00.0',
        xid: 119,
        source: 'dmesg',
        message:
          'pid=1240590, name=dcgm-exporter, Timeout after 6s of waiting for RPC response from GPU4 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20803032 0x58c).',
      },
      {
        time_ms: Date.parse('2025-02-23T16:30:13.250Z'),
        gpu_uuid: 'GPU-6a2e0f3b-91c4-4d7e-b805-1f3c7e9a4d62',
        host: 'gpu-node-12',
        pci_bus_id: '0000:9b:00.0',
        xid: 120,
        source: 'dmesg',
        message: 'pid=1240590, name=dcgm-exporter, GSP task timeout @ pc:0x4b2e, task: 1',
      },
    ]);
    const learned: GpuIdentity | null = resolver.byPci('gpu-node-12', '0000:9b:00.0');
    expect(learned).toEqual({
      gpu_uuid: 'GPU-6a2e0f3b-91c4-4d7e-b805-1f3c7e9a4d62',
      host: 'gpu-node-12',
      gpu_index: null,
      model: null,
      pci_bus_id: '0000:9b:00.0',
      driver_version: null,
    });
  });

  it('rejects Xid lines stamped in seconds since boot, once per line, with one warning', async () => {
    const resolver = staticResolver();
    const out = await runParser(dmesgParser, fixture('dmesg-since-boot.log'), { defaultTimeMs: Date.parse('2025-01-02T12:00:00Z'), host: 'node-d', resolver });
    expect(out.xids).toEqual([]);
    expect(out.rejects).toEqual([
      {
        line: 3,
        reason: 'dmesg timestamps are seconds since boot; re-run with dmesg -T or --time-format iso',
        text: '[ 1234.567890] NVRM: Xid (PCI:0000:ca:00): 92, pid=4411, name=python3, High single-bit ECC error rate',
      },
      {
        line: 5,
        reason: 'dmesg timestamps are seconds since boot; re-run with dmesg -T or --time-format iso',
        text: '[86400.250000] NVRM: Xid (PCI:0000:ca:00): 64, pid=4411, name=python3, Row remapping failed',
      },
    ]);
    expect(out.warnings).toEqual([expect.stringMatching(/^test-input: 2 Xid lines rejected: plain dmesg stamps are seconds since boot/)]);
    // The mapping needs no time: it is still learned.
    expect(resolver.byPci('node-d', '0000:ca:00.0')?.gpu_uuid).toBe('GPU-e41b7c08-3d95-4f2a-b6c0-8a1d2e7f9354');
  });

  it('rejects garbled NVRM Xid lines and keeps the good ones around them', async () => {
    const out = await runParser(dmesgParser, fixture('dmesg-garbled-xid.log'));
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'NVRM Xid line without a PCI address and Xid code'],
      [3, 'NVRM Xid line without a PCI address and Xid code'],
      [4, 'unreadable PCI address "PCI:zz:qq" in NVRM Xid line'],
      [5, 'invalid date in timestamp'],
    ]);
    expect(out.xids.map((x) => [iso(x.time_ms), x.xid, x.message])).toEqual([
      ['2025-04-08T10:00:00.000Z', 74, 'pid=772, name=nccl-test, NVLink: fatal error detected on link 3(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)'],
      ['2025-04-08T10:00:05.000Z', 45, 'pid=772, name=nccl-test, Ch 00000018'],
    ]);
  });

  it('maps PCI addresses through the resolver and warns once about the ones it cannot map', async () => {
    const known: GpuIdentity = {
      gpu_uuid: 'GPU-4e4e',
      host: 'node-a',
      gpu_index: 2,
      model: 'NVIDIA H100 80GB HBM3',
      pci_bus_id: '0000:4e:00.0',
      driver_version: '550.127.05',
    };
    const out = await runParser(dmesgParser, fixture('dmesg-unmapped-pci.log'), { host: 'node-a', resolver: staticResolver([known]) });
    expect(out.rejects).toEqual([]);
    expect(out.xids.map((x) => [x.xid, x.gpu_uuid, x.pci_bus_id, x.host])).toEqual([
      [95, 'GPU-4e4e', '0000:4e:00.0', 'node-a'],
      [13, null, '0000:5d:00.0', 'node-a'],
      [154, 'GPU-4e4e', '0000:4e:00.0', 'node-a'],
    ]);
    expect(out.xids[2]!.message).toBe('GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)');
    expect(out.warnings).toEqual([
      "test-input: Xid events at PCI 0000:5d:00.0 on node-a have no GPU UUID yet; they are kept with their pci_bus_id. Ingest the host's dcgm-exporter or nvidia-smi --query-gpu data (or pass --gpu-map) to map them",
    ]);
  });

  it('emits nothing for a kernel log without Xid lines', async () => {
    const out = await runParser(dmesgParser, fixture('kern-log-no-nvrm.log'), { defaultTimeMs: Date.parse('2025-06-06T00:00:00Z') });
    expect(out).toEqual({ rows: [], others: [], xids: [], rejects: [], warnings: [] });
  });
});
