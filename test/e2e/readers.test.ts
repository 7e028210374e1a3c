/**
 * End-to-end tests of the reading stages (`features`, `score`, `predict`) as readers of a lake others
 * write: they compute without the lake lock, so an ingest runs to the end beside them; they wait for
 * the lock only to commit, saying so on stderr; `--no-write` (and a lake this user may not write)
 * computes and prints without locking or writing anything; and GPUs silent in a short window are
 * reported as not reporting instead of vanishing. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { listLakeFiles, parseJson, runCli, spawnCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';

const AT_MS = Date.UTC(2026, 10, 20);
const AT = new Date(AT_MS).toISOString();
const HOUR = 3_600_000;
const uuid = (g: number): string => `GPU-00000000-0000-4000-8000-${String(g).padStart(12, '0')}`;

/**
 * GPU → when it reported (every 10 minutes). 0–2 report to the end; 3 fell off the bus 50 hours before
 * --at (before the 24 hours ahead of a 24 h window); 4 did too, after a recorded failure; 5 is in the
 * asset registry only.
 */
const SPANS: Record<number, [number, number]> = {
  0: [AT_MS - 72 * HOUR, AT_MS],
  1: [AT_MS - 72 * HOUR, AT_MS],
  2: [AT_MS - 72 * HOUR, AT_MS],
  3: [AT_MS - 72 * HOUR, AT_MS - 50 * HOUR],
  4: [AT_MS - 72 * HOUR, AT_MS - 50 * HOUR],
};

function fleetCsv(from: number, to: number): string {
  const lines = ['time,gpu_uuid,host,model,gpu_temp,power_usage,sm_active'];
  for (let t = from; t < to; t += 600_000) {
    for (const [g, [a, b]] of Object.entries(SPANS)) {
      if (t >= a && t < b) lines.push(`${new Date(t).toISOString()},${uuid(Number(g))},node-a,NVIDIA H100 80GB HBM3,${50 + Number(g)},400,80`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const inputs = tempDir();
/** The lake's telemetry up to 6 hours before --at, and those last 6 hours (ingested by one test). */
const EARLY = path.join(inputs, 'early.csv');
const LATE = path.join(inputs, 'late.csv');
fs.writeFileSync(EARLY, fleetCsv(AT_MS - 72 * HOUR, AT_MS - 6 * HOUR));
fs.writeFileSync(LATE, fleetCsv(AT_MS - 6 * HOUR, AT_MS));
const ASSETS = path.join(inputs, 'assets.csv');
fs.writeFileSync(ASSETS, `gpu_uuid,host,model\n${[0, 1, 2, 3, 4, 5].map((g) => `${uuid(g)},node-a,NVIDIA H100 80GB HBM3`).join('\n')}\n`);
const FAILURES = path.join(inputs, 'failures.csv');
fs.writeFileSync(FAILURES, `gpu_uuid,failed_at,failure_type\n${uuid(4)},${new Date(AT_MS - 49 * HOUR).toISOString()},memory\n`);

const template = tempLake();

/** A fresh copy of the template lake (EARLY ingested, the registry and failures imported). */
function lakeCopy(): string {
  const copy = tempLake();
  fs.cpSync(template, copy, { recursive: true });
  return copy;
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli(args, { env });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  expect(stackLines(r.stderr)).toEqual([]);
  return r;
}

/** The lock file of `lake`, held as a live process holds it (this test's pid). */
function holdLock(lake: string): () => void {
  const lock = path.join(lake, '_ingest', 'lock');
  fs.writeFileSync(lock, `${process.pid}\n`);
  return () => fs.rmSync(lock, { force: true });
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

type ScoreJson = { gpu_uuid: string; samples: number; health_grade: string | null; degradation_factors: string[] };

beforeAll(async () => {
  await ok(['ingest', EARLY, '--lake', template]);
  await ok(['assets', 'import', ASSETS, '--lake', template]);
  await ok(['failures', 'import', FAILURES, '--lake', template]);
}, 120_000);

describe.concurrent('--no-write', () => {
  it.each(['score', 'features', 'predict'])('%s --help documents it', async (cmd) => {
    const r = await ok([cmd, '--help']);
    expect(r.stdout).toMatch(/--no-write\s+Compute and print only: write nothing into the lake and take no lock\./);
  });

  it('computes and prints without locking or writing anything, also where rollups are missing', async () => {
    const lake = lakeCopy();
    fs.rmSync(path.join(lake, 'rollups'), { recursive: true });
    const release = holdLock(lake); // a run that took the lock would wait for it
    const before = listLakeFiles(lake);
    try {
      const r = await ok(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json', '--no-write'], { GPUHEALTH_LOCK_WAIT: '0' });
      expect(parseJson<ScoreJson[]>(r.stdout).map((s) => s.gpu_uuid)).toHaveLength(5);
      expect(r.stderr).not.toMatch(/waiting for the lake lock/);
      expect(r.stderr).toMatch(/built hourly rollups for \d+ metrics files for this run only/);
      expect(listLakeFiles(lake)).toEqual(before);
      const f = await ok(['features', '--lake', lake, '--since', '24h', '--at', AT, '--csv', '--no-write'], { GPUHEALTH_LOCK_WAIT: '0' });
      expect(f.stdout.trim().split('\n')).toHaveLength(1 + 5);
      const p = await ok(['predict', '--lake', lake, '--at', AT, '--json', '--no-write'], { GPUHEALTH_LOCK_WAIT: '0' });
      expect(parseJson<unknown[]>(p.stdout).length).toBeGreaterThan(0);
      expect(listLakeFiles(lake)).toEqual(before);
    } finally {
      release();
    }
  });

  it.skipIf(process.getuid?.() === 0)('is what a lake this user may not write gets, with a note', async () => {
    const lake = lakeCopy();
    const before = listLakeFiles(lake);
    const dirs = [lake, ...listLakeFiles(lake).map((f) => path.dirname(path.join(lake, f)))];
    for (const d of new Set(dirs)) fs.chmodSync(d, 0o555);
    try {
      const r = await ok(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json']);
      expect(parseJson<ScoreJson[]>(r.stdout)).toHaveLength(5);
      expect(r.stderr.match(/no write permission on .*: computed from the lake without writing results \(as with --no-write\)/g)).toHaveLength(1);
      expect(listLakeFiles(lake)).toEqual(before);
    } finally {
      for (const d of new Set(dirs)) fs.chmodSync(d, 0o755);
    }
  });
});

describe('silent GPUs', () => {
  it('are not_reporting in a 24 h window, and the summary says how many', async () => {
    const lake = lakeCopy();
    const r = await ok(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json']);
    const rows = parseJson<ScoreJson[]>(r.stdout);
    const silent = rows.filter((s) => s.degradation_factors.includes('not_reporting')).map((s) => s.gpu_uuid);
    // 3 fell silent 50 h ago, 5 is in the registry only; 4 failed and is left out
    expect(silent.sort()).toEqual([uuid(3), uuid(5)]);
    expect(rows.map((s) => s.gpu_uuid)).not.toContain(uuid(4));
    expect(rows.find((s) => s.gpu_uuid === uuid(3))).toMatchObject({ samples: 0, health_grade: 'critical' });
    expect(r.stderr).toMatch(/scored 5 GPUs, .*; 2 not reporting \(1 GPU recorded as failed, with no sample since, left out\);/);
    const table = await ok(['score', '--lake', lake, '--since', '24h', '--at', AT]);
    expect(table.stderr).toMatch(/: 3 excellent, 2 critical; 2 not reporting/);
  });
});

describe('the lake lock', () => {
  it('is waited for only to commit, once said on stderr, with how long it took', async () => {
    const lake = lakeCopy();
    const release = holdLock(lake);
    const run = spawnCli(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json']);
    let stderr = '';
    run.child.stderr!.on('data', (d: string) => (stderr += d));
    try {
      await until('the waiting note', () => /waiting for the lake lock/.test(stderr));
      await sleep(300);
    } finally {
      release();
    }
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    // README: a run waits up to 60 s
    expect(
      r.stderr.match(new RegExp(`waiting for the lake lock held by pid ${process.pid} since \\d\\d:\\d\\d:\\d\\d UTC \\(up to 60 s\\) …`, 'g')),
    ).toHaveLength(1);
    expect(r.stderr).toMatch(/got the lake lock after \d+\.\d s/);
    expect(listLakeFiles(lake).filter((f) => f.startsWith('scores/'))).toEqual(['scores/date=2026-11-20/scores-20261120T0000Z-1d.parquet']);
  });

  it('held past the wait: the results are printed, not written, and the run fails', async () => {
    const lake = lakeCopy();
    const release = holdLock(lake);
    try {
      const r = await runCli(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json'], { env: { GPUHEALTH_LOCK_WAIT: '1' } });
      expect(r.code).toBe(1);
      expect(parseJson<ScoreJson[]>(r.stdout)).toHaveLength(5);
      expect(r.stderr).toMatch(new RegExp(`results not written: the lake stayed locked by pid ${process.pid} for 1 s`));
      expect(listLakeFiles(lake).filter((f) => f.startsWith('scores/'))).toEqual([]);
    } finally {
      release();
    }
  });

  it('is not held while a score computes: an ingest runs to the end meanwhile', async () => {
    const lake = lakeCopy();
    const hold = path.join(tempDir(), 'hold');
    const run = spawnCli(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json'], { env: { GPUHEALTH_TEST_HOLD: hold } });
    try {
      await until('the score to hold after its snapshot', () => fs.existsSync(hold));
      const ing = await runCli(['ingest', LATE, '--lake', lake, '--json'], { env: { GPUHEALTH_LOCK_WAIT: '5' } });
      expect(ing.code, ing.stderr).toBe(0);
      expect(parseJson<{ rows: number }>(ing.stdout).rows).toBe(3 * 36);
      expect(run.child.exitCode).toBeNull(); // still computing
    } finally {
      fs.rmSync(hold, { force: true });
    }
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    // computed from the files listed at its start: the 18 hours before the ingest
    const rows = parseJson<ScoreJson[]>(r.stdout);
    expect(rows.find((s) => s.gpu_uuid === uuid(0))!.samples).toBe(108);
    expect(listLakeFiles(lake).filter((f) => f.startsWith('scores/'))).toHaveLength(1);
    const again = await ok(['score', '--lake', lake, '--since', '24h', '--at', AT, '--json', '--no-write']);
    expect(parseJson<ScoreJson[]>(again.stdout).find((s) => s.gpu_uuid === uuid(0))!.samples).toBe(144);
  });
});
