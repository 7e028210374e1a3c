import { describe, expect, it } from 'vitest';
import { printable, renderRecord, renderTable, shellWord, wrapText, type ColumnDef } from './output.js';

const widest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

const COLUMNS: ColumnDef[] = [
  { key: 'host' },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', dropRank: 1 },
  { key: 'a', dropRank: 2 },
  { key: 'b', dropRank: 2 },
  { key: 'factors', fit: 'wrap' },
];
const ROWS = [
  {
    host: 'node-1',
    gpu_uuid: 'GPU-1a2b3c4d-0000-0000-0000-000000000001',
    model: 'H100 80GB HBM3',
    a: 100,
    b: 90,
    factors: ['high_correctable_ecc_errors', 'poor_cooling', 'data_gaps'],
  },
  { host: 'node-2', gpu_uuid: 'GPU-9f8e7d6c-0000-0000-0000-000000000002', model: 'A100-SXM4-80GB', a: 70, b: null, factors: [] },
];

describe('renderTable', () => {
  it('shows every column and whole cells without a width, and whole ids too with wide', () => {
    const t = renderTable(ROWS, COLUMNS);
    expect(t).toContain('high_correctable_ecc_errors, poor_cooling, data_gaps');
    expect(t).toContain('A100-SXM4-80GB');
    expect(t).toContain('GPU-1a2b3c4d…');
    const wide = renderTable(ROWS, COLUMNS, { wide: true, width: 40 });
    expect(wide).toContain('GPU-1a2b3c4d-0000-0000-0000-000000000001');
    expect(wide).toContain('high_correctable_ecc_errors, poor_cooling, data_gaps');
    expect(wide).toContain('A100-SXM4-80GB');
  });

  it('cuts ids to a prefix that tells the rows apart, at least GPU- and 8 hex digits', () => {
    const t = renderTable(ROWS, COLUMNS, { width: 200 });
    expect(t).toContain('GPU-1a2b3c4d…');
    expect(t).toContain('GPU-9f8e7d6c…');
    const close = renderTable([{ gpu_uuid: 'GPU-1a2b3c4d-aaaa' }, { gpu_uuid: 'GPU-1a2b3c4d-abbb' }, { gpu_uuid: null }], [{ key: 'gpu_uuid', fit: 'id' }]);
    expect(close).toContain('GPU-1a2b3c4d-aa…');
    expect(close).toContain('GPU-1a2b3c4d-ab…');
    expect(close).toContain('–');
    // a value no longer than the prefix stays whole
    expect(renderTable([{ gpu_uuid: 'GPU-short' }], [{ key: 'gpu_uuid', fit: 'id' }])).toContain('│ GPU-short │');
  });

  it('wraps, then leaves out columns by rank, to fit the width', () => {
    const natural = widest(renderTable(ROWS, COLUMNS, { width: 1000 }));
    const wrapped = renderTable(ROWS, COLUMNS, { width: natural - 10 });
    expect(widest(wrapped)).toBeLessThanOrEqual(natural - 10);
    expect(wrapped).toContain('model');
    expect(wrapped).toMatch(/poor_cooling,\s*│\n.*│ data_gaps\s*│/);

    const narrow = renderTable(ROWS, COLUMNS, { width: 70 });
    expect(widest(narrow)).toBeLessThanOrEqual(70);
    expect(narrow).not.toContain('model');
    expect(narrow).toContain('│ a ');

    const narrower = renderTable(ROWS, COLUMNS, { width: 60 });
    expect(widest(narrower)).toBeLessThanOrEqual(60);
    expect(narrower).not.toMatch(/│ a |│ b /);
    expect(narrower).toContain('factors');
  });

  it('breaks words only when nothing else can give way, and overflows when even that is not enough', () => {
    const t = renderTable(ROWS, COLUMNS, { width: 45 });
    expect(widest(t)).toBeLessThanOrEqual(45);
    expect(t).toContain('high_correct');
    expect(widest(renderTable(ROWS, COLUMNS, { width: 20 }))).toBeGreaterThan(20);
  });
});

describe('renderRecord', () => {
  it('wraps long values and has no header row without a title', () => {
    const t = renderRecord({ lake: '/data/gpu-lake', missing_signals: 'ecc_errors, retired_pages, violations, nvlink_errors, pcie_replays' }, 'table', '', {
      width: 50,
    });
    expect(widest(t)).toBeLessThanOrEqual(50);
    expect(t.split('\n')[1]).toContain('lake');
    expect(renderRecord({ a: 1 }, 'csv')).toBe('field,value\na,1');
  });
});

describe('wrapText', () => {
  it('breaks at spaces, and inside words longer than the width', () => {
    expect(wrapText('one two three', 7)).toBe('one two\nthree');
    expect(wrapText('abcdefghij xy', 4)).toBe('abcd\nefgh\nij\nxy');
    expect(wrapText('', 4)).toBe('');
  });
});

describe('shellWord', () => {
  it('quotes only what the shell would split or expand', () => {
    expect(shellWord('demo-fleet/lake')).toBe('demo-fleet/lake');
    expect(shellWord("it's [a]/lake")).toBe("'it'\\''s [a]/lake'");
  });
});

describe('printable', () => {
  it('shows control characters as escapes and keeps tab, newline and other text', () => {
    expect(printable('a\u001b]0;title\u0007b\u001b[31mred\t°C\nnext\r')).toBe('a\\x1b]0;title\\x07b\\x1b[31mred\t°C\nnext\\x0d');
    expect(printable('\u0000\u007f\u009b\u202egpu')).toBe('\\x00\\x7f\\x9b\\u202egpu');
  });

  it('escapes control characters in human table cells', () => {
    expect(renderTable([{ host: 'node\u001b[2J' }], [{ key: 'host' }])).toContain('node\\x1b[2J');
  });
});
