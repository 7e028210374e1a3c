/**
 * Merge rounds: exposition text is parsed, merged and written a round at a time (ROUND_BYTES of
 * text), so DuckDB's share of a run stays bounded however much is ingested at once. Each round's
 * rows are merged, de-duplicated against the lake and the earlier rounds, and written to staged
 * Parquet with their hourly rollups, queued for the run's one commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { quotePath, type Db } from '../db/duckdb.js';
import type { PartitionedTable } from '../lake/layout.js';
import type { LakeRun } from '../lake/run.js';
import { writeRollup } from '../maintenance/rollups.js';
import type { ProgressFn } from '../progress.js';
import * as Q from '../sql/ingest.js';
import { createRunView, quoteFile, rollupInputFromTableSql } from '../sql/lake-views.js';
import { copyRollupsByDateSql, createRollupTableSql } from '../sql/rollup.js';
import type { Planned } from './sources.js';
import { createStagingViews, enumSizesSql, type EnumColumn } from './staging-views.js';

/** ENUM columns with more values than this are written to Parquet as text (see RunOutputs.mergeRound). */
const MAX_ENUM_IN_FILE = 1024;

/** Exposition text merged and written per round; gzip counts as 8× its size. */
export const ROUND_BYTES = 2 ** 31;

/**
 * How much a byte of a CSV export weighs against a byte of exposition text: a 230-byte export line
 * is a whole canonical row (30 columns), where exposition text spends ~100 bytes per sample. So a
 * round holds 64 MiB of export text, ~290,000 rows (a host's year at 15-minute samples): what the
 * merge and the hourly rollup of one round handle within ingest's 384 MB with room to spare (twice
 * that ran out of memory now and then; docs/benchmarks.md, history import).
 */
export const CSV_EXPORT_WEIGHT = 32;

/** Groups exposition-text and CSV export sources into rounds of at most `bytes` of text each (one round at least). */
export function splitRounds(files: Planned[], bytes: number): Planned[][] {
  const rounds: Planned[][] = [[]];
  let size = 0;
  for (const p of files) {
    const text = (p.src.gzip ? p.size * 8 : p.size) * (p.format === 'csv' ? CSV_EXPORT_WEIGHT : 1);
    if (size > 0 && size + text > bytes) {
      rounds.push([]);
      size = 0;
    }
    rounds.at(-1)!.push(p);
    size += text;
  }
  return rounds;
}

/**
 * Dates and rows one partitioned COPY writes at most. DuckDB's PARTITION_BY holds a buffer per date
 * partition per thread until the end of the COPY, so a round spanning months (a history import: a
 * year of one GPU is 366 partitions) ran out of memory however few its rows; a group this size is a
 * few tens of MB. Groups take whole dates, so each date is still one file.
 */
export const WRITE_GROUP_DATES = 16;
export const WRITE_GROUP_ROWS = 250_000;

/** Consecutive [from, to) date ranges over `perDate` (ascending), each within the group limits (one date at least). */
export function dateGroups(
  perDate: readonly { date: string; n: number }[],
  maxDates = WRITE_GROUP_DATES,
  maxRows = WRITE_GROUP_ROWS,
): { from: string; to: string }[] {
  const groups: { from: string; to: string }[] = [];
  const next = (date: string): string => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  let start = 0;
  let rows = 0;
  for (let i = 0; i < perDate.length; i++) {
    if (i > start && (i - start >= maxDates || rows + perDate[i]!.n > maxRows)) {
      groups.push({ from: perDate[start]!.date, to: perDate[i]!.date });
      start = i;
      rows = 0;
    }
    rows += perDate[i]!.n;
  }
  if (perDate.length > 0) groups.push({ from: perDate[start]!.date, to: next(perDate.at(-1)!.date) });
  return groups;
}

/** Runs a partitioned COPY (`sql`, with $from and $to) a group of `table`'s dates at a time (dateGroups). */
async function writeByDates(conn: Db, name: string, table: string, time: string, sql: string): Promise<void> {
  const perDate = await conn.query<{ date: string; n: number }>(`${name}: rows per date`, Q.rowsPerDateSql(table, time));
  for (const range of dateGroups(perDate)) await conn.exec(name, sql, range);
}

/** What one round wrote to one table: its files, its GPUs (null for rows without one) and its time span. */
interface RoundRows {
  files: string[];
  gpus: Set<string | null>;
  timeMin: number;
  timeMax: number;
}

async function roundRows(db: Db, table: string, files: string[]): Promise<RoundRows> {
  const [span] = await db.query<{ t0: Date | null; t1: Date | null }>('round span', Q.roundSpanSql(table));
  const gpus = await db.query<{ gpu_uuid: string | null }>('round gpus', Q.roundGpusSql(table));
  return { files, gpus: new Set(gpus.map((g) => g.gpu_uuid)), timeMin: span?.t0?.getTime() ?? Infinity, timeMax: span?.t1?.getTime() ?? -Infinity };
}

/** Rows of `a` and `b` can share a key only if they share a GPU (or both lack one) and their spans meet. */
function overlaps(a: RoundRows, b: RoundRows): boolean {
  if (a.timeMax < b.timeMin || b.timeMax < a.timeMin) return false;
  const [small, large] = a.gpus.size <= b.gpus.size ? [a.gpus, b.gpus] : [b.gpus, a.gpus];
  for (const g of small) if (large.has(g)) return true;
  return false;
}

interface RoundCounts {
  rows: number;
  others: number;
  xids: number;
  time_min: Date | null;
  time_max: Date | null;
}

/** What a run added, in all its rounds. */
export interface RunTotals {
  rows: number;
  others: number;
  xids: number;
  /** New rows the lake held already, every column included: dropped. */
  duplicates: number;
  /** Lake rows that new rows of the same (gpu_uuid, time) completed (column-wise merge). */
  filled: number;
  /** Lake metrics files rewritten to fill them. */
  filesRewritten: number;
  /** Per value column: values that differed from the lake's for the same (gpu_uuid, time); the lake's kept. */
  conflicts: Record<string, number>;
  /** Per value column: physically impossible values stored as null (dcgm/plausible.ts). */
  implausible: Record<string, number>;
  timeMin: Date | null;
  timeMax: Date | null;
}

/**
 * 4. What a run has merged and written so far, round by round: the staged Parquet files (each round
 * de-duplicates against the lake and the rounds before it), their rollups, and the counts.
 */
export class RunOutputs {
  /** Per table, what each earlier round wrote: its files, GPUs (null included) and time range. */
  private readonly staged: Record<PartitionedTable, RoundRows[]> = { metrics: [], metrics_other: [], xid_events: [] };
  private round = 0;
  private rows = 0;
  private others = 0;
  private xids = 0;
  private duplicates = 0;
  private filled = 0;
  private filesRewritten = 0;
  private readonly conflicts: Record<string, number> = {};
  private readonly implausible: Record<string, number> = {};
  /** Lake files this run rewrote to fill them, and their staged versions. */
  private readonly rewritten = new Map<string, { staged: string; rollup: string }>();
  private timeMin: Date | null = null;
  private timeMax: Date | null = null;

  constructor(private readonly run: Pick<LakeRun, 'db' | 'layout' | 'runId' | 'stage' | 'add' | 'remove'>) {}

  totals(): RunTotals {
    return {
      rows: this.rows,
      others: this.others,
      xids: this.xids,
      duplicates: this.duplicates,
      filled: this.filled,
      filesRewritten: this.filesRewritten,
      conflicts: { ...this.conflicts },
      implausible: { ...this.implausible },
      timeMin: this.timeMin,
      timeMax: this.timeMax,
    };
  }

  /**
   * The column-wise merge with the lake: a new row whose (gpu_uuid, time) the lake holds fills the
   * columns the lake's row lacks. A spool file ingested half-written, a truncated .gz ingested before
   * its full version, or two exports split by metric families then end up as complete rows, not as
   * whatever arrived first. Each lake file holding such rows is rewritten with them merged, and
   * replaces the old one (and its hourly rollup) in the run's commit. Where both hold a value and they
   * differ, the lake's is kept and counted per column. Returns how many lake rows were filled; the
   * repeats stay in the table lake_repeats, which the caller drops from the new rows.
   */
  private async fillLakeRows(k: number): Promise<number> {
    const { db, layout } = this.run;
    await db.exec('find lake repeats', Q.FIND_LAKE_REPEATS_SQL);
    const counts = (await db.query<Record<string, number>>('count lake repeats', Q.COUNT_LAKE_REPEATS_SQL))[0]!;
    for (const [column, n] of Object.entries(counts)) if (column !== 'filled' && n > 0) this.conflicts[column] = (this.conflicts[column] ?? 0) + n;
    const filled = counts.filled ?? 0;
    if (filled > 0) {
      const files = (await db.query<{ file: string }>('files to fill', Q.FILES_TO_FILL_SQL)).map((r) => r.file);
      const dir = path.join(this.run.stage, 'out', `fill-${k}`);
      fs.mkdirSync(dir, { recursive: true });
      for (const [i, old] of files.entries()) {
        const earlier = this.rewritten.get(old);
        if (earlier) {
          // an earlier round of this run rewrote this file already: merge into its version
          const next = `${earlier.staged}.next`;
          await db.exec('rewrite filled file', Q.rewriteFilledFileSql(quoteFile(earlier.staged), quoteFile(next)));
          fs.renameSync(next, earlier.staged);
          await writeRollup((n, sql) => db.exec(n, sql), [earlier.staged], earlier.rollup);
          continue;
        }
        const name = `part-${this.run.runId}-f${k > 0 ? `${k}-` : ''}${i}.parquet`;
        const staged = path.join(dir, name);
        await db.exec('rewrite filled file', Q.rewriteFilledFileSql(quoteFile(old), quoteFile(staged)));
        const to = path.join(path.dirname(old), name);
        const rollup = path.join(dir, 'rollups', name);
        await writeRollup((n, sql) => db.exec(n, sql), [staged], rollup);
        this.run.remove(old);
        if (fs.existsSync(layout.rollupOf(old))) this.run.remove(layout.rollupOf(old));
        this.run.add(staged, to);
        this.run.add(rollup, layout.rollupOf(to));
        this.rewritten.set(old, { staged, rollup });
        this.filesRewritten++;
      }
      this.filled += filled;
    }
    return filled;
  }

  /**
   * Merges one round's staged rows, drops what the lake (or an earlier round) holds, and writes
   * Parquet. The new metrics rows come first: their Parquet write and their hourly rollup
   * (src/lib/sql/rollup.ts) then run on connections of their own while this one merges
   * metrics_other and xid_events, whose writes follow. A Parquet write is mostly one thread, so
   * running them side by side keeps both cores busy.
   */
  async mergeRound(roundStage: string, repeatedSamples: number, progress: ProgressFn): Promise<void> {
    const { db } = this.run;
    const k = this.round++;
    const out = path.join(this.run.stage, 'out', `round-${k}`);
    progress('merging rows');
    // Rows the lake holds are dropped and counted as duplicates; rows an earlier round of this run
    // holds are dropped too (overlapping sources), uncounted, as one round merges them silently.
    // Only earlier rounds that share a GPU and a time span with this one's rows are read.
    const dropFromEarlierRounds = async (table: PartitionedTable, tmp: string, sql: (from: Q.ExistingRows) => string): Promise<void> => {
      if (k === 0) return;
      const mine = await roundRows(db, tmp, []);
      const files = this.staged[table].filter((r) => overlaps(r, mine)).flatMap((r) => r.files);
      if (files.length === 0) return;
      await createRunView(db, table, files);
      await db.exec(`drop ${table} of earlier rounds`, sql('run'));
    };
    const dropExisting = async (table: PartitionedTable, tmp: string, sql: (from: Q.ExistingRows) => string): Promise<void> => {
      await db.exec(`drop existing ${table}`, sql('lake'));
      await dropFromEarlierRounds(table, tmp, sql);
    };
    await createStagingViews(db, roundStage, { repeats: repeatedSamples > 0, enums: true });
    // An ENUM column is written as it is, dictionary and all, to every row group: fine for a few
    // hundred values, not for thousands (pod label sets, big fleets' GPUs), which are written as text.
    const sizes = (await db.query<Record<EnumColumn, number>>('enum sizes', enumSizesSql()))[0]!;
    const asText = (columns: readonly EnumColumn[]): EnumColumn[] => columns.filter((c) => sizes[c] > MAX_ENUM_IN_FILE);
    const implausible = (await db.query<Record<string, number>>('count implausible', Q.COUNT_IMPLAUSIBLE_SQL))[0]!;
    for (const [column, n] of Object.entries(implausible)) if (n > 0) this.implausible[column] = (this.implausible[column] ?? 0) + n;
    const overlap = (await db.query<{ n: number }>('staged overlap', Q.COUNT_STAGED_OVERLAP_SQL))[0]!.n;
    await db.exec('merge metrics', overlap > 0 ? Q.MERGE_STAGED_METRICS_SQL : Q.COPY_STAGED_METRICS_SQL);
    const before = (await db.query<{ n: number }>('count merged', Q.COUNT_NEW_METRICS_SQL))[0]!.n;
    const filled = await this.fillLakeRows(k);
    await db.exec('drop existing metrics', Q.DROP_LAKE_REPEATS_FROM_NEW_SQL);
    const notInLake = (await db.query<{ n: number }>('count not in lake', Q.COUNT_NEW_METRICS_SQL))[0]!.n;
    await dropFromEarlierRounds('metrics', 'new_metrics', Q.dropExistingMetricsSql);
    const newRows = (await db.query<{ n: number }>('count new', Q.COUNT_NEW_METRICS_SQL))[0]!.n;
    await db.exec('add run gpus', Q.ADD_RUN_GPUS_SQL);

    const written = new Map<PartitionedTable, { dateDir: string; files: string[] }[]>();
    const forks: Db[] = [];
    const onFork = async <T>(fn: (conn: Db) => Promise<T>): Promise<T> => {
      const conn = await db.fork();
      forks.push(conn);
      return fn(conn);
    };
    // metrics is written sorted (the per-GPU windows of later stages read it by gpu_uuid and time);
    // metrics_other, read rarely, is left in arrival order until `compact` sorts it.
    const writeTable = (tmp: string, table: PartitionedTable, order: string | null, asText: readonly string[]) =>
      onFork(async (conn) => {
        const dir = path.join(out, table);
        fs.mkdirSync(out, { recursive: true });
        await writeByDates(conn, `write ${table}`, tmp, 'time', Q.copyPartitionedSql(tmp, quotePath(dir), order, asText));
        written.set(
          table,
          fs.readdirSync(dir).map((dateDir) => ({ dateDir, files: fs.readdirSync(path.join(dir, dateDir)).sort() })),
        );
      });
    const work: Promise<void>[] = [];
    // awaited below; the no-op handler keeps a failure that comes first from counting as unhandled
    const track = (p: Promise<void>): void => {
      p.catch(() => {});
      work.push(p);
    };
    let counts: RoundCounts | null = null;
    try {
      if (newRows > 0) {
        // gpu_uuid as text: the files are sorted by it, and its row-group statistics let readers skip
        // what one GPU's rows are not in. Small ENUMs go as they are: a row group's dictionary and
        // statistics then span the run's values, a little wider than its own (still right to filter on).
        track(writeTable('new_metrics', 'metrics', 'gpu_uuid, time', ['gpu_uuid', ...asText(['host', 'model'])]));
        track(
          onFork(async (conn) => {
            await conn.exec('view rollup_input', rollupInputFromTableSql('new_metrics'));
            await conn.exec('rollup new rows', createRollupTableSql('new_rollups'));
          }),
        );
      }
      const merged = (async () => {
        const otherOverlap = (await db.query<{ n: number }>('staged other overlap', Q.COUNT_STAGED_OTHER_OVERLAP_SQL))[0]!.n;
        await db.exec('merge other', otherOverlap > 0 ? Q.MERGE_STAGED_OTHER_SQL : Q.COPY_STAGED_OTHER_SQL);
        await dropExisting('metrics_other', 'new_other', Q.dropExistingOtherSql);
        await db.exec('merge xid', Q.MERGE_STAGED_XID_SQL);
        await dropExisting('xid_events', 'new_xid', Q.dropExistingXidSql);
        counts = (await db.query<RoundCounts & Record<string, unknown>>('new counts', Q.NEW_COUNTS_SQL))[0]!;
        if (counts.others > 0) track(writeTable('new_other', 'metrics_other', null, asText(['gpu_uuid', 'host', 'metric', 'labels'])));
        if (counts.xids > 0) track(writeTable('new_xid', 'xid_events', 'time, gpu_uuid', []));
      })();
      track(merged);
      await merged;
      // every statement ends before a connection closes, also when one of them failed
      const results = await Promise.allSettled(work);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      await Promise.allSettled(work);
      for (const f of forks) f.close();
    }
    const c = counts!;
    this.rows += c.rows;
    this.others += c.others;
    this.xids += c.xids;
    this.duplicates += before - notInLake - filled;
    if (c.time_min && (!this.timeMin || c.time_min < this.timeMin)) this.timeMin = c.time_min;
    if (c.time_max && (!this.timeMax || c.time_max > this.timeMax)) this.timeMax = c.time_max;

    const metricsFiles = written.get('metrics') ?? [];
    const oneFilePerDate = metricsFiles.every((d) => d.files.length === 1);
    if (c.rows > 0 && oneFilePerDate) {
      await writeByDates(db, 'write rollups', 'new_rollups', 'hour', copyRollupsByDateSql('new_rollups', quotePath(path.join(out, 'rollups-by-date'))));
    }
    const tmpOf: Record<PartitionedTable, string> = { metrics: 'new_metrics', metrics_other: 'new_other', xid_events: 'new_xid' };
    for (const table of ['metrics', 'metrics_other', 'xid_events'] as const) {
      const files: string[] = [];
      if (written.has(table)) this.staged[table].push(await roundRows(db, tmpOf[table], files));
      for (const { dateDir, files: dateFiles } of written.get(table) ?? []) {
        for (const [i, f] of dateFiles.entries()) {
          // part-<run>[-r<round>][-<i>].parquet: rounds after the first, and dates DuckDB split, get a suffix
          const name = `part-${this.run.runId}${k > 0 ? `-r${k}` : ''}${dateFiles.length > 1 ? `-${i}` : ''}.parquet`;
          const from = path.join(out, table, dateDir, f);
          files.push(from);
          const to = path.join(this.run.layout.table(table), dateDir, name);
          this.run.add(from, to);
          if (table !== 'metrics') continue;
          // the file's hourly rollup commits with it: the date's rollup when the date is one file,
          // else the file's own, read back from it
          const rollup = path.join(out, 'rollups', dateDir, name);
          if (oneFilePerDate) {
            fs.mkdirSync(path.dirname(rollup), { recursive: true });
            fs.renameSync(path.join(out, 'rollups-by-date', dateDir, 'part-0.parquet'), rollup);
          } else await writeRollup((n, sql) => db.exec(n, sql), [from], rollup);
          this.run.add(rollup, this.run.layout.rollupOf(to));
        }
      }
    }
    // the round's rows are in its files now: free DuckDB's copies before the next round parses
    await db.exec('drop round', Q.DROP_ROUND_SQL);
  }
}
