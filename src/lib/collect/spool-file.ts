/**
 * The spool on disk: `<spool>/<target>/<target>_<YYYY-MM-DDTHH>.prom`, one file per target per UTC
 * hour, appended a whole scrape block at a time and gzipped to `.prom.gz` when the hour is over.
 *
 * Crash safety rests on two rules. A block is one write followed by fdatasync, and ends with its
 * trailer line (stamp.ts): whatever follows the last complete trailer was cut by a kill and is
 * removed (ftruncate) when the file is opened again. A closed hour becomes its `.gz` through a temp
 * file that is fsynced and renamed before the `.prom` is unlinked, so the scrapes are always in one
 * good file or the other; a crash between the rename and the unlink is finished at the next start.
 *
 * The hour stamp has no minutes, so time.ts timeFromFileName reads no date from it (a 10-digit host
 * name could still look like epoch seconds to it); nothing depends on that, as every sample
 * carries its own timestamp. Temp files start with a dot: ingest's folder walk skips them.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { parseTrailer, TRAILER_PREFIX, type Trailer } from './stamp.js';

export const HOUR_MS = 3_600_000;

/** `2026-12-05T21` for any time in that UTC hour. */
export const hourStamp = (ms: number): string => new Date(ms).toISOString().slice(0, 13);

/** The start of the UTC hour of `ms`. */
export const hourStart = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The hour file of a target (the plain one; `.gz` appended once it is closed). */
export function hourFile(spool: string, target: string, hourMs: number): string {
  return path.join(spool, target, `${target}_${hourStamp(hourMs)}.prom`);
}

export interface SpoolHourFile {
  path: string;
  target: string;
  hourMs: number;
  /** Closed (`.prom.gz`) or still open to appends (`.prom`). */
  gz: boolean;
  size: number;
}

const HOUR_NAME_RE = /^(.+)_(\d{4}-\d{2}-\d{2}T\d{2})\.prom(\.gz)?$/;

/** The hour files of a spool (`<target>/<target>_<hour>.prom[.gz]`); other files are not collect's and are left alone. */
export function listHourFiles(spool: string): SpoolHourFile[] {
  const out: SpoolHourFile[] = [];
  for (const dir of readDirSafe(spool)) {
    if (!dir.isDirectory() || dir.name.startsWith('.')) continue;
    for (const f of readDirSafe(path.join(spool, dir.name))) {
      const m = HOUR_NAME_RE.exec(f.name);
      if (!f.isFile() || !m || m[1] !== dir.name) continue;
      const hourMs = Date.parse(`${m[2]}:00:00Z`);
      if (Number.isNaN(hourMs)) continue;
      const p = path.join(spool, dir.name, f.name);
      const size = fs.statSync(p, { throwIfNoEntry: false })?.size;
      if (size !== undefined) out.push({ path: p, target: dir.name, hourMs, gz: m[3] === '.gz', size });
    }
  }
  return out.sort((a, b) => a.hourMs - b.hourMs || a.path.localeCompare(b.path));
}

function readDirSafe(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Temp files of an interrupted gzip (`.<name>.prom.gz.tmp`): removed at start. */
export function removeTempFiles(spool: string): number {
  let n = 0;
  for (const dir of readDirSafe(spool)) {
    if (!dir.isDirectory() || dir.name.startsWith('.')) continue;
    for (const f of readDirSafe(path.join(spool, dir.name))) {
      if (f.isFile() && f.name.startsWith('.') && f.name.endsWith('.prom.gz.tmp')) {
        fs.rmSync(path.join(spool, dir.name, f.name), { force: true });
        n++;
      }
    }
  }
  return n;
}

const TRAILER_AT_LINE_START = Buffer.from(`\n${TRAILER_PREFIX}`, 'latin1');
const SCAN_CHUNK = 1 << 20;
/** Longer than any trailer line (a target name is at most a host name, a port and a hash). */
const MAX_TRAILER_BYTES = 1024;

async function readAt(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new Error('file shrank while read');
    off += bytesRead;
  }
}

/**
 * The last complete trailer line of a file (its newline included) and where it ends; null when the
 * file has none. Read backwards a chunk at a time: a restart reads the end of each file, not 30 MB.
 */
export async function findLastTrailer(fh: fsp.FileHandle, size: number, target?: string): Promise<{ end: number; trailer: Trailer } | null> {
  let end = size; // trailer lines starting before `end` are still to be looked at
  while (end > 0) {
    const from = Math.max(0, end - SCAN_CHUNK);
    const buf = Buffer.allocUnsafe(Math.min(size, end + MAX_TRAILER_BYTES) - from);
    await readAt(fh, buf, from);
    let at = buf.length;
    while (at > 0) {
      const nl = buf.lastIndexOf(TRAILER_AT_LINE_START, at - 1);
      const lineStart = nl >= 0 ? nl + 1 : from === 0 && buf.subarray(0, TRAILER_PREFIX.length).toString('latin1') === TRAILER_PREFIX ? 0 : -1;
      if (lineStart < 0) break;
      if (from + lineStart < end) {
        const lineEnd = buf.indexOf(0x0a, lineStart);
        const t = lineEnd >= 0 ? parseTrailer(buf.toString('latin1', lineStart, lineEnd)) : null;
        if (t && (target === undefined || t.target === target)) return { end: from + lineEnd + 1, trailer: t };
      }
      if (nl < 0) break;
      at = nl;
    }
    end = from;
  }
  return null;
}

export interface OpenedHourFile {
  fh: fsp.FileHandle;
  /** The file's size after recovery: where the next block goes. */
  size: number;
  /** The last complete scrape it holds; null for a new or empty file. */
  last: Trailer | null;
  /** Bytes cut from its end (a block a kill left half written). */
  cut: number;
}

/**
 * Opens (creating it when `create`) a target's hour file for appends and cuts whatever follows its
 * last complete trailer. Null when it does not exist and `create` is false.
 */
export async function openHourFile(file: string, target: string, create: boolean): Promise<OpenedHourFile | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, 0o644);
  } catch (e) {
    if (!create && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const found = await findLastTrailer(fh, size, target);
    const keep = found?.end ?? 0;
    if (keep < size) {
      await fh.truncate(keep);
      await fh.datasync();
    }
    return { fh, size: keep, last: found?.trailer ?? null, cut: size - keep };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Appends one block at `position` with one write, then fdatasync; on failure the file is cut back to `position`. */
export async function appendBlock(fh: fsp.FileHandle, position: number, block: Buffer): Promise<void> {
  try {
    let off = 0;
    // a regular file takes the whole write at once unless the disk fills up
    while (off < block.length) {
      const { bytesWritten } = await fh.write(block, off, block.length - off, position + off);
      off += bytesWritten;
    }
    // fdatasync flushes the data and the new size, all a reader needs; the mtime may wait
    await fh.datasync();
  } catch (e) {
    await fh.truncate(position).catch(() => {});
    throw e;
  }
}

async function fsyncPath(p: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(p, 'r');
    await fh.sync();
  } catch {
    // some file systems refuse fsync on folders; the rename is atomic all the same
  } finally {
    await fh?.close();
  }
}

/** sha256 and length of a file's first `length` bytes (all of it when undefined). */
async function digestFile(file: string, length?: number): Promise<{ sha: string; length: number }> {
  const h = crypto.createHash('sha256');
  let n = 0;
  if (length !== 0) {
    const range = length === undefined ? {} : { end: length - 1 };
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, ...range })) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
  }
  return { sha: h.digest('hex'), length: n };
}

/** sha256 and length of a gzip file's content; null when it does not decompress whole. */
async function digestGzip(file: string): Promise<{ sha: string; length: number } | null> {
  const h = crypto.createHash('sha256');
  let n = 0;
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip())) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
  } catch {
    return null;
  }
  return { sha: h.digest('hex'), length: n };
}

export type CloseOutcome =
  /** The `.prom` became `.prom.gz`. */
  | 'gzipped'
  /** A `.prom.gz` of the same scrapes was there already (a crash between rename and unlink): the `.prom` was removed. */
  | 'already-gzipped'
  /** A `.prom.gz` held other scrapes (the clock went back into a closed hour): both are in the new `.gz`. */
  | 'merged'
  /** No complete scrape in it: removed. */
  | 'empty'
  /** Gone already. */
  | 'missing';

/**
 * Closes an hour file that is no longer written: cuts a half-written last block, then gzips it to
 * `<file>.gz` (temp file, fsync, rename, fsync of the folder, and only then the unlink). A `.gz`
 * that is already there is checked, not trusted: it holds the same bytes (done), a prefix of them
 * (rewritten from the `.prom`), other scrapes (kept, and the `.prom` appended to it as a second
 * gzip member) or does not decompress (rewritten from the `.prom`).
 */
export async function closeHourFile(file: string, target: string): Promise<CloseOutcome> {
  const opened = await openHourFile(file, target, false);
  if (!opened) return 'missing';
  await opened.fh.close();
  if (opened.size === 0) {
    await fsp.rm(file, { force: true });
    return 'empty';
  }
  const gz = `${file}.gz`;
  let outcome: CloseOutcome = 'gzipped';
  let keepOld = false;
  if (fs.existsSync(gz)) {
    const old = await digestGzip(gz);
    if (old !== null && old.length <= opened.size && (await digestFile(file, old.length)).sha === old.sha) {
      if (old.length === opened.size) {
        await fsp.rm(file, { force: true });
        return 'already-gzipped';
      }
    } else if (old !== null) {
      keepOld = true;
      outcome = 'merged';
    }
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(gz)}.tmp`);
  const out = fs.createWriteStream(tmp);
  try {
    if (keepOld) await pipeline(fs.createReadStream(gz), out, { end: false });
    await pipeline(fs.createReadStream(file, { end: opened.size - 1 }), zlib.createGzip(), out);
    await fsyncPath(tmp);
    await fsp.rename(tmp, gz);
  } catch (e) {
    out.destroy();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fsyncPath(path.dirname(file));
  await fsp.rm(file, { force: true });
  return outcome;
}
