import { describe, expect, it } from 'vitest';
import { sampleReport } from './fixture.js';
import { escapeHtml, FULL_TABLE_LIMIT, GRADE_CHANGES_LIMIT, LIST_LIMIT, renderHtml } from './html.js';
import type { ReportData } from './types.js';

const EVIL = '<script>alert(1)</script>';

/** The rows of the table with this id. */
function rows(html: string, id: string): string[] {
  const start = html.indexOf(`<table id="${id}"`);
  expect(start, `table ${id}`).toBeGreaterThanOrEqual(0);
  const table = html.slice(start, html.indexOf('</table>', start));
  return table.split('<tr>').slice(2);
}

/** The sample report with every list empty and no economics. */
function emptied(r: ReportData): ReportData {
  return {
    ...r,
    grade_changes: [],
    events: { xids: [], uncorrectable_ecc: [], remapped_rows: [], stopped_reporting: [] },
    economics: null,
    sources: { ...r.sources, recommendations: null },
    coverage: { silent_hosts: [], silent_gpus: [], missing_signals: [], ingest_rejects_last_day: 0, ingest_reject_files: [] },
    racks: [],
  };
}

describe('renderHtml', () => {
  const r = sampleReport({ gpus: 300, seed: 1 });
  const html = renderHtml(r);

  it('is one file that loads nothing: no external scripts, styles, fonts or images', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/\ssrc=/);
    expect(html).not.toMatch(/href="(?!#)/);
    expect(html).not.toMatch(/url\(|@import|@font-face/);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('@media print');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('puts the sections in the order an operator reads them', () => {
    const order = ['<header>', 'id="grades"', 'id="risk"', 'id="events"', 'id="economics"', 'id="coverage"', 'id="gpus"'].map((s) => html.indexOf(s));
    expect(order.every((p) => p >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('opens with the headline figures', () => {
    const head = html.slice(html.indexOf('<header>'), html.indexOf('</header>'));
    expect(head).toContain(`${r.fleet.health_index!.toFixed(1)} <span class="arrow">`);
    expect(head).toMatch(/[▲▼▶]/);
    expect(head).toContain(`${r.fleet.risk_levels.critical} critical · ${r.fleet.risk_levels.high} high`);
    expect(head).toContain(`>${r.fleet.not_reporting}</div>`);
    expect(head).toContain(`>${r.economics!.for_sale.gpus}</div>`);
    expect(head).toContain('<strong>First:</strong>');
  });

  it('lists grade changes down first, the at-risk GPUs and the last day’s events', () => {
    const changes = rows(html, 'grade-changes');
    expect(r.grade_changes.length).toBeLessThanOrEqual(GRADE_CHANGES_LIMIT);
    expect(changes).toHaveLength(r.grade_changes.length);
    const firstUp = changes.findIndex((c) => c.includes('▲ up'));
    expect(changes.slice(0, firstUp).every((c) => c.includes('▼ down'))).toBe(true);
    expect(rows(html, 'at-risk')).toHaveLength(r.at_risk.length);
    expect(rows(html, 'xids')).toHaveLength(r.events.xids.length);
    const x = r.events.xids[0]!;
    expect(rows(html, 'xids')[0]).toContain(escapeHtml(x.meaning));
  });

  it('escapes every string from the data', () => {
    const bad = structuredClone(r);
    bad.gpus[0]!.host = EVIL;
    bad.gpus[0]!.model = EVIL;
    bad.at_risk[0]!.host = EVIL;
    bad.at_risk[0]!.risk_factors = [EVIL];
    bad.events.xids[0]!.host = EVIL;
    bad.coverage.missing_signals[0]!.hint = EVIL;
    bad.coverage.ingest_reject_files = [EVIL];
    bad.racks[0]!.rack = EVIL;
    bad.lake = EVIL;
    const out = renderHtml(bad);
    expect(out).not.toContain(EVIL);
    expect(out.match(/<script/g)).toHaveLength(1);
    expect(out.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(9);
  });

  it('shows a null as "–"', () => {
    const g = r.gpus.find((x) => x.overall_score === null)!;
    const row = rows(html, 'all-gpus').find((x) => x.includes(g.gpu_uuid))!;
    expect(row).toContain('<td class="n" data-v=""><span class="null">–</span></td>');
    expect(row).not.toMatch(/>null</);
  });

  it('cuts long tables and says where the rest are', () => {
    const big = sampleReport({ gpus: FULL_TABLE_LIMIT + 123, seed: 2 });
    const out = renderHtml(big);
    const all = rows(out, 'all-gpus');
    expect(all).toHaveLength(FULL_TABLE_LIMIT);
    expect(all[0]).toContain(big.gpus[0]!.gpu_uuid);
    expect(out).toContain(`Showing 2,000 of 2,123; the worst first; the other 123 are in the JSON report`);
    expect(rows(out, 'grade-changes')).toHaveLength(GRADE_CHANGES_LIMIT);
    expect(out).toContain(`Showing ${GRADE_CHANGES_LIMIT} of ${big.grade_changes.length}; the JSON report lists them all`);
    const xids = Array.from({ length: LIST_LIMIT + 7 }, (_, i) => ({ ...big.events.xids[0]!, xid: i }));
    const many = renderHtml({ ...big, events: { ...big.events, xids } });
    expect(rows(many, 'xids')).toHaveLength(LIST_LIMIT);
    expect(many).toContain(`Showing ${LIST_LIMIT} of ${LIST_LIMIT + 7}; the JSON report lists them all`);
  });

  it('says so where a section is empty', () => {
    const out = renderHtml(emptied(r));
    for (const s of [
      'no GPU changed grade since the previous report',
      'no Xid events in the last day',
      'no new uncorrectable ECC errors in the last day',
      'no new remapped rows in the last day',
      'no GPU stopped reporting in the last day',
      'no recommendations for this time: run gpuhealth recommend',
      'every host is reporting',
      'every GPU is reporting',
      'no signal is missing',
      'no ingest rejects in the last day',
      'no racks: the registry names none, or no GPU has a prediction',
    ]) {
      expect(out, s).toContain(s);
    }
    expect(renderHtml({ ...r, previous_at: null, grade_changes: [] })).toContain('no previous report in the lake to compare with');
    const noPredictions = renderHtml({ ...r, sources: { ...r.sources, predictions: null }, at_risk: [] });
    expect(noPredictions).toContain('no predictions for this time: run gpuhealth predict');
    expect(noPredictions).toContain('The lake has no predictions (run <code>gpuhealth predict</code>)');
  });

  it('marks each sortable value and leaves every row in the markup', () => {
    expect(html.match(/<table id="[\w-]+" class="sortable">/g)!.length).toBeGreaterThanOrEqual(8);
    const p30 = rows(html, 'at-risk').map((x) => Number(/data-v="([\d.e-]+)"/.exec(x)![1]));
    expect(p30).toEqual(r.at_risk.map((g) => g.failure_prob_30d));
  });
});
