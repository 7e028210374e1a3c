import { describe, expect, it } from 'vitest';
import { sampleReport } from './fixture.js';
import { escapeMarkdown, renderMarkdown } from './markdown.js';
import type { ReportData } from './types.js';

const lines = (s: string): number => s.split('\n').length - 1;

/** Every list as long as it can get, so any list that is not cut shows in the line count. */
function crowded(r: ReportData): ReportData {
  const many = <T>(xs: readonly T[], n: number): T[] => Array.from({ length: n }, (_, i) => xs[i % xs.length]!);
  return {
    ...r,
    coverage: {
      ...r.coverage,
      silent_hosts: Array.from({ length: 300 }, (_, i) => ({ host: `node-${i}`, gpus: 8, last_sample: r.at })),
      missing_signals: Array.from({ length: 40 }, (_, i) => ({ signal: `signal_${i}`, gpus: i, hint: `DCGM_FI_${i}` })),
      silent_gpus: many(r.coverage.silent_gpus, 5000),
    },
    events: {
      xids: many(r.events.xids, 5000),
      uncorrectable_ecc: many(r.events.uncorrectable_ecc, 5000),
      remapped_rows: many(r.events.remapped_rows, 5000),
      stopped_reporting: many(r.events.stopped_reporting, 5000),
    },
    grade_changes: many(r.grade_changes, 5000),
  };
}

describe('renderMarkdown', () => {
  it('stays under 100 lines for any fleet size', () => {
    const big = sampleReport({ gpus: 10_000, seed: 1 });
    expect(lines(renderMarkdown(big))).toBeLessThan(100);
    expect(lines(renderMarkdown(crowded(big)))).toBeLessThan(100);
    expect(lines(renderMarkdown(sampleReport({ gpus: 5, seed: 1 })))).toBeLessThan(100);
  });

  it('carries the headlines and counts what it leaves out', () => {
    const r = sampleReport({ gpus: 10_000, seed: 1 });
    const md = renderMarkdown(r);
    expect(md).toContain(`**Health index ${r.fleet.health_index!.toFixed(1)}`);
    expect(md).toContain(`**${(r.fleet.risk_levels.high + r.fleet.risk_levels.critical).toLocaleString('en-US')} at high/critical risk**`);
    expect(md).toContain(`**${r.economics!.for_sale.gpus} GPUs to sell**`);
    expect(md).toContain(`… and ${(r.events.xids.length - 4).toLocaleString('en-US')} more`);
    expect(md).toContain(r.at_risk[0]!.gpu_uuid);
    const ordered = ['## Grades', '## Top at-risk GPUs', "## Last day's events", '## Recommendations', '## Data coverage'].map((h) => md.indexOf(h));
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
    expect(ordered[0]).toBeGreaterThan(0);
  });

  it('escapes user data so it cannot break a table or inject HTML', () => {
    const r = structuredClone(sampleReport({ gpus: 300, seed: 1 }));
    r.at_risk[0]!.host = '<script>alert(1)</script>|x\nnext';
    const md = renderMarkdown(r);
    expect(md).not.toContain('<script>');
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>\\|x next');
    const header = md.split('\n').find((l) => l.startsWith('| GPU |'))!;
    const cells = (l: string): number => l.split(/(?<!\\)\|/).length;
    for (const l of md.split('\n').filter((x) => x.startsWith('| `GPU-'))) expect(cells(l)).toBe(cells(header));
    expect(escapeMarkdown('a*b_c[d](e)')).toBe('a\\*b\\_c\\[d\\](e)');
  });

  it('says so where a section is empty', () => {
    const r = sampleReport({ gpus: 300, seed: 1 });
    const md = renderMarkdown({
      ...r,
      grade_changes: [],
      events: { xids: [], uncorrectable_ecc: [], remapped_rows: [], stopped_reporting: [] },
      economics: null,
      coverage: { silent_hosts: [], silent_gpus: [], missing_signals: [], ingest_rejects_last_day: 0, ingest_reject_files: [] },
    });
    expect(md).toContain('No grade changes since');
    expect(md).toContain('**Xid events:** none in the last day.');
    expect(md).toContain('**New uncorrectable ECC errors:** none in the last day.');
    expect(md).toContain('**Stopped reporting:** no GPU stopped reporting in the last day.');
    expect(md).toContain('No recommendations for this time');
    expect(md).toContain('- Every host is reporting.');
    expect(md).toContain('- No ingest rejects in the last day.');
  });
});
