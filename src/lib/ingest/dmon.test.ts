import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import type { GpuIdentity, MetricRow } from '../schema.js';
import { context, linesOf, recordingSink, runParser, staticResolver } from '../../../test/helpers/parse.js';
import { dmonParser } from './dmon.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/dmon/${name}`, import.meta.url), 'utf8');

const T0 = Date.parse('2025-02-23T16:24:18Z');

const gpu = (host: string, index: number, uuid: string): GpuIdentity => ({
  gpu_uuid: uuid,
  host,
  gpu_index: index,
  model: 'NVIDIA H100 80GB HBM3',
  pci_bus_id: `0000:${(0x18 + index).toString(16)}:00.0`,
  driver_version: '550.127.05',
});

const synthetic = (host: string | null, index: number): GpuIdentity => ({
  gpu_uuid: `idx:${host ?? 'unknown-host'}:${index}`,
  host,
  gpu_index: index,
  model: null,
  pci_bus_id: null,
  driver_version: null,
});

/** Rows as (gpu_index, seconds after T0, values) for compact assertions. */
const brief = (rows: MetricRow[]): [number | null, number, MetricRow['values']][] => rows.map((r) => [r.gpu_index, (r.time_ms - T0) / 1000, r.values]);

describe('dmonParser.sniff', () => {
  it('recognises dcgmi dmon headers in every spelling', () => {
    for (const f of ['dcgmi-dcp-ratios.txt', 'dcgmi-header-entity-id.txt', 'dcgmi-header-hash-id.txt', 'dcgmi-header-entityid-one-line.txt']) {
      expect(dmonParser.sniff(fixture(f)), f).toBe(0.9);
    }
  });

  it('recognises nvidia-smi dmon with and without -o DT', () => {
    expect(dmonParser.sniff(fixture('nvsmi-dmon-default.txt'))).toBe(0.9);
    expect(dmonParser.sniff(fixture('nvsmi-dmon-o-dt.txt'))).toBe(0.9);
    expect(dmonParser.sniff(fixture('nvsmi-dmon-o-t-midnight.txt'))).toBe(0.9);
  });

  it('leaves nvidia-smi pmon, kernel logs and Prometheus text alone', () => {
    expect(dmonParser.sniff(fixture('nvsmi-pmon.txt'))).toBe(0);
    expect(dmonParser.sniff('[Sun Feb 23 16:24:18 2025] NVRM: Xid (PCI:0000:9b:00): 119, pid=1, name=x, y\n')).toBe(0);
    expect(dmonParser.sniff('# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n')).toBe(0);
  });
});

describe('dmonParser: dcgmi dmon', () => {
  it('converts DCP ratios to percent, dates iterations from --time, and synthesises ids for unknown indexes', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-dcp-ratios.txt'), { defaultTimeMs: T0 });
    expect(out.rejects).toEqual([]);
    expect(out.rows).toEqual([
      { ...synthetic(null, 0), time_ms: T0, values: { gr_engine_active: 0, tensor_active: 0, dram_active: 0 } },
      { ...synthetic(null, 0), time_ms: T0 + 1000, values: { gr_engine_active: 41.2, tensor_active: 28.7, dram_active: 9.5 } },
      { ...synthetic(null, 0), time_ms: T0 + 2000, values: { gr_engine_active: 99.7, tensor_active: 87.1, dram_active: 31.8 } },
      { ...synthetic(null, 0), time_ms: T0 + 3000, values: { gr_engine_active: 99.6, tensor_active: 86.9, dram_active: 32.2 } },
    ]);
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toMatch(/default interval of 1 s/);
    expect(out.warnings[1]).toMatch(/GPU index 0 on an unnamed host not known yet/);
    expect(out.warnings[1]).toMatch(/idx:unknown-host:0/);
    expect(out.warnings[1]).toMatch(/--gpu-map/);
    expect(out.warnings[1]).toMatch(/dcgm-exporter/);
    expect(out.warnings[1]).toMatch(/--host/);
  });

  it('skips the header repeated after 15 iterations and maps known indexes through the resolver', async () => {
    const resolver = staticResolver([gpu('node-a', 0, 'GPU-aaaa'), gpu('node-a', 1, 'GPU-bbbb')]);
    const out = await runParser(dmonParser, fixture('dcgmi-repeated-header.txt'), { defaultTimeMs: T0, intervalMs: 5000, host: 'node-a', resolver });
    expect(out.rejects).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.rows).toHaveLength(34);
    expect(out.rows.every((r) => r.gpu_uuid === (r.gpu_index === 0 ? 'GPU-aaaa' : 'GPU-bbbb'))).toBe(true);
    expect(out.rows[0]).toEqual({ ...gpu('node-a', 0, 'GPU-aaaa'), time_ms: T0, values: { power_usage: 250, gpu_temp: 60, sm_clock_mhz: 1410 } });
    // Iteration 15 comes right after the repeated header; 16 is the last.
    expect(out.rows[31]).toEqual({
      ...gpu('node-a', 1, 'GPU-bbbb'),
      time_ms: T0 + 15 * 5000,
      values: { power_usage: 195.5, gpu_temp: 55, sm_clock_mhz: 1395 },
    });
    expect(out.rows[32]).toEqual({
      ...gpu('node-a', 0, 'GPU-aaaa'),
      time_ms: T0 + 16 * 5000,
      values: { power_usage: 266.016, gpu_temp: 61, sm_clock_mhz: 1410 },
    });
  });

  it('emits nothing for all-N/A rows but still counts their iteration', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-na-first-rows.txt'), { defaultTimeMs: T0, intervalMs: 1000, host: 'node-a' });
    expect(out.rejects).toEqual([]);
    expect(brief(out.rows)).toEqual([
      [0, 1, { sm_active: 81.2, sm_occupancy: 43.3, power_usage: 301.25 }],
      [1, 1, { power_usage: 88.125 }],
      [0, 2, { sm_active: 80.5, sm_occupancy: 43.1, power_usage: 299.75 }],
      [1, 2, { sm_active: 0.2, sm_occupancy: 0.1, power_usage: 88 }],
    ]);
    expect(out.rows[0]!.gpu_uuid).toBe('idx:node-a:0');
    expect(out.warnings).toEqual([expect.stringMatching(/GPU indexes 0, 1 on host node-a not known yet.*idx:node-a:0, idx:node-a:1/)]);
  });

  it('handles descending entity order', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-descending-entities.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects).toEqual([]);
    expect(brief(out.rows)).toEqual([
      [3, 0, { power_usage: 130, gpu_temp: 43 }],
      [2, 0, { power_usage: 120, gpu_temp: 42 }],
      [1, 0, { power_usage: 110, gpu_temp: 41 }],
      [0, 0, { power_usage: 100, gpu_temp: 40 }],
      [3, 1, { power_usage: 131, gpu_temp: 43 }],
      [2, 1, { power_usage: 121, gpu_temp: 42 }],
      [1, 1, { power_usage: 111, gpu_temp: 41 }],
      [0, 1, { power_usage: 101, gpu_temp: 40 }],
    ]);
  });

  it('accepts the Ctrl-C tail (sic) and blank lines without rejects', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-stopped-by-signal.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects).toEqual([]);
    expect(brief(out.rows)).toEqual([
      [0, 0, { gpu_util: 90, gpu_temp: 71 }],
      [0, 1, { gpu_util: 91, gpu_temp: 71 }],
      [0, 2, { gpu_util: 92, gpu_temp: 71 }],
    ]);
  });

  it('keeps GPU-I / GPU-CI rows as other samples labelled with their entity', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-mig-entities.txt'), { defaultTimeMs: T0, intervalMs: 1000, host: 'node-m' });
    expect(out.rejects).toEqual([]);
    expect(brief(out.rows)).toEqual([
      [0, 0, { sm_active: 50, fb_used_mib: 20480 }],
      [0, 1, { sm_active: 50.1, fb_used_mib: 20480 }],
    ]);
    expect(out.others).toEqual([
      { time_ms: T0, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.SMACT', value: 0.25, labels: { entity: 'GPU-I 3' } },
      { time_ms: T0, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.FBUSD', value: 10240, labels: { entity: 'GPU-I 3' } },
      { time_ms: T0, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.SMACT', value: 0.12, labels: { entity: 'GPU-CI 1' } },
      { time_ms: T0 + 1000, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.SMACT', value: 0.251, labels: { entity: 'GPU-I 3' } },
      { time_ms: T0 + 1000, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.FBUSD', value: 10240, labels: { entity: 'GPU-I 3' } },
      { time_ms: T0 + 1000, gpu_uuid: null, host: 'node-m', metric: 'dcgmi.SMACT', value: 0.121, labels: { entity: 'GPU-CI 1' } },
    ]);
  });

  it.each(['dcgmi-header-entity-id.txt', 'dcgmi-header-hash-id.txt', 'dcgmi-header-entityid-one-line.txt'])(
    'reads the older header spelling in %s',
    async (name) => {
      const out = await runParser(dmonParser, fixture(name), { defaultTimeMs: T0, intervalMs: 1000 });
      expect(out.rejects).toEqual([]);
      expect(brief(out.rows)).toEqual([
        [0, 0, { power_usage: 45.25, gpu_temp: 38 }],
        [0, 1, { power_usage: 46, gpu_temp: 39 }],
      ]);
    },
  );

  it('maps health fields, drops an unsupported 0 °C memory temperature, and keeps unknown names as dcgmi.<NAME>', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-health-fields.txt'), { defaultTimeMs: T0, intervalMs: 1000, host: 'node-b' });
    expect(out.rejects).toEqual([]);
    expect(out.rows).toEqual([
      {
        ...synthetic('node-b', 0),
        time_ms: T0,
        values: {
          power_usage: 412.337,
          gpu_temp: 67,
          xid_last: 79,
          power_violation_us: 1523000,
          thermal_violation_us: 0,
          ecc_sbe_volatile: 12,
          ecc_dbe_volatile: 1,
          fb_used_mib: 40960,
          fb_free_mib: 40000,
          throttle_reasons: 4,
        },
      },
      {
        ...synthetic('node-b', 1),
        time_ms: T0,
        values: {
          power_usage: 398.002,
          gpu_temp: 65,
          memory_temp: 72,
          xid_last: 0,
          power_violation_us: 0,
          thermal_violation_us: 250,
          ecc_sbe_volatile: 0,
          ecc_dbe_volatile: 0,
          fb_used_mib: 1024,
          fb_free_mib: 79896,
          throttle_reasons: 0,
        },
      },
    ]);
    expect(out.others).toEqual([
      { time_ms: T0, gpu_uuid: 'idx:node-b:0', host: 'node-b', metric: 'dcgmi.PCITX', value: 123456789, labels: { entity: 'GPU 0' } },
    ]);
  });

  it('rejects malformed rows with their line numbers and keeps the time grid of the rows around them', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-malformed-rows.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [6, 'expected 2 values after "GPU 1" (POWER TMPTR), found 1'],
      [7, 'non-numeric value "20x.500" for POWER'],
      [8, 'not a dcgmi dmon row: expected an entity (GPU 0, GPU-I 3, …) and then one value per column'],
      [11, 'expected 2 values after "GPU 1" (POWER TMPTR), found 3'],
    ]);
    expect(out.rejects[0]!.text).toBe('GPU 1     151.000');
    expect(brief(out.rows)).toEqual([
      [0, 0, { power_usage: 200, gpu_temp: 50 }],
      [1, 0, { power_usage: 150, gpu_temp: 45 }],
      [0, 1, { power_usage: 201, gpu_temp: 51 }],
      [1, 2, { power_usage: 152, gpu_temp: 47 }],
      [0, 3, { power_usage: 203, gpu_temp: 53 }],
    ]);
  });

  it('rejects data before the first header', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-data-before-header.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[1, 'data before any dmon header (#Entity … or # gpu …)']]);
    expect(brief(out.rows)).toEqual([[0, 0, { power_usage: 56 }]]);
  });

  it('throws an InputError before emitting anything when there is no --time', async () => {
    for (const name of ['dcgmi-dcp-ratios.txt', 'dcgmi-data-before-header.txt', 'nvsmi-dmon-default.txt']) {
      const sink = recordingSink();
      const run = dmonParser.parse(linesOf(fixture(name)), context({ intervalMs: 1000 }), sink);
      await expect(run, name).rejects.toThrow(InputError);
      await expect(dmonParser.parse(linesOf(fixture(name)), context(), recordingSink())).rejects.toThrow(
        'dmon output has no timestamps: pass --time <start> (and --interval)',
      );
      expect([sink.rows, sink.others, sink.rejects, sink.warnings]).toEqual([[], [], [], []]);
    }
  });

  it('warns that an mtime is probably the end of the recording', async () => {
    const out = await runParser(dmonParser, fixture('dcgmi-dcp-ratios.txt'), { defaultTimeMs: T0, defaultTimeSource: 'mtime', intervalMs: 1000 });
    expect(out.warnings).toContainEqual(expect.stringMatching(/mtime .*late by up to 3 s — pass --time <start>/));
  });
});

describe('dmonParser: nvidia-smi dmon', () => {
  it('maps the default columns; sm is GPU utilisation; other columns become nvsmi.<name>', async () => {
    const resolver = staticResolver([gpu('node-a', 0, 'GPU-aaaa')]);
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-default.txt'), { defaultTimeMs: T0, host: 'node-a', resolver });
    expect(out.rejects).toEqual([]);
    expect(out.rows).toHaveLength(6);
    expect(out.rows[0]).toEqual({
      ...gpu('node-a', 0, 'GPU-aaaa'),
      time_ms: T0,
      values: { power_usage: 612, gpu_temp: 61, memory_temp: 55, gpu_util: 100, mem_copy_util: 11, mem_clock_mhz: 2619, sm_clock_mhz: 1980 },
    });
    expect(out.rows[5]).toEqual({
      ...synthetic('node-a', 1),
      time_ms: T0 + 2000,
      values: { power_usage: 402, gpu_temp: 47, memory_temp: 49, gpu_util: 87, mem_copy_util: 7, mem_clock_mhz: 2619, sm_clock_mhz: 1755 },
    });
    expect(out.others).toHaveLength(24);
    expect(out.others.slice(0, 4)).toEqual(
      ['enc', 'dec', 'jpg', 'ofa'].map((n) => ({ time_ms: T0, gpu_uuid: 'GPU-aaaa', host: 'node-a', metric: `nvsmi.${n}`, value: 0, labels: { gpu: '0' } })),
    );
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toMatch(/nvidia-smi dmon -d 1/);
    expect(out.warnings[1]).toMatch(
      /^test-input: GPU index 1 on host node-a not known yet; rows stored under synthetic ids idx:node-a:1\. Map them to UUIDs with --gpu-map/,
    );
  });

  it('treats "-" as not available', async () => {
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-dashes.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects).toEqual([]);
    expect(brief(out.rows)).toEqual([
      [0, 0, { power_usage: 34, gpu_temp: 41, gpu_util: 0, mem_copy_util: 3, mem_clock_mhz: 6250, sm_clock_mhz: 2040 }],
      [0, 1, { power_usage: 71, gpu_temp: 52, gpu_util: 98, mem_copy_util: 3, mem_clock_mhz: 6250, sm_clock_mhz: 2040 }],
    ]);
    expect(out.others.map((o) => o.metric)).toEqual(['nvsmi.enc', 'nvsmi.dec', 'nvsmi.jpg', 'nvsmi.enc', 'nvsmi.dec', 'nvsmi.jpg']);
  });

  it('uses the -o DT local date and time (no --time needed)', async () => {
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-o-dt.txt'), { tz: 'America/New_York' });
    expect(out.rejects).toEqual([]);
    const base = Date.parse('2025-02-23T21:24:18Z');
    expect(out.rows.map((r) => [r.gpu_index, r.time_ms - base, r.values.power_usage])).toEqual([
      [0, 0, 631],
      [1, 0, 640],
      [0, 1000, 634],
      [1, 1000, 638],
    ]);
    expect(out.rows[3]!.values).toEqual({
      power_usage: 638,
      gpu_temp: 64,
      memory_temp: 58,
      gpu_util: 100,
      mem_copy_util: 9,
      mem_clock_mhz: 2619,
      sm_clock_mhz: 1980,
    });
    expect(out.warnings.some((w) => /interval/.test(w))).toBe(false);
  });

  it('takes the date of -o T rows from --time and rolls over at midnight', async () => {
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-o-t-midnight.txt'), { defaultTimeMs: Date.parse('2025-02-23T12:00:00Z') });
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => new Date(r.time_ms).toISOString())).toEqual([
      '2025-02-23T23:59:58.000Z',
      '2025-02-23T23:59:59.000Z',
      '2025-02-24T00:00:00.000Z',
      '2025-02-24T00:00:01.000Z',
    ]);
    expect(out.rows[2]!.values).toEqual({ power_usage: 302, gpu_temp: 61, gpu_util: 92 });
    await expect(runParser(dmonParser, fixture('nvsmi-dmon-o-t-midnight.txt'))).rejects.toThrow(InputError);
  });

  it('maps fb to fb_used_mib and keeps pviol/tviol/bar1/ccpm in metrics_other', async () => {
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-s-pucvm.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rows[0]!.values).toEqual({
      power_usage: 655,
      gpu_temp: 71,
      memory_temp: 66,
      gpu_util: 100,
      mem_copy_util: 34,
      mem_clock_mhz: 2619,
      sm_clock_mhz: 1755,
      fb_used_mib: 64512,
    });
    expect(Object.fromEntries(out.others.map((o) => [o.metric, o.value]))).toEqual({
      'nvsmi.enc': 0,
      'nvsmi.dec': 0,
      'nvsmi.jpg': 0,
      'nvsmi.ofa': 0,
      'nvsmi.pviol': 12,
      'nvsmi.tviol': 0,
      'nvsmi.bar1': 17,
      'nvsmi.ccpm': 0,
    });
  });

  it('rejects malformed rows and keeps the valid ones around them on the time grid', async () => {
    const out = await runParser(dmonParser, fixture('nvsmi-dmon-malformed.txt'), { defaultTimeMs: T0, intervalMs: 1000 });
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [4, 'expected 3 values after GPU index 0 (pwr gtemp sm), found 2'],
      [5, 'non-numeric value "ERR!" for gtemp'],
    ]);
    expect(brief(out.rows)).toEqual([
      [0, 0, { power_usage: 300, gpu_temp: 60, gpu_util: 90 }],
      [0, 3, { power_usage: 303, gpu_temp: 61, gpu_util: 93 }],
    ]);
  });

  it('refuses nvidia-smi pmon output', async () => {
    await expect(runParser(dmonParser, fixture('nvsmi-pmon.txt'), { defaultTimeMs: T0 })).rejects.toThrow(/pmon/);
  });
});
