/**
 * Where everything lives inside a lake (DESIGN §2). Partition keys are dates only; no user value
 * ever becomes part of a path except the lake folder itself.
 */
import path from 'node:path';

export const PARTITIONED_TABLES = ['metrics', 'metrics_other', 'xid_events'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/**
 * Folders that only a lake has (the ingest journal and manifest, the tables): a folder holding none of
 * them is not a lake, and runs that do not create one refuse it rather than write `_ingest/` and
 * `_tmp/` into someone's folder.
 */
export const LAKE_FOLDERS = ['_ingest', ...PARTITIONED_TABLES, 'gpus', 'rollups', 'assets', 'failures', 'features', 'scores'] as const;

export interface LakeLayout {
  root: string;
  table(name: PartitionedTable): string;
  partition(name: PartitionedTable, date: string): string;
  /** Glob DuckDB reads for a partitioned table. */
  glob(name: PartitionedTable): string;
  ingestDir: string;
  manifestDir: string;
  manifestGlob: string;
  /** `pull`'s records of the Prometheus chunks whose data the lake holds (sql/pull.ts). */
  pulledDir: string;
  pulledGlob: string;
  rejectsDir: string;
  journalDir: string;
  tmpDir: string;
  gpusDir: string;
  gpusGlob: string;
  lockFile: string;
  /** Hourly rollups, one file per metrics file (same partition and name). */
  rollupsDir: string;
  rollupsGlob: string;
  /** Holds the rollup format version the lake's rollups were written with. */
  rollupsVersionFile: string;
  /** The rollup file that belongs to a metrics file. */
  rollupOf(metricsFile: string): string;
  assetsDir: string;
  featuresDir: string;
  scoresDir: string;
}

export function lakeLayout(root: string): LakeLayout {
  const abs = path.resolve(root);
  const ingestDir = path.join(abs, '_ingest');
  return {
    root: abs,
    table: (name) => path.join(abs, name),
    partition: (name, date) => path.join(abs, name, `date=${date}`),
    glob: (name) => path.join(abs, name, '*', '*.parquet'),
    ingestDir,
    manifestDir: path.join(ingestDir, 'manifest'),
    manifestGlob: path.join(ingestDir, 'manifest', '*.parquet'),
    pulledDir: path.join(ingestDir, 'pulled'),
    pulledGlob: path.join(ingestDir, 'pulled', '*.parquet'),
    rejectsDir: path.join(ingestDir, 'rejects'),
    journalDir: path.join(ingestDir, 'journal'),
    tmpDir: path.join(abs, '_tmp'),
    gpusDir: path.join(abs, 'gpus'),
    gpusGlob: path.join(abs, 'gpus', '*.parquet'),
    lockFile: path.join(abs, '_ingest', 'lock'),
    rollupsDir: path.join(abs, 'rollups', 'hour'),
    rollupsGlob: path.join(abs, 'rollups', 'hour', '*', '*.parquet'),
    rollupsVersionFile: path.join(abs, 'rollups', 'hour', '_version'),
    rollupOf: (metricsFile) => path.join(abs, 'rollups', 'hour', path.basename(path.dirname(metricsFile)), path.basename(metricsFile)),
    assetsDir: path.join(abs, 'assets'),
    featuresDir: path.join(abs, 'features'),
    scoresDir: path.join(abs, 'scores'),
  };
}

/** A new id for one run: sortable by time, unique across processes. */
export function newRunId(nowMs: number = Date.now()): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const rand = Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${process.pid}-${rand}`;
}
