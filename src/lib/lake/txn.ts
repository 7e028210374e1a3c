/**
 * Atomic changes to the lake. A run builds its files in `_tmp/<run-id>/`, then commits:
 *
 *   1. write `_ingest/journal/<run-id>.json` {adds, deletes, committed: false} (fsync);
 *   2. rename every added file into place (each rename is atomic; names are unique to the run);
 *   3. rewrite the journal with committed: true (temp + rename) — the commit point;
 *   4. delete the files the run replaces (compaction), then the journal and the temp folder.
 *
 * An add may land on a name that already exists (a re-run of `score` for the same window, rollups
 * rebuilt in a new format): the journal lists those adds in `replaced`, and before the new file is
 * renamed over the old one, the old one is hard-linked into the run's temp folder, so a rollback puts
 * it back.
 *
 * Recovery (run under the lake lock before anything reads or writes): an uncommitted journal is
 * rolled back (its added files removed), a committed one rolled forward (its deletes finished).
 * So a run killed at any point leaves the lake as it was, or — past the commit point — as the run
 * left it complete. Manifest entries are files too (`_ingest/manifest/part-<run-id>.parquet`), so
 * the manifest commits with the data it describes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LakeLayout } from './layout.js';
import { acquireLock, LAKE_LOCK_WAIT_MS, pidAlive } from './lock.js';

export interface Journal {
  run_id: string;
  adds: { from: string; to: string }[];
  deletes: string[];
  committed: boolean;
  /** Indexes of the adds whose target existed before the commit (its old file is kept at `backupOf`). */
  replaced?: number[];
}

/** Where the old file of a replaced add is kept until the commit point. */
export function backupOf(layout: LakeLayout, runId: string, index: number): string {
  return path.join(layout.tmpDir, runId, 'replaced', String(index));
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  }
}

/** Writes a file atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(16).slice(2)}`;
  fs.writeFileSync(tmp, data);
  fsyncFile(tmp);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

function journalPath(layout: LakeLayout, runId: string): string {
  return path.join(layout.journalDir, `${runId}.json`);
}

/** The staging folder of one run; files written here are invisible to readers of the lake. */
export function stagingDir(layout: LakeLayout, runId: string): string {
  const dir = path.join(layout.tmpDir, runId);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export interface CommitHooks {
  /** Called between steps; tests use it to kill a commit midway. */
  afterStep?: (step: 'journal' | 'rename' | 'committed' | 'deleted') => void;
}

export function commit(layout: LakeLayout, journal: Omit<Journal, 'committed'>, hooks: CommitHooks = {}): void {
  const jfile = journalPath(layout, journal.run_id);
  const replaced = journal.adds.flatMap((a, i) => (fs.existsSync(a.to) ? [i] : []));
  const j: Journal = { ...journal, committed: false, ...(replaced.length ? { replaced } : {}) };
  for (const a of j.adds) fsyncFile(a.from);
  writeFileAtomic(jfile, JSON.stringify(j));
  hooks.afterStep?.('journal');
  const dirs = new Set<string>();
  const keep = new Set(replaced);
  for (const [i, a] of j.adds.entries()) {
    fs.mkdirSync(path.dirname(a.to), { recursive: true });
    if (keep.has(i)) {
      const backup = backupOf(layout, j.run_id, i);
      fs.mkdirSync(path.dirname(backup), { recursive: true });
      fs.rmSync(backup, { force: true });
      fs.linkSync(a.to, backup);
    }
    fs.renameSync(a.from, a.to);
    dirs.add(path.dirname(a.to));
    hooks.afterStep?.('rename');
  }
  for (const d of dirs) fsyncDir(d);
  writeFileAtomic(jfile, JSON.stringify({ ...j, committed: true }));
  hooks.afterStep?.('committed');
  finishDeletes(j.deletes);
  hooks.afterStep?.('deleted');
  fs.rmSync(jfile, { force: true });
  fs.rmSync(path.join(layout.tmpDir, j.run_id), { recursive: true, force: true });
}

function finishDeletes(files: readonly string[]): void {
  const dirs = new Set<string>();
  for (const f of files) {
    fs.rmSync(f, { force: true });
    dirs.add(path.dirname(f));
  }
  for (const d of dirs) {
    try {
      if (fs.readdirSync(d).length === 0) fs.rmdirSync(d);
    } catch {
      // not empty or gone
    }
  }
}

export interface RecoveryReport {
  rolledBack: string[];
  rolledForward: string[];
}

/** Finishes or undoes what killed runs left. Call with the lake lock held. */
export function recover(layout: LakeLayout, activeRunIds: ReadonlySet<string> = new Set()): RecoveryReport {
  const report: RecoveryReport = { rolledBack: [], rolledForward: [] };
  if (fs.existsSync(layout.journalDir)) {
    for (const name of fs.readdirSync(layout.journalDir)) {
      if (!name.endsWith('.json')) {
        fs.rmSync(path.join(layout.journalDir, name), { force: true }); // a torn temp journal
        continue;
      }
      const file = path.join(layout.journalDir, name);
      let j: Journal;
      try {
        j = JSON.parse(fs.readFileSync(file, 'utf8')) as Journal;
      } catch {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (activeRunIds.has(j.run_id)) continue;
      if (j.committed) {
        finishDeletes(j.deletes);
        report.rolledForward.push(j.run_id);
      } else {
        const replaced = new Set(j.replaced ?? []);
        finishDeletes(j.adds.filter((_, i) => !replaced.has(i)).map((a) => a.to));
        // a replaced file whose old version was kept gets it back; one not yet replaced still holds it
        for (const i of replaced) {
          const backup = backupOf(layout, j.run_id, i);
          if (fs.existsSync(backup)) fs.renameSync(backup, j.adds[i]!.to);
        }
        report.rolledBack.push(j.run_id);
      }
      fs.rmSync(file, { force: true });
    }
  }
  if (fs.existsSync(layout.tmpDir)) {
    for (const name of fs.readdirSync(layout.tmpDir)) {
      // a reading stage stages without the lock (lake/run.ts withReadRun): its folder stays while it lives
      if (!activeRunIds.has(name) && !runAlive(name)) fs.rmSync(path.join(layout.tmpDir, name), { recursive: true, force: true });
    }
  }
  return report;
}

/** Whether the process of a run id (layout.ts newRunId: `<stamp>-<pid>-<hex>`, commit points `…-c<n>`) is alive. */
function runAlive(runId: string): boolean {
  const m = /^\d{8}T\d{6}Z-(\d+)-[0-9a-f]+(?:-c\d*)?$/.exec(runId);
  return m !== null && pidAlive(Number(m[1]));
}

/**
 * True when a journal exists: a run is committing or was killed while committing. (Staging folders
 * left by killed runs are invisible to readers; the next writer removes them.)
 */
export function needsRecovery(layout: LakeLayout): boolean {
  return fs.existsSync(layout.journalDir) && fs.readdirSync(layout.journalDir).length > 0;
}

/**
 * For commands that only read: if a killed run left work behind, finish or undo it (under the lock)
 * before reading, so readers never see files the next writer would roll back.
 */
export async function recoverBeforeRead(layout: LakeLayout): Promise<void> {
  if (!needsRecovery(layout)) return;
  const lock = await acquireLock(layout.lockFile, { waitMs: LAKE_LOCK_WAIT_MS });
  try {
    recover(layout);
  } finally {
    lock.release();
  }
}
