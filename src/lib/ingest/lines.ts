/** Line-by-line reading of a source (plain or gzip) for the line-based parsers. */
import fs from 'node:fs';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import type { SourceFile } from './inputs.js';

export interface LineReader {
  lines: AsyncIterable<string>;
  /** Set once the lines are exhausted: the gzip stream ended early. */
  truncated(): boolean;
}

export function readLines(src: SourceFile): LineReader {
  let truncated = false;
  const raw = fs.createReadStream(src.path, { highWaterMark: 1 << 20 });
  let input: NodeJS.ReadableStream = raw;
  if (src.gzip) {
    // Only complete lines go on; the text after the last newline waits for the next chunk, so
    // a stream that breaks off mid-line never hands a torn line to a parser.
    const gunzip = zlib.createGunzip();
    const safe = new PassThrough();
    let tail: Buffer = Buffer.alloc(0);
    gunzip.on('error', () => {
      truncated = true;
      safe.end();
    });
    gunzip.on('end', () => {
      if (tail.length) safe.write(tail);
      safe.end();
    });
    gunzip.on('data', (d: Buffer) => {
      const all = tail.length ? Buffer.concat([tail, d]) : d;
      const nl = all.lastIndexOf(10);
      tail = Buffer.from(all.subarray(nl + 1));
      if (nl >= 0 && !safe.write(all.subarray(0, nl + 1))) {
        gunzip.pause();
        safe.once('drain', () => gunzip.resume());
      }
    });
    raw.pipe(gunzip);
    input = safe;
  }
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  return { lines: rl, truncated: () => truncated };
}
