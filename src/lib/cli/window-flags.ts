/** The flags every per-GPU window stage shares (DESIGN §5): --since, --at, --gpu, --host. */
import { Flags } from '@oclif/core';
import { parseDuration, parseInstant } from '../time.js';

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
};

export interface WindowFlagValues {
  since: string;
  at: string;
  'force-at'?: boolean;
  gpu?: string[];
  host?: string[];
}

/** The window flags as lib options. An --at of `now` (the default) is never checked against the data: a stale lake still scores. */
export function windowOptions(f: WindowFlagValues): { sinceMs: number; atMs: number; checkAt: boolean; gpus: string[]; hosts: string[] } {
  return {
    sinceMs: parseDuration(f.since),
    atMs: parseInstant(f.at),
    checkAt: f.at.trim() !== 'now' && !f['force-at'],
    gpus: f.gpu ?? [],
    hosts: f.host ?? [],
  };
}

/** The config file flag (src/lib/config.ts). */
export const configFlag = Flags.string({
  summary: 'Config file (JSON) with Xid classification overrides.',
  description: 'Default: $GPUHEALTH_CONFIG, else gpuhealth.json in the lake folder when present. See docs/scoring.md, "Xid codes".',
});
