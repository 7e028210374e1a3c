import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { expandInput, isGzip, looksBinary, readHead } from './inputs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-inputs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
for (const f of ['a/x.prom', 'a/b/y.prom.gz', 'a/b/z.txt', 'a/.hidden.prom', 'c.csv']) {
  fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
  fs.writeFileSync(path.join(dir, f), f.endsWith('.gz') ? zlib.gzipSync('up 1\n') : 'up 1\n');
}
const rel = (files: string[]) => files.map((f) => path.relative(dir, f)).sort();

describe('expandInput', () => {
  it('reads folders recursively, skipping dot-files', () => {
    expect(rel(expandInput('a', dir))).toEqual(['a/b/y.prom.gz', 'a/b/z.txt', 'a/x.prom']);
  });
  it('expands globs with * and **', () => {
    expect(rel(expandInput('a/*.prom', dir))).toEqual(['a/x.prom']);
    expect(rel(expandInput('**/*.prom*', dir))).toEqual(['a/b/y.prom.gz', 'a/x.prom']);
  });
  it('fails clearly on a missing path or a glob whose folder is missing; a glob over a folder that matches nothing is empty', () => {
    expect(() => expandInput('nope', dir)).toThrow(/no such file or folder: nope/);
    expect(() => expandInput('nope/*.json', dir)).toThrow(/no files match nope\/\*\.json \(.* is not a folder\)/);
    expect(expandInput('a/*.json', dir)).toEqual([]);
  });
  it('detects gzip by content and reads its head decompressed', () => {
    const gz = path.join(dir, 'a/b/y.prom.gz');
    expect(isGzip(gz)).toBe(true);
    expect(readHead({ path: gz, display: 'y', gzip: true })).toBe('up 1\n');
    expect(looksBinary('\u0000\u0001PNG')).toBe(true);
    expect(looksBinary('# HELP x\n')).toBe(false);
  });
});
