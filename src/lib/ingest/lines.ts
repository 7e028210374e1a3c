/** Line-by-line reading of a source (plain or gzip) for the line-based parsers. */
import fs from 'node:fs';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { gunzipFile } from './gunzip.js';
import type { SourceFile } from './inputs.js';

export interface LineReader {
  lines: AsyncIterable<string>;
  /** Set once the lines are exhausted: the gzip stream ended early. */
  truncated(): boolean;
}

export function readLines(src: SourceFile): LineReader {
  let truncated = false;
  let input: NodeJS.ReadableStream;
  if (!src.gzip) input = fs.createReadStream(src.path, { highWaterMark: 1 << 20, ...(src.end !== undefined ? { end: src.end - 1 } : {}) });
  else {
    // Only complete lines go on: the text after the last newline waits for the next chunk, so a
    // damaged stream never hands a torn line to a parser.
    const safe = new PassThrough();
    let tail: Buffer = Buffer.alloc(0);
    void gunzipFile(src.path, (d) => {
      const all = tail.length ? Buffer.concat([tail, d]) : d;
      const nl = all.lastIndexOf(10);
      tail = Buffer.from(all.subarray(nl + 1));
      if (nl >= 0 && !safe.write(all.subarray(0, nl + 1))) return new Promise<void>((r) => safe.once('drain', () => r()));
      return undefined;
    }).then(
      ({ damaged }) => {
        truncated = damaged;
        if (!damaged && tail.length) safe.write(tail);
        safe.end();
      },
      () => {
        truncated = true;
        safe.end();
      },
    );
    input = safe;
  }
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  return { lines: rl, truncated: () => truncated };
}
