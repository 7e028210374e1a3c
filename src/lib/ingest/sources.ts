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
import { expandInput, isGzip, looksBinary, readHead, sniffText, spoolStdin, type SourceFile } from './inputs.js';
import { MAX_LINE_BYTES } from './limits.js';
import type { FileStats } from './staging.js';
import type { ConcreteFormat, InputFormat } from './types.js';

export interface SourceOptions {
  inputs: readonly string[];
  formatIn?: InputFormat;
  /**
   * --time: the time of untimestamped sources (ms). Part of such a source's identity: the same bytes
   * given another time are another source (`given_time` in the manifest).
   */
  timeMs?: number | null;
  stdin?: NodeJS.ReadableStream;
  /** Sources up to this size are always hashed whole (default SMALL_SOURCE_BYTES); tests lower it. */
  smallSourceBytes?: number;
  cwd?: string;
  /** The time now (ms), for the pending-line check; tests set it. */
  nowMs?: number;
}

export interface FileOutcome {
  file: string;
  format: ConcreteFormat | null;
  status: 'ingested' | 'already-ingested' | 'pending' | 'not-telemetry' | 'empty' | 'unreadable' | 'failed';
  samples: number;
  rejected: number;
  truncated: boolean;
  message?: string;
}

export interface Planned {
  src: SourceFile;
  format: ConcreteFormat;
  /** The bytes read (the file's size, less a last line still being written). */
  size: number;
  /** Bytes of a last line still being written, left for the next run (0 for none). */
  pendingBytes: number;
  mtimeMs: number;
  /** sha256 of the content; '' when not computed (no other source looks like it, see planSources). */
  sha256: string;
  /** sha256 of the first 64 KiB. */
  headSha256: string;
  defaultTimeMs: number | null;
  defaultTimeSource: 'flag' | 'file name' | 'mtime' | 'none';
}

/**
 * What parsing found in a planned source. `usedTime`: some of its samples took the source's default
 * time (a format that may, when the parser does not say: every line format but exposition text).
 */
export type SourceStats = FileStats & { truncated: boolean; usedTime?: boolean };

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

/** The outcome's message for a source that cannot be read: the error without the path. */
function unreadableMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const what = /^\w+: ([^,]+)/.exec(err.message ?? '')?.[1];
  return `cannot read it (${err.code ?? 'error'}${what ? `: ${what}` : ''})`;
}

/** sha256 of a file, or of its bytes before `end` (the part a run reads, see SourceFile.end). */
async function sha256Of(file: string, end?: number): Promise<string> {
  const h = crypto.createHash('sha256');
  if (end === 0) return h.digest('hex');
  const range = end !== undefined ? { end: end - 1 } : {};
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20, ...range })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A file modified this recently whose last byte is no newline is still being written: its last line
 * is left for the next run (reported as pending), so that a half-written line is never ingested as a
 * whole one. A finished file has a newline at its end, or has been left alone longer than this.
 */
export const PENDING_LINE_MS = 10_000;

/**
 * Where a plain file's complete lines end when its last line is still being written (see
 * PENDING_LINE_MS): the offset after its last newline (0 when it has none). Null when the whole file
 * is to be read.
 */
function completeLinesEnd(file: string, st: fs.Stats, nowMs: number): number | null {
  if (nowMs - st.mtimeMs >= PENDING_LINE_MS || st.size === 0) return null;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 << 10);
    let pos = st.size;
    let first = true;
    while (pos > 0) {
      const from = Math.max(0, pos - buf.length);
      const n = fs.readSync(fd, buf, 0, pos - from, from);
      if (first && buf[n - 1] === 0x0a) return null;
      first = false;
      const nl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (nl !== -1) return from + nl + 1;
      pos = from;
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
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
  const outcomes: FileOutcome[] = [];
  const fileStats = new Map<SourceFile, fs.Stats>();
  for (const arg of opts.inputs) {
    if (arg === '-') {
      const file = await spoolStdin(opts.stdin ?? process.stdin, stage);
      const src = { path: file, display: '-', gzip: isGzip(file) };
      sources.push(src);
      fileStats.set(src, fs.statSync(file));
      continue;
    }
    for (const f of expandInput(arg, opts.cwd)) {
      const rel = path.relative(opts.cwd ?? process.cwd(), f);
      const display = rel && !rel.startsWith('..') ? rel : f;
      // a file that cannot be read (EACCES, gone from the spool since it was listed) is skipped and
      // reported; it must not stop the run for the others
      try {
        const st = fs.statSync(f);
        const src = { path: f, display, gzip: isGzip(f) };
        sources.push(src);
        fileStats.set(src, st);
      } catch (e) {
        outcomes.push({ file: display, format: null, status: 'unreadable', samples: 0, rejected: 0, truncated: false, message: unreadableMessage(e) });
      }
    }
  }
  const uniq = [...new Map(sources.map((s) => [s.path, s])).values()];
  const inputs = uniq.length + outcomes.length;
  const manifestRows = await db.query<{
    path: string;
    size: number;
    mtime_ms: number;
    sha256: string | null;
    head_sha256: string | null;
    given_time_ms: number | null;
  }>('known sources', Q.KNOWN_SOURCES_SQL);
  // A source is known when the lake has its bytes dated the same way: an untimestamped source given
  // another --time is another source. Without --time (a file-name stamp or the mtime dates it), any
  // earlier ingest of the bytes counts, so that a copy is never re-dated.
  const given = opts.timeMs ?? null;
  const sameTime = (r: { given_time_ms: number | null }): boolean => given === null || r.given_time_ms === null || r.given_time_ms === given;
  const known = new Set(manifestRows.filter((r) => r.sha256 && sameTime(r)).map((r) => r.sha256));
  // A source seen before at the same path, size and mtime is skipped without reading it again.
  const knownStat = new Set(manifestRows.filter(sameTime).map((r) => `${r.path}|${r.size}|${r.mtime_ms}`));
  // Two sources can only hold the same bytes if they have the same size and the same first 64 KiB.
  // A source is hashed whole (for exposition text a quarter of the parse's CPU) where another source,
  // in the lake or in this run, has both, and when it is small (then it costs nothing): single
  // untimestamped scrapes, which a copy with a new mtime would re-date, are small.
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
      if (!r.sha256 && sameTime(r)) unhashed.set(key, [...(unhashed.get(key) ?? []), r]);
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
  for (const src of uniq) {
    const st = fileStats.get(src)!;
    if (st.size === 0 || (src.display !== '-' && knownStat.has(statKey(src, st)))) continue;
    const head = headSha256(src.path);
    heads.set(src, head);
    lookalikes.set(`${st.size}|${head}`, (lookalikes.get(`${st.size}|${head}`) ?? 0) + 1);
  }
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
    const forced = opts.formatIn && opts.formatIn !== 'auto' ? opts.formatIn : null;
    // a binary file is no text format, forced or not: its parse would only echo its bytes as rejects
    if (looksBinary(head)) {
      outcomes.push({ ...base, status: 'not-telemetry', message: `binary file, not telemetry${forced ? ` (--format-in ${forced} reads text)` : ''}` });
      continue;
    }
    // a head the parsers do not know may be one long damaged line (a JSON document of one line is
    // fine): then the lines after it decide
    let format: ConcreteFormat | null = forced ?? detectFormat(head).format;
    if (format === null) {
      const past = await sniffText(src, head, MAX_LINE_BYTES);
      if (past !== head) format = detectFormat(past).format;
    }
    if (format === null) {
      outcomes.push({ ...base, status: 'not-telemetry', message: 'not a telemetry format gpuhealth reads' });
      continue;
    }
    // a last line still being written is left for the next run (a JSON document is read whole: its
    // parser says where one is cut); the size recorded is what was read,
    // so that the next run sees the file grown and reads it again (the lake's rows are then completed)
    let size = st.size;
    if (!src.gzip && src.display !== '-' && format !== 'prom-json') {
      const end = completeLinesEnd(src.path, st, opts.nowMs ?? Date.now());
      if (end === 0) {
        outcomes.push({ ...base, status: 'pending', message: 'its only line is still being written (no newline yet); left for the next run' });
        continue;
      }
      if (end !== null) {
        src.end = end;
        size = end;
      }
    }
    let sha = '';
    if (hash) {
      sha = await sha256Of(src.path, src.end);
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
    planned.push({ src, format, size, pendingBytes: st.size - size, mtimeMs: st.mtimeMs, sha256: sha, headSha256: headSha, defaultTimeMs, defaultTimeSource });
  }
  return { inputs, outcomes, planned };
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
      // the --time that dated some of its samples: part of the source's identity (planSources)
      given_time: p.defaultTimeSource === 'flag' && (s.usedTime ?? true) ? iso(p.defaultTimeMs) : null,
    });
  }
  const manifestJsonl = path.join(stage, 'manifest.jsonl');
  fs.writeFileSync(manifestJsonl, newSources.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await loadJsonlTable(db, 'new_manifest', manifestJsonl, Object.fromEntries(MANIFEST_COLUMNS.map((c) => [c.name, c.type])));
  await db.exec('write manifest', Q.copyTableSql('new_manifest', quotePath(path.join(stage, 'manifest.parquet'))));
  run.add(path.join(stage, 'manifest.parquet'), path.join(layout.manifestDir, `part-${runId}.parquet`));
}
