/**
 * What the lake cannot store is a reject of its line, in the line parsers' sink (staging.ts) and in
 * the exposition-text parser (prom-text.ts), gzip sources included; see limits.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { queryLake, tempDir, tempLake } from '../../../test/helpers/cli.js';
import { T0, gpus, instants, scrape } from '../../../test/e2e/scrapes.js';
import type { MetricRow } from '../schema.js';
import { ingest } from './ingest.js';
import { LONG_LINE_REASON, timeProblem } from './limits.js';
import { closeStaging, openStaging, StagingSink, type RejectRecord } from './staging.js';

const ROW: MetricRow = {
  gpu_uuid: 'GPU-1',
  host: 'h',
  gpu_index: 0,
  model: null,
  pci_bus_id: null,
  driver_version: null,
  time_ms: T0,
  values: { gpu_temp: 50 },
};

function sink(): { sink: StagingSink; rejects: RejectRecord[]; close(): void } {
  const files = openStaging(tempDir(), 't');
  const rejects: RejectRecord[] = [];
  return { sink: new StagingSink(files, 'f.csv', (r) => rejects.push(r)), rejects, close: () => closeStaging(files) };
}

describe('timeProblem', () => {
  it('takes the years 0001–9999 and names the year otherwise', () => {
    expect(timeProblem(T0)).toBeNull();
    expect(timeProblem(Date.parse('9999-12-31T23:59:59.999Z'))).toBeNull();
    expect(timeProblem(Date.parse('0001-01-01T00:00:00Z'))).toBeNull();
    expect(timeProblem(253402300800000)).toBe('timestamp in year 10000 is outside the years 0001–9999');
    expect(timeProblem(1e30)).toMatch(/^timestamp 1e\+30 is outside/);
  });
});

describe('the line parsers’ sink', () => {
  it('rejects a row, sample or event the lake cannot store, with its line and text, and stages the rest', () => {
    const { sink: s, rejects, close } = sink();
    const at = (line: number) => ({ line, text: `line ${line}` });
    s.row(ROW, at(1));
    s.row({ ...ROW, values: { xid_last: 99999999999 } }, at(2));
    s.row({ ...ROW, values: { ecc_sbe_volatile: -1e19 } }, at(3));
    s.row({ ...ROW, gpu_index: 99999999999 }, at(4));
    s.row({ ...ROW, time_ms: 253402300800000 }, at(5));
    s.other({ time_ms: T0, gpu_uuid: 'GPU-1', host: 'h', metric: 'm', value: 1, labels: { pod: 'x'.repeat(1_100_000) } }, at(6));
    s.xid({ time_ms: T0, gpu_uuid: 'GPU-1', host: 'h', pci_bus_id: null, xid: 99999999999, source: 'dmesg', message: 'm' }, at(7));
    s.row({ ...ROW, values: { xid_last: 79, ecc_sbe_volatile: 2 ** 40 } });
    close();
    expect(rejects.map((r) => [r.line, r.text])).toEqual([2, 3, 4, 5, 6, 7].map((l) => [l, `line ${l}`]));
    expect(rejects.map((r) => r.reason)).toEqual([
      'xid_last value 99999999999 is out of range for INTEGER',
      'ecc_sbe_volatile value -10000000000000000000 is out of range for BIGINT',
      'gpu_index 99999999999 is out of range for INTEGER',
      'timestamp in year 10000 is outside the years 0001–9999',
      expect.stringMatching(/^labels and fields longer than 1 MB in all \(\d+ bytes\)$/),
      'Xid 99999999999 is out of range for INTEGER',
    ]);
    expect(s.stats).toMatchObject({ rows: 2, rejected: 6 });
  });
});

describe('exposition text', () => {
  it('a gzip source with a line longer than the read buffer: that line rejected, the lines after it ingested', async () => {
    const good = scrape({ gpus: gpus(2), times: instants(T0, 3), seed: 51 }).text;
    const file = path.join(tempDir(), 'long.prom.gz');
    fs.writeFileSync(file, zlib.gzipSync(`${good}${'z'.repeat(6 << 20)}\n${good.replace(/ 1767/g, ' 1768')}`));
    const lake = tempLake();
    const s = await ingest({ lake, inputs: [file] });
    expect(s).toMatchObject({ rows: 12, rejected: 1 });
    const [r] = fs
      .readFileSync(s.rejects_file!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RejectRecord);
    expect(r).toMatchObject({ line: good.split('\n').length, reason: LONG_LINE_REASON });
    expect(r!.text.length).toBeLessThanOrEqual(2000);
    expect(await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}')).toEqual([{ n: 12 }]);
  });
});
