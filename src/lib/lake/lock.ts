/**
 * One writer at a time per lake: a lock file holding the holder's pid, created with O_EXCL.
 * A lock left by a process that no longer exists is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GpuhealthError } from '../errors.js';

export interface LakeLock {
  release(): void;
}

function pidAlive(pid: number): boolean {
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
}

export async function acquireLock(lockFile: string, opts: LockOptions = {}): Promise<LakeLock> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + (opts.waitMs ?? 0);
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
      return {
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
    try {
      holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
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
    if (Date.now() >= deadline) {
      throw new GpuhealthError(`the lake is locked by another gpuhealth run (pid ${holder})`, [
        `wait for it to finish, or remove ${lockFile} if that process is not gpuhealth`,
      ]);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
