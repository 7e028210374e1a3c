/**
 * `simulateFleet()`: a realistic demo fleet written as dcgm-exporter scrapes (one gzipped file per
 * host per hour), plus the asset registry and the failure log that go with it. The lower-level pieces
 * (`planFleet`, `scrapes`, `renderScrape`) are exported for writers that skip the text, e.g. straight
 * to the lake, and produce the same values. Model and rates: docs/simulation.md.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { InputError } from '../errors.js';
import { ByteSink, FAMILIES, renderScrapeTo } from './exposition.js';
import { planFleet, type PlanOptions } from './fleet.js';
import { HOUR_MS } from './hardware.js';
import { scrapes } from './telemetry.js';

export { planFleet, exposureGpuYears, resolvePlanOptions } from './fleet.js';
export type { FleetPlan, PlanOptions, PlannedFailure, PlannedGpu, PlannedHost, HostOutage, GpuTraits, PlantSpec, ResolvedPlanOptions } from './fleet.js';
export { scrapes, precursor } from './telemetry.js';
export type { Scrape, ScrapeOptions } from './telemetry.js';
export { renderScrape, renderScrapeTo, ByteSink, FAMILIES, familiesFor, formatValue, gpuLabels } from './exposition.js';
export type { Family } from './exposition.js';
export { FAILURE_TYPES, LOAD_PROFILES, MODEL_KEYS, MODELS, type FailureType, type LoadProfile, type ModelKey } from './hardware.js';

const gzipAsync = promisify(gzip);
/** Host-hour files being compressed at once (libuv's default pool has 4 threads). */
const MAX_INFLIGHT = 4;

export interface SimulateOptions extends PlanOptions {
  outDir: string;
  /**
   * gzip level of the .prom.gz files (default 1: the text is so repetitive that level 1 already
   * compresses ~19×; level 6 saves another ~14 % of bytes for ~2.5× the compression time).
   */
  gzipLevel?: number;
  /** (ticks done, ticks total). */
  progress?: (done: number, total: number) => void;
}

export interface SimulateSummary {
  gpus: number;
  hosts: number;
  /** Files written: .prom.gz files plus assets.csv and failures.csv. */
  files: number;
  /** Exposition sample lines (HELP/TYPE lines not counted). */
  samples: number;
  failures: number;
  replacements: number;
  startMs: number;
  endMs: number;
  outDir: string;
  /** Bytes written (compressed). */
  bytes: number;
}

export { ASSETS_HEADER, FAILURES_HEADER, assetsCsv, failuresCsv } from './csv.js';
import { assetsCsv, failuresCsv } from './csv.js';

/** `2026-11-25T10-00-00Z`: an ISO stamp the ingester reads from file names, without colons. */
const hourStamp = (ms: number): string => `${new Date(ms).toISOString().slice(0, 13)}-00-00Z`;

/** Temp file then rename, so a killed run leaves no half-written file under its final name. */
async function writeAtomic(path: string, data: string | Buffer): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/** Simulates the fleet and writes prom/<host>/<host>_<hour>.prom.gz, assets.csv and failures.csv under outDir. */
export async function simulateFleet(opts: SimulateOptions): Promise<SimulateSummary> {
  const plan = planFleet(opts);
  const level = opts.gzipLevel ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new InputError(`gzipLevel must be an integer from 0 to 9, got ${level}`);
  const promDir = join(opts.outDir, 'prom');
  for (const h of plan.hosts) await mkdir(join(promDir, h.name), { recursive: true });

  let files = 0;
  let bytes = 0;
  let samples = 0;
  // scrapes() yields host by host within each UTC hour, so one host-hour file is complete when the
  // next one starts. Compression runs on libuv's thread pool while the main thread simulates and
  // renders the next host-hour; sinks are pooled (a host-hour is ~4 MB of text at 60 s).
  const sinkCapacity = Math.min(8 << 20, Math.max(1 << 16, Math.ceil(HOUR_MS / plan.intervalMs) * 8 * FAMILIES.length * 280));
  const pool: ByteSink[] = [];
  const inflight: Promise<void>[] = [];
  const submit = async (host: string, hourMs: number, sink: ByteSink): Promise<void> => {
    const path = join(promDir, host, `${host}_${hourStamp(hourMs)}.prom.gz`);
    const job = gzipAsync(sink.view(), { level, chunkSize: 1 << 20 }).then(async (z) => {
      sink.length = 0;
      pool.push(sink);
      const n = await writeAtomic(path, z);
      bytes += n;
      files++;
    });
    job.catch(() => undefined); // reported where it is awaited; never an unhandled rejection
    inflight.push(job);
    if (inflight.length >= MAX_INFLIGHT) await inflight.shift();
  };

  let cur: { host: string; hour: number; sink: ByteSink } | null = null;
  for (const sc of scrapes(plan, { progress: opts.progress })) {
    const hour = Math.floor(sc.time_ms / HOUR_MS) * HOUR_MS;
    if (!cur || cur.host !== sc.host.name || cur.hour !== hour) {
      if (cur) await submit(cur.host, cur.hour, cur.sink);
      cur = { host: sc.host.name, hour, sink: pool.pop() ?? new ByteSink(sinkCapacity) };
    }
    renderScrapeTo(cur.sink, sc, plan);
    samples += sc.count * FAMILIES.length;
  }
  if (cur) await submit(cur.host, cur.hour, cur.sink);
  await Promise.all(inflight);

  const a = await writeAtomic(join(opts.outDir, 'assets.csv'), assetsCsv(plan));
  const f = await writeAtomic(join(opts.outDir, 'failures.csv'), failuresCsv(plan));
  bytes += a + f;
  files += 2;

  return {
    gpus: plan.options.gpus,
    hosts: plan.hosts.length,
    files,
    samples,
    failures: plan.failures.length,
    replacements: plan.replacements,
    startMs: plan.startMs,
    endMs: plan.endMs,
    outDir: opts.outDir,
    bytes,
  };
}
