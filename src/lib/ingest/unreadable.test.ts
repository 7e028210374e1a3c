/**
 * A source that cannot be read (EACCES, a file that vanished from the spool) is skipped and reported,
 * and the run goes on with the others. Root reads a file whatever its mode, so the error is simulated:
 * fs.openSync throws EACCES for that one path (test/e2e/bad-input.test.ts does it with chmod 000 where
 * it can).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir, tempLake } from '../../../test/helpers/cli.js';
import { T0, gpus, instants, scrape } from '../../../test/e2e/scrapes.js';
import { ingest } from './ingest.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function denyOpen(file: string): void {
  const real = fs.openSync;
  vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
    if (String(p) === file) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
    return (real as (...a: unknown[]) => number)(p, ...rest);
  }) as typeof fs.openSync);
}

describe('an unreadable source', () => {
  it('is skipped with its error; the other files of the folder are ingested', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.prom'), scrape({ gpus: gpus(2), times: instants(T0, 3), seed: 41 }).text);
    const locked = path.join(dir, 'b.prom');
    fs.writeFileSync(locked, scrape({ gpus: gpus(2), times: instants(T0 + 60_000, 3), seed: 42 }).text);
    denyOpen(locked);
    const s = await ingest({ lake: tempLake(), inputs: [dir] });
    expect(s).toMatchObject({ files: 1, rows: 6, skipped_files: 1 });
    expect(s.sources.find((x) => x.file === locked)).toMatchObject({ status: 'unreadable', message: expect.stringMatching(/^cannot read it \(EACCES/) });
  });

  it('beside sources already in the lake: nothing to do, not an error (a cron run must not fail over it every time)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.prom'), scrape({ gpus: gpus(2), times: instants(T0, 3), seed: 44 }).text);
    const lake = tempLake();
    expect((await ingest({ lake, inputs: [dir] })).rows).toBe(6);
    const locked = path.join(dir, 'b.prom');
    fs.writeFileSync(locked, scrape({ gpus: gpus(2), times: instants(T0 + 60_000, 3), seed: 45 }).text);
    denyOpen(locked);
    const s = await ingest({ lake, inputs: [dir] });
    expect(s.sources.map((x) => x.status).sort()).toEqual(['already-ingested', 'unreadable']);
  });

  it('alone: nothing to ingest, an input error that names it', async () => {
    const dir = tempDir();
    const locked = path.join(dir, 'b.prom');
    fs.writeFileSync(locked, scrape({ gpus: gpus(1), times: instants(T0, 1), seed: 43 }).text);
    denyOpen(locked);
    await expect(ingest({ lake: tempLake(), inputs: [locked] })).rejects.toThrow(/b\.prom: cannot read it \(EACCES/);
  });
});
