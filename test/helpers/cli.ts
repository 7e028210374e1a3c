/**
 * End-to-end helpers: run the built CLI (`node bin/run.js`, so `npm run build` must have run) as a
 * child process, make throw-away lakes, and read a lake back with DuckDB directly (not through the
 * product's code) to check what a command wrote.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll } from 'vitest';

/** The repository root (this file lives in <repo>/test/helpers/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'run.js');
export const FIXTURES = path.join(REPO_ROOT, 'fixtures');

export interface CliResult {
  /** Exit code; null when the process died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment (merged over the cleaned parent environment). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer;
  cwd?: string;
  /** Kills the process (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
}

/** The environment a test run of the CLI gets: UTC, CI, no lake from the caller's shell. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', CI: 'true' };
  for (const k of Object.keys(env)) if (k.startsWith('GPUHEALTH_')) delete env[k];
  delete env.NODE_OPTIONS; // vitest's loader hooks have no business in the child
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the CLI without waiting (for tests that kill it or watch it wait). */
export function spawnCli(args: readonly string[], opts: RunOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cliEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {}); // the CLI may exit before reading stdin
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs `gpuhealth ARGS…` to completion. */
export function runCli(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).done;
}

const made: string[] = [];
// Registered when a test file imports this module (collection time), so it runs after that file.
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh, not yet existing lake path under a fresh temp folder; removed after the test file. */
export function tempLake(): string {
  return path.join(tempDir(), 'lake');
}

/** A fresh, empty temp folder; removed after the test file. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-e2e-'));
  made.push(d);
  return d;
}

/** Sorted relative paths (with `/`) of every file under the lake, except the lock file. */
export function listLakeFiles(lake: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(lake, p).split(path.sep).join('/'));
    }
  };
  walk(lake);
  return out.filter((f) => f !== '_ingest/lock').sort();
}

/** The lake's data files: without staging (`_tmp/`) and commit journals (`_ingest/journal/`). */
export function listDataFiles(lake: string): string[] {
  return listLakeFiles(lake).filter((f) => !f.startsWith('_tmp/') && !f.startsWith('_ingest/journal/'));
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `read_parquet(...)` of a partitioned table of the lake, for use in queryLake SQL. */
export function metricsSource(lake: string, table = 'metrics'): string {
  return `read_parquet(${sqlString(path.join(lake, table, '*', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
}

/**
 * Runs SQL against the lake with DuckDB. `{metrics}` (and `{metrics_other}`, `{xid_events}`,
 * `{manifest}`) in the SQL are replaced by a read_parquet of that table. BigInts become numbers,
 * timestamps ISO strings.
 */
export async function queryLake(lake: string, sql: string): Promise<Record<string, unknown>[]> {
  const text = sql
    .replace(/\{metrics\}/g, metricsSource(lake, 'metrics'))
    .replace(/\{metrics_other\}/g, metricsSource(lake, 'metrics_other'))
    .replace(/\{xid_events\}/g, metricsSource(lake, 'xid_events'))
    .replace(/\{manifest\}/g, `read_parquet(${sqlString(path.join(lake, '_ingest', 'manifest', '*.parquet'))}, union_by_name = true)`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(text);
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === 'bigint') out[k] = Number(v);
        else if (v instanceof Date) out[k] = v.toISOString();
        else out[k] = v;
      }
      return out;
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Number of metrics rows in the lake (0 when it has none). */
export async function countRows(lake: string): Promise<number> {
  if (!listLakeFiles(lake).some((f) => f.startsWith('metrics/'))) return 0;
  const r = await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}');
  return Number(r[0]!.n);
}

/** Lines of stderr that look like a JS stack trace. */
export function stackLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^\s+at\s/.test(l));
}

/** Parses stdout as JSON, with the text in the error when it is not. */
export function parseJson<T = Record<string, unknown>>(stdout: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (e) {
    throw new Error(`stdout is not JSON (${(e as Error).message}):\n${stdout.slice(0, 2000)}`);
  }
}
