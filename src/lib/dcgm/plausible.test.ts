import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VALUE_COLUMN_NAMES } from '../schema.js';
import { implausibleSql, PLAUSIBLE_RANGES } from './plausible.js';

describe('plausible ranges', () => {
  it('cover every value column, each min below its max, with a reason', () => {
    expect(Object.keys(PLAUSIBLE_RANGES).sort()).toEqual([...VALUE_COLUMN_NAMES].sort());
    for (const r of Object.values(PLAUSIBLE_RANGES)) {
      expect(r.min).toBeLessThan(r.max);
      expect(r.why.length).toBeGreaterThan(10);
    }
  });

  it('docs/schema.md lists every range as the code has it', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../../docs/schema.md'), 'utf8');
    const fmt = (x: number): string => (x >= Number.MAX_VALUE ? '' : x.toLocaleString('en-US'));
    for (const [c, r] of Object.entries(PLAUSIBLE_RANGES)) expect(doc).toContain(`| \`${c}\` | ${fmt(r.min)} | ${fmt(r.max)} | ${r.why} |`);
  });

  it('the SQL condition leaves out an upper bound a count does not have', () => {
    expect(implausibleSql('gpu_temp')).toBe('(gpu_temp < 0 OR gpu_temp > 150)');
    expect(implausibleSql('pcie_replay_count')).toBe('(pcie_replay_count < 0)');
  });
});
