import { describe, expect, it } from 'vitest';
import { checkXml } from '../../../test/helpers/xml.js';
import { GRADES } from '../health/score.js';
import { gradeHistogramSvg, healthTrendSvg, heatColor, rackHeatmapSvg, riskValueSvg, TEMP_OUTLIERS, tempOutliersSvg } from './charts.js';
import { sampleReport } from './fixture.js';

const R = sampleReport({ gpus: 300, seed: 1 });
const marks = (svg: string): number => (svg.match(/class="mark"/g) ?? []).length;

describe('report charts on the sample fleet', () => {
  it('grade histogram: one bar per grade and one for unknown, each as tall as its count', () => {
    const svg = gradeHistogramSvg(R.fleet.grades);
    expect(marks(svg)).toBe(GRADES.length + 1);
    for (const g of [...GRADES, 'unknown'] as const) expect(svg).toContain(`<title>${g}: ${R.fleet.grades[g]} GPUs</title>`);
    const heights = [...svg.matchAll(/data-grade="(\w+)"[^>]* height="([\d.]+)"/g)].map((m) => [m[1], Number(m[2])] as const);
    const excellent = heights.find(([g]) => g === 'excellent')![1];
    const critical = heights.find(([g]) => g === 'critical')![1];
    expect(R.fleet.grades.excellent).toBeGreaterThan(R.fleet.grades.critical);
    expect(excellent).toBeGreaterThan(critical);
  });

  it('trend: a dot per report with a health index, the line broken at the report without one', () => {
    const withIndex = R.trend.filter((p) => p.health_index !== null).length;
    expect(withIndex).toBeLessThan(R.trend.length); // the fixture has one gap
    const svg = healthTrendSvg(R.trend);
    expect(marks(svg)).toBe(withIndex);
    const d = /class="line" d="([^"]+)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2);
  });

  it('risk against value: one dot per GPU with P30, an expected value and a decision; the legend names every decision', () => {
    const n = R.gpus.filter((g) => g.failure_prob_30d !== null && g.expected_value !== null && g.decision !== null).length;
    expect(n).toBeGreaterThan(100);
    const svg = riskValueSvg(R.gpus);
    expect(marks(svg)).toBe(n);
    for (const d of ['keep', 'sell', 'repurpose', 'decommission']) expect(svg).toContain(`>${d}</text>`);
    // the rare decisions are drawn over the many kept GPUs
    const fills = [...svg.matchAll(/class="mark"[^>]* fill="(#\w+)"/g)].map((m) => m[1]);
    expect(fills.lastIndexOf('#0072B2')).toBeLessThan(fills.indexOf('#D55E00'));
  });

  it('temperature outliers: the largest |excess| first, at most TEMP_OUTLIERS bars', () => {
    const svg = tempOutliersSvg(R.gpus);
    expect(marks(svg)).toBe(TEMP_OUTLIERS);
    const values = [...svg.matchAll(/class="mark"[^>]*><title>[^<]*: ([+-]?[\d.]+) °C<\/title>/g)].map((m) => Math.abs(Number(m[1])));
    expect(values).toHaveLength(TEMP_OUTLIERS);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    const largest = Math.max(...R.gpus.map((g) => Math.abs(g.temp_excess_at_power ?? 0)));
    expect(values[0]).toBe(largest);
  });

  it('rack heat map: one labelled cell per rack, the riskiest rack the darkest', () => {
    const svg = rackHeatmapSvg(R.racks);
    expect(marks(svg)).toBe(R.racks.length);
    for (const r of R.racks) expect(svg).toContain(`>${r.rack}</text>`);
    const worst = [...R.racks].sort((a, b) => b.mean_failure_prob_30d - a.mean_failure_prob_30d)[0]!;
    const best = [...R.racks].sort((a, b) => a.mean_failure_prob_30d - b.mean_failure_prob_30d)[0]!;
    const lum = (hex: string): number => [1, 3, 5].reduce((s, i) => s + Number.parseInt(hex.slice(i, i + 2), 16), 0);
    expect(lum(heatColor(worst.mean_failure_prob_30d))).toBeLessThan(lum(heatColor(best.mean_failure_prob_30d)));
  });

  it('every chart is well-formed SVG with a title and axes or a legend', () => {
    for (const svg of [gradeHistogramSvg(R.fleet.grades), healthTrendSvg(R.trend), riskValueSvg(R.gpus), tempOutliersSvg(R.gpus), rackHeatmapSvg(R.racks)]) {
      expect(checkXml(svg)[0]).toBe('svg');
      expect(svg).toMatch(/<title>[^<]+<\/title>/);
      expect(svg).toMatch(/class="(axes|legend)"/);
    }
  });
});

describe('report charts without data', () => {
  it('say so instead of drawing marks', () => {
    const empty = [healthTrendSvg([]), riskValueSvg([]), tempOutliersSvg([]), rackHeatmapSvg([])];
    for (const svg of empty) {
      expect(marks(svg)).toBe(0);
      expect(svg).toContain('class="empty"');
      checkXml(svg);
    }
    const zero = gradeHistogramSvg({ excellent: 0, good: 0, fair: 0, degraded: 0, poor: 0, critical: 0, unknown: 0 });
    expect(marks(zero)).toBe(7);
    expect(zero).not.toContain('NaN');
  });
});

describe('report charts escape user data', () => {
  it('racks and hosts with markup stay text', () => {
    const evil = '<script>alert(1)</script>&"';
    const rack = rackHeatmapSvg([{ rack: evil, datacenter: evil, gpus: 2, mean_failure_prob_30d: 0.01, max_failure_prob_30d: 0.02 }]);
    const gpu = { ...R.gpus[0]!, host: evil, temp_excess_at_power: 9 };
    for (const svg of [rack, tempOutliersSvg([gpu]), riskValueSvg([gpu])]) {
      expect(svg).not.toContain('<script>');
      expect(svg).toContain('&lt;script&gt;');
      checkXml(svg);
    }
  });

  it('heat colours run from pale to dark and stay within the scale outside it', () => {
    expect(heatColor(0)).toBe(heatColor(1e-6));
    expect(heatColor(0.9)).toBe(heatColor(0.2));
    expect(heatColor(0)).toBe('#fff7bc');
    expect(heatColor(0.2)).toBe('#660000');
  });
});
