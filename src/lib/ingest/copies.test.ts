/**
 * Copies of a source that ingest hashed only in part (a large source that no other source looked
 * like: its sha256 is null in the manifest). `smallSourceBytes: 0` makes these small files count as
 * large. A copy is recognised when it was moved (same size, first 64 KiB and mtime) or when the
 * original is still in place, unchanged; otherwise it is parsed and its rows, already in the lake,
 * are dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryLake, tempDir, tempLake } from '../../../test/helpers/cli.js';
import { T0, gpus, instants, scrape } from '../../../test/e2e/scrapes.js';
import { ingest } from './ingest.js';

const TEXT = scrape({ gpus: gpus(2), times: instants(T0, 3), seed: 5 }).text;
const LARGE = { smallSourceBytes: 0 };

async function lakeWith(file: string): Promise<string> {
  const lake = tempLake();
  const s = await ingest({ lake, inputs: [file], ...LARGE });
  expect(s.rows).toBe(6);
  const [m] = await queryLake(lake, 'SELECT sha256, head_sha256 FROM {manifest}');
  expect(m!.sha256).toBeNull(); // not hashed whole: nothing looked like it
  expect(m!.head_sha256).not.toBeNull();
  return lake;
}

describe('copies of a source whose sha256 was not taken', () => {
  it('a moved file (same size, head and mtime) is already in the lake', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.prom');
    fs.writeFileSync(a, TEXT);
    const lake = await lakeWith(a);
    const moved = path.join(dir, 'moved.prom');
    fs.renameSync(a, moved);
    const s = await ingest({ lake, inputs: [moved], ...LARGE });
    expect(s).toMatchObject({ files: 0, rows: 0, skipped_files: 1 });
    expect(s.sources[0]!.message).toBe(`already in the lake (the same file as ${a})`);
  });

  it('a copy with a new mtime is compared with the original, still in place', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.prom');
    fs.writeFileSync(a, TEXT);
    fs.utimesSync(a, new Date(T0), new Date(T0));
    const lake = await lakeWith(a);
    const copy = path.join(dir, 'copy.prom');
    fs.copyFileSync(a, copy); // a new mtime
    const s = await ingest({ lake, inputs: [copy], ...LARGE });
    expect(s).toMatchObject({ files: 0, rows: 0, skipped_files: 1 });
    // the copy of a changed original is not the same file: parsed, and its rows (in the lake) dropped
    fs.appendFileSync(a, '# edited\n');
    const again = path.join(dir, 'again.prom');
    fs.copyFileSync(copy, again);
    const t = await ingest({ lake, inputs: [again], ...LARGE });
    expect(t).toMatchObject({ files: 1, rows: 0, duplicates_dropped: 6 });
  });
});
