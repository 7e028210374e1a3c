/**
 * The GPU resolver the line parsers map sources without UUIDs through (dmon entity indexes, dmesg
 * PCI addresses): the GPUs the lake, this run and --gpu-map know.
 */
import fs from 'node:fs';
import { InputError } from '../errors.js';
import type { GpuIdentity } from '../schema.js';
import type { GpuResolver } from './types.js';

export class Resolver implements GpuResolver {
  private list: GpuIdentity[] = [];
  private seen = new Set<string>();
  add(id: GpuIdentity): void {
    const key = `${id.gpu_uuid}|${id.host}|${id.gpu_index}|${id.pci_bus_id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(id);
  }
  byIndex(host: string | null, index: number): GpuIdentity | null {
    // The GPU most recently seen in that slot (a replaced GPU's successor was remembered later).
    return this.list.filter((g) => g.gpu_index === index && (host === null || g.host === host)).at(-1) ?? null;
  }
  byPci(host: string | null, pci: string): GpuIdentity | null {
    return this.list.filter((g) => g.pci_bus_id === pci && (host === null || g.host === host)).at(-1) ?? null;
  }
  remember(id: GpuIdentity): void {
    this.add(id);
  }
}

/** --gpu-map: CSV with host, gpu_index, gpu_uuid[, pci_bus_id]. */
export function readGpuMap(file: string): GpuIdentity[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`cannot read --gpu-map ${file}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const col = (n: string) => header.indexOf(n);
  if (col('gpu_uuid') < 0 || col('gpu_index') < 0) {
    throw new InputError(`--gpu-map ${file}: header must name gpu_uuid and gpu_index (and host, pci_bus_id optionally)`);
  }
  return lines.map((l, i) => {
    const f = l.split(',').map((x) => x.trim());
    const idx = Number(f[col('gpu_index')]);
    if (!Number.isInteger(idx)) throw new InputError(`--gpu-map ${file}:${i + 2}: gpu_index "${f[col('gpu_index')]}" is not an integer`);
    return {
      gpu_uuid: f[col('gpu_uuid')]!,
      host: col('host') >= 0 ? f[col('host')] || null : null,
      gpu_index: idx,
      model: null,
      pci_bus_id: col('pci_bus_id') >= 0 ? f[col('pci_bus_id')] || null : null,
      driver_version: null,
    };
  });
}
