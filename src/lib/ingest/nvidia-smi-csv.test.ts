import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import type { GpuIdentity } from '../schema.js';
import { context, recordingSink, runParser, staticResolver } from '../../../test/helpers/parse.js';
import { nvidiaSmiCsvParser as parser, parseSmiTimestamp } from './nvidia-smi-csv.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/nvidia-smi/${name}`, import.meta.url), 'utf8');

const GPU0 = 'GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80';
const GPU1 = 'GPU-a1e0f4d3-77c2-4e19-8c55-0b9d3e6f2a14';
const utc = (iso: string): number => Date.parse(iso);

function known(over: Partial<GpuIdentity>): GpuIdentity {
  return { gpu_uuid: 'GPU-x', host: null, gpu_index: null, model: null, pci_bus_id: null, driver_version: null, ...over };
}

describe('nvidia-smi --query-gpu CSV: the full H100 field list with units', () => {
  it('maps every canonical field, converts units and keeps each row at its own millisecond', async () => {
    const out = await runParser(parser, fixture('h100-full-field-list.csv'), { host: 'gpu-node-07' });
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => [r.gpu_uuid, r.time_ms])).toEqual([
      [GPU0, utc('2025-07-14T08:12:53.353Z')],
      [GPU1, utc('2025-07-14T08:12:53.356Z')],
      [GPU0, utc('2025-07-14T08:13:03.360Z')],
      [GPU1, utc('2025-07-14T08:13:03.362Z')],
    ]);
    const [r0, r1] = out.rows;
    expect(r0).toEqual({
      gpu_uuid: GPU0,
      host: 'gpu-node-07',
      gpu_index: 0,
      model: 'NVIDIA H100 80GB HBM3',
      pci_bus_id: '0000:18:00.0',
      driver_version: '570.133.20',
      time_ms: utc('2025-07-14T08:12:53.353Z'),
      values: {
        gpu_temp: 61,
        memory_temp: 57,
        power_usage: 612.4,
        power_limit: 700,
        gpu_util: 98,
        mem_copy_util: 37,
        sm_clock_mhz: 1755,
        mem_clock_mhz: 2619,
        fb_used_mib: 71234,
        fb_free_mib: 9846,
        throttle_reasons: 0,
        ecc_sbe_volatile: 3,
        ecc_dbe_volatile: 0,
        ecc_sbe_aggregate: 12,
        ecc_dbe_aggregate: 0,
        retired_pages_sbe: null,
        retired_pages_dbe: null,
        retired_pages_pending: null,
        remapped_rows_correctable: 2,
        remapped_rows_uncorrectable: 0,
        row_remap_pending: 0,
        row_remap_failure: 0,
        power_violation_us: 1_250_000,
        thermal_violation_us: 2500,
      },
    });
    expect(r1!.values).toMatchObject({ throttle_reasons: 4, power_usage: 695.03, row_remap_pending: 1, power_violation_us: 98_765_432 });
    expect(r1!.pci_bus_id).toBe('0000:2a:00.0');
  });

  it('keeps other fields in metrics_other: numbers with their unit, words as 1/0, serial and vbios as text', async () => {
    const out = await runParser(parser, fixture('h100-full-field-list.csv'), { host: 'gpu-node-07' });
    const of = (metric: string) => out.others.filter((o) => o.metric === metric && o.gpu_uuid === GPU0)[0];
    expect(of('memory.total')).toEqual({
      time_ms: utc('2025-07-14T08:12:53.353Z'),
      gpu_uuid: GPU0,
      host: 'gpu-node-07',
      metric: 'memory.total',
      value: 81559,
      labels: { unit: 'MiB' },
    });
    expect(of('pstate')).toMatchObject({ value: 0, labels: {} });
    expect(of('pcie.link.gen.current')).toMatchObject({ value: 5, labels: {} });
    expect(of('persistence_mode')).toMatchObject({ value: 1 });
    expect(of('clocks_event_reasons.sw_power_cap')).toMatchObject({ value: 0 });
    expect(of('clocks_event_reasons.supported')).toMatchObject({ value: 0x1ff });
    expect(of('remapped_rows.histogram.max')).toMatchObject({ value: 2560 });
    expect(of('serial')).toMatchObject({ value: null, labels: { text: '1652223014417' } });
    expect(of('vbios_version')).toMatchObject({ value: null, labels: { text: '96.00.99.00.01' } });
    // Fields that lost to a preferred alias, and the parts of the thermal sum, stay available.
    expect(of('power.draw.average')).toMatchObject({ value: 610.95, labels: { unit: 'W' } });
    expect(of('power.draw.instant')).toMatchObject({ value: 598.12, labels: { unit: 'W' } });
    expect(of('power.limit')).toMatchObject({ value: 700 });
    expect(of('clocks_event_reasons_counters.sw_thermal_slowdown')).toMatchObject({ value: 2000, labels: { unit: 'us' } });
    expect(of('clocks_event_reasons_counters.hw_thermal_slowdown')).toMatchObject({ value: 500 });
    // Canonical and identity fields are not repeated; missing values produce no sample.
    const metrics = new Set(out.others.map((o) => o.metric));
    for (const m of ['power.draw', 'temperature.gpu', 'uuid', 'timestamp', 'hostname', 'fan.speed', 'memory.used', 'index']) {
      expect(metrics.has(m), m).toBe(false);
    }
    expect(out.others.every((o) => o.value !== null || o.labels.text !== undefined)).toBe(true);
  });

  it('counts the pure-text fields it drops in one warning', async () => {
    const out = await runParser(parser, fixture('h100-full-field-list.csv'));
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/text values of \d+ fields not kept \(.*compute_mode.*\)/);
    expect(out.warnings[0]).toContain('platform.peer_type');
  });

  it('remembers each GPU with a real uuid once', async () => {
    const seen: GpuIdentity[] = [];
    const base = staticResolver();
    await runParser(parser, fixture('h100-full-field-list.csv'), {
      host: 'gpu-node-07',
      resolver: { ...base, remember: (id) => void seen.push(id) },
    });
    expect(seen).toEqual([
      { gpu_uuid: GPU0, host: 'gpu-node-07', gpu_index: 0, model: 'NVIDIA H100 80GB HBM3', pci_bus_id: '0000:18:00.0', driver_version: '570.133.20' },
      { gpu_uuid: GPU1, host: 'gpu-node-07', gpu_index: 1, model: 'NVIDIA H100 80GB HBM3', pci_bus_id: '0000:2a:00.0', driver_version: '570.133.20' },
    ]);
  });
});

describe('nvidia-smi CSV value quirks', () => {
  it('reads nounits values with the unit from the header, bare N/A as null and P-states as numbers', async () => {
    const out = await runParser(parser, fixture('nounits-t4.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]!.values).toEqual({
      memory_temp: null,
      gpu_temp: 47,
      gpu_util: 100,
      mem_copy_util: 42,
      fb_free_mib: 1053,
      fb_used_mib: 14007,
      power_usage: 69.83,
      power_limit: 70,
      sm_clock_mhz: 1590,
      mem_clock_mhz: 5000,
      throttle_reasons: 4,
      power_violation_us: 3_187_000,
    });
    expect(out.rows[1]!.values).toMatchObject({ throttle_reasons: 1, memory_temp: null, gpu_util: 0 });
    expect(out.rows[0]!.pci_bus_id).toBe('0000:00:1e.0');
    expect(out.others.filter((o) => o.metric === 'pstate').map((o) => o.value)).toEqual([0, 8]);
    expect(out.others.find((o) => o.metric === 'memory.total')).toMatchObject({ value: 15360, labels: { unit: 'MiB' } });
  });

  it('turns every bracketed message and bare N/A into null, never 0', async () => {
    const out = await runParser(parser, fixture('null-markers.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]!.values).toEqual({
      gpu_temp: 41,
      memory_temp: null,
      power_usage: 88.24,
      power_limit: 300,
      gpu_util: null,
      fb_used_mib: 1024,
      retired_pages_pending: null,
      ecc_sbe_volatile: null,
      throttle_reasons: 1,
    });
    expect(out.rows[1]!.values).toEqual({
      gpu_temp: 39,
      memory_temp: null,
      power_usage: null,
      power_limit: null,
      gpu_util: null,
      fb_used_mib: null,
      retired_pages_pending: 0,
      ecc_sbe_volatile: 0,
      throttle_reasons: null,
    });
    expect(out.others.map((o) => [o.gpu_uuid, o.metric, o.value])).toEqual([['GPU-2e9d4b71-6c0a-4f3e-8d15-a7b6c3e90f28', 'fan.speed', 30]]);
  });

  it('folds old field names (clocks_throttle_reasons, clocks.sm, retired_pages.sbe, gpu_name, gpu_bus_id)', async () => {
    const out = await runParser(parser, fixture('throttle-aliases-r470.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows).toEqual([
      {
        gpu_uuid: 'GPU-91b7e2d0-5f3a-4c8e-b1d6-0e4a7c29f853',
        host: null,
        gpu_index: null,
        model: 'Tesla V100-SXM2-32GB',
        pci_bus_id: '0000:86:00.0',
        driver_version: null,
        time_ms: utc('2023-11-20T14:02:11.501Z'),
        values: {
          sm_clock_mhz: 1530,
          mem_clock_mhz: 877,
          throttle_reasons: 0x48,
          retired_pages_sbe: 4,
          retired_pages_dbe: 1,
          retired_pages_pending: 1,
          power_usage: 251.07,
          power_limit: 300,
        },
      },
    ]);
    expect(out.others.map((o) => [o.metric, o.value])).toEqual([
      ['clocks_event_reasons.hw_slowdown', 1],
      ['clocks_event_reasons.sw_thermal_slowdown', 0],
    ]);
  });

  it('prefers power.draw, then .average, then .instant, and enforced.power.limit over power.limit', async () => {
    const out = await runParser(parser, fixture('power-variants.csv'));
    expect(out.rows.map((r) => [r.values.power_usage, r.values.power_limit])).toEqual([
      [612.4, 700],
      [611.5, 650],
      [605.25, null],
    ]);
    expect(out.others.filter((o) => o.time_ms === utc('2025-05-06T10:00:10.001Z')).map((o) => [o.metric, o.value])).toEqual([['power.draw.instant', 601]]);
  });

  it('converts memory, clock and counter units to MiB, MHz and µs', async () => {
    const out = await runParser(parser, fixture('memory-units-converted.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]!.values).toEqual({ fb_used_mib: 1536, fb_free_mib: 2, sm_clock_mhz: 1980, power_violation_us: 2000 });
  });

  it('accepts a bare comma as separator', async () => {
    const out = await runParser(parser, fixture('bare-comma.csv'));
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]!.values).toEqual({ gpu_temp: 55, power_usage: 402.18, gpu_util: 97 });
  });

  it('takes the host from a hostname column only when --host is not given', async () => {
    const text = 'timestamp, uuid, hostname, temperature.gpu\n2025/05/06 10:00:00.001, GPU-1, dgx-b07, 50\n2025/05/06 10:00:00.002, GPU-2, [N/A], 51\n';
    expect((await runParser(parser, text)).rows.map((r) => r.host)).toEqual(['dgx-b07', null]);
    expect((await runParser(parser, text, { host: 'cli-host' })).rows.map((r) => r.host)).toEqual(['cli-host', 'cli-host']);
  });
});

describe('nvidia-smi CSV lines and headers', () => {
  it('reads CRLF lines and a file without a final newline', async () => {
    const text = fixture('crlf-no-final-newline.csv');
    expect(text.endsWith('\n')).toBe(false);
    expect(text).toContain('\r\n');
    const out = await runParser(parser, text);
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => [r.gpu_uuid, r.values.power_usage, r.values.gpu_util])).toEqual([
      ['GPU-0c5e8a21-94b3-4f6e-a2d7-7e1b90c4f355', 61.32, 0],
      ['GPU-5d71b0e9-3a2c-48f1-b6e4-c90f2d8a7b16', 58.07, 0],
    ]);
  });

  it('strips a trailing \\r itself when the reader hands lines over with it', async () => {
    const sink = recordingSink();
    async function* lines(): AsyncIterable<string> {
      yield 'timestamp, uuid, power.draw [W]\r';
      yield '2025/05/06 10:00:00.001, GPU-1, 402.18 W\r';
    }
    await parser.parse(lines(), context(), sink);
    expect(sink.rejects).toEqual([]);
    expect(sink.rows[0]!.values).toEqual({ power_usage: 402.18 });
  });

  it('re-reads a repeated header (concatenated runs), even with other fields', async () => {
    const out = await runParser(parser, fixture('repeated-header.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => r.values)).toEqual([
      { gpu_temp: 55 },
      { gpu_temp: 56 },
      { gpu_temp: 60, power_usage: 402.18 },
      { gpu_temp: 61, power_usage: 410 },
    ]);
  });

  it('rejects malformed rows with their line number and keeps the valid rows around them', async () => {
    const out = await runParser(parser, fixture('malformed-rows.csv'));
    expect(out.rows.map((r) => r.time_ms)).toEqual([utc('2025-05-06T10:00:00.001Z'), utc('2025-05-06T10:00:30.004Z'), utc('2025-05-06T10:01:10.008Z')]);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'expected 6 fields (header on line 1), found 4'],
      [4, 'power.draw: "4o3.50 W" is not a number'],
      [7, 'timestamp: cannot read "2025/13/06 10:00:40.005" (expected YYYY/MM/DD HH:MM:SS.mmm)'],
      [8, 'memory.used: unexpected unit "GB" in "71 GB"'],
      [9, 'fan.speed: "fast" is not a number'],
    ]);
    expect(out.rejects[0]!.text).toBe('2025/05/06 10:00:10.002, GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80, 56, 403.00 W');
    // Nothing from a rejected row leaks into metrics_other.
    expect(out.others.map((o) => o.value)).toEqual([30, 30, 31]);
  });

  it('throws an InputError for noheader output', async () => {
    await expect(runParser(parser, fixture('noheader.csv'))).rejects.toThrow(InputError);
    await expect(runParser(parser, fixture('noheader.csv'))).rejects.toThrow(/has no header line; re-run nvidia-smi without noheader/);
  });

  it('rejects data lines before a late header but reads the rest', async () => {
    const text = `2025/05/06 09:59:50.000, ${GPU0}, 54\ntimestamp, uuid, temperature.gpu\n2025/05/06 10:00:00.001, ${GPU0}, 55\n`;
    const out = await runParser(parser, text);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[1, 'data line before any header line (was the file written with noheader?)']]);
    expect(out.rows).toHaveLength(1);
  });

  it('reads nothing from an empty file and does not throw', async () => {
    const out = await runParser(parser, '');
    expect(out).toEqual({ rows: [], others: [], xids: [], rejects: [], warnings: [] });
  });
});

describe('nvidia-smi CSV time', () => {
  it('reads local timestamps in --tz across both DST changes (ambiguous hour takes the first)', async () => {
    const out = await runParser(parser, fixture('dst-new-york.csv'), { tz: 'America/New_York' });
    expect(out.rows.map((r) => new Date(r.time_ms).toISOString())).toEqual([
      '2025-03-09T06:59:59.500Z', // EST, -05:00
      '2025-03-09T07:00:00.250Z', // EDT, -04:00
      '2025-07-14T12:12:53.353Z',
      '2025-11-02T04:30:00.000Z',
      '2025-11-02T05:30:00.000Z', // 01:30 happens twice; the first (EDT)
      '2025-11-02T07:30:00.000Z', // EST again
    ]);
  });

  it('reads the same file as UTC when --tz is UTC', async () => {
    const out = await runParser(parser, fixture('dst-new-york.csv'), { tz: 'UTC' });
    expect(out.rows[0]!.time_ms).toBe(utc('2025-03-09T01:59:59.500Z'));
  });

  it('uses the default time without a timestamp column, and warns once', async () => {
    const t = utc('2025-05-06T10:00:00Z');
    const out = await runParser(parser, fixture('no-timestamp.csv'), { defaultTimeMs: t, defaultTimeSource: 'file name' });
    expect(out.rows.map((r) => [r.gpu_uuid, r.time_ms])).toEqual([
      [GPU0, t],
      [GPU1, t],
    ]);
    expect(out.warnings).toEqual(['test-input: no timestamp column; every row takes the file name time']);
  });

  it('rejects every row without a timestamp column or a default time', async () => {
    const out = await runParser(parser, fixture('no-timestamp.csv'));
    expect(out.rows).toEqual([]);
    expect(out.rejects.map((r) => r.line)).toEqual([2, 3]);
    expect(out.rejects[0]!.reason).toBe('no timestamp column and no default time; add timestamp to --query-gpu or pass --time');
  });

  it('parseSmiTimestamp rejects impossible dates and keeps milliseconds', () => {
    expect(parseSmiTimestamp('2025/02/29 00:00:00.000', 'UTC')).toBeNull();
    expect(parseSmiTimestamp('2025/02/28 24:00:00.000', 'UTC')).toBeNull();
    expect(parseSmiTimestamp('2025/02/28 23:59:59', 'UTC')).toBe(utc('2025-02-28T23:59:59Z'));
    expect(parseSmiTimestamp('2025/02/28 23:59:59.007', 'UTC')).toBe(utc('2025-02-28T23:59:59.007Z'));
  });
});

describe('nvidia-smi CSV GPU identity without a uuid column', () => {
  it('uses the uuid of a GPU the lake knows at that host and PCI address', async () => {
    const resolver = staticResolver([known({ gpu_uuid: GPU0, host: 'gpu-node-07', pci_bus_id: '0000:18:00.0', gpu_index: 0, driver_version: '570.133.20' })]);
    const out = await runParser(parser, fixture('no-uuid-pci.csv'), { host: 'gpu-node-07', resolver });
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]).toMatchObject({
      gpu_uuid: GPU0,
      host: 'gpu-node-07',
      gpu_index: 0,
      pci_bus_id: '0000:18:00.0',
      model: 'NVIDIA H100 80GB HBM3',
      driver_version: '570.133.20',
    });
    expect(out.rows[1]).toMatchObject({ gpu_uuid: 'pci:gpu-node-07:0000:2a:00.0', gpu_index: 1, pci_bus_id: '0000:2a:00.0' });
  });

  it('synthesises pci:<host>:<bus id>, with unknown-host when --host is missing', async () => {
    const out = await runParser(parser, fixture('no-uuid-pci.csv'));
    expect(out.rows.map((r) => r.gpu_uuid)).toEqual(['pci:unknown-host:0000:18:00.0', 'pci:unknown-host:0000:2a:00.0']);
  });

  it('does not remember synthesised identities', async () => {
    const seen: GpuIdentity[] = [];
    await runParser(parser, fixture('no-uuid-pci.csv'), { resolver: { ...staticResolver(), remember: (id) => void seen.push(id) } });
    expect(seen).toEqual([]);
  });

  it('falls back to a known index, and rejects rows it cannot identify', async () => {
    const resolver = staticResolver([known({ gpu_uuid: GPU0, host: 'gpu-node-07', gpu_index: 0, pci_bus_id: '0000:18:00.0' })]);
    const out = await runParser(parser, fixture('index-only.csv'), { host: 'gpu-node-07', resolver });
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ gpu_uuid: GPU0, gpu_index: 0, pci_bus_id: '0000:18:00.0', values: { gpu_temp: 55, gpu_util: 97 } });
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[3, 'no uuid, pci.bus_id or known index to identify the GPU']]);
  });

  it('rejects an unreadable pci.bus_id when there is no uuid', async () => {
    const out = await runParser(parser, 'timestamp, pci.bus_id, temperature.gpu\n2025/05/06 10:00:00.001, slot-3, 50\n');
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[2, 'pci.bus_id: cannot read "slot-3"']]);
  });
});

describe('nvidia-smi CSV sniff', () => {
  it('is sure about nvidia-smi headers', () => {
    expect(parser.sniff(fixture('h100-full-field-list.csv').slice(0, 65536))).toBe(0.9);
    expect(parser.sniff(fixture('nounits-t4.csv'))).toBe(0.9);
    expect(parser.sniff(fixture('no-uuid-pci.csv'))).toBe(0.9);
    expect(parser.sniff('\n\ntemperature.gpu, utilization.gpu [%]\n')).toBe(0.9);
    expect(parser.sniff('uuid\nGPU-1\n')).toBe(0.9);
  });

  it('declines other formats', () => {
    expect(parser.sniff(fixture('noheader.csv'))).toBe(0);
    expect(parser.sniff('time,gpu_uuid,host,gpu_index,gpu_temp,power_usage\n')).toBe(0);
    expect(parser.sniff('time,gpu_id,host_id,temp_gpu,power_draw\n')).toBe(0);
    expect(parser.sniff('# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n')).toBe(0);
    expect(parser.sniff('#Entity   GPUTL\nID\n')).toBe(0);
    expect(parser.sniff('')).toBe(0);
  });
});
