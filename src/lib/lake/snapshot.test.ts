/**
 * takeSnapshot lists the committed files without the lock: a commit in flight (or killed) is read
 * through its journal, so the snapshot is the lake before it (uncommitted) or after it (committed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lakeLayout, type LakeLayout } from './layout.js';
import { takeSnapshot, vanishedFiles } from './snapshot.js';
import { backupOf, commit, stagingDir } from './txn.js';

let root: string;
let layout: LakeLayout;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-snapshot-'));
  layout = lakeLayout(path.join(root, 'lake'));
  fs.mkdirSync(layout.journalDir, { recursive: true });
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const put = (file: string, text = 'x'): string => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};
const metrics = (date: string, name: string): string => path.join(layout.partition('metrics', date), `${name}.parquet`);

describe('takeSnapshot', () => {
  it('lists every table, sorted, without staging files or temp files', async () => {
    const a = put(metrics('2026-11-19', 'part-b'));
    const b = put(metrics('2026-11-20', 'part-a'));
    const r = put(layout.rollupOf(a));
    const g = put(path.join(layout.gpusDir, 'gpus-1.parquet'));
    put(path.join(layout.tmpDir, 'run', 'staged.parquet'));
    put(`${a}.tmp-1-abc`);
    const s = await takeSnapshot(layout);
    expect(s.files.metrics).toEqual([a, b]);
    expect(s.files.rollups).toEqual([r]);
    expect(s.files.gpus).toEqual([g]);
    expect(s.files.failures).toEqual([]);
  });

  it("leaves out an uncommitted journal's adds and reads a replaced file's old version", async () => {
    const old = put(metrics('2026-11-19', 'part-old'));
    const added = put(metrics('2026-11-19', 'part-new'));
    const replaced = put(path.join(layout.assetsDir, 'assets.parquet'), 'new');
    const backup = put(backupOf(layout, 'r1', 1), 'old');
    fs.writeFileSync(
      path.join(layout.journalDir, 'r1.json'),
      JSON.stringify({
        run_id: 'r1',
        adds: [
          { from: 'x', to: added },
          { from: 'y', to: replaced },
        ],
        deletes: [],
        committed: false,
        replaced: [1],
      }),
    );
    const s = await takeSnapshot(layout);
    expect(s.files.metrics).toEqual([old]);
    expect(s.files.assets).toEqual([backup]);
    // not linked yet: the target still holds the old file
    fs.rmSync(backup);
    expect((await takeSnapshot(layout)).files.assets).toEqual([replaced]);
  });

  it("leaves out a committed journal's deletes", async () => {
    const kept = put(metrics('2026-11-19', 'part-merged'));
    const gone = put(metrics('2026-11-19', 'part-1'));
    fs.writeFileSync(
      path.join(layout.journalDir, 'r3.json'),
      JSON.stringify({ run_id: 'r3', adds: [{ from: 'x', to: kept }], deletes: [gone], committed: true }),
    );
    expect((await takeSnapshot(layout)).files.metrics).toEqual([kept]);
  });

  it('matches the lake before and after a real commit, and says which files vanished since', async () => {
    const a = put(metrics('2026-11-19', 'part-1'));
    const before = await takeSnapshot(layout);
    const stage = stagingDir(layout, 'r4');
    const merged = metrics('2026-11-19', 'part-2');
    commit(layout, { run_id: 'r4', adds: [{ from: put(path.join(stage, 'm'), 'merged'), to: merged }], deletes: [a] });
    expect(vanishedFiles(before)).toEqual([a]);
    expect((await takeSnapshot(layout)).files.metrics).toEqual([merged]);
  });
});
