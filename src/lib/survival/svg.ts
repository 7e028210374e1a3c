/**
 * Kaplan–Meier curves as a standalone SVG chart: step curves, their bands shaded, axes with ticks, a
 * legend. No scripts, no external fonts or styles: it opens in a browser, in a document or on a wiki
 * page as it is. Group names come from the registry, so every text is XML-escaped.
 *
 * A fleet's survival usually stays far above 0, so the y axis starts at the round tenth below the
 * lowest band (never below 0) instead of at 0, where every curve would be a line along the top.
 */

export interface SvgCurve {
  label: string;
  /** Steps in time order: S just after each failure time, and its band (null where undefined). */
  points: readonly { t: number; survival: number; lower: number | null; upper: number | null }[];
  /** How far the curve is known (the longest observed lifetime): the last step runs to here. */
  end: number;
}

export interface SvgOptions {
  title?: string;
  xLabel?: string;
  width?: number;
  height?: number;
}

/** Colour-blind-safe qualitative palette (Okabe & Ito 2008); beyond eight, colours repeat with dashes. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'] as const;
const DASHES = ['', '6 3', '2 2', '8 3 2 3'] as const;
const MARGIN = { top: 40, right: 20, bottom: 50, left: 60 } as const;
const LEGEND_ROW = 18;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A "nice" step (1, 2 or 5 × 10ⁿ) for about `count` ticks over [0, max]. */
export function niceStep(max: number, count = 6): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

const fmt = (v: number): string => String(Math.round(v * 100) / 100);

/** The step function through `values` (one per point, null = gap) from t = 0 at 1, as an SVG path. */
function stepPath(curve: SvgCurve, value: (p: SvgCurve['points'][number]) => number | null, x: (t: number) => number, y: (s: number) => number): string {
  let d = `M${fmt(x(0))},${fmt(y(1))}`;
  let open = true;
  for (const p of curve.points) {
    const v = value(p);
    if (v === null) {
      open = false;
      continue;
    }
    d += open ? `H${fmt(x(p.t))}V${fmt(y(v))}` : `M${fmt(x(p.t))},${fmt(y(v))}`;
    open = true;
  }
  if (open) d += `H${fmt(x(curve.end))}`;
  return d;
}

/** The band between the lower and upper step functions, as one closed polygon per run of defined points. */
function bandPath(curve: SvgCurve, x: (t: number) => number, y: (s: number) => number): string {
  const runs: { t: number; lo: number; hi: number }[][] = [[{ t: 0, lo: 1, hi: 1 }]];
  for (const p of curve.points) {
    if (p.lower === null || p.upper === null) runs.push([]);
    else runs.at(-1)!.push({ t: p.t, lo: p.lower, hi: p.upper });
  }
  let d = '';
  for (const run of runs.filter((r) => r.length > 0)) {
    // each value holds from its time to the next one's (the last: to the end of the curve)
    const until = (i: number): number => (i + 1 < run.length ? run[i + 1]!.t : Math.max(curve.end, run[i]!.t));
    let upper = '';
    let lower = '';
    run.forEach((r, i) => {
      upper += `${i === 0 ? 'M' : 'L'}${fmt(x(r.t))},${fmt(y(r.hi))}L${fmt(x(until(i)))},${fmt(y(r.hi))}`;
      lower = `L${fmt(x(until(i)))},${fmt(y(r.lo))}L${fmt(x(r.t))},${fmt(y(r.lo))}${lower}`;
    });
    d += `${upper}${lower}Z`;
  }
  return d;
}

export function renderKmSvg(curves: readonly SvgCurve[], opts: SvgOptions = {}): string {
  const width = opts.width ?? 800;
  const legendHeight = curves.length * LEGEND_ROW + 10;
  const plotHeight = (opts.height ?? 480) - MARGIN.top - MARGIN.bottom;
  const height = MARGIN.top + plotHeight + MARGIN.bottom + legendHeight;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const tMax = Math.max(1, ...curves.map((c) => Math.max(c.end, c.points.at(-1)?.t ?? 0)));
  const lowest = Math.min(1, ...curves.flatMap((c) => c.points.map((p) => p.lower ?? p.survival)));
  const yMin = Math.max(0, Math.floor(lowest * 10 - 1e-9) / 10);
  const yMinShown = yMin >= 1 ? 0.9 : yMin;
  const x = (t: number): number => MARGIN.left + (t / tMax) * plotWidth;
  const y = (s: number): number => MARGIN.top + ((1 - s) / (1 - yMinShown)) * plotHeight;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  const title = opts.title ?? 'Kaplan–Meier survival';
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  // axes, ticks and grid
  const axes: string[] = [];
  const xStep = niceStep(tMax);
  for (let t = 0; t <= tMax + 1e-9; t += xStep) {
    axes.push(`<line x1="${fmt(x(t))}" y1="${MARGIN.top}" x2="${fmt(x(t))}" y2="${MARGIN.top + plotHeight}" stroke="#e5e5e5"/>`);
    axes.push(`<text x="${fmt(x(t))}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  const yStep = niceStep(1 - yMinShown, 5);
  for (let s = yMinShown; s <= 1 + 1e-9; s += yStep) {
    axes.push(`<line x1="${MARGIN.left}" y1="${fmt(y(s))}" x2="${MARGIN.left + plotWidth}" y2="${fmt(y(s))}" stroke="#e5e5e5"/>`);
    axes.push(`<text x="${MARGIN.left - 6}" y="${fmt(y(s) + 4)}" text-anchor="end">${fmt(s)}</text>`);
  }
  axes.push(
    `<polyline points="${MARGIN.left},${MARGIN.top} ${MARGIN.left},${MARGIN.top + plotHeight} ${MARGIN.left + plotWidth},${MARGIN.top + plotHeight}" fill="none" stroke="#333333"/>`,
  );
  axes.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 36}" text-anchor="middle">${escapeXml(opts.xLabel ?? 'days in service')}</text>`,
  );
  axes.push(`<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">survival (95 % band)</text>`);
  out.push(`<g class="axes">${axes.join('')}</g>`);
  // bands first, so no band covers a curve
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    out.push(`<path class="band" d="${bandPath(c, x, y)}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
  });
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!;
    out.push(
      `<path class="curve" d="${stepPath(c, (p) => p.survival, x, y)}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
  });
  const legend: string[] = [];
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!;
    const ly = MARGIN.top + plotHeight + MARGIN.bottom + i * LEGEND_ROW + 8;
    legend.push(
      `<line x1="${MARGIN.left}" y1="${ly}" x2="${MARGIN.left + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
    legend.push(`<text x="${MARGIN.left + 30}" y="${ly + 4}">${escapeXml(c.label)}</text>`);
  });
  out.push(`<g class="legend">${legend.join('')}</g>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
