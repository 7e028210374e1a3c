import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { splitRecord } from '../csv.js';
import { InputError } from '../errors.js';
import { mulberry32 } from '../model/random.js';
import type { GpuIdentity } from '../schema.js';
import { context, recordingSink, runParser, staticResolver } from '../../../test/helpers/parse.js';
import { batchRows, OTHER_BATCH_COLUMNS, WIDE_BATCH_COLUMNS, type Batch } from './batches.js';
import { CsvExportStager, csvExportParser as parser, fastExportTime, parseExportTime, parseThrottle } from './csv-export.js';
import { sampleTimeBounds } from './limits.js';
import { BufferedFile, closeStaging, openStaging, StagingSink, type FileStats } from './staging.js';

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

// ---------------------------------------------------------------------------------------------------
// The byte path (what `ingest` runs) against the line path through StagingSink (what it ran before):
// the same rows, other samples, rejects (line, reason, text), counts and warnings for the same input.
// ---------------------------------------------------------------------------------------------------

/** Rows as staged, comparable across both paths: [time_ms, gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version, ...values]. */
type StagedRow = (string | number | null)[];

interface Staged {
  rows: StagedRow[];
  others: (string | number | null)[][];
  rejects: { line: number; reason: string; text: string }[];
  stats: { samples: number; rows: number; others: number; rejected: number; timeMin: number | null; timeMax: number | null };
  warnings: string[];
}

const TIMES = sampleTimeBounds(Date.UTC(2026, 0, 1), false);

function csvCells(line: string): (string | null)[] {
  const r = splitRecord(line);
  if (!('fields' in r)) throw new Error(`staged line is not CSV: ${line}`);
  return r.fields.map((f) => (f === '' ? null : f));
}

const numberOrNull = (x: string | null): number | null => (x === null ? null : Number(x));

/** The line path as ingest ran it: lines from the line reader (a lone \r ends a line too), StagingSink, staged CSV. */
async function viaLines(text: string, host: string | null = null): Promise<Staged> {
  const dir = tempDir();
  const staging = openStaging(dir, 't');
  const sink = new StagingSink(staging, 'test-input', undefined, TIMES);
  const lines = readline.createInterface({ input: Readable.from([Buffer.from(text)]), crlfDelay: Infinity });
  await parser.parse(lines, context({ host }), sink);
  closeStaging(staging);
  const read = (f: string): string[] =>
    readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  return {
    rows: read('wide-t.csv').map((l) => {
      const c = csvCells(l);
      return [Number(c[0]), c[1]!, c[2]!, numberOrNull(c[3]!), c[4]!, c[5]!, c[6]!, ...c.slice(7).map(numberOrNull)];
    }),
    others: read('other-t.csv').map((l) => {
      const c = csvCells(l);
      return [Number(c[0]), c[1]!, c[2]!, c[3]!, numberOrNull(c[4]!), c[5]!];
    }),
    rejects: read('rejects-t.jsonl').map((l) => {
      const { line, reason, text } = JSON.parse(l) as { line: number; reason: string; text: string };
      return { line, reason, text };
    }),
    stats: pickStats(sink.stats),
    warnings: sink.stats.warnings,
  };
}

function pickStats(s: FileStats): Staged['stats'] {
  return { samples: s.samples, rows: s.rows, others: s.others, rejected: s.rejected, timeMin: s.timeMin, timeMax: s.timeMax };
}

/** The byte path, fed in chunks of random sizes (lines cut anywhere, as reads and gunzip cut them). */
function viaBytes(text: string, rnd: () => number, host: string | null = null): Staged {
  const dir = tempDir();
  const batches: Batch[] = [];
  const out = {
    batches: (b: Batch) => void batches.push(b),
    series: new BufferedFile(path.join(dir, 'series.csv')),
    names: new BufferedFile(path.join(dir, 'names.csv')),
    rejects: new BufferedFile(path.join(dir, 'rejects.jsonl')),
    times: TIMES,
  };
  const stager = new CsvExportStager(context({ host }), out);
  const all = Buffer.from(text);
  let carry = Buffer.alloc(0);
  for (let p = 0; p < all.length; ) {
    const n = 1 + Math.floor(rnd() * 300);
    const buf = Buffer.concat([carry, all.subarray(p, p + n)]);
    p += n;
    carry = Buffer.from(buf.subarray(stager.chunk(buf, buf.length, p >= all.length)));
  }
  stager.finish();
  out.series.close();
  out.names.close();
  out.rejects.close();
  const read = (f: string): string[] =>
    readFileSync(path.join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const series = new Map(
    read('series.csv').map((l) => {
      const c = csvCells(l);
      return [Number(c[0]), c];
    }),
  );
  const names = new Map(read('names.csv').map((l) => [Number(csvCells(l)[0]), csvCells(l)[1]!]));
  const rows: StagedRow[] = [];
  const others: (string | number | null)[][] = [];
  for (const b of batches) {
    for (const r of batchRows(b, b.kind === 'wide' ? WIDE_BATCH_COLUMNS.length : OTHER_BATCH_COLUMNS.length)) {
      const s = series.get(r[1]!)!;
      if (b.kind === 'wide') rows.push([r[0]!, s[1]!, s[2]!, numberOrNull(s[3]!), s[4]!, s[5]!, s[6]!, ...r.slice(2)]);
      else others.push([r[0]!, s[1]!, s[2]!, names.get(r[2]!)!, r[3]!, s[7]!]);
    }
  }
  const rejects = read('rejects.jsonl').map((l) => {
    const { line, reason, text } = JSON.parse(l) as { line: number; reason: string; text: string };
    return { line, reason, text };
  });
  return { rows, others, rejects, stats: pickStats(stager.stats), warnings: stager.stats.warnings };
}

/** A seeded export with every quirk the readers handle, mostly ordinary rows (see the generators below). */
function quirkyExport(seed: number, lines: number): string {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const often = <T>(usual: T, odd: readonly T[], p = 0.12): T => (rnd() < p ? pick(odd) : usual);
  const pool = [
    'gpu_uuid',
    'gpu_id',
    'host',
    'host_id',
    'gpu_index',
    'model',
    'pci_bus_id',
    'driver_version',
    'gpu_temp',
    'temp_gpu',
    'memory_temp',
    'power_usage',
    'fb_used_mib',
    'fb_free_mib',
    'memory_used',
    'memory_total',
    'temp_hotspot',
    'throttle_reasons',
    'throttle_reason',
    'row_remap_pending',
    'xid_last',
    'ecc_dbe_aggregate',
    'sm_active',
    'energy_mj',
    'fan_speed',
    'notes',
  ];
  const header = ['time', ...pool.filter(() => rnd() < 0.6)];
  if (!header.includes('gpu_uuid') && !header.includes('gpu_id')) header.splice(1, 0, 'gpu_uuid');
  const gpus = ['GPU-6b2c9a7e-1d4f-4c0a-9b7e-2f6a1c3d5e80', 'GPU-a1e0f4d3-77c2-4e19-8c55-0b9d3e6f2a14', 'GPU-3', ' GPU-4 '];
  const day = (): string => `2025-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
  const clock = (): string =>
    `${String(Math.floor(rnd() * 24)).padStart(2, '0')}:${String(Math.floor(rnd() * 60)).padStart(2, '0')}:${String(Math.floor(rnd() * 60)).padStart(2, '0')}`;
  const time = (): string =>
    often(`${day()} ${clock()}+00`, [
      `${day()}T${clock()}Z`,
      `${day()} ${clock()}.${Math.floor(rnd() * 1e6)}+00`,
      `${day()} ${clock()}.5`,
      `${day()} ${clock()}.1234567891+00`,
      `${day()} ${clock()}-05`,
      `${day()} ${clock()}+05:30`,
      `${day()} ${clock()}+0530`,
      `${day()} ${clock()} +05`,
      `${day()} ${clock()}`,
      `${day()}t${clock()}`,
      day(),
      `${day()} 24:00:00+00`,
      '2025-02-30 12:00:00+00',
      '2025-02-29 00:00:00',
      '2024-02-29 23:59:59+00',
      '1999-12-31 23:59:59+00',
      '0050-01-01 00:00:00',
      '2027-06-01 00:00:00+00',
      String(Date.UTC(2025, 5, 1) / 1000 + Math.floor(rnd() * 1e6)),
      `${Date.UTC(2025, 5, 1) / 1000}.25`,
      String(Date.UTC(2025, 5, 1) + Math.floor(rnd() * 1e9)),
      '17408304001',
      'yesterday',
      '',
      '\\N',
      ' 2025-03-01 12:00:00+00 ',
    ]);
  const number = (): string =>
    often(String(Math.round(rnd() * 1e5) / 10 ** Math.floor(rnd() * 4)), [
      '0',
      '-0',
      '-12.5',
      '.5',
      '5.',
      '1e3',
      '+4',
      ' 42 ',
      '',
      '\\N',
      'NULL',
      'NaN',
      'n/a',
      'inf',
      '-Infinity',
      '12345678901234567890',
      '0.1234567890123456789012345',
      '123456789012345.5',
      'abc',
      '1.2.3',
      '-',
      '.',
      '99999999999999999999999',
      't',
      'f',
      'yes',
      '007',
    ]);
  const throttle = (): string =>
    often(pick(['0', '4', '72']), [
      '0x4',
      'SwPowerCap',
      'sw_power_cap|hw_slowdown',
      '4.0',
      '4.5',
      '-1',
      'overheated',
      '',
      '18446744073709551615',
      '9007199254740993',
    ]);
  const field = (name: string): string => {
    switch (name) {
      case 'time':
        return time();
      case 'gpu_uuid':
      case 'gpu_id':
        return often(pick(gpus), ['', 'NULL', '"GPU-5,x"', 'GPU-\u00e9']);
      case 'host':
      case 'host_id':
        return often(pick(['node-a', 'node-b']), ['', '"node ""c"", rack 3"', 'n\u00f6de']);
      case 'gpu_index':
        return often(String(Math.floor(rnd() * 8)), ['1.0', '', 'x', '99999999999', ' 3 ']);
      case 'model':
        return often('NVIDIA H100 80GB HBM3', ['"NVIDIA H100, SXM5"', '']);
      case 'pci_bus_id':
        return often('00000000:18:00.0', ['18:00.0', 'garbage', '']);
      case 'driver_version':
        return '570.133.20';
      case 'throttle_reasons':
      case 'throttle_reason':
        return throttle();
      case 'notes':
        return often('', ['hello', '3']);
      default:
        return number();
    }
  };
  const out: string[] = [`${rnd() < 0.5 ? '\uFEFF' : ''}${header.join(',')}`];
  for (let i = 0; i < lines; i++) {
    const r = rnd();
    let line = header.map(field).join(',');
    if (r < 0.01) line = '';
    else if (r < 0.02) line = '   ';
    else if (r < 0.03) line = header.join(',');
    else if (r < 0.04) line += ',extra';
    else if (r < 0.05) line = line.slice(0, line.lastIndexOf(','));
    else if (r < 0.055) line = line.replace(',', ',a\rb');
    else if (r < 0.06) line = line.replace(',', ',"multi\nline",');
    else if (r < 0.063) line = line.replace(',', ',"never closed');
    out.push(line);
  }
  return out.map((l) => (rnd() < 0.2 ? `${l}\r` : l)).join('\n') + (rnd() < 0.5 ? '\n' : '');
}

describe('CSV export: the byte path stages what the line path staged', () => {
  it('the fixtures', async () => {
    for (const f of ['poc-gpu-health-metrics.csv', 'lake-columns.csv', 'quoted-rfc4180.csv', 'concatenated-exports.csv', 'malformed-rows.csv']) {
      const text = fixture(f);
      expect(viaBytes(text, mulberry32(1), 'cli-host'), f).toEqual(await viaLines(text, 'cli-host'));
    }
  });

  it('seeded exports with every quirk: quotes, nulls, flags, reason names, odd times, bad rows, CR, BOM', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const text = quirkyExport(seed, 250);
      const bytes = viaBytes(text, mulberry32(seed));
      const lines = await viaLines(text);
      expect(bytes, `seed ${seed}`).toEqual(lines);
    }
  });

  it('takes the usual rows on the fast path, and rejects with file line numbers after multi-line records', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `2025-06-01 00:${String(i).padStart(2, '0')}:00+00,GPU-1,node-a,${40 + i},${i % 7 === 0 ? '' : 300.5}`);
    const text = [
      'time,gpu_uuid,host,gpu_temp,power_usage',
      ...rows.slice(0, 10),
      '2025-06-01 01:00:00+00,"GPU-1\nsecond line",node-a,1,2',
      ...rows.slice(10),
      'bad,GPU-1,node-a,1,2',
    ].join('\n');
    const b = viaBytes(text, mulberry32(3));
    expect(b).toEqual(await viaLines(text));
    expect(b.stats.rows).toBe(51);
    expect(b.rejects).toEqual([{ line: 54, reason: 'time: cannot read "bad"', text: 'bad,GPU-1,node-a,1,2' }]);
  });
});

describe('fastExportTime', () => {
  it('gives parseExportTime’s value or NaN (then the text path reads it), over seeded spellings', () => {
    const rnd = mulberry32(7);
    const d2 = (n: number): string => String(n).padStart(2, '0');
    const parts = (): string => {
      const y = pick(rnd, ['2025', '2024', '1999', '0050', '2100', '1000', '9999', '0999']);
      const date = `${y}-${d2(Math.floor(rnd() * 14))}-${d2(Math.floor(rnd() * 33))}`;
      const t = `${d2(Math.floor(rnd() * 26))}:${d2(Math.floor(rnd() * 62))}:${d2(Math.floor(rnd() * 62))}`;
      const frac = pick(rnd, ['', '.5', '.123', '.123456', '.0005', '.9995', '.999999999', '.1234567891', '.']);
      const zone = pick(rnd, ['', 'Z', 'z', '+00', '-05', '+05:30', '+0530', '-0130', '+5', ' +00', '+00:0', 'UTC']);
      return `${date}${pick(rnd, [' ', 'T', 't', '  '])}${t}${frac}${zone}`;
    };
    for (let i = 0; i < 20_000; i++) {
      const text = rnd() < 0.9 ? parts() : String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 14)));
      const b = Buffer.from(text);
      const fast = fastExportTime(b, 0, b.length);
      if (!Number.isNaN(fast)) expect(fast, text).toBe(parseExportTime(text));
    }
    const usual = Buffer.from('2025-03-01 12:00:10.123456+00');
    expect(fastExportTime(usual, 0, usual.length)).toBe(Date.UTC(2025, 2, 1, 12, 0, 10, 123));
  });
});

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'csv-export-test-'));
  made.push(d);
  return d;
}
