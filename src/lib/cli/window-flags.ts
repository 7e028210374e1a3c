/** The flags every per-GPU window stage shares (DESIGN §5): --since, --at, --gpu, --host, --no-write. */
import fs from 'node:fs';
import { Flags } from '@oclif/core';
import { parseDuration, parseInstant } from '../time.js';
import type { StageWrites, WindowOptions } from '../stage/window.js';

export const windowFlags = {
  since: Flags.string({
    summary: 'Window length, whole hours: 24h, 7d, 30d.',
    description: 'The window ends at --at (rounded down to the hour) and reaches back this far.',
    default: '7d',
  }),
  at: Flags.string({
    summary: 'End of the window: ISO-8601 (UTC unless it has an offset), epoch seconds, or now.',
    description:
      'Rounded down to the hour: only complete hours count, so a past --at sees nothing later. An --at more than a day past the newest data is refused (exit 2) unless --force-at is given.',
    default: 'now',
  }),
  'force-at': Flags.boolean({ summary: 'Compute the window even when --at is more than a day past the newest data.' }),
  gpu: Flags.string({
    summary: 'Only this GPU: its UUID, or a unique prefix of it (GPU-1a2b3c4d… as tables show it); repeat for several.',
    multiple: true,
  }),
  host: Flags.string({ summary: 'Only GPUs on this host; repeat for several.', multiple: true }),
  'no-write': Flags.boolean({
    summary: 'Compute and print only: write nothing into the lake and take no lock.',
    description:
      "Results are printed but not written to the lake, and hourly rollups the lake lacks are built in a temp folder outside it. A lake this user may not write (another user's, read-only) is read this way without the flag, with a note on stderr. Either way the run never waits for, or holds up, an ingest.",
  }),
};

export interface WindowFlagValues {
  since: string;
  at: string;
  'force-at'?: boolean;
  gpu?: string[];
  host?: string[];
  'no-write'?: boolean;
}

/** The window flags as lib options. An --at of `now` (the default) is never checked against the data: a stale lake still scores. */
export function windowOptions(f: WindowFlagValues): { sinceMs: number; atMs: number; checkAt: boolean; gpus: string[]; hosts: string[]; write: boolean } {
  return {
    sinceMs: parseDuration(f.since),
    atMs: parseInstant(f.at),
    checkAt: f.at.trim() !== 'now' && !f['force-at'],
    gpus: f.gpu ?? [],
    hosts: f.host ?? [],
    write: !f['no-write'],
  };
}

/**
 * The notes a window stage's run leaves for stderr: rollups it built, and why its tables were not
 * written (nothing for `--no-write`, which asked for that). `failed` when the lock wait ran out: the
 * command prints its results and exits 1.
 */
export function stageWriteNotes(w: StageWrites, lake: string): { notes: string[]; failed: boolean } {
  const notes: string[] = [];
  if (w.rollups_built > 0) {
    notes.push(
      w.rollups_kept
        ? `built hourly rollups for ${w.rollups_built} metrics files (once; ingest keeps them from now on)`
        : `built hourly rollups for ${w.rollups_built} metrics files for this run only (the lake lacks them; a run that may write ${lake} keeps them)`,
    );
  }
  const s = w.skipped;
  if (s?.reason === 'read-only') notes.push(`note: no write permission on ${s.folder}: computed from the lake without writing results (as with --no-write)`);
  if (s?.reason === 'locked') {
    notes.push(
      `results not written: the lake stayed locked by pid ${s.holder} for ${Math.round(s.waitMs / 1000)} s (GPUHEALTH_LOCK_WAIT=5m waits longer; --no-write skips writing)`,
    );
  }
  return { notes, failed: s?.reason === 'locked' };
}

/**
 * For end-to-end tests: GPUHEALTH_TEST_HOLD=FILE makes a window stage, once it has its snapshot,
 * create FILE and wait until the test removes it (at most a minute), so a test can run an ingest while
 * the stage is computing.
 */
export function testHold(env: NodeJS.ProcessEnv = process.env): Pick<WindowOptions, 'afterSnapshot'> {
  const file = env['GPUHEALTH_TEST_HOLD'];
  if (!file) return {};
  return {
    async afterSnapshot() {
      fs.writeFileSync(file, `${process.pid}\n`);
      const deadline = Date.now() + 60_000;
      while (fs.existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

/** The config file flag (src/lib/config.ts). */
export const configFlag = Flags.string({
  summary: 'Config file (JSON): prices and rates (economics), Xid classification overrides (xid).',
  description:
    'Applied last, over the built-in defaults, gpuhealth.json in the lake folder (when present) and $GPUHEALTH_CONFIG, each overriding the keys it sets. gpuhealth config show prints the values in force and where each came from; gpuhealth config init writes a starter. See docs/economics.md and docs/scoring.md, "Xid codes".',
});
