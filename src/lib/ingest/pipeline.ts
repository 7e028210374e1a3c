/**
 * `gpuhealth ingest`: sources → staging (CSV files; column batches for exposition text) → DuckDB
 * merge/dedupe → Parquet → one atomic commit (lake/txn.ts). The lake lock is held throughout;
 * nothing is visible until the commit.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { Db, quotePath } from '../db/duckdb.js';
import { createLakeViews, createRunView, createStagingViews, enumSizesSql, type EnumColumn, loadJsonlTable, MANIFEST_COLUMNS, rollupInputFromTableSql, stagingTarget } from '../sql/lake-views.js';
import { addRollupVersion, writeRollup } from '../maintenance/rollups.js';
import { acquireLock } from '../lake/lock.js';
import { lakeLayout, newRunId, type LakeLayout, type PartitionedTable } from '../lake/layout.js';
import { commit, recover, stagingDir, type CommitHooks } from '../lake/txn.js';
import type { GpuIdentity } from '../schema.js';
import * as Q from '../sql/ingest.js';
import { copyRollupsByDateSql, createRollupTableSql } from '../sql/rollup.js';
import { timeFromFileName } from '../time.js';
import { csvExportParser } from './csv-export.js';
import { dmesgParser } from './dmesg.js';
import { dmonParser } from './dmon.js';
import { expandInput, isGzip, looksBinary, readHead, spoolStdin, type SourceFile } from './inputs.js';
import { readLines } from './lines.js';
import { nvidiaSmiCsvParser } from './nvidia-smi-csv.js';
import { defaultParseThreads, runPromTasks } from './prom-pool.js';
import { promJsonParser } from './prom-json.js';
import { sniffPromText, type PromResult, type PromTask } from './prom-text.js';
import { BatchAppender, createBatchTables } from './batch-appender.js';
import { closeStaging, emptyStats, openStaging, StagingSink, type FileStats, type RejectRecord } from './staging.js';
import type { ConcreteFormat, GpuResolver, InputFormat, Parser } from './types.js';

const LINE_PARSERS: readonly Parser[] = [promJsonParser, nvidiaSmiCsvParser, csvExportParser, dmonParser, dmesgParser];
/** Formats that need GPUs other sources identified (entity indexes, PCI addresses): parsed last. */
const NEEDS_MAPPING: ReadonlySet<ConcreteFormat> = new Set(['dmon', 'dmesg']);
const SPLIT_BYTES = 32 << 20;

export interface IngestOptions {
  lake: string;
  inputs: readonly string[];
  formatIn?: InputFormat;
  host?: string | null;
  /** --time: the time of untimestamped sources (ms). */
  timeMs?: number | null;
  tz?: string;
  intervalMs?: number | null;
  /** --gpu-map: CSV with host, gpu_index, gpu_uuid[, pci_bus_id]. */
  gpuMap?: string | null;
  stdin?: NodeJS.ReadableStream;
  threads?: number;
  progress?: ProgressFn;
  /** Called for the first rejects as they are found (the command shows a few on stderr). */
  onReject?: (r: RejectRecord) => void;
  /** Called for warnings about one source. */
  onWarning?: (message: string) => void;
  lockWaitMs?: number;
  commitHooks?: CommitHooks;
  /** Sources up to this size are always hashed whole (default SMALL_SOURCE_BYTES); tests lower it. */
  smallSourceBytes?: number;
  /** Exposition text per merge round (default ROUND_BYTES); small values let tests run several rounds. */
  roundBytes?: number;
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

export interface IngestSummary {
  run_id: string;
  lake: string;
  files: number;
  samples: number;
  rows: number;
  gpus: number;
  other_samples: number;
  xid_events: number;
  rejected: number;
  duplicates_dropped: number;
  skipped_files: number;
  truncated_files: number;
  time_min: string | null;
  time_max: string | null;
  rejects_file: string | null;
  elapsed_s: number;
  sources: FileOutcome[];
}

interface Planned {
  src: SourceFile;
  format: ConcreteFormat;
  size: number;
  mtimeMs: number;
  /** sha256 of the content; '' when not computed (no other source looks like it, see runIngest). */
  sha256: string;
  /** sha256 of the first 64 KiB. */
  headSha256: string;
  defaultTimeMs: number | null;
  defaultTimeSource: 'flag' | 'file name' | 'mtime' | 'none';
}

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

export function detectFormat(head: string): { format: ConcreteFormat | null; confidence: number } {
  let best: { format: ConcreteFormat | null; confidence: number } = { format: null, confidence: 0 };
  const prom = sniffPromText(head);
  if (prom > best.confidence) best = { format: 'prom', confidence: prom };
  for (const p of LINE_PARSERS) {
    const c = p.sniff(head);
    if (c > best.confidence) best = { format: p.format, confidence: c };
  }
  return best.confidence >= 0.5 ? best : { format: null, confidence: best.confidence };
}

class Resolver implements GpuResolver {
  private list: GpuIdentity[] = [];
  private seen = new Set<string>();
  add(id: GpuIdentity): void {
    const key = `${id.gpu_uuid}|${id.host}|${id.gpu_index}|${id.pci_bus_id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(id);
  }
  byIndex(host: string | null, index: number): GpuIdentity | null {
    // The GPU most recently seen in that slot (a replaced GPU's successor was remembered later).
    return this.list.filter((g) => g.gpu_index === index && (host === null || g.host === host)).at(-1) ?? null;
  }
  byPci(host: string | null, pci: string): GpuIdentity | null {
    return this.list.filter((g) => g.pci_bus_id === pci && (host === null || g.host === host)).at(-1) ?? null;
  }
  remember(id: GpuIdentity): void {
    this.add(id);
  }
}

function readGpuMap(file: string): GpuIdentity[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`cannot read --gpu-map ${file}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const col = (n: string) => header.indexOf(n);
  if (col('gpu_uuid') < 0 || col('gpu_index') < 0) {
    throw new InputError(`--gpu-map ${file}: header must name gpu_uuid and gpu_index (and host, pci_bus_id optionally)`);
  }
  return lines.map((l, i) => {
    const f = l.split(',').map((x) => x.trim());
    const idx = Number(f[col('gpu_index')]);
    if (!Number.isInteger(idx)) throw new InputError(`--gpu-map ${file}:${i + 2}: gpu_index "${f[col('gpu_index')]}" is not an integer`);
    return {
      gpu_uuid: f[col('gpu_uuid')]!,
      host: col('host') >= 0 ? f[col('host')] || null : null,
      gpu_index: idx,
      model: null,
      pci_bus_id: col('pci_bus_id') >= 0 ? f[col('pci_bus_id')] || null : null,
      driver_version: null,
    };
  });
}

export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const layout = lakeLayout(opts.lake);
  for (const arg of opts.inputs) if (arg !== '-') expandInput(arg, opts.cwd); // fail on a typo before touching the lake
  // A lake this run creates is removed again when the run ingests nothing: a typo'd --lake or a
  // non-telemetry file leaves no empty lake behind.
  const created = !fs.existsSync(layout.root);
  fs.mkdirSync(layout.root, { recursive: true });
  const lock = await acquireLock(layout.lockFile, { waitMs: opts.lockWaitMs ?? 60_000 });
  const runId = newRunId();
  let db: Db | null = null;
  let committed = false;
  try {
    recover(layout);
    const stage = stagingDir(layout, runId);
    // DuckDB's share of ingest's memory (it spills to the staging folder beyond it); with the rounds
    // (ROUND_BYTES) and the parser workers, the process stays under 1 GiB whatever the input size.
    db = await Db.open({ tempDir: path.join(stage, 'duckdb-tmp'), memoryLimit: process.env.GPUHEALTH_MEMORY_LIMIT ?? INGEST_MEMORY_LIMIT });
    await createLakeViews(db, layout);
    await createBatchTables(db);
    const summary = await runIngest(db, layout, runId, stage, opts, progress);
    committed = true;
    summary.elapsed_s = (Date.now() - started) / 1000;
    return summary;
  } finally {
    db?.close();
    fs.rmSync(path.join(layout.tmpDir, runId), { recursive: true, force: true });
    lock.release();
    if (created && !committed) fs.rmSync(layout.root, { recursive: true, force: true });
  }
}

const INGEST_MEMORY_LIMIT = '384MB';
/** ENUM columns with more values than this are written to Parquet as text (see RunOutputs.mergeRound). */
const MAX_ENUM_IN_FILE = 1024;

const DEBUG = Boolean(process.env.DEBUG && /gpuhealth|\*/.test(process.env.DEBUG));

/** Phase timings on stderr under DEBUG=gpuhealth (the benchmark's breakdown). */
function phaseTimer(): (phase: string) => void {
  let last = Date.now();
  let cpu = process.cpuUsage();
  return (phase) => {
    if (!DEBUG) return;
    const now = Date.now();
    const used = process.cpuUsage(cpu);
    process.stderr.write(`[ingest] ${phase} ${now - last} ms (cpu: user ${Math.round(used.user / 1000)} ms, sys ${Math.round(used.system / 1000)} ms)\n`);
    last = now;
    cpu = process.cpuUsage();
  };
}

async function runIngest(db: Db, layout: LakeLayout, runId: string, stage: string, opts: IngestOptions, progress: ProgressFn): Promise<IngestSummary> {
  const phase = phaseTimer();
  // 1. what to read
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

  phase('plan sources');
  // 2. parse: exposition text on workers, identity-bearing line formats, then the ones needing
  // mapping. Exposition text is parsed, merged and written a round at a time (ROUND_BYTES of text),
  // so DuckDB's share of a run stays bounded however much is ingested at once; the line formats go
  // with the last round. Nothing is visible before the one commit at the end.
  const stats = new Map<Planned, FileStats & { truncated: boolean }>();
  let rejectsShown = 0;
  const showReject = (r: RejectRecord): void => {
    if (rejectsShown++ < 5) opts.onReject?.(r);
  };
  const rejectsFile = path.join(stage, 'rejects-all.jsonl');
  const rounds = splitRounds(
    planned.filter((p) => p.format === 'prom'),
    opts.roundBytes ?? ROUND_BYTES,
  );
  const run = new RunOutputs(db, layout, runId, stage);
  await db.exec('create run gpus', Q.CREATE_RUN_GPUS_SQL);
  let summary: IngestSummary | null = null;
  for (const [k, promFiles] of rounds.entries()) {
    const last = k === rounds.length - 1;
    const roundStage = path.join(stage, `round-${k}`);
    fs.mkdirSync(roundStage, { recursive: true });
    await createBatchTables(db);
    const repeatedSamples = await parsePromFiles(db, promFiles, roundStage, opts, stats, rejectsFile, showReject, progress);
    if (!last) {
      phase(`parse (round ${k + 1} of ${rounds.length})`);
      await run.mergeRound(roundStage, repeatedSamples, progress);
      phase(`merge and write Parquet (round ${k + 1} of ${rounds.length})`);
      continue;
    }
    await parseLineFiles(db, planned, roundStage, opts, stats, showReject, progress);
    for (const f of fs.readdirSync(roundStage).filter((f) => f.startsWith('rejects-') && f.endsWith('.jsonl'))) {
      fs.appendFileSync(rejectsFile, fs.readFileSync(path.join(roundStage, f)));
    }
    phase('parse');
    summary = summarise(planned, stats, outcomes, uniq.length, runId, layout, opts);
    if (summary === null) return newSummary(outcomes, runId, layout, 0, 0); // every source was in the lake already
    await run.mergeRound(roundStage, repeatedSamples, progress);
    phase('merge and write Parquet');
  }
  summary = summary!;
  const totals = run.totals();
  summary.rows = totals.rows;
  summary.gpus = (await db.query<{ n: number }>('count run gpus', Q.COUNT_RUN_GPUS_SQL))[0]!.n;
  summary.other_samples = totals.others;
  summary.xid_events = totals.xids;
  summary.duplicates_dropped = totals.duplicates;
  summary.time_min = totals.timeMin ? totals.timeMin.toISOString() : null;
  summary.time_max = totals.timeMax ? totals.timeMax.toISOString() : null;
  progress('writing Parquet');
  const { adds } = run;
  const deletes: string[] = [];
  const rejected = summary.rejected;

  // GPU registry: rewritten whole (it is small), the old file replaced in the same commit.
  await db.exec('merge gpus', Q.MERGE_GPUS_SQL);
  await db.exec('write gpus', Q.copyTableSql('new_gpus', stagingTarget(stage, 'gpus.parquet')));
  adds.push({ from: path.join(stage, 'gpus.parquet'), to: path.join(layout.gpusDir, `gpus-${runId}.parquet`) });
  if (fs.existsSync(layout.gpusDir)) for (const f of fs.readdirSync(layout.gpusDir)) deletes.push(path.join(layout.gpusDir, f));

  // manifest rows for the sources that contributed
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
  await db.exec('write manifest', Q.copyTableSql('new_manifest', stagingTarget(stage, 'manifest.parquet')));
  adds.push({ from: path.join(stage, 'manifest.parquet'), to: path.join(layout.manifestDir, `part-${runId}.parquet`) });
  if (rejected > 0 && fs.existsSync(rejectsFile)) {
    const to = path.join(layout.rejectsDir, `${runId}.jsonl`);
    adds.push({ from: rejectsFile, to });
    summary.rejects_file = to;
  }

  addRollupVersion(layout, stage, adds);
  phase('rollups, registry, manifest');
  progress('committing');
  commit(layout, { run_id: runId, adds, deletes }, opts.commitHooks);
  phase('commit');
  return summary;
}

/** Exposition text merged and written per round (see runIngest); gzip counts as 8× its size. */
const ROUND_BYTES = 2 ** 31;

/** Groups exposition-text sources into rounds of at most `bytes` of text each (one round at least). */
function splitRounds(files: Planned[], bytes: number): Planned[][] {
  const rounds: Planned[][] = [[]];
  let size = 0;
  for (const p of files) {
    const text = p.src.gzip ? p.size * 8 : p.size;
    if (size > 0 && size + text > bytes) {
      rounds.push([]);
      size = 0;
    }
    rounds.at(-1)!.push(p);
    size += text;
  }
  return rounds;
}

/** Line-based formats: those that identify GPUs first, then those that map to GPUs already known. */
async function parseLineFiles(
  db: Db,
  planned: Planned[],
  stage: string,
  opts: IngestOptions,
  stats: Map<Planned, FileStats & { truncated: boolean }>,
  showReject: (r: RejectRecord) => void,
  progress: ProgressFn,
): Promise<void> {
  const resolver = new Resolver();
  const lineFiles = planned.filter((p) => p.format !== 'prom');
  const ordered = [...lineFiles.filter((p) => !NEEDS_MAPPING.has(p.format)), ...lineFiles.filter((p) => NEEDS_MAPPING.has(p.format))];
  // Sources without UUIDs map to the GPUs the lake knows and those this run's exposition text named
  // (earlier rounds, then this one's); the line parsers add the GPUs they identify as they go.
  if (ordered.length > 0) {
    await createStagingViews(db, stage);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('known gpus', Q.KNOWN_GPUS_SQL)) resolver.add(g);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('run gpus', Q.RUN_GPUS_SQL)) resolver.add(g);
    for (const g of await db.query<GpuIdentity & Record<string, unknown>>('staged gpus', Q.STAGED_GPUS_SQL)) resolver.add(g);
  }
  // --gpu-map comes last: the latest entry for a slot wins, and the user's map overrides the lake.
  if (opts.gpuMap) for (const g of readGpuMap(opts.gpuMap)) resolver.add(g);
  const staging = openStaging(stage, 'main');
  try {
    for (const [i, p] of ordered.entries()) {
      progress(`parsing ${p.src.display} (${i + 1}/${ordered.length})`);
      const parser = LINE_PARSERS.find((x) => x.format === p.format)!;
      const sink = new StagingSink(staging, p.src.display, showReject);
      const reader = readLines(p.src);
      try {
        await parser.parse(
          reader.lines,
          {
            file: p.src.display,
            host: opts.host ?? null,
            defaultTimeMs: p.defaultTimeMs,
            defaultTimeSource: p.defaultTimeSource,
            tz: opts.tz ?? 'UTC',
            intervalMs: opts.intervalMs ?? null,
            resolver,
          },
          sink,
        );
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        stats.set(p, { ...emptyStats(), truncated: false, warnings: [e.message], rejected: 0, samples: 0 });
        continue;
      }
      stats.set(p, { ...sink.stats, truncated: reader.truncated() });
    }
  } finally {
    closeStaging(staging);
  }
}

function newSummary(outcomes: FileOutcome[], runId: string, layout: LakeLayout, samples: number, rejected: number): IngestSummary {
  const skipped = outcomes.filter((o) => o.status !== 'ingested');
  return {
    run_id: runId,
    lake: layout.root,
    files: outcomes.filter((o) => o.status === 'ingested').length,
    samples,
    rows: 0,
    gpus: 0,
    other_samples: 0,
    xid_events: 0,
    rejected,
    duplicates_dropped: 0,
    skipped_files: skipped.length,
    truncated_files: outcomes.filter((o) => o.truncated).length,
    time_min: null,
    time_max: null,
    rejects_file: null,
    elapsed_s: 0,
    sources: outcomes.sort((a, b) => a.file.localeCompare(b.file)),
  };
}

/**
 * 3. outcomes per source, warnings, and the summary of what was parsed. Null when every source was
 * in the lake already (nothing to do, nothing wrong); throws when nothing at all could be ingested.
 */
function summarise(
  planned: Planned[],
  stats: Map<Planned, FileStats & { truncated: boolean }>,
  outcomes: FileOutcome[],
  inputs: number,
  runId: string,
  layout: LakeLayout,
  opts: IngestOptions,
): IngestSummary | null {
  let samples = 0;
  let rejected = 0;
  for (const p of planned) {
    const s = stats.get(p) ?? { ...emptyStats(), truncated: false };
    samples += s.samples + s.xids;
    rejected += s.rejected;
    for (const w of s.warnings) opts.onWarning?.(w.startsWith(p.src.display) || w.startsWith(p.src.path) ? w : `${p.src.display}: ${w}`);
    if (s.truncated) opts.onWarning?.(`${p.src.display}: gzip stream is truncated; the intact part was ingested`);
    if (p.defaultTimeSource === 'mtime' && p.format === 'prom' && s.samples > 0 && s.timeMin === p.defaultTimeMs) {
      opts.onWarning?.(`${p.src.display}: no timestamps in the file or its name; used the file's modification time (pass --time to set it)`);
    }
    const ok = s.samples + s.xids > 0;
    outcomes.push({
      file: p.src.display,
      format: p.format,
      status: ok ? 'ingested' : s.warnings.length && s.rejected === 0 ? 'failed' : 'empty',
      samples: s.samples + s.xids,
      rejected: s.rejected,
      truncated: s.truncated,
      message: ok ? undefined : s.warnings[0] ?? (s.rejected ? 'every line was rejected' : 'no samples found'),
    });
  }
  const skipped = outcomes.filter((o) => o.status !== 'ingested');
  const anything = planned.some((p) => {
    const s = stats.get(p);
    return s !== undefined && s.samples + s.xids > 0;
  });
  const onlyAlreadyIngested = skipped.length > 0 && skipped.every((o) => o.status === 'already-ingested');
  if (!anything) {
    if (inputs > 0 && (onlyAlreadyIngested || outcomes.every((o) => o.status === 'already-ingested'))) return null;
    const first = skipped[0];
    const why = first ? `${first.file}: ${first.message ?? first.status}` : 'no input files';
    throw new InputError(inputs <= 1 ? `nothing to ingest — ${why}` : `nothing to ingest in ${inputs} files (first: ${why})`, [
      'gpuhealth ingest reads dcgm-exporter scrapes, Prometheus query JSON, nvidia-smi --query-gpu CSV, dcgmi/nvidia-smi dmon, kernel logs with NVRM Xid lines, and CSV exports',
      'force a format with --format-in',
    ]);
  }
  return newSummary(outcomes, runId, layout, samples, rejected);
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

/**
 * 4. What a run has merged and written so far, round by round: the staged Parquet files (each round
 * de-duplicates against the lake and the rounds before it), their rollups, and the counts.
 */
class RunOutputs {
  readonly adds: { from: string; to: string }[] = [];
  /** Per table, what each earlier round wrote: its files, GPUs (null included) and time range. */
  private readonly staged: Record<PartitionedTable, RoundRows[]> = { metrics: [], metrics_other: [], xid_events: [] };
  private round = 0;
  private rows = 0;
  private others = 0;
  private xids = 0;
  private duplicates = 0;
  private timeMin: Date | null = null;
  private timeMax: Date | null = null;

  constructor(
    private readonly db: Db,
    private readonly layout: LakeLayout,
    private readonly runId: string,
    private readonly stage: string,
  ) {}

  totals(): { rows: number; others: number; xids: number; duplicates: number; timeMin: Date | null; timeMax: Date | null } {
    return { rows: this.rows, others: this.others, xids: this.xids, duplicates: this.duplicates, timeMin: this.timeMin, timeMax: this.timeMax };
  }

  /**
   * Merges one round's staged rows, drops what the lake (or an earlier round) holds, and writes
   * Parquet. The new metrics rows come first: their Parquet write and their hourly rollup
   * (src/lib/sql/rollup.ts) then run on connections of their own while this one merges
   * metrics_other and xid_events, whose writes follow. A Parquet write is mostly one thread, so
   * running them side by side keeps both cores busy.
   */
  async mergeRound(roundStage: string, repeatedSamples: number, progress: ProgressFn): Promise<void> {
    const { db } = this;
    const k = this.round++;
    const out = path.join(this.stage, 'out', `round-${k}`);
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
    const overlap = (await db.query<{ n: number }>('staged overlap', Q.COUNT_STAGED_OVERLAP_SQL))[0]!.n;
    await db.exec('merge metrics', overlap > 0 ? Q.MERGE_STAGED_METRICS_SQL : Q.COPY_STAGED_METRICS_SQL);
    const before = (await db.query<{ n: number }>('count merged', Q.COUNT_NEW_METRICS_SQL))[0]!.n;
    await db.exec('drop existing metrics', Q.dropExistingMetricsSql('lake'));
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
        await conn.exec(`write ${table}`, Q.copyPartitionedSql(tmp, quotePath(dir), order, asText));
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
    this.duplicates += before - notInLake;
    if (c.time_min && (!this.timeMin || c.time_min < this.timeMin)) this.timeMin = c.time_min;
    if (c.time_max && (!this.timeMax || c.time_max > this.timeMax)) this.timeMax = c.time_max;

    const metricsFiles = written.get('metrics') ?? [];
    const oneFilePerDate = metricsFiles.every((d) => d.files.length === 1);
    if (c.rows > 0 && oneFilePerDate) await db.exec('write rollups', copyRollupsByDateSql('new_rollups', quotePath(path.join(out, 'rollups-by-date'))));
    const tmpOf: Record<PartitionedTable, string> = { metrics: 'new_metrics', metrics_other: 'new_other', xid_events: 'new_xid' };
    for (const table of ['metrics', 'metrics_other', 'xid_events'] as const) {
      const files: string[] = [];
      if (written.has(table)) this.staged[table].push(await roundRows(db, tmpOf[table], files));
      for (const { dateDir, files: dateFiles } of written.get(table) ?? []) {
        for (const [i, f] of dateFiles.entries()) {
          // part-<run>[-r<round>][-<i>].parquet: rounds after the first, and dates DuckDB split, get a suffix
          const name = `part-${this.runId}${k > 0 ? `-r${k}` : ''}${dateFiles.length > 1 ? `-${i}` : ''}.parquet`;
          const from = path.join(out, table, dateDir, f);
          files.push(from);
          const to = path.join(this.layout.table(table), dateDir, name);
          this.adds.push({ from, to });
          if (table !== 'metrics') continue;
          // the file's hourly rollup commits with it: the date's rollup when the date is one file,
          // else the file's own, read back from it
          const rollup = path.join(out, 'rollups', dateDir, name);
          if (oneFilePerDate) {
            fs.mkdirSync(path.dirname(rollup), { recursive: true });
            fs.renameSync(path.join(out, 'rollups-by-date', dateDir, 'part-0.parquet'), rollup);
          } else await writeRollup((n, sql) => db.exec(n, sql), [from], rollup);
          this.adds.push({ from: rollup, to: this.layout.rollupOf(to) });
        }
      }
    }
    // the round's rows are in its files now: free DuckDB's copies before the next round parses
    await db.exec('drop round', Q.DROP_ROUND_SQL);
  }
}

async function parsePromFiles(
  db: Db,
  files: Planned[],
  stage: string,
  opts: IngestOptions,
  stats: Map<Planned, FileStats & { truncated: boolean }>,
  rejectsFile: string,
  showReject: (r: RejectRecord) => void,
  progress: ProgressFn,
): Promise<number> {
  if (files.length === 0) return 0;
  const tasks: PromTask[] = [];
  const owner: Planned[] = [];
  for (const p of files) {
    const common = { path: p.src.path, displayName: p.src.display, defaultTimeMs: p.defaultTimeMs, host: opts.host ?? null };
    if (p.src.gzip || p.size <= SPLIT_BYTES) {
      tasks.push({ ...common, gzip: p.src.gzip, start: 0, end: -1 });
      owner.push(p);
    } else {
      for (let start = 0; start < p.size; start += SPLIT_BYTES) {
        tasks.push({ ...common, gzip: false, start, end: Math.min(p.size, start + SPLIT_BYTES) });
        owner.push(p);
      }
    }
  }
  let done = 0;
  // Row batches go into DuckDB as they arrive, while the workers parse on.
  const appender = await BatchAppender.open(db);
  let results: PromResult[];
  try {
    results = await runPromTasks(tasks, {
      stagingDir: stage,
      threads: opts.threads ?? defaultParseThreads(),
      onBatch: (b) => appender.append(b),
      onResult: () => progress(`parsing exposition text ${++done}/${tasks.length} parts`),
    });
  } finally {
    appender.close();
  }
  // Range-relative line numbers become file line numbers: add the lines of the earlier ranges.
  const linesBefore = new Map<Planned, number>();
  const out = fs.openSync(rejectsFile, 'a');
  try {
    results.forEach((r, i) => {
      const p = owner[i]!;
      const offset = linesBefore.get(p) ?? 0;
      linesBefore.set(p, offset + r.lines);
      const s = stats.get(p) ?? { ...emptyStats(), truncated: false };
      s.samples += r.stats.samples;
      s.rows += r.stats.rows;
      s.others += r.stats.others;
      s.rejected += r.stats.rejected;
      s.truncated ||= r.truncated;
      if (r.stats.timeMin !== null) s.timeMin = s.timeMin === null ? r.stats.timeMin : Math.min(s.timeMin, r.stats.timeMin);
      if (r.stats.timeMax !== null) s.timeMax = s.timeMax === null ? r.stats.timeMax : Math.max(s.timeMax, r.stats.timeMax);
      if (r.duplicates > 0) s.warnings.push(`${r.duplicates} duplicate samples (same metric and labels at one time); kept the last`);
      if (r.migSeries > 0) s.warnings.push(`${r.migSeries} MIG instance series kept in metrics_other (not separate GPUs)`);
      if (r.stats.rejected > r.rejects.length) s.warnings.push(`${r.stats.rejected - r.rejects.length} further rejects not recorded individually`);
      for (const rej of r.rejects) {
        const rec = { ...rej, line: rej.line + offset };
        fs.writeSync(out, `${JSON.stringify(rec)}\n`);
        showReject(rec);
      }
      stats.set(p, s);
    });
  } finally {
    fs.closeSync(out);
  }
  return results.reduce((n, r) => n + r.duplicates, 0);
}

