import { describe, expect, it } from 'vitest';
import { kaplanMeier } from './kaplan-meier.js';
import { escapeXml, niceStep, renderKmSvg, type SvgCurve } from './svg.js';
import { checkXml } from '../../../test/helpers/xml.js';

const curve = (label: string, times: number[], failed: boolean[]): SvgCurve => {
  const km = kaplanMeier(times.map((t, i) => ({ time: t, event: failed[i]! })));
  return { label, end: km.end, points: km.points.map((p) => ({ t: p.time, survival: p.survival, lower: p.lower, upper: p.upper })) };
};

describe('renderKmSvg', () => {
  const a = curve('lot <A&B>', [10, 20, 30, 40, 50, 60], [true, false, true, true, false, false]);
  const b = curve('lot "C"', [5, 15, 25, 35], [true, true, true, true]);

  it('writes a well-formed standalone SVG with axes, a band and a curve per group, and a legend', () => {
    const svg = renderKmSvg([a, b], { title: 'survival by lot' });
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg.match(/class="band"/g)).toHaveLength(2);
    expect(svg.match(/class="curve"/g)).toHaveLength(2);
    expect(svg).toContain('<g class="axes">');
    expect(svg).toContain('<g class="legend">');
    expect(svg).toContain('days in service');
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('escapes group names from the registry', () => {
    const svg = renderKmSvg([a, b]);
    expect(svg).toContain('lot &lt;A&amp;B&gt;');
    expect(svg).toContain('lot &quot;C&quot;');
    expect(svg).not.toContain('<A&B>');
    expect(escapeXml(`<'&">`)).toBe('&lt;&apos;&amp;&quot;&gt;');
  });

  it('runs each curve from (0, 1) to the end of its follow-up, and stops its band where it is undefined', () => {
    const svg = renderKmSvg([a, b], { width: 800, height: 480 });
    const curves = [...svg.matchAll(/class="curve" d="([^"]+)"/g)].map((m) => m[1]!);
    expect(curves[0]).toMatch(/^M60,40H/);
    // curve b falls to 0 at its last failure (t = 35 of 60 days: x = 60 + 35/60 · 720, y = 40 + 390), its band ends before it
    expect(curves[1]).toMatch(/H480V430H480$/);
    const bands = [...svg.matchAll(/class="band" d="([^"]+)"/g)].map((m) => m[1]!);
    expect(bands[1]!.split('Z')).toHaveLength(2);
  });

  it('renders an empty chart for no curves, and picks round tick steps', () => {
    expect(() => checkXml(renderKmSvg([]))).not.toThrow();
    expect([niceStep(1000), niceStep(365), niceStep(0.4, 5), niceStep(0)]).toEqual([200, 100, 0.1, 1]);
  });
});
