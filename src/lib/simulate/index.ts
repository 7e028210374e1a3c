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
import { FAMILIES, renderScrape } from './exposition.js';
import { planFleet, type FleetPlan, type PlanOptions } from './fleet.js';
import { HOUR_MS, MODELS } from './hardware.js';
import { scrapes } from './telemetry.js';

export { planFleet, exposureGpuYears, resolvePlanOptions } from './fleet.js';
export type { FleetPlan, PlanOptions, PlannedFailure, PlannedGpu, PlannedHost, HostOutage, GpuTraits, PlantSpec, ResolvedPlanOptions } from './fleet.js';
export { scrapes, precursor } from './telemetry.js';
export type { Scrape, ScrapeOptions } from './telemetry.js';
export { renderScrape, FAMILIES, familiesFor, formatValue, gpuLabels } from './exposition.js';
export type { Family } from './exposition.js';
export { FAILURE_TYPES, LOAD_PROFILES, MODEL_KEYS, MODELS, type FailureType, type LoadProfile, type ModelKey } from './hardware.js';

const gzipAsync = promisify(gzip);

export interface SimulateOptions extends PlanOptions {
  outDir: string;
  /** gzip level of the .prom.gz files (default 6). */
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

export const ASSETS_HEADER = 'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price';
export const FAILURES_HEADER = 'gpu_uuid,serial,failed_at,failure_type,xid,description';

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const isoTime = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
/** `2026-11-25T10-00-00Z`: an ISO stamp the ingester reads from file names, without colons. */
const hourStamp = (ms: number): string => new Date(ms).toISOString().slice(0, 13) + '-00-00Z';

/** Temp file then rename, so a killed run leaves no half-written file under its final name. */
async function writeAtomic(path: string, data: string | Buffer): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** assets.csv: every GPU that was in the fleet during the window, replacements included. */
export function assetsCsv(plan: FleetPlan): string {
  const rows = [...plan.gpus].sort((a, b) => a.host - b.host || a.index - b.index || a.installedMs - b.installedMs);
  let out = ASSETS_HEADER + '\n';
  for (const g of rows) {
    const h = plan.hosts[g.host]!;
    out += `${g.uuid},${g.serial},${MODELS[g.model].modelName},${h.name},${h.datacenter},${h.rack},${isoDate(g.deployedMs)},${isoDate(g.warrantyExpiryMs)},${g.purchasePriceUsd}\n`;
  }
  return out;
}

/** failures.csv: the failures inside the window, in time order. */
export function failuresCsv(plan: FleetPlan): string {
  let out = FAILURES_HEADER + '\n';
  for (const f of plan.failures) {
    out += `${f.uuid},${f.serial},${isoTime(f.atMs)},${f.type},${f.xid ?? ''},${csvField(f.description)}\n`;
  }
  return out;
}

/** Simulates the fleet and writes prom/<host>/<host>_<hour>.prom.gz, assets.csv and failures.csv under outDir. */
export async function simulateFleet(opts: SimulateOptions): Promise<SimulateSummary> {
  const plan = planFleet(opts);
  const level = opts.gzipLevel ?? 6;
  const promDir = join(opts.outDir, 'prom');
  for (const h of plan.hosts) await mkdir(join(promDir, h.name), { recursive: true });

  const chunks: string[][] = plan.hosts.map(() => []);
  let files = 0;
  let bytes = 0;
  let samples = 0;
  let hour = Number.NaN;
  let inflight: Promise<void> = Promise.resolve();

  // Compression runs on libuv's thread pool while the main thread renders the next hour.
  const flush = (hourMs: number): Promise<void> => {
    const jobs: Promise<void>[] = [];
    for (const h of plan.hosts) {
      const parts = chunks[h.index]!;
      if (parts.length === 0) continue;
      chunks[h.index] = [];
      const path = join(promDir, h.name, `${h.name}_${hourStamp(hourMs)}.prom.gz`);
      jobs.push(gzipAsync(Buffer.from(parts.join(''), 'latin1'), { level }).then(async (z) => {
        bytes += await writeAtomic(path, z);
        files++;
      }));
    }
    return Promise.all(jobs).then(() => undefined);
  };

  for (const sc of scrapes(plan, { progress: opts.progress })) {
    const hMs = Math.floor(sc.time_ms / HOUR_MS) * HOUR_MS;
    if (hMs !== hour) {
      if (!Number.isNaN(hour)) {
        await inflight;
        inflight = flush(hour);
      }
      hour = hMs;
    }
    chunks[sc.host.index]!.push(renderScrape(sc, plan));
    samples += sc.count * FAMILIES.length;
  }
  await inflight;
  if (!Number.isNaN(hour)) await flush(hour);

  bytes += await writeAtomic(join(opts.outDir, 'assets.csv'), assetsCsv(plan));
  bytes += await writeAtomic(join(opts.outDir, 'failures.csv'), failuresCsv(plan));
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
