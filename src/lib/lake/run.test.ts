import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { lakeLayout } from './layout.js';
import { acquireLock } from './lock.js';
import { memoryLimit, unwritableFolder, withLakeRun, withReadRun } from './run.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-run-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const stageFile = (dir: string, name: string, text: string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

describe('withLakeRun', () => {
  it('commits what the work queued when it returns, and leaves no staging, journal or lock behind', async () => {
    const lake = path.join(tmp(), 'lake');
    const target = path.join(lake, 'assets', 'a.parquet');
    const result = await withLakeRun({ lake, create: true }, async (run) => {
      expect(fs.existsSync(run.layout.lockFile)).toBe(true);
      run.add(stageFile(run.stage, 'a', 'new'), target);
      expect(fs.existsSync(target)).toBe(false); // invisible until the commit
      return 42;
    });
    expect(result).toBe(42);
    expect(fs.readFileSync(target, 'utf8')).toBe('new');
    const layout = lakeLayout(lake);
    expect(fs.readdirSync(layout.tmpDir)).toEqual([]);
    expect(fs.existsSync(layout.journalDir) ? fs.readdirSync(layout.journalDir) : []).toEqual([]);
    expect(fs.existsSync(layout.lockFile)).toBe(false);
  });

  it('commits nothing when the work throws, and removes a lake it created', async () => {
    const lake = path.join(tmp(), 'lake');
    await expect(
      withLakeRun({ lake, create: true }, async (run) => {
        run.add(stageFile(run.stage, 'a', 'x'), path.join(lake, 'assets', 'a.parquet'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('keeps an earlier commit point of the run when later work fails, and the lake it created', async () => {
    const lake = path.join(tmp(), 'lake');
    const first = path.join(lake, 'rollups', 'r.parquet');
    const second = path.join(lake, 'scores', 's.parquet');
    await expect(
      withLakeRun({ lake, create: true }, async (run) => {
        run.add(stageFile(run.stage, 'r', 'rollup'), first);
        run.commit();
        run.add(stageFile(run.stage, 's', 'score'), second);
        throw new Error('stage failed');
      }),
    ).rejects.toThrow('stage failed');
    expect(fs.readFileSync(first, 'utf8')).toBe('rollup');
    expect(fs.existsSync(second)).toBe(false);
  });

  it('replaces and removes files in one commit', async () => {
    const lake = tmp();
    const old = path.join(lake, 'assets', 'old.parquet');
    fs.mkdirSync(path.dirname(old), { recursive: true });
    fs.writeFileSync(old, 'old');
    await withLakeRun({ lake }, async (run) => {
      run.add(stageFile(run.stage, 'n', 'new'), path.join(lake, 'assets', 'new.parquet'));
      run.remove(old);
    });
    expect(fs.readdirSync(path.join(lake, 'assets'))).toEqual(['new.parquet']);
  });

  it('refuses a missing lake unless asked to create it', async () => {
    const lake = path.join(tmp(), 'nowhere');
    await expect(withLakeRun({ lake }, async () => 1)).rejects.toThrow(InputError);
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('refuses a lake path that is a file, and a folder that is not a lake unless asked to create one', async () => {
    const dir = tmp();
    const file = stageFile(dir, 'lake', 'not a folder');
    await expect(withLakeRun({ lake: file, create: true }, async () => 1)).rejects.toThrow(/is a file, not a lake folder/);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
    const folder = path.join(dir, 'mine');
    fs.mkdirSync(folder);
    stageFile(folder, 'notes.txt', 'mine');
    await expect(withLakeRun({ lake: folder }, async () => 1)).rejects.toThrow(/is not a gpuhealth lake/);
    expect(fs.readdirSync(folder)).toEqual(['notes.txt']);
    expect(await withLakeRun({ lake: folder, create: true }, async () => 2)).toBe(2);
  });

  it('serialises runs on one lake', async () => {
    const lake = tmp();
    const order: string[] = [];
    const slow = withLakeRun({ lake, create: true }, async () => {
      order.push('a start');
      await new Promise((r) => setTimeout(r, 300));
      order.push('a end');
    });
    await new Promise((r) => setTimeout(r, 50));
    await withLakeRun({ lake, create: true }, async () => {
      order.push('b');
    });
    await slow;
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('opens DuckDB with the memory limit, GPUHEALTH_MEMORY_LIMIT first', async () => {
    const lake = tmp();
    const limit = await withLakeRun(
      { lake, create: true, memoryLimit: '256MB' },
      async ({ db }) => (await db.query<{ v: string }>('limit', "SELECT current_setting('memory_limit') AS v"))[0]!.v,
    );
    expect(limit).toMatch(/^2\d\d\.\d MiB$|^244\.1 MiB$/);
  });
});

describe('withReadRun', () => {
  /** A lake folder with one table, and the files under it. */
  const lakeDir = (): string => {
    const lake = path.join(tmp(), 'lake');
    fs.mkdirSync(path.join(lake, 'metrics'), { recursive: true });
    return lake;
  };
  const filesOf = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();

  it('works without the lock, stages inside the lake, and holds the lock only while it commits', async () => {
    const lake = lakeDir();
    const layout = lakeLayout(lake);
    const target = path.join(lake, 'scores', 's.parquet');
    await withReadRun({ lake }, async (run) => {
      expect(run.readOnly).toBeNull();
      expect(fs.existsSync(layout.lockFile)).toBe(false);
      expect(run.stage).toBe(path.join(layout.tmpDir, run.runId));
      // another writer runs to the end meanwhile, and its recovery spares this run's staging folder
      await withLakeRun({ lake }, async () => {});
      run.add(stageFile(run.stage, 's', 'score'), target);
      let lockedDuringCommit = false;
      await run.commit(() => {
        lockedDuringCommit = fs.existsSync(layout.lockFile);
      });
      expect(lockedDuringCommit).toBe(true);
      expect(fs.existsSync(layout.lockFile)).toBe(false);
      expect(run.committed).toBe(true);
    });
    expect(fs.readFileSync(target, 'utf8')).toBe('score');
    expect(fs.readdirSync(layout.tmpDir)).toEqual([]);
  });

  it('waits for a held lock at its commit, and says so once, then how long it waited', async () => {
    const lake = lakeDir();
    const notes: string[] = [];
    const held = await acquireLock(lakeLayout(lake).lockFile);
    setTimeout(() => held.release(), 400);
    await withReadRun({ lake, note: (t) => notes.push(t) }, async (run) => {
      run.add(stageFile(run.stage, 'a', 'x'), path.join(lake, 'features', 'a.parquet'));
      await run.commit();
    });
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(new RegExp(`^waiting for the lake lock held by pid ${process.pid} since \\d\\d:\\d\\d:\\d\\d UTC \\(up to 60 s\\) …$`));
    expect(notes[1]).toMatch(/^got the lake lock after 0\.\d s$/);
  });

  it('with write: false takes no lock, writes nothing into the lake and stages outside it', async () => {
    const lake = lakeDir();
    const held = await acquireLock(lakeLayout(lake).lockFile); // never waited for
    const before = filesOf(lake);
    try {
      let stage = '';
      await withReadRun({ lake, write: false }, async (run) => {
        stage = run.stage;
        expect(run.readOnly).toEqual({ reason: 'no-write' });
        expect(path.relative(lake, run.stage).startsWith('..')).toBe(true);
        stageFile(run.stage, 'scratch', 'x');
        await expect(run.commit()).rejects.toThrow(/read-only run cannot commit/);
      });
      expect(fs.existsSync(stage)).toBe(false);
      expect(filesOf(lake)).toEqual(before);
    } finally {
      held.release();
    }
  });

  it.skipIf(process.getuid?.() === 0)('on a lake this user may not write, reads it as with write: false', async () => {
    const lake = lakeDir();
    fs.mkdirSync(path.join(lake, '_ingest'));
    fs.chmodSync(path.join(lake, '_ingest'), 0o555);
    try {
      expect(unwritableFolder(lakeLayout(lake))).toBe(path.join(lake, '_ingest'));
      await withReadRun({ lake }, async (run) => {
        expect(run.readOnly).toEqual({ reason: 'read-only', folder: path.join(lake, '_ingest') });
      });
    } finally {
      fs.chmodSync(path.join(lake, '_ingest'), 0o755);
    }
  });
});

describe('memoryLimit', () => {
  it('takes the variable when set, the default otherwise', () => {
    expect(memoryLimit('4GB', {})).toBe('4GB');
    expect(memoryLimit('4GB', { GPUHEALTH_MEMORY_LIMIT: '512MB' })).toBe('512MB');
    expect(memoryLimit('4GB', { GPUHEALTH_MEMORY_LIMIT: ' 1.5 GiB ' })).toBe('1.5 GiB');
  });

  it('names the variable when its value is not a size', () => {
    expect(() => memoryLimit('4GB', { GPUHEALTH_MEMORY_LIMIT: 'lots' })).toThrow(InputError);
    expect(() => memoryLimit('4GB', { GPUHEALTH_MEMORY_LIMIT: 'lots' })).toThrow(/GPUHEALTH_MEMORY_LIMIT="lots"/);
  });
});
