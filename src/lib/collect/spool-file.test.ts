import fs from 'node:fs';
import type fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../model/random.js';
import { timeFromFileName } from '../time.js';
import { appendBlock, closeHourFile, HOUR_MS, hourFile, hourStamp, listHourFiles, openHourFile, removeTempFiles } from './spool-file.js';
import { stampScrape } from './stamp.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-spool-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(root, `${++n}-`));

const TARGET = 'node-17_9400';
const HOUR = Date.UTC(2026, 11, 5, 21);
const body = (i: number): Buffer =>
  Buffer.from(
    `# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n${Array.from({ length: 8 }, (_, g) => `DCGM_FI_DEV_GPU_TEMP{gpu="${g}",UUID="GPU-${g}",note="} ${i}"} ${40 + ((g + i) % 30)}`).join('\n')}\n`,
  );

/** `count` blocks as collect writes them, and where each one ends. */
function blocks(count: number, t0 = HOUR): { bytes: Buffer; ends: number[] } {
  const parts: Buffer[] = [];
  const ends: number[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const b = stampScrape(body(i), TARGET, t0 + i * 10_000).block;
    parts.push(b);
    size += b.length;
    ends.push(size);
  }
  return { bytes: Buffer.concat(parts), ends };
}

const gunzip = (file: string): Buffer => zlib.gunzipSync(fs.readFileSync(file));

describe('hour file names', () => {
  it('are <target>/<target>_<UTC hour>.prom, and carry no date that ingest would misread', () => {
    const f = hourFile('/spool', TARGET, HOUR + 59 * 60_000);
    expect(f).toBe(`/spool/${TARGET}/${TARGET}_2026-12-05T21.prom`);
    expect(hourStamp(HOUR - 1)).toBe('2026-12-05T20');
    expect(timeFromFileName(f)).toBeNull();
    expect(timeFromFileName(`${f}.gz`)).toBeNull();
  });

  it('are listed with their hour; files that are not collect’s are left out', () => {
    const spool = freshDir();
    fs.mkdirSync(path.join(spool, TARGET));
    fs.mkdirSync(path.join(spool, '.hidden'));
    fs.writeFileSync(hourFile(spool, TARGET, HOUR), 'x');
    fs.writeFileSync(`${hourFile(spool, TARGET, HOUR - HOUR_MS)}.gz`, 'x');
    fs.writeFileSync(path.join(spool, TARGET, 'notes.txt'), 'x');
    fs.writeFileSync(path.join(spool, TARGET, `other_2026-12-05T21.prom`), 'x');
    fs.writeFileSync(path.join(spool, TARGET, `.${TARGET}_2026-12-05T19.prom.gz.tmp`), 'x');
    fs.writeFileSync(path.join(spool, 'stray.prom'), 'x');
    expect(listHourFiles(spool).map((f) => [path.basename(f.path), f.hourMs, f.gz])).toEqual([
      [`${TARGET}_2026-12-05T20.prom.gz`, HOUR - HOUR_MS, true],
      [`${TARGET}_2026-12-05T21.prom`, HOUR, false],
    ]);
    expect(removeTempFiles(spool)).toBe(1);
    expect(fs.readdirSync(path.join(spool, TARGET)).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});

describe('openHourFile', () => {
  it('cuts whatever follows the last complete trailer, wherever a kill stopped the write', async () => {
    const dir = freshDir();
    const { bytes, ends } = blocks(5000); // ~3.7 MB: the backwards scan crosses several 1 MiB chunks
    expect(bytes.length).toBeGreaterThan(3 << 20);
    const r = mulberry32(11);
    const cuts = [
      bytes.length,
      bytes.length - 1,
      ends[0]! - 1,
      ends[0]!,
      ends[200]! + 1,
      ends[300]! - 3,
      ...Array.from({ length: 25 }, () => Math.floor(r() * bytes.length)),
    ];
    // a cut just after the start of a trailer line, inside its prefix
    const trailerAt = bytes.lastIndexOf('\n# gpuhealth-collect scrape ') + 5;
    cuts.push(trailerAt, 1 << 20, bytes.length - (1 << 20));
    for (const [i, cut] of cuts.entries()) {
      const file = path.join(dir, `cut-${i}.prom`);
      fs.writeFileSync(file, bytes.subarray(0, cut));
      const expected = ends.filter((e) => e <= cut).pop() ?? 0;
      const opened = (await openHourFile(file, TARGET, false))!;
      await opened.fh.close();
      expect(opened.size, `cut at ${cut}`).toBe(expected);
      expect(opened.cut).toBe(cut - expected);
      expect(fs.statSync(file).size).toBe(expected);
      const k = ends.indexOf(expected);
      expect(opened.last?.ms ?? null).toBe(k >= 0 ? HOUR + k * 10_000 : null);
    }
  });

  it('empties a file without any trailer, and creates a missing one only when asked', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'x.prom');
    fs.writeFileSync(file, 'DCGM_FI_DEV_GPU_TEMP{gpu="0"} 41 1796505352900\n');
    const opened = (await openHourFile(file, TARGET, false))!;
    await opened.fh.close();
    expect([opened.size, opened.last]).toEqual([0, null]);
    expect(await openHourFile(path.join(dir, 'missing.prom'), TARGET, false)).toBeNull();
    const created = (await openHourFile(path.join(dir, 'new.prom'), TARGET, true))!;
    await created.fh.close();
    expect(created.size).toBe(0);
  });

  it('does not take another target’s trailer for its own', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'x.prom');
    fs.writeFileSync(file, Buffer.concat([blocks(2).bytes, stampScrape(body(9), 'other_9400', HOUR + 99_000).block]));
    const opened = (await openHourFile(file, TARGET, false))!;
    await opened.fh.close();
    expect(opened.last?.ms).toBe(HOUR + 10_000);
  });
});

describe('appendBlock', () => {
  it('cuts the file back to where the block began when a write fails half way', async () => {
    const calls: string[] = [];
    const fake = {
      write: async (_b: Buffer, _o: number, len: number, pos: number) => {
        calls.push(`write ${pos}`);
        if (calls.length > 1) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
        return { bytesWritten: Math.floor(len / 2) };
      },
      datasync: async () => calls.push('datasync'),
      truncate: async (len: number) => calls.push(`truncate ${len}`),
    } as unknown as fsp.FileHandle;
    await expect(appendBlock(fake, 1000, Buffer.alloc(100))).rejects.toThrow(/no space/);
    expect(calls).toEqual(['write 1000', 'write 1050', 'truncate 1000']);
  });
});

describe('closeHourFile', () => {
  const setup = (count = 5): { file: string; content: Buffer } => {
    const dir = freshDir();
    const file = hourFile(dir, TARGET, HOUR);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const { bytes } = blocks(count);
    fs.writeFileSync(file, Buffer.concat([bytes, Buffer.from('DCGM_FI_DEV_GPU_TEMP{gpu="0"} 4')])); // and a block cut short
    return { file, content: bytes };
  };
  const leftovers = (file: string): string[] => fs.readdirSync(path.dirname(file)).sort();

  it('gzips the complete blocks, then removes the .prom', async () => {
    const { file, content } = setup();
    expect(await closeHourFile(file, TARGET)).toBe('gzipped');
    expect(gunzip(`${file}.gz`).equals(content)).toBe(true);
    expect(leftovers(file)).toEqual([`${path.basename(file)}.gz`]);
  });

  it('removes the .prom when a .gz of the same bytes is there (killed between rename and unlink)', async () => {
    const { file, content } = setup();
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(content));
    const before = fs.readFileSync(`${file}.gz`);
    expect(await closeHourFile(file, TARGET)).toBe('already-gzipped');
    expect(fs.readFileSync(`${file}.gz`).equals(before)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('redoes a .gz that holds only the start of the .prom, or does not decompress', async () => {
    const { file, content } = setup();
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(content.subarray(0, 1000)));
    expect(await closeHourFile(file, TARGET)).toBe('gzipped');
    expect(gunzip(`${file}.gz`).equals(content)).toBe(true);
    const second = setup();
    const good = zlib.gzipSync(second.content);
    fs.writeFileSync(`${second.file}.gz`, good.subarray(0, good.length - 20));
    expect(await closeHourFile(second.file, TARGET)).toBe('gzipped');
    expect(gunzip(`${second.file}.gz`).equals(second.content)).toBe(true);
  });

  it('keeps both when the .gz holds other scrapes of the hour (the clock went back)', async () => {
    const { file, content } = setup();
    const earlier = blocks(3, HOUR + 1000).bytes;
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(earlier));
    expect(await closeHourFile(file, TARGET)).toBe('merged');
    expect(gunzip(`${file}.gz`).equals(Buffer.concat([earlier, content]))).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('removes a file with no complete block and writes no .gz', async () => {
    const { file } = setup(0);
    expect(await closeHourFile(file, TARGET)).toBe('empty');
    expect(leftovers(file)).toEqual([]);
    expect(await closeHourFile(file, TARGET)).toBe('missing');
  });
});
