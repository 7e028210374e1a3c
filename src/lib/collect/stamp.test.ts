import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyLine, labelSetEnd, parseTrailer, stampScrape, TRAILER_PREFIX, trailerLine } from './stamp.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'prom');
const MS = 1796505352900;

const stamp = (text: string | Buffer, ms = MS): { lines: string[]; samples: number; malformed: number } => {
  const r = stampScrape(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), 'node-17_9400', ms);
  const out = r.block.toString('utf8');
  expect(out.endsWith('\n')).toBe(true);
  return { lines: out.slice(0, -1).split('\n'), samples: r.samples, malformed: r.malformed };
};

describe('stampScrape', () => {
  it('appends the scrape time to each sample and ends the block with its trailer', () => {
    const r = stamp('# HELP up Whether it is up.\n# TYPE up gauge\nup 1\nDCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-1"} 45\n');
    expect(r.lines).toEqual([
      '# HELP up Whether it is up.',
      '# TYPE up gauge',
      `up 1 ${MS}`,
      `DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-1"} 45 ${MS}`,
      `# gpuhealth-collect scrape node-17_9400 ${MS} 2 samples`,
    ]);
    expect(r.samples).toBe(2);
  });

  it('finds the end of the labels past a } or escaped quotes inside a value', () => {
    const line = 'm{a="} {",b="say \\"hi\\" }",c="back\\\\"} 3';
    expect(labelSetEnd(line, 1)).toBe(line.indexOf('} 3') + 1);
    expect(stamp(`${line}\n`).lines[0]).toBe(`${line} ${MS}`);
    // a value that looks like a value and a timestamp inside quotes is still inside the labels
    const tricky = 'm{note="} 5 6"} 7';
    expect(stamp(tricky).lines[0]).toBe(`${tricky} ${MS}`);
  });

  it('keeps the timestamp a sample already carries', () => {
    const r = stamp('m{a="1"} 5 1767225600000\nm 6 1767225600001\nm{a="x y"} 7\n');
    expect(r.lines.slice(0, 3)).toEqual(['m{a="1"} 5 1767225600000', 'm 6 1767225600001', `m{a="x y"} 7 ${MS}`]);
    expect(r.samples).toBe(3);
  });

  it('normalises CRLF, blank lines, trailing blanks, a byte-order mark and a missing final newline', () => {
    const r = stamp(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a 1\r\n\r\n   \n\tb{x="1"}   2  \t\r\nc 3')]));
    expect(r.lines).toEqual([`a 1 ${MS}`, `\tb{x="1"}   2 ${MS}`, `c 3 ${MS}`, `# gpuhealth-collect scrape node-17_9400 ${MS} 3 samples`]);
  });

  it('keeps HELP and TYPE lines and drops other comments (one could pass for a trailer)', () => {
    const body = `#TYPE a gauge\n# HELP a x\n# a plain comment\n${TRAILER_PREFIX}fake 1 1 samples\n# EOF\na 1\n`;
    expect(stamp(body).lines).toEqual(['#TYPE a gauge', '# HELP a x', `a 1 ${MS}`, `# gpuhealth-collect scrape node-17_9400 ${MS} 1 samples`]);
  });

  it('keeps malformed lines as they are, for ingest to reject by line', () => {
    const bad = [
      'm{a="1" 5',
      'm{a="1"} 5 6 extra',
      'm{a="1"}',
      'm',
      '0m 1',
      'DCGM-X 1',
      'm{a="1"}5',
      'm{pod="bad"quote"} 0 1767225600000',
      '* Connection #0 to host localhost left intact',
    ];
    const r = stamp(`${bad.join('\n')}\nok 1\n`);
    expect(r.lines.slice(0, bad.length)).toEqual(bad);
    expect(r.malformed).toBe(bad.length);
    expect(r.samples).toBe(1);
  });

  it('writes the bytes of label values back exactly as served (UTF-8 or not)', () => {
    const utf8 = Buffer.from('m{unit="°C",name="Grüße 漢字"} 1\n', 'utf8');
    const latin1 = Buffer.from([0x6d, 0x7b, 0x61, 0x3d, 0x22, 0xe9, 0x22, 0x7d, 0x20, 0x31, 0x0a]); // m{a="é"} 1 in latin1
    for (const body of [utf8, latin1]) {
      const block = stampScrape(body, 't', MS).block;
      expect(block.subarray(0, body.length - 1).equals(body.subarray(0, -1))).toBe(true);
    }
  });

  it('stamps every sample of the real fixtures and only those', () => {
    for (const name of ['h100-single-scrape.prom', 'label-escapes.prom', 'crlf.prom', 'mig-a100.prom', 'special-values.prom', 'label-spacing.prom']) {
      const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
      const r = stamp(text);
      const samples = r.lines.filter((l) => !l.startsWith('#'));
      expect(samples.length, name).toBe(r.samples);
      for (const l of samples) expect(l.endsWith(` ${MS}`) || /\s\d{13}$/.test(l), `${name}: ${l}`).toBe(true);
    }
  });
});

describe('classifyLine', () => {
  it('tells samples, timed samples, comments, noise and malformed lines apart', () => {
    expect(classifyLine('up 1')).toBe('sample');
    expect(classifyLine('up{} 1')).toBe('sample');
    expect(classifyLine('up {} 1')).toBe('sample');
    expect(classifyLine('up 1 2')).toBe('timed');
    expect(classifyLine('ns:m_x{a="b"} NaN')).toBe('sample');
    expect(classifyLine('# TYPE up gauge')).toBe('comment');
    expect(classifyLine('# hello')).toBe('drop');
    expect(classifyLine('')).toBe('drop');
    expect(classifyLine('up')).toBe('malformed');
    expect(classifyLine('{a="b"} 1')).toBe('malformed');
  });
});

describe('trailer', () => {
  it('reads back what it writes, and nothing else', () => {
    const t = { target: 'node-17_9400', ms: MS, samples: 312 };
    const line = trailerLine(t);
    expect(line.endsWith('\n')).toBe(true);
    expect(parseTrailer(line.slice(0, -1))).toEqual(t);
    expect(parseTrailer(line.slice(0, -2))).toBeNull();
    expect(parseTrailer(`${TRAILER_PREFIX}a b 1 1 samples`)).toBeNull();
    expect(parseTrailer('# HELP up x')).toBeNull();
  });
});
