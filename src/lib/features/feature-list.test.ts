/**
 * The feature list against the docs' feature tables (docs/features.md: every column; docs/scoring.md:
 * the scored ones), and the row mapping against the list. The SQL side is checked in
 * src/lib/sql/features-columns.test.ts.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_COLUMNS, toGpuFeatures } from './feature-list.js';

const doc = (name: string): string => fs.readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

/**
 * The features a doc's tables name: the tables in the section under `heading` (up to the next `## `
 * heading) whose header's first cell is `firstHeader`. A row names one or more features, each in
 * backticks in its first cell; ✓ in its last cell marks them scored. Backticked names elsewhere in a
 * row (the meaning) are references, not features; other tables (features.md's rollup columns) are not
 * feature tables.
 */
function tableFeatures(markdown: string, heading: string, firstHeader: string): { name: string; scored: boolean }[] {
  const at = markdown.split('\n').indexOf(heading);
  if (at < 0) throw new Error(`no section "${heading}"`);
  const rest = markdown.split('\n').slice(at + 1);
  const end = rest.findIndex((l) => l.startsWith('## '));
  const out: { name: string; scored: boolean }[] = [];
  let inFeatureTable = false;
  let header = true;
  for (const line of end < 0 ? rest : rest.slice(0, end)) {
    if (!line.startsWith('|')) {
      header = true;
      continue;
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (header) {
      inFeatureTable = cells[0] === firstHeader;
      header = false;
      continue;
    }
    if (!inFeatureTable || /^-+$/.test(cells[0] ?? '')) continue;
    const scored = cells[cells.length - 1] === '✓';
    for (const m of (cells[0] ?? '').matchAll(/`([^`]+)`/g)) out.push({ name: m[1]!, scored });
  }
  return out;
}

/** Names only on one side, and names given twice, so a failure says which. */
function differences(documented: readonly string[], listed: readonly string[]): Record<string, string[]> {
  return {
    listedButNotDocumented: listed.filter((n) => !documented.includes(n)),
    documentedButNotListed: documented.filter((n) => !listed.includes(n)),
    documentedTwice: documented.filter((n, i) => documented.indexOf(n) !== i),
  };
}
const NO_DIFFERENCES = { listedButNotDocumented: [], documentedButNotListed: [], documentedTwice: [] };

const LISTED: readonly string[] = FEATURE_COLUMNS.map((c) => c.name);
const SCORED: readonly string[] = FEATURE_COLUMNS.filter((c) => c.scored).map((c) => c.name);

describe('docs/features.md, "Columns"', () => {
  const documented = tableFeatures(doc('features.md'), '## Columns', 'column');

  it('names every listed feature and no other', () => {
    expect(
      differences(
        documented.map((d) => d.name),
        LISTED,
      ),
    ).toEqual(NO_DIFFERENCES);
  });

  it('gives them in the list order (the query order)', () => {
    expect(documented.map((d) => d.name)).toEqual(LISTED);
  });

  it('marks exactly the scored features ✓', () => {
    expect(documented.filter((d) => d.scored).map((d) => d.name)).toEqual(SCORED);
  });
});

describe('docs/scoring.md, "Feature fields"', () => {
  it('names exactly the scored features', () => {
    const documented = tableFeatures(doc('scoring.md'), '## Feature fields (`GpuFeatures`)', 'field');
    expect(
      differences(
        documented.map((d) => d.name),
        SCORED,
      ),
    ).toEqual(NO_DIFFERENCES);
  });
});

describe('toGpuFeatures', () => {
  const scored = FEATURE_COLUMNS.filter((c) => c.scored);

  it('maps every scored column of a full row, and only those', () => {
    // every column set, each number distinct, so a field read from the wrong column shows
    const row = Object.fromEntries(
      FEATURE_COLUMNS.map((c, i) => [
        c.name,
        c.kind === 'xid_counts'
          ? '{"79":1,"119":2}'
          : c.kind === 'text'
            ? `text-${i}`
            : c.kind === 'timestamp'
              ? new Date(Date.UTC(2026, 10, 20, 0, i)).toISOString()
              : i + 0.5,
      ]),
    );
    const f = toGpuFeatures(row) as Record<string, unknown>;
    expect(Object.keys(f)).toEqual(scored.map((c) => c.name));
    for (const c of scored) {
      const want = c.kind === 'xid_counts' ? { 79: 1, 119: 2 } : row[c.name];
      expect(f[c.name], c.name).toEqual(want);
    }
  });

  it('reads null as an absent signal, a count as 0 and no Xids', () => {
    const f = toGpuFeatures(Object.fromEntries(FEATURE_COLUMNS.map((c) => [c.name, null])));
    for (const c of scored) {
      const want = { number: null, text: null, timestamp: null, count: 0, always: 0, xid_counts: {} }[c.kind];
      expect(f[c.name], c.name).toEqual(want);
    }
    expect(toGpuFeatures({ xid_counts: '' }).xid_counts).toEqual({});
  });

  it('reads bigints as numbers and Xid codes as numbers', () => {
    expect(toGpuFeatures({ samples: 12n, sbe_delta: 3n, xid_counts: '{"48":1}' })).toMatchObject({ samples: 12, sbe_delta: 3, xid_counts: { 48: 1 } });
  });
});
