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
    const gunzip = zlib.createGunzip();
    const safe = new PassThrough();
    gunzip.on('error', () => {
      truncated = true;
      safe.end();
    });
    gunzip.on('end', () => safe.end());
    gunzip.on('data', (d: Buffer) => {
      if (!safe.write(d)) {
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
