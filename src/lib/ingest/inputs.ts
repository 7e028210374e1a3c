/**
 * Turns what the user typed (files, folders, globs, `-`) into a list of source files, and reads the
 * first bytes of each (decompressed when gzip) for format detection.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';

export interface SourceFile {
  /** Absolute path of the bytes to read. */
  path: string;
  /** As the user would recognise it (relative path, or `-` for stdin). */
  display: string;
  gzip: boolean;
  /**
   * Read only the bytes before this offset: set when the file was modified seconds ago and its last
   * line has no newline yet (a writer is still on it); that line waits for the next run.
   */
  end?: number;
}

const GLOB_CHARS = /[*?[]/;

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i);
      if (close === -1) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, close).replace(/^!/, '^')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files under `dir`, sorted; a folder that cannot be listed is returned itself, so that reading it fails and is reported. */
function walk(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    out.push(dir);
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Expands one argument; throws InputError when it names nothing that exists (a glob whose folder is missing). */
export function expandInput(arg: string, cwd: string = process.cwd()): string[] {
  const abs = path.resolve(cwd, arg);
  if (!GLOB_CHARS.test(arg)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new InputError(`no such file or folder: ${arg}`);
    }
    if (st.isDirectory()) {
      const files: string[] = [];
      walk(abs, files);
      return files;
    }
    return [abs];
  }
  // The static prefix (no glob characters) is where the walk starts.
  const parts = abs.split(path.sep);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, firstGlob).join(path.sep) || path.sep;
  const re = globToRegExp(abs.split(path.sep).join('/'));
  const files: string[] = [];
  const baseIsFolder = fs.existsSync(base) && fs.statSync(base).isDirectory();
  if (baseIsFolder) walk(base, files);
  const matched = files.filter((f) => re.test(f.split(path.sep).join('/')));
  // a spool folder that is empty at the moment is nothing to do, as when it is named itself (cron
  // must not mail an error for it); a folder that does not exist is a mistake
  if (matched.length === 0 && !baseIsFolder) throw new InputError(`no files match ${arg} (${base} is not a folder)`);
  return matched;
}

export function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

/** First ~64 KiB of a source as text, decompressed when gzip (a truncated gzip gives what it has). */
export function readHead(src: SourceFile, bytes = 64 * 1024): string {
  const fd = fs.openSync(src.path, 'r');
  try {
    const raw = Buffer.alloc(src.gzip ? bytes : bytes);
    const n = fs.readSync(fd, raw, 0, raw.length, 0);
    if (!src.gzip) return raw.subarray(0, n).toString('utf8');
    try {
      return zlib.gunzipSync(raw.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, bytes).toString('utf8');
    } catch {
      return '';
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** How much of a source detection reads at most to get past long lines (sniffText). */
const SNIFF_SCAN_BYTES = 64 << 20;
/** Lines detection looks at (the parsers' sniffers read no more). */
const SNIFF_LINES = 200;

/**
 * The text a source's format is detected from: its head, or, when the head's first line is longer
 * than `maxLine` (10 MB of junk, a 300 KB label), the first lines after it that are not, up to the
 * head's size: one damaged line must not hide the telemetry after it. Reads at most SNIFF_SCAN_BYTES.
 */
export async function sniffText(src: SourceFile, head: string, maxLine: number): Promise<string> {
  const nl = head.indexOf('\n');
  if (nl !== -1 && nl <= maxLine) return head;
  const kept: string[] = [];
  let keptBytes = 0;
  let line: Buffer[] = [];
  let lineBytes = 0;
  let skipping = false;
  let scanned = 0;
  let ended = true;
  const file = fs.createReadStream(src.path, { highWaterMark: 1 << 20 });
  const input: NodeJS.ReadableStream = src.gzip ? file.pipe(zlib.createGunzip()) : file;
  try {
    outer: for await (const chunk of input as AsyncIterable<Buffer>) {
      scanned += chunk.length;
      for (let p = 0; p < chunk.length; ) {
        const end = chunk.indexOf(10, p);
        const stop = end === -1 ? chunk.length : end;
        if (!skipping) {
          line.push(chunk.subarray(p, stop));
          lineBytes += stop - p;
          if (lineBytes > maxLine) [skipping, line, lineBytes] = [true, [], 0];
        }
        if (end === -1) break;
        if (!skipping) {
          kept.push(Buffer.concat(line).toString('utf8'));
          keptBytes += lineBytes + 1;
        }
        [skipping, line, lineBytes] = [false, [], 0];
        p = end + 1;
        if (keptBytes >= head.length || kept.length >= SNIFF_LINES) {
          ended = false;
          break outer;
        }
      }
      if (scanned >= SNIFF_SCAN_BYTES) {
        ended = false;
        break;
      }
    }
  } catch {
    ended = false; // a damaged gzip: detect from what came before the damage
  } finally {
    file.destroy();
  }
  if (ended && !skipping && lineBytes > 0) kept.push(Buffer.concat(line).toString('utf8'));
  return kept.join('\n');
}

/** True when the text looks binary (NUL bytes or mostly non-printable). */
export function looksBinary(head: string): boolean {
  if (head.length === 0) return false;
  if (head.includes('\u0000')) return true;
  let bad = 0;
  for (let i = 0; i < Math.min(head.length, 4096); i++) {
    const c = head.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13)) bad++;
  }
  return bad > Math.min(head.length, 4096) * 0.1;
}

/** Copies stdin to a file in the run's staging folder so it can be hashed and re-read. */
export async function spoolStdin(stdin: NodeJS.ReadableStream, dir: string): Promise<string> {
  const file = path.join(dir, 'stdin.input');
  const out = fs.createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    stdin.pipe(out);
    out.on('finish', resolve);
    out.on('error', reject);
    stdin.on('error', reject);
  });
  return file;
}
