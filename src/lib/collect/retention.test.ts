import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/cli.js';
import { ingest } from '../ingest/ingest.js';
import { expiredHours, pruneSpool } from './retention.js';
import { HOUR_MS, hourFile, hourStart, listHourFiles } from './spool-file.js';
import { stampScrape } from './stamp.js';

const TARGET = 'node-17_9400';
const NOW = hourStart(Date.now()) + 30 * 60_000;
const DAY = 24 * HOUR_MS;
const scrape = (ms: number): Buffer =>
  stampScrape(Buffer.from(`DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-0",Hostname="node-17"} ${40 + (ms % 7)}\n`), TARGET, ms).block;

const real = path.join(tempDir(), 'spool');
const link = path.join(tempDir(), 'spool-link'); // the same spool reached through a symlink
const lake = path.join(tempDir(), 'lake');
const hours = {
  ingested: NOW - 3 * DAY,
  notIngested: NOW - 3 * DAY + HOUR_MS,
  grown: NOW - 3 * DAY + 2 * HOUR_MS,
  open: NOW - 3 * DAY + 3 * HOUR_MS,
  recent: NOW - 2 * HOUR_MS,
};
const file = (h: number, gz = true): string => hourFile(real, TARGET, hourStart(h)) + (gz ? '.gz' : '');

beforeAll(async () => {
  fs.mkdirSync(path.join(real, TARGET), { recursive: true });
  fs.symlinkSync(real, link);
  for (const [name, h] of Object.entries(hours)) fs.writeFileSync(file(h, name !== 'open'), name === 'open' ? scrape(h) : zlib.gzipSync(scrape(h)));
  await ingest({ lake, inputs: [file(hours.ingested), file(hours.grown), file(hours.recent), file(hours.open, false)], tz: 'UTC', nowMs: NOW + DAY });
  // ingested, then another scrape was merged into it: the lake has not seen all of it
  fs.appendFileSync(file(hours.grown), zlib.gzipSync(scrape(hours.grown + 10_000)));
}, 60_000);

describe('--keep', () => {
  it('takes closed hours whose whole hour is older than the retention', () => {
    const names = expiredHours(listHourFiles(real), DAY, NOW).map((f) => f.hourMs);
    expect(names).toEqual([hours.ingested, hours.notIngested, hours.grown].map(hourStart));
  });

  it('deletes nothing while the lake has a journal: a run committing, or a killed one its next run rolls back', async () => {
    const journal = path.join(lake, '_ingest', 'journal');
    fs.mkdirSync(journal, { recursive: true });
    fs.writeFileSync(path.join(journal, 'run-killed.json'), '{"committed":false}');
    try {
      const r = await pruneSpool({ spool: real, lake, keepMs: DAY, nowMs: NOW });
      expect(r.deleted).toEqual([]);
      expect(r.waiting).toHaveLength(3);
      expect(r.problem).toMatch(/has a run committing, or one to recover/);
      expect(fs.existsSync(file(hours.ingested))).toBe(true);
    } finally {
      fs.rmSync(journal, { recursive: true });
    }
  });

  it('deletes only the old hours the manifest records at their path and size', async () => {
    const r = await pruneSpool({ spool: link, lake, keepMs: DAY, nowMs: NOW });
    expect(r.problem).toBeNull();
    expect(r.deleted.map((f) => path.basename(f))).toEqual([path.basename(file(hours.ingested))]);
    expect(r.waiting.map((f) => path.basename(f)).sort()).toEqual([path.basename(file(hours.notIngested)), path.basename(file(hours.grown))].sort());
    expect(fs.existsSync(file(hours.ingested))).toBe(false);
    for (const h of [hours.notIngested, hours.grown, hours.recent]) expect(fs.existsSync(file(h))).toBe(true);
    expect(fs.existsSync(file(hours.open, false))).toBe(true);
  });

  it('deletes nothing without a lake or a manifest, and says why', async () => {
    const none = await pruneSpool({ spool: real, lake: path.join(tempDir(), 'no-lake'), keepMs: DAY, nowMs: NOW });
    expect(none.deleted).toEqual([]);
    expect(none.waiting).toHaveLength(2);
    expect(none.problem).toMatch(/^no lake at /);
    const bare = tempDir();
    fs.mkdirSync(path.join(bare, '_ingest'));
    const empty = await pruneSpool({ spool: real, lake: bare, keepMs: DAY, nowMs: NOW });
    expect([empty.deleted.length, empty.problem]).toEqual([0, `the lake ${bare} has no ingest manifest`]);
  });
});
