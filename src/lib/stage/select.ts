/** Which GPUs a stage's output shows: the --gpu and --host filters. */
import { InputError } from '../errors.js';

/**
 * The rows of the GPUs --gpu / --host name (all rows without filters). A filter that matches nothing is
 * a usage error, not an empty result.
 */
export function selectGpus<T extends { gpu_uuid: string; host: string | null }>(rows: readonly T[], gpus: readonly string[] = [], hosts: readonly string[] = []): T[] {
  if (gpus.length === 0 && hosts.length === 0) return [...rows];
  const gpuSet = new Set(gpus);
  const hostSet = new Set(hosts);
  const out = rows.filter((r) => (gpuSet.size === 0 || gpuSet.has(r.gpu_uuid)) && (hostSet.size === 0 || (r.host !== null && hostSet.has(r.host))));
  if (out.length === 0) {
    throw new InputError(`no GPU in the window matches ${[...gpus.map((g) => `--gpu ${g}`), ...hosts.map((h) => `--host ${h}`)].join(' ')}`, [
      'gpuhealth score --json lists every GPU of the window',
    ]);
  }
  return out;
}
