/**
 * `gpuhealth compact`: merges the small files of each date partition into one, drops duplicate
 * (gpu_uuid, time) rows, and merges the manifest parts. One atomic commit, like ingest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { quotePath } from '../db/duckdb.js';
import { listParquet, quoteFile } from '../sql/lake-views.js';
import { addRollupVersion, writeRollup } from './rollups.js';
import { PARTITIONED_TABLES, type PartitionedTable } from '../lake/layout.js';
import { withLakeRun } from '../lake/run.js';

export interface CompactSummary {
  run_id: string;
  partitions_compacted: number;
  files_before: number;
  files_after: number;
  rows_before: number;
  rows_after: number;
  duplicates_dropped: number;
}

/** Which rows are the same observation in each table (the first one is kept). */
const KEYS: Record<PartitionedTable, string> = {
  metrics: 'gpu_uuid, time',
  metrics_other: 'gpu_uuid, time, metric, labels',
  xid_events: 'time, coalesce(gpu_uuid, pci_bus_id), xid',
};
const ORDER: Record<PartitionedTable, string> = {
  metrics: 'gpu_uuid, time',
  metrics_other: 'gpu_uuid, time, metric',
  xid_events: 'time, gpu_uuid',
};

/**
 * Rewrites a set of files as one, de-duplicated and sorted. Paths are the lake's own files. The source
 * file decides which copy of a row is kept, and is left out of the result; so is the `filename`
 * column that earlier compactions wrote by mistake (a file holding it could not be compacted again).
 */
function compactFilesSql(files: readonly string[], target: string, table: PartitionedTable): string {
  return `COPY (
  SELECT COLUMNS(c -> c NOT IN ('rn', 'compact_source', 'filename')) FROM (
    SELECT *, row_number() OVER (PARTITION BY ${KEYS[table]} ORDER BY compact_source) AS rn
    FROM read_parquet([${files.map(quoteFile).join(', ')}], filename = 'compact_source', union_by_name = true)
  ) WHERE rn = 1 ORDER BY ${ORDER[table]}
) TO ${quotePath(target)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`;
}

export async function compactLake(lake: string, opts: { progress?: ProgressFn; minFiles?: number } = {}): Promise<CompactSummary> {
  const progress = opts.progress ?? NO_PROGRESS;
  return withLakeRun({ lake }, async (run) => {
    const { layout, db, stage, runId, add, remove } = run;
    const summary: CompactSummary = {
      run_id: runId,
      partitions_compacted: 0,
      files_before: 0,
      files_after: 0,
      rows_before: 0,
      rows_after: 0,
      duplicates_dropped: 0,
    };
    const count = async (files: readonly string[]): Promise<number> =>
      Number(
        (await db.query<{ n: number }>('count rows', `SELECT count(*) AS n FROM read_parquet([${files.map(quoteFile).join(', ')}], union_by_name = true)`))[0]!
          .n,
      );
    for (const table of PARTITIONED_TABLES) {
      const dir = layout.table(table);
      if (!fs.existsSync(dir)) continue;
      for (const part of fs
        .readdirSync(dir)
        .filter((d) => d.startsWith('date='))
        .sort()) {
        const files = listParquet(path.join(dir, part));
        summary.files_before += files.length;
        if (files.length < (opts.minFiles ?? 2)) {
          summary.files_after += files.length;
          continue;
        }
        progress(`compacting ${table}/${part}`);
        const from = path.join(stage, `${table}-${part}.parquet`);
        await db.exec(`compact ${table}`, compactFilesSql(files, from, table));
        const before = await count(files);
        const after = await count([from]);
        summary.rows_before += before;
        summary.rows_after += after;
        if (table === 'metrics') summary.duplicates_dropped += before - after;
        summary.partitions_compacted++;
        summary.files_after++;
        const to = path.join(dir, part, `part-compact-${runId}.parquet`);
        add(from, to);
        remove(...files);
        if (table === 'metrics') {
          // the merged file's rollup replaces those of the files it merges
          const rollup = path.join(stage, `rollup-${part}.parquet`);
          await writeRollup((n, sql) => db.exec(n, sql), [from], rollup);
          add(rollup, layout.rollupOf(to));
          remove(...files.map((f) => layout.rollupOf(f)).filter((r) => fs.existsSync(r)));
        }
      }
    }
    const manifests = listParquet(layout.manifestDir);
    if (manifests.length > 1) {
      const from = path.join(stage, 'manifest.parquet');
      await db.exec(
        'compact manifest',
        `COPY (SELECT * FROM read_parquet([${manifests.map(quoteFile).join(', ')}], union_by_name = true) ORDER BY ingested_at, path) TO ${quotePath(from)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      add(from, path.join(layout.manifestDir, `part-compact-${runId}.parquet`));
      remove(...manifests);
    }
    addRollupVersion(run);
    return summary;
  });
}
