import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ASSETS_HEADER, FAILURES_HEADER, simulateFleet, type SimulateOptions } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gpuhealth-sim-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** Every line of a file: HELP, TYPE, or a sample with the exporter's labels and a ms timestamp. */
const LINE = new RegExp(
  '^(?:# HELP [A-Z_0-9]+ \\S.*|# TYPE [A-Z_0-9]+ (?:gauge|counter)|' +
    '[A-Z_0-9]+\\{gpu="\\d",UUID="GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",pci_bus_id="0{8}:[0-9A-F]{2}:00\\.0",device="nvidia\\d",' +
    'modelName="NVIDIA (?:A100-SXM4-80GB|H100 80GB HBM3)",Hostname="gpu-[ab]-r\\d\\d-n\\d\\d",DCGM_FI_DRIVER_VERSION="\\d+\\.\\d+\\.\\d+"\\} (?:\\d+|\\d+\\.\\d{6}) \\d{13})$',
);

const small: Omit<SimulateOptions, 'outDir'> = { gpus: 16, days: 0.25, intervalMs: 60_000, seed: 5, endMs: Date.UTC(2026, 0, 20, 6) };

describe('simulateFleet', () => {
  it('writes one gzipped exposition file per host per hour, plus assets.csv and failures.csv', async () => {
    const outDir = await tempDir();
    const progress: number[] = [];
    const s = await simulateFleet({ ...small, outDir, progress: (done) => progress.push(done) });
    const files = await listFiles(outDir);
    expect(s).toMatchObject({ gpus: 16, hosts: 2, outDir, files: files.length, startMs: Date.UTC(2026, 0, 20), endMs: small.endMs });
    expect(files).toContain('assets.csv');
    expect(files).toContain('failures.csv');
    const prom = files.filter((f) => f.endsWith('.prom.gz'));
    for (const f of prom) expect(f).toMatch(/^prom\/(gpu-[ab]-r\d\d-n\d\d)\/\1_\d{4}-\d\d-\d\dT\d\d-00-00Z\.prom\.gz$/);
    expect(prom.length).toBeGreaterThanOrEqual(2 * 6 - 2);
    let samples = 0;
    let outside = 0;
    const malformed: string[] = [];
    for (const f of prom) {
      const lines = gunzipSync(await readFile(join(outDir, f)))
        .toString('latin1')
        .split('\n');
      const stamp = /_(\d{4}-\d\d-\d\dT\d\d)-00-00Z\.prom\.gz$/.exec(f)![1]!;
      const hour = Date.parse(`${stamp}:00:00Z`);
      expect(lines.pop()).toBe('');
      for (const line of lines) {
        if (!LINE.test(line)) malformed.push(line);
        if (line.startsWith('#')) continue;
        samples++;
        const ts = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (!(ts >= hour && ts < hour + 3_600_000)) outside++;
      }
    }
    expect(malformed.slice(0, 3)).toEqual([]);
    expect(outside).toBe(0);
    expect(samples).toBe(s.samples);
    expect(progress.at(-1)).toBe(360);

    const assets = (await readFile(join(outDir, 'assets.csv'), 'utf8')).split('\n');
    expect(assets[0]).toBe(ASSETS_HEADER);
    expect(assets[1]).toMatch(
      /^GPU-[0-9a-f-]{36},\d{13},NVIDIA (A100-SXM4-80GB|H100 80GB HBM3),gpu-[ab]-r\d\d-n\d\d,dc-[ab],dc-[ab]-r\d\d,\d{4}-\d\d-\d\d,\d{4}-\d\d-\d\d,\d+$/,
    );
    expect(assets.filter((l) => l !== '')).toHaveLength(1 + 16 + s.replacements);
    const failures = (await readFile(join(outDir, 'failures.csv'), 'utf8')).split('\n').filter((l) => l !== '');
    expect(failures[0]).toBe(FAILURES_HEADER);
    expect(failures).toHaveLength(1 + s.failures);
    for (const l of failures.slice(1))
      expect(l).toMatch(/^GPU-[0-9a-f-]{36},\d{13},\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,(memory|thermal|power|interconnect|other),\d*,.+$/);
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    await simulateFleet({ ...small, outDir: a });
    await simulateFleet({ ...small, outDir: b });
    await simulateFleet({ ...small, outDir: c, seed: 6 });
    const files = await listFiles(a);
    expect(await listFiles(b)).toEqual(files);
    for (const f of files) expect((await readFile(join(b, f))).equals(await readFile(join(a, f))), f).toBe(true);
    expect((await readFile(join(c, 'assets.csv'))).equals(await readFile(join(a, 'assets.csv')))).toBe(false);
  });
});
