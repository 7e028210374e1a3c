/**
 * The stamped spool reads as the scrape did: every exposition fixture, stamped by collect, gives
 * ingest the same rows (metrics and metrics_other) and the same rejects as the original dated by its
 * file name (as --time would date it), and the trailer lines cost no reject and no warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, queryLake, tempDir } from '../../../test/helpers/cli.js';
import { ingest } from '../ingest/ingest.js';
import { PENDING_LINE_MS } from '../ingest/sources.js';
import type { IngestSummary } from '../ingest/summary.js';
import { stampScrape } from './stamp.js';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const fixtures = fs
  .readdirSync(path.join(FIXTURES, 'prom'))
  .filter((f) => f.endsWith('.prom'))
  .sort();

/** `2026-12-01T10-00-07Z`: a file-name stamp that ingest reads as the file's time. */
const nameStamp = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace(/:/g, '-')}Z`;

const originals = tempDir();
const stamped = tempDir();
const lakeA = path.join(tempDir(), 'lake');
const lakeB = path.join(tempDir(), 'lake');
let a: IngestSummary;
let b: IngestSummary;
const warningsB: string[] = [];

beforeAll(async () => {
  for (const [i, f] of fixtures.entries()) {
    const ms = T0 + i * 1000; // one time per fixture, so that fixtures sharing a GPU never meet
    const base = `${f.replace(/\.prom$/, '')}_${nameStamp(ms)}.prom`;
    const bytes = fs.readFileSync(path.join(FIXTURES, 'prom', f));
    fs.writeFileSync(path.join(originals, base), bytes);
    fs.writeFileSync(path.join(stamped, base), stampScrape(bytes, 'node-17_9400', ms).block);
  }
  // files just written whose last line has no newline would wait as pending: these are finished
  const common = { host: 'cli-host', tz: 'UTC', nowMs: Date.now() + PENDING_LINE_MS + 1000, formatIn: 'prom' as const };
  a = await ingest({ lake: lakeA, inputs: [originals], ...common });
  b = await ingest({ lake: lakeB, inputs: [stamped], ...common, onWarning: (w) => warningsB.push(w) });
}, 60_000);

const rows = async (lake: string, table: string): Promise<string[]> =>
  (await queryLake(lake, `SELECT * EXCLUDE (date) FROM {${table}}`)).map((r) => JSON.stringify(r)).sort();

describe('stamped scrapes through ingest', () => {
  it('give the same metrics and other rows as the originals', async () => {
    expect(b.rows).toBe(a.rows);
    expect(b.rows).toBeGreaterThan(40);
    expect(await rows(lakeB, 'metrics')).toEqual(await rows(lakeA, 'metrics'));
    expect(await rows(lakeB, 'metrics_other')).toEqual(await rows(lakeA, 'metrics_other'));
  });

  it('reject the same lines and no trailer', async () => {
    expect(b.rejected).toBe(a.rejected);
    expect(a.rejected).toBeGreaterThan(10); // malformed-samples, curl-noise, out-of-range-values …
    const rejects = (s: IngestSummary): { text: string }[] =>
      fs
        .readFileSync(s.rejects_file!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { text: string });
    expect(rejects(b).filter((r) => r.text.includes('gpuhealth-collect'))).toEqual([]);
    // the trailers cost no warning; what warnings there are come from the fixtures themselves
    expect(warningsB.filter((w) => /gpuhealth-collect|trailer|comment/i.test(w))).toEqual([]);
  });
});
