import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lakeLayout, newRunId, type LakeLayout } from './layout.js';
import { acquireLock, LakeLockedError, lockWaitMs } from './lock.js';
import { commit, recover, stagingDir } from './txn.js';

let root: string;
let layout: LakeLayout;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-txn-'));
  layout = lakeLayout(root);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function files(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

function stage(runId: string, names: string[]): { from: string; to: string }[] {
  const dir = stagingDir(layout, runId);
  return names.map((n) => {
    const from = path.join(dir, n.replace(/\//g, '_'));
    fs.writeFileSync(from, n);
    return { from, to: path.join(root, n) };
  });
}

describe('commit', () => {
  it('puts back a file it was replacing when killed at any step before the commit point', () => {
    for (const [k, killAt] of ['journal', 'rename', 'rename-2'].entries()) {
      const run = `rep${k}`;
      const target = path.join(root, 'scores/date=2026-01-01/scores-x.parquet');
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, 'old');
      const adds = stage(run, ['scores/date=2026-01-01/scores-x.parquet', 'features/date=2026-01-01/features-x.parquet']);
      let renames = 0;
      expect(() =>
        commit(
          layout,
          { run_id: run, adds, deletes: [] },
          {
            afterStep: (s) => {
              if (s === 'rename') renames++;
              if (s === killAt || (killAt === 'rename-2' && s === 'rename' && renames === 2)) throw new Error('killed');
            },
          },
        ),
      ).toThrow('killed');
      recover(layout);
      expect(fs.readFileSync(target, 'utf8')).toBe('old');
      expect(fs.existsSync(path.join(root, 'features/date=2026-01-01/features-x.parquet'))).toBe(false);
    }
    // and a completed commit replaces it
    const adds = stage('rep9', ['scores/date=2026-01-01/scores-x.parquet']);
    commit(layout, { run_id: 'rep9', adds, deletes: [] });
    expect(fs.readFileSync(path.join(root, 'scores/date=2026-01-01/scores-x.parquet'), 'utf8')).toBe('scores/date=2026-01-01/scores-x.parquet');
    expect(files().filter((f) => f.startsWith('_tmp'))).toEqual([]);
  });

  it('moves every added file into place and removes the replaced ones', () => {
    fs.mkdirSync(path.join(root, 'gpus'), { recursive: true });
    fs.writeFileSync(path.join(root, 'gpus/gpus-old.parquet'), 'old');
    const adds = stage('r1', ['metrics/date=2026-01-01/part-r1.parquet', 'gpus/gpus-r1.parquet']);
    commit(layout, { run_id: 'r1', adds, deletes: [path.join(root, 'gpus/gpus-old.parquet')] });
    expect(files()).toEqual(['gpus/gpus-r1.parquet', 'metrics/date=2026-01-01/part-r1.parquet']);
  });

  for (const step of ['journal', 'rename'] as const) {
    it(`a commit killed after "${step}" is rolled back by recovery`, () => {
      fs.mkdirSync(path.join(root, 'gpus'), { recursive: true });
      fs.writeFileSync(path.join(root, 'gpus/gpus-old.parquet'), 'old');
      const before = files().filter((f) => !f.startsWith('_tmp'));
      const adds = stage('r2', ['metrics/date=2026-01-01/part-r2.parquet', 'metrics/date=2026-01-02/part-r2.parquet']);
      expect(() =>
        commit(
          layout,
          { run_id: 'r2', adds, deletes: [path.join(root, 'gpus/gpus-old.parquet')] },
          {
            afterStep: (s) => {
              if (s === step) throw new Error('killed');
            },
          },
        ),
      ).toThrow('killed');
      const report = recover(layout);
      expect(report.rolledBack).toEqual(['r2']);
      expect(files()).toEqual(before);
    });
  }

  it('a commit killed after its commit point is rolled forward', () => {
    fs.mkdirSync(path.join(root, 'gpus'), { recursive: true });
    fs.writeFileSync(path.join(root, 'gpus/gpus-old.parquet'), 'old');
    const adds = stage('r3', ['gpus/gpus-r3.parquet']);
    expect(() =>
      commit(
        layout,
        { run_id: 'r3', adds, deletes: [path.join(root, 'gpus/gpus-old.parquet')] },
        {
          afterStep: (s) => {
            if (s === 'committed') throw new Error('killed');
          },
        },
      ),
    ).toThrow('killed');
    expect(recover(layout).rolledForward).toEqual(['r3']);
    expect(files()).toEqual(['gpus/gpus-r3.parquet']);
  });

  it('recovery removes staging folders of dead runs but not of the active one', () => {
    stagingDir(layout, 'dead');
    stagingDir(layout, 'live');
    recover(layout, new Set(['live']));
    expect(fs.readdirSync(layout.tmpDir)).toEqual(['live']);
  });

  it('recovery keeps the staging folder of a run whose process lives (a reading stage stages without the lock)', () => {
    const alive = newRunId();
    const dead = newRunId().replace(`-${process.pid}-`, '-2147483646-');
    stagingDir(layout, alive);
    stagingDir(layout, `${alive}-c0`);
    stagingDir(layout, dead);
    recover(layout);
    expect(fs.readdirSync(layout.tmpDir).sort()).toEqual([alive, `${alive}-c0`]);
  });
});

describe('lock', () => {
  it('is exclusive while held and free after release', async () => {
    const a = await acquireLock(layout.lockFile);
    await expect(acquireLock(layout.lockFile, { waitMs: 0 })).rejects.toThrow(/locked by another gpuhealth run/);
    a.release();
    const b = await acquireLock(layout.lockFile);
    b.release();
    expect(fs.existsSync(layout.lockFile)).toBe(false);
  });

  it('says once that it waits, for whom and since when, and how long it waited', async () => {
    const held = await acquireLock(layout.lockFile);
    const events: string[] = [];
    setTimeout(() => held.release(), 500);
    const got = await acquireLock(layout.lockFile, {
      waitMs: 10_000,
      onWait: (e) => events.push(e.kind === 'waiting' ? `waiting ${e.holder} ${e.sinceMs !== null} ${e.waitMs}` : `got ${e.waitedMs >= 400}`),
    });
    got.release();
    expect(events).toEqual([`waiting ${process.pid} true 10000`, 'got true']);
    expect(got.waitedMs).toBeGreaterThanOrEqual(400);
  });

  it('gives up after the wait with the holder in the error', async () => {
    const held = await acquireLock(layout.lockFile);
    try {
      const err = await acquireLock(layout.lockFile, { waitMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LakeLockedError);
      expect(err).toMatchObject({ holder: process.pid, waitMs: 300 });
    } finally {
      held.release();
    }
  });

  it('waits 60 s unless GPUHEALTH_LOCK_WAIT says otherwise', () => {
    expect(lockWaitMs(undefined, {})).toBe(60_000);
    expect(lockWaitMs(undefined, { GPUHEALTH_LOCK_WAIT: '5m' })).toBe(300_000);
    expect(lockWaitMs(undefined, { GPUHEALTH_LOCK_WAIT: '0' })).toBe(0);
    expect(lockWaitMs(undefined, { GPUHEALTH_LOCK_WAIT: '2.5' })).toBe(2500);
    expect(() => lockWaitMs(undefined, { GPUHEALTH_LOCK_WAIT: 'soon' })).toThrow(/GPUHEALTH_LOCK_WAIT="soon"/);
  });

  it('takes over a lock left by a dead process', async () => {
    fs.mkdirSync(path.dirname(layout.lockFile), { recursive: true });
    fs.writeFileSync(layout.lockFile, '2147483646\n');
    const l = await acquireLock(layout.lockFile);
    expect(fs.readFileSync(layout.lockFile, 'utf8').trim()).toBe(String(process.pid));
    l.release();
  });
});
