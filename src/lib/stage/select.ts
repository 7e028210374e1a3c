/** Which GPUs a stage's output shows: the --gpu and --host filters. */
import { InputError } from '../errors.js';

/** How many ambiguous candidates an error names before it says "and N more". */
const CANDIDATES_SHOWN = 5;

/** A cut UUID as tables show it (`GPU-1a2b3c4d…`) works pasted as it is: the ellipsis is not part of it. */
const CUT_MARK = /(…|\.\.\.)$/;

/**
 * The GPU a --gpu value names: the UUID itself, else the one UUID that starts with it. A prefix that
 * several GPUs share is a usage error naming them; one that matches nothing names no GPU (null).
 */
function resolveGpu(value: string, uuids: readonly string[]): string | null {
  if (uuids.includes(value)) return value;
  const prefix = value.replace(CUT_MARK, '');
  if (prefix === '') return null;
  if (uuids.includes(prefix)) return prefix;
  const matches = uuids.filter((u) => u.startsWith(prefix));
  if (matches.length > 1) {
    const shown = matches.slice(0, CANDIDATES_SHOWN).join(', ');
    const more = matches.length > CANDIDATES_SHOWN ? ` and ${matches.length - CANDIDATES_SHOWN} more` : '';
    throw new InputError(`--gpu ${value} matches ${matches.length} GPUs: ${shown}${more}`, [
      'a longer prefix of the UUID (tables show whole UUIDs with --wide)',
    ]);
  }
  return matches[0] ?? null;
}

/**
 * The rows of the GPUs --gpu / --host name (all rows without filters). A --gpu value is a whole UUID or
 * a unique prefix of one (as a table cuts it). A filter that matches nothing is a usage error, not an
 * empty result.
 */
export function selectGpus<T extends { gpu_uuid: string; host: string | null }>(
  rows: readonly T[],
  gpus: readonly string[] = [],
  hosts: readonly string[] = [],
): T[] {
  if (gpus.length === 0 && hosts.length === 0) return [...rows];
  const uuids = [...new Set(rows.map((r) => r.gpu_uuid))];
  const gpuSet = new Set(gpus.map((g) => resolveGpu(g, uuids)).filter((u): u is string => u !== null));
  const hostSet = new Set(hosts);
  const out = rows.filter((r) => (gpus.length === 0 || gpuSet.has(r.gpu_uuid)) && (hostSet.size === 0 || (r.host !== null && hostSet.has(r.host))));
  if (out.length === 0) {
    throw new InputError(`no GPU in the window matches ${[...gpus.map((g) => `--gpu ${g}`), ...hosts.map((h) => `--host ${h}`)].join(' ')}`, [
      'gpuhealth score --json lists every GPU of the window',
    ]);
  }
  return out;
}
