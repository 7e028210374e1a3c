/**
 * What an ingest run reads: its inputs expanded into sources, each stat'ed, its format detected, and
 * checked against the sources the lake's manifest knows (and the run's other sources), so that a
 * source ingested before, or a copy of one, is skipped without parsing it. At the end of a run, the
 * sources that contributed get their manifest rows (stageManifest), which the next run checks.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { quotePath, type Db } from '../db/duckdb.js';
import type { LakeRun } from '../lake/run.js';
import type { ProgressFn } from '../progress.js';
import * as Q from '../sql/ingest.js';
import { loadJsonlTable, MANIFEST_COLUMNS } from '../sql/lake-views.js';
import { timeFromFileName } from '../time.js';
import { detectFormat } from './detect.js';
import { expandInput, isGzip, looksBinary, readHead, spoolStdin, type SourceFile } from './inputs.js';
import type { FileStats } from './staging.js';
import type { ConcreteFormat, InputFormat } from './types.js';

export interface SourceOptions {
  inputs: readonly string[];
  formatIn?: InputFormat;
  /** --time: the time of untimestamped sources (ms). */
  timeMs?: number | null;
  stdin?: NodeJS.ReadableStream;
  /** Sources up to this size are always hashed whole (default SMALL_SOURCE_BYTES); tests lower it. */
  smallSourceBytes?: number;
  cwd?: string;
}

export interface FileOutcome {
  file: string;
  format: ConcreteFormat | null;
  status: 'ingested' | 'already-ingested' | 'not-telemetry' | 'empty' | 'failed';
  samples: number;
  rejected: number;
  truncated: boolean;
  message?: string;
}

export interface Planned {
  src: SourceFile;
  format: ConcreteFormat;
  size: number;
  mtimeMs: number;
  /** sha256 of the content; '' when not computed (no other source looks like it, see planSources). */
  sha256: string;
  /** sha256 of the first 64 KiB. */
  headSha256: string;
  defaultTimeMs: number | null;
  defaultTimeSource: 'flag' | 'file name' | 'mtime' | 'none';
}

/** What parsing found in a planned source. */
export type SourceStats = FileStats & { truncated: boolean };

const HEAD_BYTES = 64 << 10;
const SMALL_SOURCE_BYTES = 16 << 20;

/** sha256 of a file's first 64 KiB (as stored, compressed or not): with the size, a source's cheap look. */
function headSha256(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(HEAD_BYTES);
    const n = fs.readSync(fd, buf, 0, HEAD_BYTES, 0);
    return crypto.createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

async function sha256Of(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * 1. what to read: the sources to parse (planned), and an outcome for each one skipped. `inputs` is
 * how many distinct sources the inputs named.
 */
export async function planSources(
  db: Db,
  stage: string,
  opts: SourceOptions,
  progress: ProgressFn,
): Promise<{ inputs: number; outcomes: FileOutcome[]; planned: Planned[] }> {
  const sources: SourceFile[] = [];
  for (const arg of opts.inputs) {
    if (arg === '-') {
      const file = await spoolStdin(opts.stdin ?? process.stdin, stage);
      sources.push({ path: file, display: '-', gzip: isGzip(file) });
      continue;
    }
    for (const f of expandInput(arg, opts.cwd)) {
      const rel = path.relative(opts.cwd ?? process.cwd(), f);
      sources.push({ path: f, display: rel && !rel.startsWith('..') ? rel : f, gzip: isGzip(f) });
    }
  }
  const uniq = [...new Map(sources.map((s) => [s.path, s])).values()];
  const manifestRows = await db.query<{ path: string; size: number; mtime_ms: number; sha256: string | null; head_sha256: string | null }>(
    'known sources',
    Q.KNOWN_SOURCES_SQL,
  );
  const known = new Set(manifestRows.filter((r) => r.sha256).map((r) => r.sha256));
  // A source seen before at the same path, size and mtime is skipped without reading it again.
  const knownStat = new Set(manifestRows.map((r) => `${r.path}|${r.size}|${r.mtime_ms}`));
  // Two sources can only hold the same bytes if they have the same size and the same first 64 KiB.
  // A source is hashed whole (for exposition text a quarter of the parse's CPU) where another source,
  // in the lake or in this run, has both, and when it is small (then it costs nothing): single
  // untimestamped scrapes, which a copy with a new mtime would re-date, are small.
  const fileStats = new Map(uniq.map((src) => [src, fs.statSync(src.path)]));
  const statKey = (src: SourceFile, st: fs.Stats): string => `${src.path}|${st.size}|${Math.floor(st.mtimeMs)}`;
  const lookalikes = new Map<string, number>();
  const sizesWithoutHead = new Set<number>(); // sources recorded before heads were
  // lake sources with a recorded head but no sha256: a lookalike is compared with them another way
  const unhashed = new Map<string, typeof manifestRows>();
  for (const r of manifestRows) {
    if (!r.head_sha256) sizesWithoutHead.add(r.size);
    else {
      const key = `${r.size}|${r.head_sha256}`;
      lookalikes.set(key, 2);
      if (!r.sha256) unhashed.set(key, [...(unhashed.get(key) ?? []), r]);
    }
  }
  /**
   * The lake source this one is a copy of, where that source's sha256 was never taken: one moved here
   * (same size, first 64 KiB and mtime), or one still in place, unchanged, with the same sha256.
   */
  const unhashedOriginal = async (key: string, st: fs.Stats, sha: string): Promise<string | null> => {
    for (const r of unhashed.get(key) ?? []) {
      if (Math.floor(st.mtimeMs) === r.mtime_ms) return r.path;
      const there = fs.statSync(r.path, { throwIfNoEntry: false });
      if (there && there.size === r.size && Math.floor(there.mtimeMs) === r.mtime_ms && (await sha256Of(r.path)) === sha) return r.path;
    }
    return null;
  };
  const heads = new Map<SourceFile, string>();
  for (const [src, st] of fileStats) {
    if (st.size === 0 || (src.display !== '-' && knownStat.has(statKey(src, st)))) continue;
    const head = headSha256(src.path);
    heads.set(src, head);
    lookalikes.set(`${st.size}|${head}`, (lookalikes.get(`${st.size}|${head}`) ?? 0) + 1);
  }
  const outcomes: FileOutcome[] = [];
  const planned: Planned[] = [];
  const seenSha = new Set<string>();
  for (const [i, src] of uniq.entries()) {
    progress(`checking sources ${i + 1}/${uniq.length}`);
    const st = fileStats.get(src)!;
    const base: FileOutcome = { file: src.display, format: null, status: 'ingested', samples: 0, rejected: 0, truncated: false };
    if (st.size === 0) {
      outcomes.push({ ...base, status: 'empty', message: 'empty file' });
      continue;
    }
    if (src.display !== '-' && knownStat.has(statKey(src, st))) {
      outcomes.push({ ...base, status: 'already-ingested', message: 'already in the lake (same path, size and mtime)' });
      continue;
    }
    const headSha = heads.get(src)!;
    const lookKey = `${st.size}|${headSha}`;
    const hash = st.size <= (opts.smallSourceBytes ?? SMALL_SOURCE_BYTES) || sizesWithoutHead.has(st.size) || lookalikes.get(lookKey)! > 1;
    const head = readHead(src);
    let format: ConcreteFormat | null;
    if (opts.formatIn && opts.formatIn !== 'auto') format = opts.formatIn;
    else format = looksBinary(head) ? null : detectFormat(head).format;
    if (format === null) {
      outcomes.push({ ...base, status: 'not-telemetry', message: looksBinary(head) ? 'binary file, not telemetry' : 'not a telemetry format gpuhealth reads' });
      continue;
    }
    let sha = '';
    if (hash) {
      sha = await sha256Of(src.path);
      if (known.has(sha) || seenSha.has(sha)) {
        outcomes.push({ ...base, status: 'already-ingested', message: 'already in the lake (same sha256)' });
        continue;
      }
      const original = await unhashedOriginal(lookKey, st, sha);
      if (original !== null) {
        outcomes.push({ ...base, status: 'already-ingested', message: `already in the lake (the same file as ${original})` });
        continue;
      }
      seenSha.add(sha);
    }
    let defaultTimeMs: number | null = opts.timeMs ?? null;
    let defaultTimeSource: Planned['defaultTimeSource'] = defaultTimeMs !== null ? 'flag' : 'none';
    if (defaultTimeMs === null) {
      const fromName = src.display === '-' ? null : timeFromFileName(src.path);
      if (fromName !== null) {
        defaultTimeMs = fromName;
        defaultTimeSource = 'file name';
      } else if (src.display !== '-') {
        defaultTimeMs = Math.floor(st.mtimeMs);
        defaultTimeSource = 'mtime';
      }
    }
    planned.push({ src, format, size: st.size, mtimeMs: st.mtimeMs, sha256: sha, headSha256: headSha, defaultTimeMs, defaultTimeSource });
  }
  return { inputs: uniq.length, outcomes, planned };
}

/** Stages the manifest rows of the sources that contributed to the run, for its commit. */
export async function stageManifest(run: LakeRun, planned: readonly Planned[], stats: ReadonlyMap<Planned, SourceStats>): Promise<void> {
  const { db, layout, runId, stage } = run;
  const now = new Date().toISOString();
  const iso = (ms: number | null): string => new Date(ms ?? 0).toISOString();
  const newSources: Record<(typeof MANIFEST_COLUMNS)[number]['name'], unknown>[] = [];
  for (const p of planned) {
    const s = stats.get(p);
    if (!s || s.samples + s.xids === 0) continue;
    newSources.push({
      run_id: runId,
      ingested_at: now,
      path: p.src.display === '-' ? '-' : p.src.path,
      size: p.size,
      mtime: iso(Math.floor(p.mtimeMs)),
      sha256: p.sha256 || null,
      format: p.format,
      samples: s.samples + s.xids,
      rows: s.rows,
      rejected: s.rejected,
      truncated: s.truncated,
      time_min: iso(s.timeMin),
      time_max: iso(s.timeMax),
      head_sha256: p.headSha256,
    });
  }
  const manifestJsonl = path.join(stage, 'manifest.jsonl');
  fs.writeFileSync(manifestJsonl, newSources.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await loadJsonlTable(db, 'new_manifest', manifestJsonl, Object.fromEntries(MANIFEST_COLUMNS.map((c) => [c.name, c.type])));
  await db.exec('write manifest', Q.copyTableSql('new_manifest', quotePath(path.join(stage, 'manifest.parquet'))));
  run.add(path.join(stage, 'manifest.parquet'), path.join(layout.manifestDir, `part-${runId}.parquet`));
}
