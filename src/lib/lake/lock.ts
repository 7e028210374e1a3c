/**
 * One writer at a time per lake: a lock file holding the holder's pid, created with O_EXCL.
 * A lock left by a process that no longer exists is taken over.
 *
 * Writers whose work depends on what the lake holds (ingest's dedupe against the manifest, compact,
 * imports) hold it for their whole run; reading stages (features, score, predict) compute from a
 * snapshot without it and hold it only around their commits (lake/run.ts), so they never keep an
 * ingest waiting for longer than a commit takes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GpuhealthError, InputError } from '../errors.js';
import { parseDuration } from '../time.js';

/** How long a run waits for another run's lock before failing (README, docs/schema.md); GPUHEALTH_LOCK_WAIT overrides it. */
export const LAKE_LOCK_WAIT_MS = 60_000;

/** The lock was held by another live run for longer than the run would wait. */
export class LakeLockedError extends GpuhealthError {
  constructor(
    readonly holder: number,
    lockFile: string,
    /** How long the run waited before giving up (ms). */
    readonly waitMs: number,
  ) {
    super(`the lake is locked by another gpuhealth run (pid ${holder})`, [
      `wait for it to finish, or remove ${lockFile} if that process is not gpuhealth`,
      'GPUHEALTH_LOCK_WAIT=5m waits longer',
    ]);
  }
}

export interface LakeLock {
  release(): void;
  /** How long acquiring it waited for another run (ms); 0 when the lock was free. */
  readonly waitedMs: number;
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** How long to wait for another run to finish before failing. */
  waitMs?: number;
  /**
   * Told once when the lock is found held by a live run (its pid and since when it holds the lock),
   * and once more when the lock is got after waiting, with how long that took.
   */
  onWait?: (event: { kind: 'waiting'; holder: number; sinceMs: number | null; waitMs: number } | { kind: 'got'; waitedMs: number }) => void;
}

/** How long runs wait for the lock: GPUHEALTH_LOCK_WAIT (a duration, `90s`, `5m`, or seconds; 0 fails at once), else `fallback`. */
export function lockWaitMs(fallback: number = LAKE_LOCK_WAIT_MS, env: NodeJS.ProcessEnv = process.env): number {
  const v = env['GPUHEALTH_LOCK_WAIT'];
  if (v === undefined || v.trim() === '') return fallback;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1000;
  try {
    return parseDuration(v);
  } catch {
    throw new InputError(`GPUHEALTH_LOCK_WAIT="${v}" is not a duration`, ['GPUHEALTH_LOCK_WAIT=90s (or 5m, or a number of seconds; 0 fails at once)']);
  }
}

/** The note for a run that waits: who holds the lock, since when (HH:MM:SS UTC, the lock file's mtime), how long the run will wait. */
export function lockWaitNote(holder: number, sinceMs: number | null, waitMs: number): string {
  const since = sinceMs === null ? '' : ` since ${new Date(sinceMs).toISOString().slice(11, 19)} UTC`;
  return `waiting for the lake lock held by pid ${holder}${since} (up to ${Math.round(waitMs / 1000)} s) …`;
}

/** Notes for stderr about a wait for the lock (see LockOptions.onWait), for runs that have a `note` callback. */
export function lockWaitNotes(note: ((text: string) => void) | undefined): LockOptions['onWait'] {
  if (!note) return undefined;
  return (e) => {
    if (e.kind === 'waiting') note(lockWaitNote(e.holder, e.sinceMs, e.waitMs));
    else note(`got the lake lock after ${(e.waitedMs / 1000).toFixed(1)} s`);
  };
}

export async function acquireLock(lockFile: string, opts: LockOptions = {}): Promise<LakeLock> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const t0 = Date.now();
  const deadline = t0 + (opts.waitMs ?? 0);
  let told = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      // Two runs taking over the same stale lock can race (one removes the other's fresh lock); the
      // loser finds someone else's pid here a moment later and goes back to waiting.
      await new Promise((r) => setTimeout(r, 30));
      let mine = false;
      try {
        mine = fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid);
      } catch {
        mine = false;
      }
      if (!mine) continue;
      let released = false;
      const waitedMs = told ? Date.now() - t0 : 0;
      if (told) opts.onWait?.({ kind: 'got', waitedMs });
      return {
        waitedMs,
        release() {
          if (released) return;
          released = true;
          try {
            if (fs.readFileSync(lockFile, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockFile);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    let sinceMs: number | null = null;
    try {
      holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      sinceMs = fs.statSync(lockFile, { throwIfNoEntry: false })?.mtimeMs ?? null;
    } catch {
      continue; // removed between open and read: try again
    }
    if (!pidAlive(holder)) {
      // Stale: take it over by removing and retrying the exclusive create (a race loser retries).
      try {
        fs.unlinkSync(lockFile);
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() >= deadline) throw new LakeLockedError(holder, lockFile, opts.waitMs ?? 0);
    if (!told) {
      told = true;
      opts.onWait?.({ kind: 'waiting', holder, sinceMs, waitMs: opts.waitMs ?? 0 });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
