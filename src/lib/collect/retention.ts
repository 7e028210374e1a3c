/**
 * --keep: closed spool hours older than the retention are deleted once the lake's manifest shows
 * that ingest read them whole: a row with the file's absolute path (as ingest records it, or the
 * real path behind it) and its size in bytes. An hour ingest has not recorded is never deleted,
 * however old; nor is an open (`.prom`) hour.
 *
 * The manifest is read without the lake lock: its Parquet parts are committed by rename, so a reader
 * sees whole files. But a commit renames its parts into place before its commit point, and a run
 * killed between the two is rolled back by the next lake run: so while the lake has a journal (a run
 * committing, or one to recover), nothing is deleted, and a read during which a journal appeared is
 * not trusted. A part that a compaction removes while it is read makes the read fail; then
 * nothing is deleted and the next hour tries again. DuckDB is loaded only when some hour is old
 * enough, so a collect without --keep (or with nothing to delete) never pays for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lakeLayout } from '../lake/layout.js';
import { needsRecovery } from '../lake/txn.js';
import { HOUR_MS, listHourFiles, type SpoolHourFile } from './spool-file.js';

export interface PruneOptions {
  spool: string;
  lake: string;
  keepMs: number;
  nowMs: number;
}

export interface PruneResult {
  /** Hour files deleted. */
  deleted: string[];
  /** Hour files old enough to delete that the lake's manifest does not have (or not at their size). */
  waiting: string[];
  /** Why the manifest could not be read (no lake, no manifest, a read error); null when it was. */
  problem: string | null;
}

/** The closed hours whose whole hour is older than the retention. */
export function expiredHours(files: readonly SpoolHourFile[], keepMs: number, nowMs: number): SpoolHourFile[] {
  return files.filter((f) => f.gz && f.hourMs + HOUR_MS <= nowMs - keepMs);
}

/** path|size of every source the lake's manifest records; throws when the manifest cannot be read. */
async function ingestedSources(lake: string): Promise<Set<string>> {
  const layout = lakeLayout(lake);
  const [{ Db }, { createLakeViews, listParquet }, { KNOWN_SOURCES_SQL }] = await Promise.all([
    import('../db/duckdb.js'),
    import('../sql/lake-views.js'),
    import('../sql/ingest.js'),
  ]);
  const parts = listParquet(layout.manifestDir);
  const db = await Db.open({ threads: 1, memoryLimit: '128MB' });
  try {
    // only the manifest's parts: every other view of the lake is empty
    await createLakeViews(db, layout, { lake: parts });
    const rows = await db.query<{ path: string; size: number }>('known sources', KNOWN_SOURCES_SQL);
    return new Set(rows.map((r) => `${r.path}|${r.size}`));
  } finally {
    db.close();
  }
}

/** Deletes the expired hours the lake has ingested; see the module comment. */
export async function pruneSpool(opts: PruneOptions): Promise<PruneResult> {
  const expired = expiredHours(listHourFiles(opts.spool), opts.keepMs, opts.nowMs);
  const result: PruneResult = { deleted: [], waiting: [], problem: null };
  if (expired.length === 0) return result;
  const layout = lakeLayout(opts.lake);
  let known: Set<string> | null = null;
  if (!fs.existsSync(layout.manifestDir))
    result.problem = fs.existsSync(layout.root) ? `the lake ${layout.root} has no ingest manifest` : `no lake at ${layout.root}`;
  else {
    const busy = `the lake ${layout.root} has a run committing, or one to recover (the next lake run does); its manifest is not trusted until then`;
    try {
      if (needsRecovery(layout)) result.problem = busy;
      else {
        known = await ingestedSources(opts.lake);
        if (needsRecovery(layout)) {
          known = null;
          result.problem = busy;
        }
      }
    } catch (e) {
      result.problem = `the manifest of ${layout.root} could not be read (${(e as Error).message.split('\n')[0]})`;
    }
  }
  for (const f of expired) {
    const abs = path.resolve(f.path);
    let real = abs;
    try {
      real = fs.realpathSync(abs);
    } catch {
      // gone meanwhile: nothing to delete
    }
    if (known && (known.has(`${abs}|${f.size}`) || known.has(`${real}|${f.size}`))) {
      fs.rmSync(abs, { force: true });
      result.deleted.push(abs);
    } else result.waiting.push(abs);
  }
  return result;
}
