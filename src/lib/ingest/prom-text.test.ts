/**
 * dcgm-exporter exposition text (fixtures/prom/, one file per quirk; see fixtures/prom/README.md):
 * each fixture is parsed by parsePromTask into real staging files and row batches, which are read back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { VALUE_COLUMNS } from '../schema.js';
import { OTHER_STAGING_COLUMNS, WIDE_STAGING_COLUMNS, closeStaging, openStaging } from './staging.js';
import { OTHER_BATCH_COLUMNS, WIDE_BATCH_COLUMNS, batchRows, type Batch } from './batches.js';
import { parseLabelBody, parsePromTask, sniffPromText, type PromResult } from './prom-text.js';
import { promJsonParser } from './prom-json.js';
import { runParser } from '../../../test/helpers/parse.js';
import { scaleReading } from '../dcgm/values.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/prom/', import.meta.url));
const fx = (name: string): string => path.join(FIXTURES, name);
const fxText = (name: string): string => fs.readFileSync(fx(name), 'utf8');

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-prom-text-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** --time for untimestamped scrapes: 2026-01-01T00:00:00Z. */
const T = 1767225600000;
const NO_TS = 'sample has no timestamp and the file has no time (pass --time)';
const NO_NAME = 'not a metric sample (no metric name)';

// ---------------------------------------------------------------------------------------------
// helpers: run a task into staging, read the CSVs back

/** Minimal RFC 4180 reader: unquoted empty field → null, quoted field → string ("" escapes). */
function readCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field: string | null;
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted CSV field');
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += c;
        i++;
      }
      field = v;
    } else {
      const s = i;
      while (i < n && text[i] !== ',' && text[i] !== '\n') i++;
      field = i === s ? null : text.slice(s, i);
    }
    row.push(field);
    if (i >= n) {
      rows.push(row);
      break;
    }
    if (text[i] === ',') {
      i++;
      if (i >= n) {
        row.push(null);
        rows.push(row);
      }
      continue;
    }
    if (text[i] === '\n') {
      rows.push(row);
      row = [];
      i++;
      continue;
    }
    throw new Error(`bad CSV at offset ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
  }
  return rows;
}

interface Identity {
  gpu_uuid: string | null;
  host: string | null;
  gpu_index: number | null;
  model: string | null;
  pci_bus_id: string | null;
  driver_version: string | null;
}
/** A wide staging row; `values` holds only the non-empty value columns. */
interface WideRow extends Identity {
  time_ms: number;
  values: Record<string, number>;
}
interface OtherRow {
  time_ms: number;
  gpu_uuid: string | null;
  host: string | null;
  metric: string;
  value: number | null;
  labels: Record<string, string>;
}

function num(s: string): number {
  const v = Number(s);
  if (Number.isNaN(v) || s.trim() === '') throw new Error(`not a number in staging CSV: ${JSON.stringify(s)}`);
  return v;
}

function toWide(f: (string | null)[]): WideRow {
  expect(f).toHaveLength(WIDE_STAGING_COLUMNS.length);
  const rec = Object.fromEntries(WIDE_STAGING_COLUMNS.map((c, i) => [c, f[i] ?? null])) as Record<string, string | null>;
  const values: Record<string, number> = {};
  for (const c of VALUE_COLUMNS) {
    const v = rec[c.name];
    if (v !== null && v !== undefined) values[c.name] = num(v);
  }
  return {
    time_ms: num(rec.time_ms!),
    gpu_uuid: rec.gpu_uuid ?? null,
    host: rec.host ?? null,
    gpu_index: rec.gpu_index == null ? null : num(rec.gpu_index),
    model: rec.model ?? null,
    pci_bus_id: rec.pci_bus_id ?? null,
    driver_version: rec.driver_version ?? null,
    values,
  };
}

function toOther(f: (string | null)[]): OtherRow {
  expect(f).toHaveLength(OTHER_STAGING_COLUMNS.length);
  const [time, uuid, host, metric, value, labels] = f;
  return {
    time_ms: num(time!),
    gpu_uuid: uuid ?? null,
    host: host ?? null,
    metric: metric!,
    value: value == null ? null : num(value),
    labels: JSON.parse(labels!) as Record<string, string>,
  };
}

const rowKey = (r: WideRow): string => `${String(r.time_ms).padStart(16, '0')}|${r.gpu_uuid}|${JSON.stringify(r)}`;
const sortWide = (rows: WideRow[]): WideRow[] => [...rows].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : rowKey(a) > rowKey(b) ? 1 : 0));
const otherKey = (r: OtherRow): string => `${String(r.time_ms).padStart(16, '0')}|${r.gpu_uuid}|${r.metric}|${JSON.stringify(r.labels)}|${r.value}`;
const sortOther = (rows: OtherRow[]): OtherRow[] => [...rows].sort((a, b) => (otherKey(a) < otherKey(b) ? -1 : otherKey(a) > otherKey(b) ? 1 : 0));

/** Partial rows of one GPU at one instant merged, as the ingest query does (identities must agree). */
function merged(rows: WideRow[]): WideRow[] {
  const m = new Map<string, WideRow>();
  for (const r of rows) {
    const key = `${r.time_ms}|${r.gpu_uuid}`;
    const prev = m.get(key);
    if (!prev) m.set(key, { ...r, values: { ...r.values } });
    else {
      const { values: _a, ...idPrev } = prev;
      const { values: _b, ...idNew } = r;
      expect(idNew).toEqual(idPrev);
      for (const [k, v] of Object.entries(r.values)) {
        if (k in prev.values) expect(v, `${key} ${k} given twice`).toBe(prev.values[k]);
        prev.values[k] = v;
      }
    }
  }
  return sortWide([...m.values()]);
}

interface RunOpts {
  /** Default T; null = no --time. */
  defaultTimeMs?: number | null;
  host?: string | null;
  gzip?: boolean;
  /** Byte ranges [start, end) parsed in turn into the same staging; default the whole file. */
  ranges?: [number, number][];
}
interface Run {
  results: PromResult[];
  /** The first range's result (the only one unless `ranges`). */
  result: PromResult;
  /** Wide rows, sorted. */
  wide: WideRow[];
  /** Other samples in the order written. */
  other: OtherRow[];
  /** Raw staging text. */
  wideCsv: string;
  otherCsv: string;
}

async function run(file: string, opts: RunOpts = {}): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(TMP, 'run-'));
  const staging = openStaging(dir, 't');
  const results: PromResult[] = [];
  const batches: Batch[] = [];
  try {
    for (const [start, end] of opts.ranges ?? [[0, -1]]) {
      results.push(
        await parsePromTask(
          {
            path: file,
            displayName: path.basename(file),
            gzip: opts.gzip ?? false,
            start,
            end,
            defaultTimeMs: opts.defaultTimeMs === undefined ? T : opts.defaultTimeMs,
            host: opts.host ?? null,
          },
          staging,
          (b) => batches.push(b),
        ),
      );
    }
  } finally {
    closeStaging(staging);
  }
  // The parser hands over rows keyed by series as batches: wide (time_ms, series, values…) and other
  // (time_ms, series, metric key, value, dup), with each series' identity and labels once in
  // series-t.csv (series, gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version, labels) and
  // each metric name once in names-t.csv (key, metric). Written out as CSV text here and joined back
  // as the ingest views do.
  const otherCsv = fs.readFileSync(path.join(dir, 'other-t.csv'), 'utf8');
  const read = (f: string): string => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '');
  const names = new Map(readCsv(read('names-t.csv')).map((f) => [Number(f[0]), f[1]!]));
  const csvLine = (r: (number | null)[]): string => `${r.map((v) => (v === null ? '' : String(v))).join(',')}\n`;
  const widekCsv = batches
    .filter((b) => b.kind === 'wide')
    .flatMap((b) => batchRows(b, WIDE_BATCH_COLUMNS.length))
    .map(csvLine)
    .join('');
  const otherkCsv = batches
    .filter((b) => b.kind === 'other')
    .flatMap((b) => batchRows(b, OTHER_BATCH_COLUMNS.length))
    .map(([ts, series, metric, value, dup]) => {
      expect(names.has(metric!), `metric key ${metric} is not in the names file`).toBe(true);
      return `${ts},${series},"${names.get(metric!)!.replace(/"/g, '""')}",${value ?? ''},${dup ? dup : ''}\n`;
    })
    .join('');
  const seriesCsv = read('series-t.csv');
  const series = new Map<string, (string | null)[]>();
  for (const f of readCsv(seriesCsv)) {
    expect(f).toHaveLength(8);
    expect(series.has(f[0]!), `series ${f[0]} written twice`).toBe(false);
    series.set(f[0]!, f);
  }
  const quote = (v: string | null | undefined): string => (v === null || v === undefined ? '' : `"${v.replace(/"/g, '""')}"`);
  const wideCsv = widekCsv
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [ts, key] = l.split(',', 2);
      const se = series.get(key!);
      expect(se, `series ${key} of a row is not in the series file`).toBeDefined();
      const id = [quote(se![1]), quote(se![2]), se![3] ?? '', quote(se![4]), quote(se![5]), quote(se![6])].join(',');
      return `${ts},${id}${l.slice(ts!.length + 1 + key!.length)}\n`;
    })
    .join('');
  // otherk lines carry a fifth column, `dup`, set on repeats of one sample; like the ingest merge,
  // keep the one with the highest dup (the last) per time, series and metric.
  const last = new Map<string, (string | null)[]>();
  for (const f of readCsv(otherkCsv)) {
    expect(f).toHaveLength(5);
    const key = `${f[0]}|${f[1]}|${f[2]}`;
    const prev = last.get(key);
    if (!prev || Number(f[4] ?? 0) >= Number(prev[4] ?? 0)) last.set(key, f);
  }
  const keyed = [...last.values()].map((f) => {
    const se = series.get(f[1]!);
    expect(se, `series ${f[1]} of an other sample is not in the series file`).toBeDefined();
    return toOther([f[0] ?? null, se![1] ?? null, se![2] ?? null, f[2] ?? null, f[3] ?? null, se![7] ?? null]);
  });
  return {
    results,
    result: results[0]!,
    wide: sortWide(readCsv(wideCsv).map(toWide)),
    other: [...readCsv(otherCsv).map(toOther), ...keyed],
    wideCsv,
    otherCsv: otherCsv + otherkCsv + seriesCsv,
  };
}

const runFx = (name: string, opts?: RunOpts): Promise<Run> => run(fx(name), opts);

const gpu = (
  gpu_uuid: string,
  host: string | null,
  gpu_index: number | null,
  model: string | null = null,
  pci_bus_id: string | null = null,
  driver_version: string | null = null,
): Identity => ({ gpu_uuid, host, gpu_index, model, pci_bus_id, driver_version });
const row = (time_ms: number, id: Identity, values: Record<string, number>): WideRow => ({ time_ms, ...id, values });

/** Lines as the parser counts them: newline-terminated lines plus an unterminated tail. */
function countLines(buf: Buffer): number {
  let n = 0;
  for (const b of buf) if (b === 10) n++;
  return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n;
}

function expectClean(r: PromResult): void {
  expect(r.rejects).toEqual([]);
  expect(r.stats.rejected).toBe(0);
  expect(r.duplicates).toBe(0);
  expect(r.truncated).toBe(false);
}

// ---------------------------------------------------------------------------------------------
// identities used by the fixtures

const H100 = 'NVIDIA H100 80GB HBM3';
const H100_0 = gpu('GPU-8d1e2f3a-4b5c-4d7e-8f90-a1b2c3d4e5f6', 'dgx-h100-07', 0, H100, '0000:18:00.0', '570.133.20');
const H100_1 = gpu('GPU-2f6a9c1d-7e3b-4a58-b0c4-9d8e7f6a5b43', 'dgx-h100-07', 1, H100, '0000:2a:00.0', '570.133.20');
const H100_LABELS_0 = {
  gpu: '0',
  UUID: 'GPU-8d1e2f3a-4b5c-4d7e-8f90-a1b2c3d4e5f6',
  pci_bus_id: '00000000:18:00.0',
  device: 'nvidia0',
  modelName: H100,
  Hostname: 'dgx-h100-07',
  DCGM_FI_DRIVER_VERSION: '570.133.20',
};
const A100_0 = gpu('GPU-7c3e91a0-5d4b-4f2e-9a86-1b0c2d3e4f50', 'a100-node-2', 0, 'NVIDIA A100-SXM4-40GB', '0000:07:00.0', '550.127.05');
const A100_1 = gpu('GPU-e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7', 'a100-node-2', 1, 'NVIDIA A100-SXM4-40GB', '0000:0f:00.0', '550.127.05');
const FED_T0 = 1767225600123;
const T4_0 = gpu('GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 't4-inference-1', 0, 'Tesla T4', '0000:3b:00.0', '535.216.03');
const T4_1 = gpu('GPU-6f5e4d3c-2b1a-4098-a7b6-c5d4e3f2a1b0', 't4-inference-1', 1, 'Tesla T4', '0000:af:00.0', '535.216.03');
const L4 = gpu('GPU-3e8f2a6c-9b1d-4c7e-a5f0-6d2b8e4a1c97', 'l4-worker-3', 0, 'NVIDIA L4', '0000:31:00.0', '580.105.08');

// ---------------------------------------------------------------------------------------------

describe('parseLabelBody', () => {
  it('reads empty, spaced, trailing-comma and escaped label sets', () => {
    expect(parseLabelBody('')).toEqual({});
    expect(parseLabelBody('  ')).toEqual({});
    expect(parseLabelBody('gpu="0",UUID="GPU-1"')).toEqual({ gpu: '0', UUID: 'GPU-1' });
    expect(parseLabelBody('gpu="0", UUID="GPU-1"')).toEqual({ gpu: '0', UUID: 'GPU-1' });
    expect(parseLabelBody('gpu="0",UUID="GPU-1",')).toEqual({ gpu: '0', UUID: 'GPU-1' });
    expect(parseLabelBody(' gpu = "0" ,\tUUID="GPU-1" , ')).toEqual({ gpu: '0', UUID: 'GPU-1' });
    expect(parseLabelBody('pod=""')).toEqual({ pod: '' });
    expect(parseLabelBody('modelName="NVIDIA H100 80GB HBM3"')).toEqual({ modelName: 'NVIDIA H100 80GB HBM3' });
    expect(parseLabelBody(String.raw`a="x\"y",b="c:\\d",c="l1\nl2",d="e\\"`)).toEqual({ a: 'x"y', b: 'c:\\d', c: 'l1\nl2', d: 'e\\' });
    expect(parseLabelBody('msg="a, b} {c=d"')).toEqual({ msg: 'a, b} {c=d' });
    expect(parseLabelBody('t="°C ✓"')).toEqual({ t: '°C ✓' });
  });

  it('returns null for malformed label sets', () => {
    expect(parseLabelBody('gpu="0')).toBeNull(); // unterminated value
    expect(parseLabelBody('gpu=0')).toBeNull(); // unquoted value
    expect(parseLabelBody('gpu')).toBeNull(); // no =
    expect(parseLabelBody('0gpu="0"')).toBeNull(); // name starts with a digit
    expect(parseLabelBody('gpu="0",,UUID="x"')).toBeNull(); // empty pair
    expect(parseLabelBody(',')).toBeNull();
    expect(parseLabelBody('gpu="0" UUID="x"')).toBeNull(); // missing comma
    expect(parseLabelBody('pod="a"b"')).toBeNull(); // unescaped quote (dcgm-exporter does not escape)
    expect(parseLabelBody('gpu-id="0"')).toBeNull();
  });
});

describe('sniffPromText', () => {
  it('is confident about exposition text, with or without HELP/TYPE', () => {
    expect(sniffPromText(fxText('h100-single-scrape.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText(fxText('mig-a100.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText(fxText('multi-scrape-federate.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText(fxText('crlf.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText(fxText('label-spacing.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText(fxText('no-labels.prom'))).toBeCloseTo(0.9, 10);
    expect(sniffPromText('up 1\n')).toBeCloseTo(0.9, 10);
    // only the head of a large file is given: a cut-off last line still counts as mostly samples
    expect(sniffPromText(fxText('h100-single-scrape.prom').slice(0, 700))).toBeGreaterThanOrEqual(0.6);
  });

  it('gives a pasted terminal session with a few samples a low score, not zero', () => {
    const s = sniffPromText(fxText('curl-noise.prom'));
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(0.6);
  });

  it('scores 0 for CSV, JSON, dmon and kernel-log text, and for nothing', () => {
    const csv = [
      'timestamp, name, pci.bus_id, driver_version, temperature.gpu, utilization.gpu [%], power.draw [W]',
      '2026/01/01 00:00:00.000, NVIDIA H100 80GB HBM3, 00000000:18:00.0, 570.133.20, 58, 100 %, 612.45 W',
      '2026/01/01 00:00:00.000, NVIDIA H100 80GB HBM3, 00000000:2A:00.0, 570.133.20, 29, 0 %, 71.20 W',
    ].join('\n');
    const json =
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"0"},"value":[1767225600.123,"97"]}]}}';
    const prettyJson = '{\n  "status": "success",\n  "data": {\n    "resultType": "vector",\n    "result": []\n  }\n}\n';
    const dmesg = [
      '[ 8921.114072] NVRM: Xid (PCI:0000:9b:00): 119, pid=2781, name=python3, Timeout after 6s of waiting for RPC response from GPU1 GSP!',
      '[ 8921.114190] NVRM: GPU at PCI:0000:9b:00: GPU-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
      'Jan  1 00:00:01 dgx-h100-03 kernel: [ 8921.114072] NVRM: Xid (PCI:0000:9b:00): 119, pid=2781, name=python3',
    ].join('\n');
    const dmon =
      '# gpu    pwr  gtemp  mtemp     sm    mem    enc    dec\n# Idx      W      C      C      %      %      %      %\n    0    612     58     47    100     43      0      0\n';
    expect(sniffPromText(csv)).toBe(0);
    expect(sniffPromText(json)).toBe(0);
    expect(sniffPromText(prettyJson)).toBe(0);
    expect(sniffPromText(dmesg)).toBe(0);
    expect(sniffPromText(dmon)).toBe(0);
    expect(sniffPromText('')).toBe(0);
    expect(sniffPromText('\n\n  \n')).toBe(0);
    // HELP/TYPE alone (no sample) is not enough
    expect(sniffPromText('# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n')).toBe(0);
  });
});

describe('parsePromTask: a whole scrape', () => {
  it('pivots an untimestamped H100 scrape into one row per GPU at --time (h100-single-scrape)', async () => {
    const r = await runFx('h100-single-scrape.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([
      row(T, H100_1, {
        sm_clock_mhz: 345,
        mem_clock_mhz: 2619,
        memory_temp: 36,
        gpu_temp: 29,
        power_usage: 71.204,
        energy_mj: 40512290148,
        gpu_util: 0,
        fb_free_mib: 81004,
        fb_used_mib: 75,
        xid_last: 0,
        gr_engine_active: 0,
      }),
      row(T, H100_0, {
        sm_clock_mhz: 1980,
        mem_clock_mhz: 2619,
        memory_temp: 47,
        gpu_temp: 58,
        power_usage: 612.457,
        energy_mj: 98265413377,
        gpu_util: 100,
        fb_free_mib: 1398,
        fb_used_mib: 79681,
        xid_last: 0,
        gr_engine_active: 98.125,
      }),
    ]);
    expect(r.other).toEqual([
      { time_ms: T, gpu_uuid: H100_0.gpu_uuid, host: 'dgx-h100-07', metric: 'DCGM_FI_DEV_ENC_UTIL', value: 0, labels: H100_LABELS_0 },
      {
        time_ms: T,
        gpu_uuid: H100_1.gpu_uuid,
        host: 'dgx-h100-07',
        metric: 'DCGM_FI_DEV_ENC_UTIL',
        value: 0,
        labels: { ...H100_LABELS_0, gpu: '1', UUID: H100_1.gpu_uuid, pci_bus_id: '00000000:2A:00.0', device: 'nvidia1' },
      },
    ]);
    expect(r.result.lines).toBe(48);
    expect(r.result.stats).toEqual({ samples: 24, rows: 2, others: 2, xids: 0, rejected: 0, warnings: [], timeMin: T, timeMax: T });
    expect(r.result.missingTimestamps).toBe(0);
    expect(r.result.migSeries).toBe(0);
  });

  it('reads a %f-formatted value exactly', async () => {
    const r = await runFx('h100-single-scrape.prom');
    expect(r.wide.some((w) => Object.values(w.values).includes(612.457))).toBe(true);
  });

  it('rejects every sample of an untimestamped file when there is no --time', async () => {
    const r = await runFx('h100-single-scrape.prom', { defaultTimeMs: null });
    expect(r.wide).toEqual([]);
    expect(r.other).toEqual([]);
    expect(r.result.lines).toBe(48);
    expect(r.result.missingTimestamps).toBe(24);
    expect(r.result.stats.samples).toBe(0);
    expect(r.result.stats.rejected).toBe(24);
    expect(r.result.stats.timeMin).toBeNull();
    const sampleLines = fxText('h100-single-scrape.prom')
      .split('\n')
      .map((l, i) => [l, i + 1] as const)
      .filter(([l]) => l.startsWith('DCGM_'));
    expect(r.result.rejects.map((x) => x.line)).toEqual(sampleLines.map(([, n]) => n));
    expect(new Set(r.result.rejects.map((x) => x.reason))).toEqual(new Set([NO_TS]));
    expect(r.result.rejects[0]).toEqual({ file: 'h100-single-scrape.prom', line: 3, reason: NO_TS, text: sampleLines[0]![0] });
  });

  it('takes each sample time from its ms timestamp in a file of many scrapes (multi-scrape-federate)', async () => {
    const r = await runFx('multi-scrape-federate.prom', { defaultTimeMs: null });
    expectClean(r.result);
    const t = [FED_T0, FED_T0 + 15000, FED_T0 + 30000];
    expect(r.wide).toEqual([
      row(t[0]!, A100_0, { gpu_temp: 44, power_usage: 301.882, gpu_util: 97, pcie_replay_count: 0 }),
      row(t[0]!, A100_1, { gpu_temp: 31, power_usage: 55.12, gpu_util: 0, pcie_replay_count: 0 }),
      row(t[1]!, A100_0, { gpu_temp: 47, power_usage: 377.015, gpu_util: 100, pcie_replay_count: 0 }),
      row(t[1]!, A100_1, { gpu_temp: 31, power_usage: 55.093, gpu_util: 0, pcie_replay_count: 0 }),
      row(t[2]!, A100_0, { gpu_temp: 51, power_usage: 388.46, gpu_util: 100, pcie_replay_count: 2 }),
      row(t[2]!, A100_1, { gpu_temp: 32, power_usage: 54.998, gpu_util: 0, pcie_replay_count: 0 }),
    ]);
    expect(r.other.map((o) => [o.time_ms, o.gpu_uuid, o.metric, o.value])).toEqual([
      [t[0], A100_0.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
      [t[0], A100_1.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
      [t[1], A100_0.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
      [t[1], A100_1.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
      [t[2], A100_0.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 3],
      [t[2], A100_1.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
    ]);
    expect(r.other[0]!.labels).toEqual({
      DCGM_FI_DRIVER_VERSION: '550.127.05',
      Hostname: 'a100-node-2',
      UUID: A100_0.gpu_uuid,
      device: 'nvidia0',
      gpu: '0',
      instance: '10.0.3.17:9400',
      job: 'dcgm-exporter',
      modelName: 'NVIDIA A100-SXM4-40GB',
      pci_bus_id: '00000000:07:00.0',
    });
    expect(r.result.lines).toBe(45);
    expect(r.result.stats).toEqual({ samples: 30, rows: 6, others: 6, xids: 0, rejected: 0, warnings: [], timeMin: t[0], timeMax: t[2] });
    expect(r.result.missingTimestamps).toBe(0);
  });

  it('ignores --time for timestamped samples', async () => {
    const a = await runFx('multi-scrape-federate.prom', { defaultTimeMs: null });
    const b = await runFx('multi-scrape-federate.prom', { defaultTimeMs: T });
    expect(b.wide).toEqual(a.wide);
    expect(b.other).toEqual(a.other);
  });
});

describe('parsePromTask: line and token layout', () => {
  it('accepts HELP/TYPE in either order, either missing, an empty HELP and UTF-8 docstrings (help-type-variants)', async () => {
    const r = await runFx('help-type-variants.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([
      row(T, L4, { sm_clock_mhz: 210, mem_clock_mhz: 405, gpu_temp: 31, power_usage: 16.365, gpu_util: 0, fb_used_mib: 0, fb_free_mib: 22563 }),
    ]);
    expect(r.other.map((o) => [o.metric, o.value, o.gpu_uuid])).toEqual([
      ['DCGM_FI_DEV_ENC_UTIL', 0, L4.gpu_uuid],
      ['DCGM_FI_DEV_DEC_UTIL', 0, L4.gpu_uuid],
    ]);
    expect(r.result.lines).toBe(23);
    expect(r.result.stats.samples).toBe(9);
  });

  it('parses the last line when the file does not end in a newline (no-final-newline)', async () => {
    const buf = fs.readFileSync(fx('no-final-newline.prom'));
    expect(buf[buf.length - 1]).not.toBe(10); // the fixture really lacks it
    const r = await runFx('no-final-newline.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([row(T, T4_0, { gpu_temp: 42, power_usage: 70.161 })]);
    expect(r.result.lines).toBe(6);
  });

  it('strips CR from CRLF lines, before values and timestamps alike (crlf)', async () => {
    const buf = fs.readFileSync(fx('crlf.prom'));
    expect(buf.toString('latin1').split('\r\n')).toHaveLength(12); // 11 CRLF-terminated lines
    const r = await runFx('crlf.prom');
    expectClean(r.result);
    const t = 1767229200000;
    expect(r.wide).toEqual([row(T, T4_1, { power_usage: 69.5 }), row(t, T4_1, { gpu_temp: 55, fb_used_mib: 14893 })]);
    expect(r.other).toEqual([
      {
        time_ms: t,
        gpu_uuid: T4_1.gpu_uuid,
        host: 't4-inference-1',
        metric: 'DCGM_FI_DEV_DEC_UTIL',
        value: 12,
        labels: {
          gpu: '1',
          UUID: T4_1.gpu_uuid,
          pci_bus_id: '00000000:AF:00.0',
          device: 'nvidia1',
          modelName: 'Tesla T4',
          Hostname: 't4-inference-1',
          DCGM_FI_DRIVER_VERSION: '535.216.03',
        },
      },
    ]);
    expect(r.wideCsv).not.toContain('\r');
    expect(r.otherCsv).not.toContain('\r');
    expect(r.result.lines).toBe(11);
    expect(r.result.stats.timeMin).toBe(T);
    expect(r.result.stats.timeMax).toBe(t);
  });

  it('skips blank and whitespace-only lines and takes any run of spaces/tabs as a separator (blank-lines-whitespace)', async () => {
    const r = await runFx('blank-lines-whitespace.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([row(T, T4_0, { gpu_temp: 40, sm_clock_mhz: 585, mem_clock_mhz: 5000, fb_free_mib: 15101 })]);
    expect(r.other).toEqual([{ time_ms: T, gpu_uuid: null, host: null, metric: 'up', value: 1, labels: {} }]);
    expect(r.result.lines).toBe(14);
    expect(r.result.stats.samples).toBe(5);
  });

  it('reads label sets with spaces after commas, trailing commas and tabs (label-spacing)', async () => {
    const r = await runFx('label-spacing.prom', { host: 'readme-host' });
    expectClean(r.result);
    const g0 = gpu('GPU-4a8e3c21-9f0d-4b6e-8c1a-2d7f5e9b0a36', 'readme-host', 0);
    const g1 = gpu('GPU-b9d0e1f2-3a4b-4c5d-9e6f-7a8b9c0d1e2f', 'readme-host', 1);
    // three spellings of each label set: three partial rows per GPU, merged later by the ingest query
    expect(r.wide).toHaveLength(6);
    expect(merged(r.wide)).toEqual([
      row(T, g0, { sm_clock_mhz: 139, mem_clock_mhz: 405, gpu_temp: 34, power_usage: 27.012 }),
      row(T, g1, { sm_clock_mhz: 1590, mem_clock_mhz: 5000, gpu_temp: 52, power_usage: 61.87 }),
    ]);
    expect(r.result.stats.samples).toBe(8);
  });

  // Regression: a UTF-8 BOM (files saved by Windows editors) made the first sample a reject.
  it('skips a UTF-8 byte-order mark before the first sample (utf8-bom)', async () => {
    const r = await runFx('utf8-bom.prom');
    expect(r.result.rejects).toEqual([]);
    expect(r.wide[0]!.values).toEqual({ gpu_temp: 35, power_usage: 63.507, fb_used_mib: 0 });
  });

  it('reads labels without any label set and with {} (no-labels)', async () => {
    const r = await runFx('no-labels.prom', { host: 'exporter-host' });
    // `up` and `up{}` are one series, as are the two GPU_TEMP lines: repeats, the last kept.
    expect(r.result.stats.rejected).toBe(0);
    expect(r.result.duplicates).toBe(2);
    expect(r.wide).toEqual([]);
    const o = (metric: string, value: number, labels: Record<string, string> = {}): OtherRow => ({
      time_ms: T,
      gpu_uuid: null,
      host: 'exporter-host',
      metric,
      value,
      labels,
    });
    expect(r.other).toEqual([
      o('up', 1),
      o('go_goroutines', 14),
      o('process_resident_memory_bytes', 43548672),
      o('promhttp_metric_handler_requests_total', 3, { code: '200' }),
      o('DCGM_FI_DEV_GPU_TEMP', 41),
      o('dcgm_exporter:last_update_seconds', 1767225600),
    ]);
    expect(r.result.lines).toBe(10);
  });

  it('puts samples of families that are not contiguous into one row per GPU (non-contiguous-families)', async () => {
    const r = await runFx('non-contiguous-families.prom');
    expectClean(r.result);
    const id = (i: number, uuid: string): Identity => gpu(uuid, 'hgx-h200-01', i, 'NVIDIA H200', `0000:${['18', '2a', '3a'][i]}:00.0`, '570.133.20');
    const n0 = id(0, 'GPU-e0e0e0e0-0000-4000-8000-00000000e000');
    const n1 = id(1, 'GPU-e1e1e1e1-0000-4000-8000-00000000e001');
    const n2 = id(2, 'GPU-e2e2e2e2-0000-4000-8000-00000000e002');
    expect(r.wide).toEqual([
      row(T, n0, { gpu_temp: 50, power_usage: 250.5, sm_clock_mhz: 1975 }),
      row(T, n1, { gpu_temp: 51, power_usage: 260.25, sm_clock_mhz: 1980 }),
      row(T, n2, { gpu_temp: 49, power_usage: 240, sm_clock_mhz: 1965 }),
    ]);
    expect(r.other.map((x) => [x.gpu_uuid, x.metric, x.value])).toEqual([
      [n0.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
      [n2.gpu_uuid, 'DCGM_FI_DEV_DEC_UTIL', 0],
    ]);
  });
});

describe('parsePromTask: label values', () => {
  it('unescapes \\" \\\\ and \\n and keeps spaces, commas and braces inside values (label-escapes)', async () => {
    const r = await runFx('label-escapes.prom');
    expectClean(r.result);
    const uuid = 'GPU-c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f';
    expect(r.wide).toEqual([row(T, gpu(uuid, 'rack7\\node3', 0, 'NVIDIA "H100" 80GB HBM3'), { gpu_temp: 45 })]);
    expect(r.other).toEqual([
      {
        time_ms: T,
        gpu_uuid: uuid,
        host: 'rack7\\node3',
        metric: 'DCGM_FI_DEV_ENC_UTIL',
        value: 0,
        labels: {
          gpu: '0',
          UUID: uuid,
          device: 'nvidia0',
          modelName: 'NVIDIA "H100" 80GB HBM3',
          Hostname: 'rack7\\node3',
          container: 'main',
          namespace: 'ml',
          pod: 'job-"quoted"-0',
        },
      },
      {
        time_ms: T,
        gpu_uuid: uuid,
        host: null,
        metric: 'DCGM_FI_DEV_DEC_UTIL',
        value: 0,
        labels: { gpu: '0', UUID: uuid, note: 'line one\nline two', path: 'C:\\Program Files\\NVIDIA\\', brace: '} {', comma: 'a, b' },
      },
    ]);
  });

  it('reads modelName values with spaces (h100-single-scrape)', async () => {
    const r = await runFx('h100-single-scrape.prom');
    expect(r.wide.map((w) => w.model)).toEqual([H100, H100]);
  });

  it('treats an empty label value as absent for identity, and keeps it in the labels (empty-label-values)', async () => {
    const r = await runFx('empty-label-values.prom', { host: 'fallback-host' });
    expectClean(r.result);
    const uuid = 'GPU-d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a';
    expect(r.wide).toEqual([row(T, gpu(uuid, 'fallback-host', 0, null, null, null), { gpu_temp: 38 })]);
    expect(r.other).toEqual([
      {
        time_ms: T,
        gpu_uuid: null,
        host: 'fallback-host',
        metric: 'DCGM_FI_DEV_GPU_TEMP',
        value: 41,
        labels: { gpu: '', UUID: '', device: 'nvidia1', modelName: 'NVIDIA A10' },
      },
      {
        time_ms: T,
        gpu_uuid: uuid,
        host: 'fallback-host',
        metric: 'DCGM_FI_DEV_DEC_UTIL',
        value: 0,
        labels: { gpu: '0', UUID: uuid, pci_bus_id: '', device: 'nvidia0', modelName: '', Hostname: '', DCGM_FI_DRIVER_VERSION: '' },
      },
    ]);
  });
});

describe('parsePromTask: values', () => {
  it('reads exponents, signs and Go special values; NaN/±Inf become null (special-values)', async () => {
    const r = await runFx('special-values.prom');
    expectClean(r.result);
    const a10 = gpu('GPU-a0b1c2d3-e4f5-4a6b-9c7d-8e9f0a1b2c3d', 'a10-box', 0, 'NVIDIA A10', '0000:65:00.0', '550.144.03');
    // gpu_temp NaN, power_usage +Inf, power_limit -Inf, gpu_util nan, mem_copy_util Inf: all null
    expect(r.wide).toEqual([
      row(T, a10, {
        sm_clock_mhz: 1695,
        energy_mj: 7824041,
        fb_used_mib: 1500,
        fb_free_mib: 21000,
        power_violation_us: 1234567890123456800,
        thermal_violation_us: 0.5,
      }),
    ]);
    expect(r.other.map((o) => [o.metric, o.value])).toEqual([
      ['DCGM_FI_PROF_PCIE_TX_BYTES', 112603],
      ['DCGM_FI_PROF_PCIE_RX_BYTES', null],
      ['DCGM_FI_DEV_ENC_UTIL', null],
      ['DCGM_FI_DEV_DEC_UTIL', null],
      ['DCGM_FI_DEV_FB_RESERVED', -0.25],
    ]);
    expect(r.result.stats.samples).toBe(16);
  });

  it('nulls DCGM blank sentinels (INT64, INT32 and FP64 bases + 0..3) but not values just below them (dcgm-blank-sentinels)', async () => {
    const r = await runFx('dcgm-blank-sentinels.prom');
    expectClean(r.result);
    const v100 = gpu('GPU-11223344-5566-4778-899a-abbccddeeff0', 'v100-legacy', 0, 'Tesla V100-SXM2-16GB');
    // memory_temp, power_usage, power_limit, ecc_dbe_volatile, retired_pages_pending, xid_last, pcie_replay_count: blank
    expect(r.wide).toEqual([row(T, v100, { gpu_temp: 44, fb_used_mib: 2147483631 })]);
    expect(r.other.map((o) => [o.metric, o.value])).toEqual([
      ['DCGM_FI_DEV_ENC_UTIL', null],
      ['DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', null],
    ]);
    expect(r.result.stats.samples).toBe(11);
  });

  it('nulls <<<NOT_SUPPORTED>>> and the other DCGM string blanks (not-supported-strings)', async () => {
    const r = await runFx('not-supported-strings.prom');
    expectClean(r.result);
    const v100 = gpu('GPU-11223344-5566-4778-899a-abbccddeeff0', 'v100-legacy', 0, 'Tesla V100-SXM2-16GB');
    expect(r.wide).toEqual([row(T, v100, { gpu_temp: 36 })]);
    expect(r.other.map((o) => [o.metric, o.value])).toEqual([['DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', null]]);
    expect(r.result.stats.samples).toBe(6);
  });

  it('nulls MEMORY_TEMP reported as 0 and keeps other zeros (memory-temp-zero)', async () => {
    const r = await runFx('memory-temp-zero.prom');
    expectClean(r.result);
    const l4 = gpu('GPU-9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19', 'l4-worker-5', 0, 'NVIDIA L4', '0000:38:00.0', '580.105.08');
    expect(r.wide).toEqual([row(T, l4, { gpu_temp: 33, gpu_util: 0, fb_used_mib: 0, row_remap_failure: 0 })]);
    expect(r.wideCsv.split('\n')[0]!.split(',')[8]).toBe(''); // memory_temp column is empty
  });

  it('turns DCP ratios (0–1) into percent (dcp-ratios)', async () => {
    const r = await runFx('dcp-ratios.prom');
    expectClean(r.result);
    const d = (i: number, uuid: string, pci: string): Identity => gpu(uuid, 'dgx-h100-12', i, H100, pci, '570.133.20');
    expect(r.wide).toEqual([
      row(T, d(0, 'GPU-2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091', '0000:1b:00.0'), {
        gr_engine_active: 99.563,
        sm_active: 87.1234,
        sm_occupancy: 41.25,
        tensor_active: 92.926,
        dram_active: 69.0789,
      }),
      row(T, d(1, 'GPU-8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d', '0000:43:00.0'), {
        gr_engine_active: 0,
        sm_active: 100,
        sm_occupancy: 0.0001,
        tensor_active: 0,
        dram_active: 0.0117,
      }),
    ]);
    // PCIe bytes are not a ratio and have no column: unscaled in metrics_other
    expect(r.other.map((o) => [o.metric, o.value])).toEqual([
      ['DCGM_FI_PROF_PCIE_TX_BYTES', 33011804],
      ['DCGM_FI_PROF_PCIE_TX_BYTES', 112603],
    ]);
  });
});

describe('parsePromTask: dcgm-exporter label sets and names', () => {
  it('reads the host from Hostname, hostname or exported_Hostname, else --host (hostname-variants)', async () => {
    const r = await runFx('hostname-variants.prom', { host: 'cli-host' });
    expectClean(r.result);
    const l40s = (u: string, host: string, drv: string): Identity => gpu(u, host, 0, 'NVIDIA L40S', '0000:18:00.0', drv);
    expect(r.wide).toEqual([
      row(T, l40s('GPU-aa000000-0000-4000-8000-000000000001', 'node-a', '570.124.06'), { gpu_temp: 40 }),
      row(T, l40s('GPU-bb000000-0000-4000-8000-000000000002', 'node-b', '580.82.07'), { gpu_temp: 41 }),
      row(T, l40s('GPU-cc000000-0000-4000-8000-000000000003', 'cli-host', '570.124.06'), { gpu_temp: 42 }),
      row(T, l40s('GPU-dd000000-0000-4000-8000-000000000004', 'node-d', '570.124.06'), { gpu_temp: 43 }),
      row(T, l40s('GPU-ee000000-0000-4000-8000-000000000005', 'node-e', '580.82.07'), { gpu_temp: 44 }),
    ]);
  });

  it('leaves host null with neither a host label nor --host', async () => {
    const r = await runFx('hostname-variants.prom');
    expect(r.wide.map((w) => w.host)).toEqual(['node-a', 'node-b', null, 'node-d', 'node-e']);
  });

  // Regression: a series without a GPU UUID (dcgm-exporter CPU families: cpu/cpucore + Hostname)
  // used to get the --host fallback (or null) in metrics_other instead of its own Hostname label.
  it('keeps the Hostname label of series without a GPU UUID (cpu-families-hostname)', async () => {
    const r = await runFx('cpu-families-hostname.prom');
    expect(r.other.map((o) => [o.metric, o.gpu_uuid, o.host])).toEqual([
      ['DCGM_FI_DEV_CPU_UTIL_TOTAL', null, 'grace-node-1'],
      ['DCGM_FI_DEV_CPU_UTIL_TOTAL', null, 'grace-node-1'],
      ['DCGM_FI_DEV_CPU_TEMP_CURRENT', null, 'grace-node-1'],
      ['DCGM_FI_DEV_CPU_POWER_UTIL_CURRENT', null, 'grace-node-1'],
    ]);
  });

  it('reads CPU families (no GPU UUID) into metrics_other with their labels (cpu-families-hostname)', async () => {
    const r = await runFx('cpu-families-hostname.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([]);
    expect(r.other.map((o) => [o.metric, o.gpu_uuid, o.value, o.labels])).toEqual([
      ['DCGM_FI_DEV_CPU_UTIL_TOTAL', null, 0.123456, { cpu: '0', Hostname: 'grace-node-1' }],
      ['DCGM_FI_DEV_CPU_UTIL_TOTAL', null, 0.05, { cpu: '1', Hostname: 'grace-node-1' }],
      ['DCGM_FI_DEV_CPU_TEMP_CURRENT', null, 41, { cpu: '0', Hostname: 'grace-node-1' }],
      ['DCGM_FI_DEV_CPU_POWER_UTIL_CURRENT', null, 132.5, { cpu: '0', Hostname: 'grace-node-1' }],
    ]);
  });

  it('reads the GPU from a lower-case uuid label (uuid-lowercase)', async () => {
    const r = await runFx('uuid-lowercase.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([
      row(T, gpu('GPU-0f1e2d3c-4b5a-4697-8877-665544332211', 't4-legacy', 1, 'Tesla T4'), { gpu_temp: 35, fb_used_mib: 0 }),
      row(T, gpu('GPU-5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f', 't4-legacy', 0, 'Tesla T4'), { gpu_temp: 37, fb_used_mib: 2210 }),
    ]);
  });

  it('maps dcgm-exporter 1.x names (dcgm_gpu_temp …) with a uuid label (v1-compat-names)', async () => {
    const r = await runFx('v1-compat-names.prom', { host: 'v1-host' });
    expectClean(r.result);
    const uuid = 'GPU-3c2b1a09-8f7e-4d6c-9b5a-493827161504';
    // dcgm_memory_temp 0 → null; dcgm_fi_prof_gr_engine_active is still a ratio → percent
    expect(r.wide).toEqual([
      row(T, gpu(uuid, 'v1-host', 0), {
        sm_clock_mhz: 1380,
        mem_clock_mhz: 877,
        gpu_temp: 46,
        power_usage: 57.341,
        energy_mj: 2618840111,
        gpu_util: 12,
        mem_copy_util: 3,
        xid_last: 31,
        fb_free_mib: 14106,
        fb_used_mib: 2054,
        gr_engine_active: 25,
      }),
    ]);
    expect(r.other).toEqual([{ time_ms: T, gpu_uuid: uuid, host: 'v1-host', metric: 'dcgm_enc_utilization', value: 0, labels: { gpu: '0', uuid } }]);
  });

  it('maps CLOCK_THROTTLE_REASONS and CLOCKS_EVENT_REASONS both to throttle_reasons (throttle-reasons-names)', async () => {
    const r = await runFx('throttle-reasons-names.prom');
    expectClean(r.result);
    expect(r.wide).toEqual([
      row(T, gpu('GPU-c0ffee00-1111-4222-8333-444455556666', 'a30-node', 0, 'NVIDIA A30', '0000:19:00.0', '535.230.02'), { throttle_reasons: 1 }),
      row(T, gpu('GPU-c0ffee01-7777-4888-9999-aaaabbbbcccc', 'a30-node', 1, 'NVIDIA A30', '0000:3b:00.0', '570.133.20'), { throttle_reasons: 136 }),
    ]);
    expect(r.other).toEqual([]);
  });

  it('keeps MIG instance series out of GPU rows, in metrics_other with the parent UUID (mig-a100)', async () => {
    const r = await runFx('mig-a100.prom');
    expectClean(r.result);
    const uuid = 'GPU-6e1d2c3b-4a59-4867-b6a5-9483726150fe';
    expect(r.wide).toEqual([
      row(T, gpu(uuid, 'a100-mig-01', 0), {
        sm_clock_mhz: 1410,
        mem_clock_mhz: 1215,
        memory_temp: 52,
        gpu_temp: 47,
        power_usage: 218.337,
        xid_last: 0,
        fb_free_mib: 10022,
        fb_used_mib: 30513,
        gr_engine_active: 71.23,
      }),
    ]);
    const mig = (id: string, profile: string) => ({ gpu: '0', UUID: uuid, device: 'nvidia0', GPU_I_PROFILE: profile, GPU_I_ID: id, Hostname: 'a100-mig-01' });
    const o = (metric: string, value: number, id: string, profile: string): OtherRow => ({
      time_ms: T,
      gpu_uuid: uuid,
      host: 'a100-mig-01',
      metric,
      value,
      labels: mig(id, profile),
    });
    // instance values are kept as the exporter gave them (ratios unscaled)
    expect(r.other).toEqual([
      o('DCGM_FI_DEV_XID_ERRORS', 0, '1', '3g.20gb'),
      o('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 0.995687, '1', '3g.20gb'),
      o('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 0.930433, '1', '3g.20gb'),
      o('DCGM_FI_DEV_XID_ERRORS', 0, '5', '2g.10gb'),
      o('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 0.12, '5', '2g.10gb'),
      o('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 0, '5', '2g.10gb'),
    ]);
    expect(r.result.migSeries).toBe(2);
    expect(r.result.lines).toBe(16);
    expect(r.result.stats).toMatchObject({ samples: 15, rows: 1, others: 6 });
  });

  it('keeps Kubernetes pod labels (some empty) of some families in metrics_other; the GPU row is unaffected (k8s-pod-labels)', async () => {
    const r = await runFx('k8s-pod-labels.prom');
    expectClean(r.result);
    const h = (i: number, u: string, pci: string): Identity => gpu(u, 'gke-h100-pool-7f3a', i, H100, pci, '570.133.20');
    const k0 = h(0, 'GPU-71c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e', '0000:4e:00.0');
    const k1 = h(1, 'GPU-92a3b4c5-d6e7-4f80-9a1b-2c3d4e5f6a7b', '0000:5f:00.0');
    expect(r.wide).toHaveLength(4); // with and without pod labels: two partial rows per GPU
    expect(merged(r.wide)).toEqual([row(T, k0, { gpu_temp: 61, gpu_util: 99, fb_used_mib: 74112 }), row(T, k1, { gpu_temp: 33, gpu_util: 0, fb_used_mib: 0 })]);
    expect(r.other).toEqual([
      {
        time_ms: T,
        gpu_uuid: k0.gpu_uuid,
        host: 'gke-h100-pool-7f3a',
        metric: 'DCGM_FI_DEV_ENC_UTIL',
        value: 0,
        labels: {
          gpu: '0',
          UUID: k0.gpu_uuid,
          pci_bus_id: '00000000:4E:00.0',
          device: 'nvidia0',
          modelName: H100,
          Hostname: 'gke-h100-pool-7f3a',
          DCGM_FI_DRIVER_VERSION: '570.133.20',
          container: 'pytorch',
          namespace: 'ml-train',
          pod: 'llama-ft-0',
          pod_uid: '',
        },
      },
    ]);
  });

  it('keeps vGPU license status in metrics_other and nulls the vGPU MEMORY_TEMP 0 (vgpu-license)', async () => {
    const r = await runFx('vgpu-license.prom');
    expectClean(r.result);
    const uuid = 'GPU-1a2b3c4d-5e6f-4071-8293-a4b5c6d7e8f9';
    expect(r.wide).toEqual([row(T, gpu(uuid, 'vm-grid-04', 0, 'GRID A100D-40C', null, '550.127.05'), { gpu_temp: 0, fb_used_mib: 3521 })]);
    expect(r.other).toEqual([
      {
        time_ms: T,
        gpu_uuid: uuid,
        host: 'vm-grid-04',
        metric: 'DCGM_FI_DEV_VGPU_LICENSE_STATUS',
        value: 1,
        labels: { gpu: '0', UUID: uuid, device: 'nvidia0', modelName: 'GRID A100D-40C', Hostname: 'vm-grid-04', DCGM_FI_DRIVER_VERSION: '550.127.05' },
      },
    ]);
  });

  it('fills xid_last from XID_ERRORS series that carry err_code/err_msg labels (xid-err-labels)', async () => {
    const r = await runFx('xid-err-labels.prom');
    expectClean(r.result);
    const x = (i: number, u: string, pci: string): Identity => gpu(u, 'dgx-h100-03', i, H100, pci, '570.133.20');
    expect(r.wide).toHaveLength(4);
    expect(merged(r.wide)).toEqual([
      row(T, x(0, 'GPU-0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d', '0000:18:00.0'), { gpu_temp: 71, xid_last: 119 }),
      row(T, x(1, 'GPU-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', '0000:2a:00.0'), { gpu_temp: 44, xid_last: 0 }),
    ]);
    expect(r.other).toEqual([]);
  });
});

describe('parsePromTask: duplicates', () => {
  const D = gpu('GPU-d0d0d0d0-1e1e-4f2f-8a3a-4b4b4b4b4b4b', 'ws-a6000', 0, 'NVIDIA RTX A6000', '0000:c1:00.0', '550.144.03');

  it('keeps the last of a repeated name+label set in one scrape and counts it (duplicate-series)', async () => {
    const r = await runFx('duplicate-series.prom');
    expect(r.result.rejects).toEqual([]);
    // GPU_TEMP 40 → 42; MEMORY_TEMP 50 → 0 (= null)
    expect(r.wide).toEqual([row(T, D, { gpu_temp: 42, power_usage: 100 })]);
    expect(r.result.duplicates).toBeGreaterThanOrEqual(2);
    expect(r.result.stats.samples).toBe(7);
  });

  // Regression: duplicates of series that go to metrics_other (no canonical column, MIG, no UUID)
  // used to be neither counted nor resolved to the last (the other-table merge kept an arbitrary one).
  it('counts and resolves duplicates of metrics_other series too (duplicate-series)', async () => {
    const r = await runFx('duplicate-series.prom');
    expect(r.result.duplicates).toBe(3);
    expect(r.other.map((o) => [o.metric, o.value])).toEqual([['DCGM_FI_DEV_ENC_UTIL', 6]]);
  });

  it('does not count the same series at different timestamps as a duplicate', async () => {
    const r = await runFx('multi-scrape-federate.prom', { defaultTimeMs: null });
    expect(r.result.duplicates).toBe(0);
  });
});

describe('parsePromTask: malformed lines', () => {
  it('rejects pasted terminal noise with 1-based line numbers and keeps the samples around it (curl-noise)', async () => {
    const r = await runFx('curl-noise.prom');
    const a10g = gpu('GPU-f00dcafe-1234-4abc-8def-0123456789ab', 'ip-10-0-12-34', 0, 'NVIDIA A10G', '0000:00:1e.0', '550.127.05');
    expect(r.wide).toEqual([row(T, a10g, { sm_clock_mhz: 1710, gpu_temp: 29, power_usage: 58.992 })]);
    const lines = fxText('curl-noise.prom').split('\n');
    const rej = (line: number, reason: string) => ({ file: 'curl-noise.prom', line, reason, text: lines[line - 1] });
    const HANDLING = 'not a metric sample (unexpected text after the value)'; // "Handling connection for 9400": name, value?, timestamp?, more
    expect(r.result.rejects).toEqual([
      rej(1, NO_NAME), // $ curl -v localhost:9400/metrics
      rej(2, NO_NAME), // *   Trying 127.0.0.1:9400...
      rej(3, NO_NAME),
      rej(4, NO_NAME), // > GET /metrics HTTP/1.1
      rej(5, NO_NAME),
      rej(6, NO_NAME), // >
      rej(7, HANDLING),
      rej(8, NO_NAME), // < HTTP/1.1 200 OK
      rej(9, NO_NAME),
      rej(10, NO_NAME), // <
      rej(14, NO_NAME), // ...
      rej(18, HANDLING),
      rej(20, NO_NAME), // * Connection #0 to host localhost left intact
    ]);
    expect(r.result.rejects[0]!.text).toBe('$ curl -v localhost:9400/metrics');
    expect(r.result.rejects[10]!.text).toBe('...');
    expect(r.result.rejects[12]!.text).toBe('* Connection #0 to host localhost left intact');
    expect(r.result.lines).toBe(20);
    expect(r.result.stats).toMatchObject({ samples: 3, rows: 1, others: 0, rejected: 13 });
  });

  it('rejects unterminated label sets, junk after the timestamp, bad timestamps, missing or bad values (malformed-samples)', async () => {
    const r = await runFx('malformed-samples.prom', { defaultTimeMs: null });
    const lines = fxText('malformed-samples.prom').split('\n');
    const rej = (line: number, reason: string) => ({ file: 'malformed-samples.prom', line, reason, text: lines[line - 1] });
    expect(r.result.rejects).toEqual([
      rej(2, 'unterminated label set'),
      rej(3, 'unexpected text after the sample'),
      rej(4, 'not a metric sample (unexpected text after the value)'),
      rej(5, 'invalid timestamp (expected integer milliseconds)'),
      rej(6, 'invalid timestamp (expected integer milliseconds)'),
      rej(7, 'missing value'),
      rej(8, 'not a metric sample (no value)'),
      rej(9, 'invalid value "abc"'),
      rej(10, 'malformed label set'),
      rej(11, 'malformed label set'),
      rej(12, 'invalid timestamp'),
    ]);
    const h = gpu('GPU-bad0bad0-2222-4333-8444-555566667777', 'pcie-node', 0, 'NVIDIA H100 PCIe');
    expect(r.wide).toEqual([row(1767225600000, h, { gpu_temp: 41, gpu_util: 88 })]);
    expect(r.other).toEqual([]);
    expect(r.result.lines).toBe(13);
    expect(r.result.stats).toMatchObject({ samples: 2, rows: 1, rejected: 11 });
    expect(r.result.missingTimestamps).toBe(0);
  });

  it('rejects a line cut off inside its label set, and a value with nothing after the name', async () => {
    const file = path.join(TMP, 'cut.prom');
    fs.writeFileSync(
      file,
      'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-x",modelName="NVIDIA H100 80G\nDCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-x"} 40\nDCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-x"}    \n',
    );
    const r = await run(file);
    expect(r.result.rejects.map((x) => [x.line, x.reason])).toEqual([
      [1, 'unterminated label set'],
      [3, 'missing value'],
    ]);
    expect(r.wide).toEqual([row(T, gpu('GPU-x', null, 0), { gpu_temp: 40 })]);
  });
});

describe('parsePromTask: byte ranges', () => {
  /** Parses `name` as the given ranges (cut points) into one staging and compares with the whole-file parse. */
  async function expectSplitEqualsWhole(name: string, cuts: number[], opts: RunOpts = {}): Promise<void> {
    const file = fx(name);
    const buf = fs.readFileSync(file);
    const whole = await run(file, opts);
    const bounds = [0, ...cuts, buf.length];
    const ranges = bounds.slice(0, -1).map((s, i) => [s, i === bounds.length - 2 ? -1 : bounds[i + 1]!] as [number, number]);
    const split = await run(file, { ...opts, ranges });
    const label = `${name} cut at ${cuts.join(',')}`;
    // every line is owned by exactly one range
    expect(
      split.results.reduce((s, r) => s + r.lines, 0),
      label,
    ).toBe(countLines(buf));
    expect(
      split.results.reduce((s, r) => s + r.lines, 0),
      label,
    ).toBe(whole.result.lines);
    expect(
      split.results.reduce((s, r) => s + r.stats.samples, 0),
      label,
    ).toBe(whole.result.stats.samples);
    expect(
      split.results.reduce((s, r) => s + r.stats.rejected, 0),
      label,
    ).toBe(whole.result.stats.rejected);
    expect(
      split.results.reduce((s, r) => s + r.duplicates, 0),
      label,
    ).toBe(whole.result.duplicates);
    // range-relative reject line numbers → file line numbers
    let offset = 0;
    const rejects = split.results.flatMap((r) => {
      const out = r.rejects.map((x) => ({ ...x, line: x.line + offset }));
      offset += r.lines;
      return out;
    });
    expect(rejects, label).toEqual(whole.result.rejects);
    expect(merged(split.wide), label).toEqual(merged(whole.wide));
    expect(sortOther(split.other), label).toEqual(sortOther(whole.other));
  }

  /** Offsets of line starts in the file. */
  function lineStarts(buf: Buffer): number[] {
    const out: number[] = [];
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10 && i + 1 < buf.length) out.push(i + 1);
    return out;
  }

  it('owns each line in exactly one range when a multi-scrape file is cut in two, anywhere', async () => {
    const name = 'multi-scrape-federate.prom';
    const buf = fs.readFileSync(fx(name));
    const cuts = new Set<number>();
    for (let c = 1; c < buf.length; c += 97) cuts.add(c);
    for (const s of lineStarts(buf).slice(0, 12)) for (const d of [-1, 0, 1]) cuts.add(s + d);
    for (const c of cuts) await expectSplitEqualsWhole(name, [c], { defaultTimeMs: null });
  });

  it('cuts a multi-scrape file into three ranges mid-line', async () => {
    const name = 'multi-scrape-federate.prom';
    const size = fs.statSync(fx(name)).size;
    const third = Math.floor(size / 3);
    await expectSplitEqualsWhole(name, [third, 2 * third], { defaultTimeMs: null });
    await expectSplitEqualsWhole(name, [third + 17, 2 * third - 5], { defaultTimeMs: null });
    await expectSplitEqualsWhole(name, [1, size - 1], { defaultTimeMs: null });
    // two cuts inside one line: the middle range owns nothing
    const s = lineStarts(fs.readFileSync(fx(name)))[3]!;
    await expectSplitEqualsWhole(name, [s + 5, s + 40], { defaultTimeMs: null });
    const mid = await run(fx(name), {
      defaultTimeMs: null,
      ranges: [
        [0, s + 5],
        [s + 5, s + 40],
        [s + 40, -1],
      ],
    });
    expect(mid.results[1]!.lines).toBe(0);
  });

  it('maps reject line numbers back across ranges (curl-noise)', async () => {
    const buf = fs.readFileSync(fx('curl-noise.prom'));
    for (let c = 1; c < buf.length; c += 23) await expectSplitEqualsWhole('curl-noise.prom', [c]);
    const starts = lineStarts(buf);
    await expectSplitEqualsWhole('curl-noise.prom', [starts[5]!, starts[12]! + 3, starts[17]! - 1]);
  });

  it('splits CRLF files, also between CR and LF, and a file with no final newline', async () => {
    const crlf = fs.readFileSync(fx('crlf.prom'));
    for (let i = 0; i < crlf.length; i++) if (crlf[i] === 13) await expectSplitEqualsWhole('crlf.prom', [i + 1]);
    const nfn = fs.readFileSync(fx('no-final-newline.prom'));
    for (const c of [1, nfn.length - 10, nfn.length - 1, ...lineStarts(nfn)]) await expectSplitEqualsWhole('no-final-newline.prom', [c]);
  });

  it('parses nothing from a range that starts inside the last line', async () => {
    const size = fs.statSync(fx('h100-single-scrape.prom')).size;
    const r = await runFx('h100-single-scrape.prom', { ranges: [[size - 5, -1]] });
    expect(r.result.lines).toBe(0);
    expect(r.wide).toEqual([]);
  });
});

describe('parsePromTask: the line fast path', () => {
  // After a first scrape, a line that repeats a known name and the predicted label set is parsed
  // forwards without a newline search (fastLine); anything unusual falls back to the full parse.
  // Oracle: the same line as the first line of its own file always takes the full parse.
  const labels = (i: number): string => `gpu="${i}",UUID="GPU-fa57${i}000-0000-4000-8000-000000000000",Hostname="fast-1"`;
  // two scrapes, so that both the next name and the next series are predicted
  const warm = [T, T + 1_000]
    .flatMap((t) => ['GPU_TEMP', 'POWER_USAGE'].flatMap((f) => [0, 1].map((i) => `DCGM_FI_DEV_${f}{${labels(i)}} 50 ${t}`)))
    .join('\n');
  const variants = [
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}}\t61\t${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}}   61   ${T + 10_000}   `,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61 ${T + 10_000}\r`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61\r`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 6.1e1 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} NaN ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61 ${T + 10_000} extra`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61 12x4`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}}61 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 6\r1 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} `,
    `DCGM_FI_DEV_GPU_TEMPX{${labels(0)}} 61 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)},x="}"} 61 ${T + 10_000}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 61 5}`,
    `DCGM_FI_DEV_GPU_TEMP{${labels(0)}} 1} 5`,
  ];
  const writeFile = (name: string, text: string): string => {
    const f = path.join(TMP, name);
    fs.writeFileSync(f, text);
    return f;
  };
  it.each(variants.map((v, i) => [i, v]))('variant %i parses as it does on its own', async (i, v) => {
    // the warm-up scrapes are at T and T + 1 s; the variant at T + 10 s, or at --time (T + 5 s) without one
    const opts = { defaultTimeMs: T + 5_000 };
    const warmed = await run(writeFile(`fast-warm-${i}.prom`, `${warm}\n${v}\n`), opts);
    const alone = await run(writeFile(`fast-alone-${i}.prom`, `${v}\n`), opts);
    const last = (r: Run) => ({
      wide: r.wide.filter((w) => w.time_ms > T + 1_000),
      other: r.other.filter((o) => o.time_ms > T + 1_000),
      rejects: r.result.rejects.map((x) => [x.reason, x.text]),
    });
    expect(warmed.result.lines).toBe(9);
    expect(last(warmed)).toEqual(last(alone));
  });
});

describe('parsePromTask: many series', () => {
  // Regression: the list of series with open rows once grew by one entry per row, and its compaction
  // kept stale entries, so past 65536 series every row re-filtered the list (60000 series took
  // minutes). Each series is now listed once.
  it('parses two scrapes of 60000 series, one row per series and scrape', async () => {
    const n = 60000;
    let text = '';
    for (let s = 0; s < 2; s++) {
      for (let g = 0; g < n; g++) text += `DCGM_FI_DEV_GPU_TEMP{gpu="${g % 8}",UUID="GPU-${g}",Hostname="h${g >> 3}"} 40 ${T + s * 15000}\n`;
    }
    const file = path.join(TMP, 'many-series.prom');
    fs.writeFileSync(file, text);
    // the parser alone (run() would check each of the 120,000 rows one by one, which is not the point here)
    const staging = openStaging(fs.mkdtempSync(path.join(TMP, 'run-')), 't');
    let batchRows = 0;
    try {
      const task = { path: file, displayName: 'many-series.prom', gzip: false, start: 0, end: -1, defaultTimeMs: null, host: null };
      const result = await parsePromTask(task, staging, (b) => {
        if (b.kind === 'wide') batchRows += b.rows;
      });
      expect(result.stats.rows).toBe(2 * n);
      expect(batchRows).toBe(2 * n);
    } finally {
      closeStaging(staging);
    }
  });
});

describe('parsePromTask: gzip', () => {
  it('parses a gzip file like the plain one', async () => {
    for (const name of ['multi-scrape-federate.prom', 'no-final-newline.prom', 'curl-noise.prom', 'crlf.prom']) {
      const gz = path.join(TMP, `${name}.gz`);
      fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(fx(name))));
      const plain = await runFx(name);
      const zipped = await run(gz, { gzip: true });
      const noFile = (r: PromResult) => ({ ...r, rejects: r.rejects.map((x) => ({ ...x, file: '' })) });
      expect(noFile(zipped.result), name).toEqual(noFile(plain.result));
      expect(zipped.result.rejects.every((x) => x.file === `${name}.gz`)).toBe(true);
      expect(zipped.wide, name).toEqual(plain.wide);
      expect(zipped.other, name).toEqual(plain.other);
    }
  });

  it('parses the intact prefix of a truncated gzip and says it was truncated', async () => {
    // a larger file (many scrapes) so that half of the compressed stream holds many lines
    const base = fxText('multi-scrape-federate.prom');
    let text = '';
    for (let k = 0; k < 40; k++) text += base.replace(/ (\d{13})$/gm, (_m, t: string) => ` ${Number(t) + k * 45000}`);
    const gzBytes = zlib.gzipSync(Buffer.from(text));
    const half = gzBytes.subarray(0, gzBytes.length >> 1);
    const gz = path.join(TMP, 'truncated.prom.gz');
    fs.writeFileSync(gz, half);

    // what can be decompressed from the half; its complete lines are the intact prefix
    const prefix = zlib.gunzipSync(half, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
    const complete = prefix.slice(0, prefix.lastIndexOf('\n') + 1);
    expect(complete.length).toBeGreaterThan(1000);
    expect(complete.length).toBeLessThan(text.length);
    const plainPrefix = path.join(TMP, 'truncated-prefix.prom');
    fs.writeFileSync(plainPrefix, complete);

    const r = await run(gz, { gzip: true, defaultTimeMs: null });
    const expected = await run(plainPrefix, { defaultTimeMs: null });
    expect(r.result.truncated).toBe(true);
    expect(r.result.lines).toBe(countLines(Buffer.from(complete)));
    expect(r.result.rejects).toEqual([]); // the cut-off last line is dropped, not rejected
    expect(r.result.stats).toEqual(expected.result.stats);
    expect(r.wide).toEqual(expected.wide);
    expect(r.other).toEqual(expected.other);
    expect(r.wide.length).toBeGreaterThan(0);
  });

  // Regression: on a gzip data error (bad CRC, corrupt block) Node's zlib drops the output of the
  // failing write, up to one chunk (1 MiB) of intact text: a small file with a bad CRC used to yield
  // nothing, yet was reported as "truncated; the intact part was ingested".
  it('keeps everything before a corrupt gzip trailer (bad CRC) and reports the file as truncated', async () => {
    const name = 'h100-single-scrape.prom';
    const gzBytes = Buffer.from(zlib.gzipSync(fs.readFileSync(fx(name))));
    const crc = gzBytes.length - 8; // CRC32 of the trailer
    gzBytes[crc] = gzBytes[crc]! ^ 0xff;
    const gz = path.join(TMP, 'bad-crc.prom.gz');
    fs.writeFileSync(gz, gzBytes);
    const plain = await runFx(name);
    const r = await run(gz, { gzip: true });
    expect(r.result.truncated).toBe(true);
    expect(r.result.lines).toBe(plain.result.lines);
    expect(r.result.stats).toEqual(plain.result.stats);
    expect(r.wide).toEqual(plain.wide);
    expect(r.other).toEqual(plain.other);
  });
});

// The DCP scaling rule lives in dcgm/values.ts (scaleReading); this parser inlines it as digit
// arithmetic on its fast path. Both parsers must store the same double for the same printed value.
describe('one DCP scaling rule for exposition text and Prometheus JSON', () => {
  const PRINTED = ['0.058619', '0.873412', '0.912345', '0.655', '1', '0', '0.000001', '1.000000', '5.8619e-02', '0.12345678901234567'];

  it('stores the printed decimal scaled in decimal: "0.058619" is 5.8619 in both', async () => {
    const labels = 'gpu="0",UUID="GPU-dcp",Hostname="h"';
    const prom = path.join(TMP, 'dcp-rule.prom');
    fs.writeFileSync(prom, PRINTED.map((t, i) => `DCGM_FI_PROF_SM_ACTIVE{${labels}} ${t} ${T + i * 1000}\n`).join(''));
    const text = (await run(prom)).wide.map((r) => r.values['sm_active']);
    const json = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'DCGM_FI_PROF_SM_ACTIVE', gpu: '0', UUID: 'GPU-dcp', Hostname: 'h' },
            values: PRINTED.map((t, i) => [(T + i * 1000) / 1000, t]),
          },
        ],
      },
    });
    const fromJson = (await runParser(promJsonParser, json)).rows.map((r) => r.values.sm_active);
    const rule = PRINTED.map((t) => scaleReading(Number(t), 100, t));
    expect(text[0]).toBe(5.8619);
    expect(fromJson[0]).toBe(5.8619);
    expect(text).toEqual(rule);
    expect(fromJson).toEqual(rule);
    expect(rule.slice(0, 4)).toEqual([5.8619, 87.3412, 91.2345, 65.5]);
  });
});
