import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import type { GpuIdentity } from '../schema.js';
import { context, recordingSink, runParser, staticResolver } from '../../../test/helpers/parse.js';
import { csvExportParser as parser, parseExportTime, parseThrottle } from './csv-export.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/csv/${name}`, import.meta.url), 'utf8');

const GPU0 = 'GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80';
const GPU1 = 'GPU-a1e0f4d3-77c2-4e19-8c55-0b9d3e6f2a14';
const utc = (iso: string): number => Date.parse(iso);

describe('CSV export: the PoC TimescaleDB table gpu_health_metrics', () => {
  it('maps every PoC column to the canonical schema', async () => {
    const out = await runParser(parser, fixture('poc-gpu-health-metrics.csv'), { host: 'ignored-when-host_id-is-set' });
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]).toEqual({
      gpu_uuid: GPU0,
      host: 'node-a01',
      gpu_index: null,
      model: null,
      pci_bus_id: null,
      driver_version: null,
      time_ms: utc('2025-03-01T12:00:00Z'),
      values: {
        gpu_temp: 64,
        memory_temp: 58,
        power_usage: 612.4,
        power_limit: 700,
        gpu_util: 98,
        mem_copy_util: 41,
        fb_used_mib: 71234,
        fb_free_mib: 81559 - 71234,
        ecc_sbe_volatile: 3,
        ecc_dbe_volatile: 0,
        sm_clock_mhz: 1755,
        mem_clock_mhz: 2619,
        throttle_reasons: 0,
      },
    });
    expect(out.others.filter((o) => o.time_ms === utc('2025-03-01T12:00:00Z'))).toEqual([
      { time_ms: utc('2025-03-01T12:00:00Z'), gpu_uuid: GPU0, host: 'node-a01', metric: 'temp_hotspot', value: 79.5, labels: { unit: '°C' } },
      { time_ms: utc('2025-03-01T12:00:00Z'), gpu_uuid: GPU0, host: 'node-a01', metric: 'memory_total_mib', value: 81559, labels: { unit: 'MiB' } },
    ]);
  });

  it('reads PostgreSQL timestamps (+00, +00:00 with microseconds, -05, no zone)', async () => {
    const out = await runParser(parser, fixture('poc-gpu-health-metrics.csv'));
    expect(out.rows.map((r) => new Date(r.time_ms).toISOString())).toEqual([
      '2025-03-01T12:00:00.000Z',
      '2025-03-01T12:00:10.123Z',
      '2025-03-01T12:00:20.000Z',
      '2025-03-01T12:00:30.000Z',
      '2025-03-01T12:00:40.000Z',
      '2025-03-01T12:00:50.000Z',
      '2025-03-01T12:01:00.000Z',
    ]);
  });

  it('reads throttle_reason as integer, hex, reason names and lists of names', async () => {
    const out = await runParser(parser, fixture('poc-gpu-health-metrics.csv'));
    expect(out.rows.map((r) => r.values.throttle_reasons)).toEqual([0, 0x4, 0x4, 0x4 | 0x8, 0x40 | 0x20, null, null]);
  });

  it('keeps empty fields as null (never 0) and derives fb_free_mib only when used and total are both known', async () => {
    const out = await runParser(parser, fixture('poc-gpu-health-metrics.csv'));
    expect(out.rows[1]!.values.memory_temp).toBeNull();
    expect(out.rows[6]).toMatchObject({ gpu_uuid: GPU1, host: 'node-a01' });
    expect(out.rows[6]!.values).toEqual({
      gpu_temp: 53,
      memory_temp: null,
      power_usage: null,
      power_limit: null,
      gpu_util: null,
      mem_copy_util: null,
      fb_used_mib: null,
      ecc_sbe_volatile: null,
      ecc_dbe_volatile: null,
      sm_clock_mhz: null,
      mem_clock_mhz: null,
      throttle_reasons: null,
    });
    expect(out.others.filter((o) => o.time_ms === utc('2025-03-01T12:01:00Z'))).toEqual([]);
  });

  it('remembers each GPU once for later sources in the run', async () => {
    const seen: GpuIdentity[] = [];
    await runParser(parser, fixture('poc-gpu-health-metrics.csv'), { resolver: { ...staticResolver(), remember: (id) => void seen.push(id) } });
    expect(seen.map((s) => [s.gpu_uuid, s.host])).toEqual([
      [GPU0, 'node-a01'],
      [GPU1, 'node-a01'],
    ]);
  });
});

describe('CSV export: the lake column names', () => {
  it('reads any subset in any order, ISO and epoch times, PostgreSQL booleans', async () => {
    const out = await runParser(parser, fixture('lake-columns.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows[0]).toEqual({
      gpu_uuid: GPU0,
      host: 'gpu-node-07',
      gpu_index: 0,
      model: 'NVIDIA H100 80GB HBM3',
      pci_bus_id: '0000:18:00.0',
      driver_version: '570.133.20',
      time_ms: utc('2025-06-01T00:00:00Z'),
      values: {
        gpu_temp: 61,
        power_usage: 612.4,
        fb_used_mib: 71234,
        fb_free_mib: 9846,
        throttle_reasons: 4,
        ecc_dbe_aggregate: 0,
        row_remap_pending: 0,
        xid_last: null,
        sm_active: 87.5,
        thermal_violation_us: 2500,
      },
    });
    expect(out.rows.map((r) => r.time_ms)).toEqual([utc('2025-06-01T00:00:00Z'), utc('2025-06-01T00:00:10Z'), utc('2025-06-01T00:00:20.250Z')]);
    expect(out.rows.map((r) => r.values.row_remap_pending)).toEqual([0, 1, 1]);
    expect(out.rows[2]!.values).toMatchObject({ power_usage: null, throttle_reasons: null, ecc_dbe_aggregate: 1, xid_last: 79, sm_active: null });
    expect(out.others).toEqual([]);
  });

  it('takes --host when the file has no host column', async () => {
    const text = 'time,gpu_uuid,gpu_temp\n2025-06-01T00:00:00Z,GPU-1,50\n';
    expect((await runParser(parser, text, { host: 'cli-host' })).rows[0]!.host).toBe('cli-host');
  });

  it('skips a repeated header from concatenated exports', async () => {
    const out = await runParser(parser, fixture('concatenated-exports.csv'));
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => r.values.gpu_temp)).toEqual([64, 66]);
  });
});

describe('CSV export: RFC 4180', () => {
  it('reads quoted fields, doubled quotes, commas and line breaks inside quotes, CRLF', async () => {
    const text = fixture('quoted-rfc4180.csv');
    expect(text).toContain('\r\n');
    const out = await runParser(parser, text);
    expect(out.rejects).toEqual([]);
    expect(out.rows.map((r) => [r.time_ms, r.host, r.model, r.values.gpu_temp])).toEqual([
      [utc('2025-06-01T00:00:00Z'), 'node "a", rack 3', 'NVIDIA H100 80GB HBM3, SXM5', 61],
      [utc('2025-06-01T00:00:10Z'), 'node-a', 'NVIDIA H100 80GB HBM3', 62],
      [utc('2025-06-01T00:00:20Z'), 'node-a', 'NVIDIA H100 80GB HBM3', 63],
    ]);
  });

  it('keeps numeric unknown columns as other samples and drops text ones with a warning', async () => {
    const out = await runParser(parser, fixture('quoted-rfc4180.csv'));
    expect(out.others).toEqual([
      { time_ms: utc('2025-06-01T00:00:00Z'), gpu_uuid: GPU0, host: 'node "a", rack 3', metric: 'fan_speed', value: 35, labels: {} },
      { time_ms: utc('2025-06-01T00:00:10Z'), gpu_uuid: GPU0, host: 'node-a', metric: 'fan_speed', value: 36, labels: {} },
    ]);
    expect(out.warnings).toEqual(['test-input: non-numeric values in unknown columns not kept (notes, rack)']);
  });

  it('strips a byte-order mark and a trailing \\r the reader left on', async () => {
    const sink = recordingSink();
    async function* lines(): AsyncIterable<string> {
      yield '\uFEFFtime,gpu_uuid,gpu_temp\r';
      yield '2025-06-01 00:00:00,GPU-1,50\r';
    }
    await parser.parse(lines(), context(), sink);
    expect(sink.rejects).toEqual([]);
    expect(sink.rows[0]).toMatchObject({ gpu_uuid: 'GPU-1', time_ms: utc('2025-06-01T00:00:00Z'), values: { gpu_temp: 50 } });
  });
});

describe('CSV export: malformed input', () => {
  it('rejects bad rows with their line number and reason and keeps the rows around them', async () => {
    const out = await runParser(parser, fixture('malformed-rows.csv'));
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'temp_gpu: "sixty" is not a number'],
      [5, 'time: no value'],
      [6, 'no gpu_uuid / gpu_id'],
      [7, 'throttle_reason: unknown clock event reason "overheated"'],
      [8, 'expected 6 fields, found 4'],
      [9, 'time: cannot read "2025-02-30 12:01:10+00"'],
      [11, 'text after a closing quote in field 4'],
      [13, 'unterminated quoted field'],
    ]);
    expect(out.rejects[7]!.text).toBe('2025-03-01 12:01:30+00,"GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80,node-a01,66,614.0,0');
    // Line 14 was swallowed by line 13's open quote, and is read again once that quote never closes.
    expect(out.rows.map((r) => [new Date(r.time_ms).toISOString(), r.values.gpu_temp])).toEqual([
      ['2025-03-01T12:00:00.000Z', 64],
      ['2025-03-01T12:00:20.000Z', 65],
      ['2025-03-01T12:01:20.000Z', 66],
      ['2025-03-01T12:01:40.000Z', 67],
      ['2025-03-01T12:02:00.000Z', 68],
    ]);
  });

  it('gives up on an open quote after 100 lines and reads the lines after it', async () => {
    const good = (i: number) => `2025-03-01 12:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+00,GPU-1,${i}`;
    const lines = ['time,gpu_uuid,gpu_temp', '2025-03-01 11:59:00+00,"GPU-1,1', ...Array.from({ length: 150 }, (_, i) => good(i))];
    const out = await runParser(parser, lines.join('\n'));
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([[2, 'unterminated quoted field']]);
    expect(out.rows).toHaveLength(150);
    expect(out.rows[0]!.values.gpu_temp).toBe(0);
  });

  it('throws an InputError when there is no header row or no time / GPU column', async () => {
    await expect(runParser(parser, fixture('no-header.csv'))).rejects.toThrow(InputError);
    await expect(runParser(parser, fixture('no-header.csv'))).rejects.toThrow(/has no "time" column/);
    await expect(runParser(parser, 'time,host,gpu_temp\n2025-06-01,a,50\n')).rejects.toThrow(/no "gpu_uuid" or "gpu_id" column/);
  });

  it('reads nothing from an empty file', async () => {
    expect(await runParser(parser, '')).toEqual({ rows: [], others: [], xids: [], rejects: [], warnings: [] });
  });
});

describe('CSV export helpers', () => {
  it('parseExportTime', () => {
    expect(parseExportTime('2025-03-01 12:00:00+00')).toBe(utc('2025-03-01T12:00:00Z'));
    expect(parseExportTime('2025-03-01 12:00:00.123456+00:00')).toBe(utc('2025-03-01T12:00:00.123Z'));
    expect(parseExportTime('2025-03-01 17:30:00+05:30')).toBe(utc('2025-03-01T12:00:00Z'));
    expect(parseExportTime('2025-03-01 12:00:00')).toBe(utc('2025-03-01T12:00:00Z'));
    expect(parseExportTime('2025-03-01T12:00:00Z')).toBe(utc('2025-03-01T12:00:00Z'));
    expect(parseExportTime('2025-03-01')).toBe(utc('2025-03-01T00:00:00Z'));
    expect(parseExportTime('1740830400')).toBe(utc('2025-03-01T12:00:00Z'));
    expect(parseExportTime('1740830400.5')).toBe(utc('2025-03-01T12:00:00.500Z'));
    expect(parseExportTime('1740830400123')).toBe(utc('2025-03-01T12:00:00.123Z'));
    expect(parseExportTime('2025-02-29 00:00:00')).toBeNull();
    expect(parseExportTime('2025-03-01 25:00:00')).toBeNull();
    expect(parseExportTime('yesterday')).toBeNull();
  });

  it('parseThrottle', () => {
    expect(parseThrottle('0')).toBe(0);
    expect(parseThrottle('72')).toBe(72);
    expect(parseThrottle('0x0000000000000088')).toBe(0x88);
    expect(parseThrottle('sw_power_cap')).toBe(0x4);
    expect(parseThrottle('SwPowerCap')).toBe(0x4);
    expect(parseThrottle('HwPowerBrakeSlowdown | hw_slowdown')).toBe(0x88);
    expect(parseThrottle('DCGM_CLOCKS_EVENT_REASON_SW_THERMAL')).toBe(0x20);
    expect(parseThrottle('nvmlClocksThrottleReasonSwPowerCap')).toBe(0x4);
    expect(parseThrottle('gpu_idle,display_clocks,sync_boost,clocks_setting')).toBe(0x113);
    expect(parseThrottle('power_cap,hw_thermal,hw_power_brake')).toBe(0xc4);
    expect(parseThrottle('none')).toBe(0);
    expect(parseThrottle('0x1|sw_power_cap')).toBe(0x5);
    expect(parseThrottle('too_hot')).toEqual({ error: 'unknown clock event reason "too_hot"' });
  });
});

describe('CSV export sniff', () => {
  it('claims lake and PoC headers', () => {
    expect(parser.sniff(fixture('poc-gpu-health-metrics.csv'))).toBe(0.8);
    expect(parser.sniff(fixture('lake-columns.csv'))).toBe(0.8);
    expect(parser.sniff(fixture('quoted-rfc4180.csv'))).toBe(0.8);
  });

  it('declines other files', () => {
    expect(parser.sniff('time,gpu_uuid\n')).toBe(0);
    expect(parser.sniff('time,fan,rack\n')).toBe(0);
    expect(parser.sniff(fixture('no-header.csv'))).toBe(0);
    expect(parser.sniff('timestamp, uuid, temperature.gpu\n')).toBe(0);
    expect(parser.sniff('')).toBe(0);
  });
});
