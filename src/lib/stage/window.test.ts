/**
 * Window stages as readers (stage/window.ts): they compute from a snapshot without the lake lock, so
 * an ingest runs to the end beside them; they take the lock only to commit, waiting for it with a
 * note; `write: false` locks and writes nothing, building rollups the lake lacks outside it; a
 * compaction under a stage makes it start again from a new snapshot.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { uuidOf } from '../../../test/helpers/planted-fleet.js';
import { ingest } from '../ingest/ingest.js';
import { compactLake } from '../maintenance/compact.js';
import { lakeLayout } from '../lake/layout.js';
import { acquireLock } from '../lake/lock.js';
import { listParquet } from '../sql/lake-views.js';
import { computeFeatures } from './features.js';

const AT = Date.UTC(2026, 10, 20);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const roots: string[] = [];
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});
const savedWait = process.env['GPUHEALTH_LOCK_WAIT'];
afterEach(() => {
  if (savedWait === undefined) delete process.env['GPUHEALTH_LOCK_WAIT'];
  else process.env['GPUHEALTH_LOCK_WAIT'] = savedWait;
});

/** A CSV of two GPUs sampled every 10 minutes over [from, to). */
function csv(from: number, to: number): string {
  const lines = ['time,gpu_uuid,host,model,gpu_temp,power_usage'];
  for (let t = from; t < to; t += 600_000) for (const g of [0, 1]) lines.push(`${new Date(t).toISOString()},${uuidOf(g)},node-a,NVIDIA H100 80GB HBM3,50,300`);
  return `${lines.join('\n')}\n`;
}

/** A lake holding the day before AT in two files, and a third file (the next 6 hours before AT, held back) to ingest later. */
async function lakeAndLater(): Promise<{ lake: string; later: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-window-'));
  roots.push(dir);
  const lake = path.join(dir, 'lake');
  const files = [csv(AT - DAY, AT - 12 * HOUR), csv(AT - 12 * HOUR, AT - 6 * HOUR), csv(AT - 6 * HOUR, AT)].map((text, i) => {
    const f = path.join(dir, `part-${i}.csv`);
    fs.writeFileSync(f, text);
    return f;
  });
  for (const f of files.slice(0, 2)) await ingest({ lake, inputs: [f] });
  return { lake, later: files[2]! };
}

/** Every file under the lake, relative, except the lock. */
const lakeFiles = (lake: string): string[] =>
  (fs.readdirSync(lake, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(lake, path.join(e.parentPath, e.name)))
    .filter((f) => f !== path.join('_ingest', 'lock'))
    .sort();

describe('a window stage and the lake lock', () => {
  it('lets an ingest run to the end while it computes, and computes from the files it listed first', async () => {
    const { lake, later } = await lakeAndLater();
    process.env['GPUHEALTH_LOCK_WAIT'] = '5'; // an ingest blocked by the stage fails fast
    let ingested = -1;
    let calls = 0;
    const r = await computeFeatures({
      lake,
      sinceMs: DAY,
      atMs: AT,
      afterSnapshot: async () => {
        calls++;
        ingested = (await ingest({ lake, inputs: [later] })).rows;
      },
    });
    expect(ingested).toBe(2 * 36);
    expect(calls).toBe(1); // the ingest replaced the GPU registry file under the stage: read already, not a reason to start again
    // the snapshot predates the ingest: 18 hours of samples, not 24
    expect(r.rows.map((x) => Number(x['samples']))).toEqual([108, 108]);
    expect(r.file).not.toBeNull();
    expect(fs.existsSync(r.file!)).toBe(true);
    expect(r.writes).toEqual({ rollups_built: 0, rollups_kept: false, skipped: null });
    // the next run sees the new file
    const next = await computeFeatures({ lake, sinceMs: DAY, atMs: AT, write: false });
    expect(next.rows.map((x) => Number(x['samples']))).toEqual([144, 144]);
  });

  it('waits for a held lock only at its commit, and says so once, then how long it waited', async () => {
    const { lake } = await lakeAndLater();
    const held = await acquireLock(lakeLayout(lake).lockFile);
    const notes: string[] = [];
    let computedWhileHeld = false;
    const r = await computeFeatures({
      lake,
      sinceMs: DAY,
      atMs: AT,
      note: (t) => {
        notes.push(t);
        if (t.startsWith('waiting')) setTimeout(() => held.release(), 300);
      },
      afterSnapshot: async () => {
        computedWhileHeld = fs.existsSync(lakeLayout(lake).lockFile);
      },
    });
    expect(computedWhileHeld).toBe(true);
    expect(notes[0]).toMatch(new RegExp(`^waiting for the lake lock held by pid ${process.pid} since \\d\\d:\\d\\d:\\d\\d UTC \\(up to 60 s\\) …$`));
    expect(notes[1]).toMatch(/^got the lake lock after \d+\.\d s$/);
    expect(notes).toHaveLength(2);
    expect(fs.existsSync(r.file!)).toBe(true);
  });

  it('returns its rows without writing them when the lock wait runs out', async () => {
    const { lake } = await lakeAndLater();
    process.env['GPUHEALTH_LOCK_WAIT'] = '0.3';
    const held = await acquireLock(lakeLayout(lake).lockFile);
    try {
      const r = await computeFeatures({ lake, sinceMs: DAY, atMs: AT });
      expect(r.rows).toHaveLength(2);
      expect(r.file).toBeNull();
      expect(r.writes.skipped).toEqual({ reason: 'locked', holder: process.pid, waitMs: 300 });
      expect(listParquet(path.join(lake, 'features'))).toEqual([]);
    } finally {
      held.release();
    }
  });
});

describe('write: false (--no-write)', () => {
  it('takes no lock, writes nothing, and builds the rollups the lake lacks outside it', async () => {
    const { lake } = await lakeAndLater();
    const layout = lakeLayout(lake);
    const withRollups = await computeFeatures({ lake, sinceMs: DAY, atMs: AT, write: false });
    fs.rmSync(path.join(lake, 'rollups'), { recursive: true });
    const held = await acquireLock(layout.lockFile); // a run that waited for it would time out
    process.env['GPUHEALTH_LOCK_WAIT'] = '0';
    const before = lakeFiles(lake);
    try {
      const r = await computeFeatures({ lake, sinceMs: DAY, atMs: AT, write: false });
      expect(r.file).toBeNull();
      expect(r.writes).toEqual({ rollups_built: 2, rollups_kept: false, skipped: { reason: 'no-write' } });
      expect(r.rows).toEqual(withRollups.rows.map((x) => ({ ...x })));
      expect(lakeFiles(lake)).toEqual(before);
    } finally {
      held.release();
    }
    // a run that may write builds them and keeps them
    const kept = await computeFeatures({ lake, sinceMs: DAY, atMs: AT });
    expect(kept.writes).toMatchObject({ rollups_built: 2, rollups_kept: true });
    expect(listParquet(layout.rollupsDir)).toHaveLength(2);
  });
});

describe('a compaction under a stage', () => {
  it('makes it start again from a new snapshot', async () => {
    const { lake } = await lakeAndLater();
    let calls = 0;
    const r = await computeFeatures({
      lake,
      sinceMs: DAY,
      atMs: AT,
      write: false,
      afterSnapshot: async () => {
        if (calls++ === 0) expect((await compactLake(lake)).files_after).toBe(1);
      },
    });
    expect(calls).toBe(2);
    expect(r.rows.map((x) => Number(x['samples']))).toEqual([108, 108]);
  });
});
