/**
 * The lake's committed files at one moment, listed without the lock: what a reading stage computes
 * from while ingests go on committing beside it.
 *
 * A commit (txn.ts) writes its journal before it renames anything and removes the journal after its
 * last delete, so the files a listing finds are the committed state once the journals are read the
 * same way:
 *   - an uncommitted journal's adds are not committed yet: left out, and an add that replaces a file
 *     reads the old file's hard link kept in the run's temp folder, when one was made;
 *   - a committed journal's deletes are gone already: left out.
 * A commit that starts or ends while the folders are listed changes the journal folder (its mtime,
 * its files), so the listing is taken again until the journals read the same before and after it.
 *
 * Files are never changed in place, but compaction removes the ones it merged after its commit: a
 * reader that finds a listed file gone takes a new snapshot and starts again (stage/window.ts).
 * The snapshot reads nothing it could not on a read-only lake.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GpuhealthError } from '../errors.js';
import type { LakeLayout } from './layout.js';
import { backupOf, type Journal } from './txn.js';

/** The tables a snapshot lists (the lake's views, sql/lake-views.ts). */
export const SNAPSHOT_TABLES = ['metrics', 'metrics_other', 'xid_events', 'rollups', 'manifest', 'gpus', 'assets', 'failures'] as const;
export type SnapshotTable = (typeof SNAPSHOT_TABLES)[number];

export interface LakeSnapshot {
  /** Committed Parquet files per table, sorted (partitioned tables: by partition date, then name). */
  readonly files: Readonly<Record<SnapshotTable, readonly string[]>>;
  /** When the listing was taken (ms). */
  readonly takenAtMs: number;
}

/** How often the listing is retried while commits keep landing under it, and the pause between tries. */
const SNAPSHOT_TRIES = 50;
const SNAPSHOT_RETRY_MS = 20;

/** The folder each table's files live in (a file anywhere below it belongs to the table). */
export function tableDir(layout: LakeLayout, table: SnapshotTable): string {
  switch (table) {
    case 'metrics':
    case 'metrics_other':
    case 'xid_events':
      return layout.table(table);
    case 'rollups':
      return layout.rollupsDir;
    case 'manifest':
      return layout.manifestDir;
    case 'gpus':
      return layout.gpusDir;
    case 'assets':
      return layout.assetsDir;
    case 'failures':
      return path.join(layout.root, 'failures');
  }
}

/** Parquet files below `dir`, sorted; none when it does not exist. */
function listParquetFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // missing, or removed while listed (compaction drops an emptied partition)
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listParquetFiles(p));
    else if (e.isFile() && e.name.endsWith('.parquet')) out.push(p);
  }
  return out.sort();
}

interface JournalState {
  /** The journal folder's mtime and every journal's text: equal before and after a listing means no commit moved under it. */
  key: string;
  journals: Journal[];
}

function readJournals(layout: LakeLayout): JournalState {
  const st = fs.statSync(layout.journalDir, { throwIfNoEntry: false });
  if (!st) return { key: 'none', journals: [] };
  const parts = [String(st.mtimeMs)];
  const journals: Journal[] = [];
  for (const name of fs.readdirSync(layout.journalDir).sort()) {
    if (!name.endsWith('.json')) continue;
    let text: string;
    try {
      text = fs.readFileSync(path.join(layout.journalDir, name), 'utf8');
    } catch {
      text = '(gone)';
    }
    parts.push(name, text);
    try {
      journals.push(JSON.parse(text) as Journal);
    } catch {
      // a torn journal: written by a run killed before its first rename, so it changed nothing
    }
  }
  return { key: parts.join('\n'), journals };
}

/** The committed state of `listed`, read through the journals (see the header). */
function committedFiles(layout: LakeLayout, listed: Record<SnapshotTable, string[]>, journals: readonly Journal[]): Record<SnapshotTable, string[]> {
  const hidden = new Set<string>();
  const instead = new Map<string, string>();
  for (const j of journals) {
    if (j.committed) {
      for (const d of j.deletes) hidden.add(d);
      continue;
    }
    const replaced = new Set(j.replaced ?? []);
    for (const [i, a] of j.adds.entries()) {
      if (!replaced.has(i)) hidden.add(a.to);
      else {
        const backup = backupOf(layout, j.run_id, i);
        if (fs.existsSync(backup)) instead.set(a.to, backup); // else not linked yet: the target is still the old file
      }
    }
  }
  const out = {} as Record<SnapshotTable, string[]>;
  for (const t of SNAPSHOT_TABLES) out[t] = listed[t].filter((f) => !hidden.has(f)).map((f) => instead.get(f) ?? f);
  return out;
}

/** Lists the lake's committed files (see the header); takes no lock and writes nothing. */
export async function takeSnapshot(layout: LakeLayout): Promise<LakeSnapshot> {
  for (let attempt = 0; attempt < SNAPSHOT_TRIES; attempt++) {
    const before = readJournals(layout);
    const takenAtMs = Date.now();
    const listed = {} as Record<SnapshotTable, string[]>;
    for (const t of SNAPSHOT_TABLES) listed[t] = listParquetFiles(tableDir(layout, t));
    const after = readJournals(layout);
    if (after.key === before.key) return { files: committedFiles(layout, listed, before.journals), takenAtMs };
    await new Promise((r) => setTimeout(r, SNAPSHOT_RETRY_MS));
  }
  throw new GpuhealthError(`the lake at ${layout.root} kept changing while its files were listed (${SNAPSHOT_TRIES} tries)`, [
    'run it again when fewer runs commit at once',
  ]);
}

/** The files of a snapshot that are gone now (compacted away, or a killed run's files rolled back). */
export function vanishedFiles(snapshot: LakeSnapshot): string[] {
  return SNAPSHOT_TABLES.flatMap((t) => snapshot.files[t].filter((f) => !fs.existsSync(f)));
}
