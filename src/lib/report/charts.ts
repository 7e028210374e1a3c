/**
 * The fleet report's charts, each a standalone SVG string (as survival/svg.ts draws Kaplan–Meier
 * curves): a title, axes with ticks and labels, no scripts, fonts or external styles, so the HTML
 * report stays one file that opens offline and prints. Every data mark (bar, dot, cell) carries
 * `class="mark"` so tests can count them; a chart without data says so in place of its marks.
 * GPU names, hosts and racks are user data: every text goes through escapeXml.
 */
import { DECISIONS, type Decision } from '../economics/types.js';
import { GRADES, type HealthGrade } from '../health/score.js';
import { RISK_LEVEL_THRESHOLDS } from '../model/card.js';
import { escapeXml, niceStep } from '../survival/svg.js';
import type { RackRisk, ReportGpu, TrendPoint } from './types.js';

export const GRADE_COLORS: Record<HealthGrade | 'unknown', string> = {
  excellent: '#1b7837',
  good: '#5aae61',
  fair: '#a6d96a',
  degraded: '#fdb863',
  poor: '#e66101',
  critical: '#b2182b',
  unknown: '#9e9e9e',
};

/** Okabe & Ito colours (colour-blind safe), as survival/svg.ts uses. */
export const DECISION_COLORS: Record<Decision, string> = {
  keep: '#0072B2',
  repurpose: '#009E73',
  sell: '#E69F00',
  decommission: '#D55E00',
};

/** The temperature chart shows this many GPUs: enough to spot a pattern (one host, one rack), few enough to read. */
export const TEMP_OUTLIERS = 12;
/** P30 below this is drawn at it: the log axis needs a floor, and below 0.01 % the differences mean nothing. */
const P30_FLOOR = 1e-4;
/** The heat map's colour runs from here (well under the fleet base rate) to the `critical` threshold. */
const HEAT_LOW = 1e-3;
/** Columns of the heat map: narrow enough to sit beside the temperature chart, wider for a fleet of many racks. */
const HEAT_COLUMNS = { few: 8, many: 16, manyFrom: 49 } as const;

const fmt = (v: number): string => String(Math.round(v * 100) / 100);

export function formatPercent(p: number): string {
  const v = p * 100;
  if (v === 0) return '0 %';
  if (v < 0.1) return `${v.toFixed(2)} %`;
  if (v < 10) return `${v.toFixed(1)} %`;
  return `${Math.round(v)} %`;
}

export function formatUsd(v: number): string {
  const a = Math.abs(v);
  const sign = v < 0 ? '−' : '';
  if (a >= 1e6) return `${sign}$${(a / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${sign}$${Math.round(a / 1e3)}k`;
  return `${sign}$${Math.round(a).toLocaleString('en-US')}`;
}

/** The GPU as people name it in a chart: host and the UUID's first hex digits. */
export function shortGpu(g: { gpu_uuid: string; host: string | null }): string {
  const id = g.gpu_uuid.replace(/^GPU-/, '').slice(0, 8);
  return g.host ? `${g.host} · ${id}` : id;
}

interface Frame {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
}

function open(title: string, f: Frame, kind: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-${kind}" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${f.margin.left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function noData(out: string[], f: Frame, text: string): string {
  out.push(`<text class="empty" x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle" fill="#666666">${escapeXml(text)}</text>`, '</svg>');
  return out.join('\n');
}

function axisLines(f: Frame): string {
  const { top, left, bottom, right } = f.margin;
  return `<polyline points="${left},${top} ${left},${f.height - bottom} ${f.width - right},${f.height - bottom}" fill="none" stroke="#333333"/>`;
}

function yTicks(f: Frame, lo: number, hi: number, y: (v: number) => number, label: (v: number) => string): string {
  const out: string[] = [];
  const step = niceStep(hi - lo, 5);
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
    out.push(`<line x1="${f.margin.left}" y1="${fmt(y(v))}" x2="${f.width - f.margin.right}" y2="${fmt(y(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f.margin.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${escapeXml(label(v))}</text>`);
  }
  return out.join('');
}

function yLabel(f: Frame, text: string): string {
  const mid = f.margin.top + (f.height - f.margin.top - f.margin.bottom) / 2;
  return `<text transform="translate(14 ${fmt(mid)}) rotate(-90)" text-anchor="middle">${escapeXml(text)}</text>`;
}

function xLabel(f: Frame, text: string): string {
  const mid = f.margin.left + (f.width - f.margin.left - f.margin.right) / 2;
  return `<text x="${fmt(mid)}" y="${f.height - 8}" text-anchor="middle">${escapeXml(text)}</text>`;
}

/** 1. GPUs per grade, best first, then the GPUs without a grade: one bar per grade, zero bars included. */
export function gradeHistogramSvg(grades: Record<HealthGrade | 'unknown', number>): string {
  const f: Frame = { width: 560, height: 300, margin: { top: 40, right: 16, bottom: 48, left: 56 } };
  const out = open('GPUs by health grade', f, 'grades');
  const cats = [...GRADES, 'unknown'] as const;
  const max = Math.max(1, ...cats.map((c) => grades[c]));
  const top = niceStep(max, 5) * Math.ceil(max / niceStep(max, 5));
  const plotW = f.width - f.margin.left - f.margin.right;
  const plotH = f.height - f.margin.top - f.margin.bottom;
  const y = (v: number): number => f.margin.top + plotH * (1 - v / top);
  const band = plotW / cats.length;
  out.push(`<g class="axes">${yTicks(f, 0, top, y, (v) => String(v))}${axisLines(f)}${yLabel(f, 'GPUs')}</g>`);
  cats.forEach((c, i) => {
    const n = grades[c];
    const x = f.margin.left + i * band + band * 0.15;
    const w = band * 0.7;
    out.push(
      `<rect class="mark" data-grade="${c}" x="${fmt(x)}" y="${fmt(y(n))}" width="${fmt(w)}" height="${fmt(y(0) - y(n))}" fill="${GRADE_COLORS[c]}"><title>${c}: ${n} GPUs</title></rect>`,
    );
    out.push(`<text x="${fmt(x + w / 2)}" y="${fmt(y(n) - 4)}" text-anchor="middle">${n}</text>`);
    out.push(`<text x="${fmt(x + w / 2)}" y="${f.height - f.margin.bottom + 16}" text-anchor="middle">${c}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** 2. The health index of the reports kept in the lake, oldest first: a line broken where a report had none, a dot per value. */
export function healthTrendSvg(trend: readonly TrendPoint[]): string {
  const f: Frame = { width: 560, height: 300, margin: { top: 40, right: 20, bottom: 48, left: 56 } };
  const out = open('Health index, last 30 days', f, 'trend');
  const values = trend.map((p) => p.health_index).filter((v): v is number => v !== null);
  if (values.length === 0) return noData(out, f, 'no health index in the reports kept');
  const step = niceStep(Math.max(2, Math.max(...values) - Math.min(...values)), 4);
  const lo = Math.max(0, Math.floor((Math.min(...values) - step / 2) / step) * step);
  const hi = Math.min(100, Math.ceil((Math.max(...values) + step / 2) / step) * step);
  const plotW = f.width - f.margin.left - f.margin.right;
  const plotH = f.height - f.margin.top - f.margin.bottom;
  const x = (i: number): number => f.margin.left + (trend.length === 1 ? plotW / 2 : (i / (trend.length - 1)) * plotW);
  const y = (v: number): number => f.margin.top + plotH * (1 - (v - lo) / (hi - lo || 1));
  const axes: string[] = [yTicks(f, lo, hi, y, (v) => fmt(v)), axisLines(f), yLabel(f, 'health index (mean score)'), xLabel(f, 'report date (UTC)')];
  // label about six dates, always the last (this report)
  const every = Math.max(1, Math.ceil(trend.length / 6));
  trend.forEach((p, i) => {
    if ((trend.length - 1 - i) % every === 0)
      axes.push(`<text x="${fmt(x(i))}" y="${f.height - f.margin.bottom + 16}" text-anchor="middle">${escapeXml(p.at.slice(5, 10))}</text>`);
  });
  out.push(`<g class="axes">${axes.join('')}</g>`);
  let d = '';
  let pen = false;
  trend.forEach((p, i) => {
    if (p.health_index === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${fmt(x(i))},${fmt(y(p.health_index))}`;
    pen = true;
  });
  out.push(`<path class="line" d="${d}" fill="none" stroke="#0072B2" stroke-width="2"/>`);
  trend.forEach((p, i) => {
    if (p.health_index === null) return;
    const last = i === trend.length - 1;
    out.push(
      `<circle class="mark" cx="${fmt(x(i))}" cy="${fmt(y(p.health_index))}" r="${last ? 5 : 3.5}" fill="${last ? '#0072B2' : '#ffffff'}" stroke="#0072B2" stroke-width="2"><title>${escapeXml(p.at.slice(0, 10))}: ${p.health_index} (${p.gpus} GPUs)</title></circle>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** 3. Failure risk against what each GPU is worth: one dot per GPU with both, coloured by decision, risk levels marked. */
export function riskValueSvg(gpus: readonly ReportGpu[]): string {
  const f: Frame = { width: 560, height: 340, margin: { top: 58, right: 20, bottom: 48, left: 64 } };
  const out = open('Failure risk (30 days) against expected value', f, 'risk-value');
  const pts = gpus.filter((g) => g.failure_prob_30d !== null && g.expected_value !== null && g.decision !== null);
  const legend = DECISIONS.map((d, i) => {
    const lx = f.margin.left + i * 112;
    return `<circle cx="${lx + 5}" cy="34" r="5" fill="${DECISION_COLORS[d]}"/><text x="${lx + 14}" y="38">${d}</text>`;
  }).join('');
  out.push(`<g class="legend">${legend}</g>`);
  if (pts.length === 0) return noData(out, f, 'no GPU has both a prediction and an expected value');
  const plotW = f.width - f.margin.left - f.margin.right;
  const plotH = f.height - f.margin.top - f.margin.bottom;
  const lx0 = Math.log10(P30_FLOOR);
  const x = (p: number): number => f.margin.left + ((Math.log10(Math.max(P30_FLOOR, p)) - lx0) / -lx0) * plotW;
  const vals = pts.map((g) => g.expected_value!);
  const vMax = Math.max(1, ...vals);
  const vMin = Math.min(0, ...vals);
  const step = niceStep(vMax - vMin, 5);
  const lo = Math.floor(vMin / step) * step;
  const hi = Math.ceil(vMax / step) * step;
  const y = (v: number): number => f.margin.top + plotH * (1 - (v - lo) / (hi - lo));
  const axes: string[] = [
    yTicks(f, lo, hi, y, (v) => formatUsd(v)),
    axisLines(f),
    yLabel(f, 'expected value (USD)'),
    xLabel(f, 'P(failure within 30 days), log scale'),
  ];
  for (let e = lx0; e <= 0; e++) {
    axes.push(`<text x="${fmt(x(10 ** e))}" y="${f.height - f.margin.bottom + 16}" text-anchor="middle">${formatPercent(10 ** e)}</text>`);
  }
  for (const [level, p] of Object.entries(RISK_LEVEL_THRESHOLDS)) {
    axes.push(
      `<line x1="${fmt(x(p))}" y1="${f.margin.top}" x2="${fmt(x(p))}" y2="${f.height - f.margin.bottom}" stroke="#999999" stroke-dasharray="4 3"/><text x="${fmt(x(p) + 3)}" y="${f.margin.top + 10}" fill="#666666" font-size="10">${level}</text>`,
    );
  }
  out.push(`<g class="axes">${axes.join('')}</g>`);
  // the few GPUs to act on are drawn last, over the many kept ones
  const draw = ['keep', 'repurpose', 'sell', 'decommission'] as const;
  const order = [...pts].sort((a, b) => draw.indexOf(a.decision!) - draw.indexOf(b.decision!) || a.failure_prob_30d! - b.failure_prob_30d!);
  for (const g of order) {
    out.push(
      `<circle class="mark" cx="${fmt(x(g.failure_prob_30d!))}" cy="${fmt(y(g.expected_value!))}" r="3.5" fill="${DECISION_COLORS[g.decision!]}" fill-opacity="0.75"><title>${escapeXml(shortGpu(g))}: P30 ${formatPercent(g.failure_prob_30d!)}, ${formatUsd(g.expected_value!)}, ${g.decision}</title></circle>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

/** 4. The GPUs furthest from same-model GPUs' temperature at equal power (hotter or cooler): cooling, paste, airflow. */
export function tempOutliersSvg(gpus: readonly ReportGpu[], limit = TEMP_OUTLIERS): string {
  const pts = gpus
    .filter((g) => g.temp_excess_at_power !== null)
    .sort((a, b) => Math.abs(b.temp_excess_at_power!) - Math.abs(a.temp_excess_at_power!) || a.gpu_uuid.localeCompare(b.gpu_uuid))
    .slice(0, limit);
  const row = 22;
  const f: Frame = { width: 560, height: 88 + Math.max(3, pts.length) * row, margin: { top: 40, right: 40, bottom: 48, left: 190 } };
  const out = open('Temperature against peers at equal power', f, 'temp');
  if (pts.length === 0) return noData(out, f, 'no temperature-at-power figures');
  const max = Math.max(2, ...pts.map((g) => Math.abs(g.temp_excess_at_power!)));
  const step = niceStep(max, 3);
  const lim = Math.ceil(max / step) * step;
  const plotW = f.width - f.margin.left - f.margin.right;
  const x = (v: number): number => f.margin.left + ((v + lim) / (2 * lim)) * plotW;
  const bottom = f.height - f.margin.bottom;
  const axes: string[] = [];
  for (let v = -lim; v <= lim + 1e-9; v += step) {
    axes.push(`<line x1="${fmt(x(v))}" y1="${f.margin.top}" x2="${fmt(x(v))}" y2="${bottom}" stroke="${Math.abs(v) < 1e-9 ? '#333333' : '#e5e5e5'}"/>`);
    axes.push(`<text x="${fmt(x(v))}" y="${bottom + 16}" text-anchor="middle">${v > 0 ? '+' : ''}${fmt(v)}</text>`);
  }
  axes.push(`<line x1="${f.margin.left}" y1="${bottom}" x2="${f.width - f.margin.right}" y2="${bottom}" stroke="#333333"/>`);
  axes.push(xLabel(f, '°C above (+) or below (−) same-model GPUs at the same power'));
  out.push(`<g class="axes">${axes.join('')}</g>`);
  pts.forEach((g, i) => {
    const v = g.temp_excess_at_power!;
    const cy = f.margin.top + 8 + i * row;
    const x0 = Math.min(x(0), x(v));
    out.push(`<text x="${f.margin.left - 6}" y="${cy + 12}" text-anchor="end">${escapeXml(shortGpu(g))}</text>`);
    out.push(
      `<rect class="mark" x="${fmt(x0)}" y="${cy}" width="${fmt(Math.max(1, Math.abs(x(v) - x(0))))}" height="${row - 6}" fill="${v > 0 ? '#d6604d' : '#4393c3'}"><title>${escapeXml(shortGpu(g))}: ${v > 0 ? '+' : ''}${v} °C</title></rect>`,
    );
    out.push(
      `<text x="${fmt(v > 0 ? x(v) + 4 : x(v) - 4)}" y="${cy + 12}" text-anchor="${v > 0 ? 'start' : 'end'}" font-size="11">${v > 0 ? '+' : ''}${v}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A colour for a 30-day failure probability: pale below HEAT_LOW to dark red at the critical threshold, on a log scale. */
export function heatColor(p: number): string {
  const stops = [
    [255, 247, 188],
    [254, 196, 79],
    [236, 112, 20],
    [153, 52, 4],
    [102, 0, 0],
  ] as const;
  const lo = Math.log10(HEAT_LOW);
  const hi = Math.log10(RISK_LEVEL_THRESHOLDS.critical);
  const t = Math.min(1, Math.max(0, (Math.log10(Math.max(p, 1e-9)) - lo) / (hi - lo))) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const u = t - i;
  const c = stops[i]!.map((a, k) => Math.round(a + (stops[i + 1]![k]! - a) * u));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** 5. One cell per rack, coloured by its GPUs' mean P30: a hot rack (cooling, power, one bad batch) stands out. */
export function rackHeatmapSvg(racks: readonly RackRisk[]): string {
  const cols = Math.max(1, Math.min(racks.length >= HEAT_COLUMNS.manyFrom ? HEAT_COLUMNS.many : HEAT_COLUMNS.few, racks.length));
  const cw = 80;
  const ch = 40;
  const rows = Math.ceil(racks.length / cols);
  const f: Frame = { width: Math.max(460, 20 + cols * cw), height: 100 + Math.max(1, rows) * ch, margin: { top: 40, right: 10, bottom: 50, left: 10 } };
  const out = open('Failure risk by rack (mean P30 of its GPUs)', f, 'racks');
  if (racks.length === 0) return noData(out, f, 'no racks: the registry names none, or no GPU has a prediction');
  // laid out by name, as the racks stand, so a hot row or aisle shows as a patch
  const byName = [...racks].sort(
    (a, b) => (a.datacenter ?? '').localeCompare(b.datacenter ?? '', 'en', { numeric: true }) || a.rack.localeCompare(b.rack, 'en', { numeric: true }),
  );
  byName.forEach((r, i) => {
    const x = f.margin.left + (i % cols) * cw;
    const y = f.margin.top + Math.floor(i / cols) * ch;
    const fill = heatColor(r.mean_failure_prob_30d);
    const dark = r.mean_failure_prob_30d >= 0.02;
    const where = r.datacenter ? `${r.datacenter} / ${r.rack}` : r.rack;
    out.push(
      `<rect class="mark" x="${x}" y="${y}" width="${cw - 3}" height="${ch - 3}" fill="${fill}" stroke="#ffffff"><title>${escapeXml(where)}: ${r.gpus} GPUs, mean P30 ${formatPercent(r.mean_failure_prob_30d)}, max ${formatPercent(r.max_failure_prob_30d)}</title></rect>`,
    );
    const color = dark ? '#ffffff' : '#222222';
    out.push(`<text x="${x + 5}" y="${y + 15}" font-size="11" fill="${color}">${escapeXml(r.rack.length > 12 ? `${r.rack.slice(0, 11)}…` : r.rack)}</text>`);
    out.push(`<text x="${x + 5}" y="${y + 30}" font-size="11" fill="${color}">${formatPercent(r.mean_failure_prob_30d)}</text>`);
  });
  // the colour key
  const ky = f.height - 34;
  const key: string[] = [`<text x="${f.margin.left}" y="${ky + 12}">mean P30:</text>`];
  const ticks = [HEAT_LOW, RISK_LEVEL_THRESHOLDS.medium, RISK_LEVEL_THRESHOLDS.high, RISK_LEVEL_THRESHOLDS.critical];
  ticks.forEach((p, i) => {
    const kx = f.margin.left + 80 + i * 90;
    key.push(
      `<rect x="${kx}" y="${ky}" width="18" height="16" fill="${heatColor(p)}" stroke="#cccccc"/><text x="${kx + 24}" y="${ky + 12}">${i === 0 ? '≤ ' : i === ticks.length - 1 ? '≥ ' : ''}${formatPercent(p)}</text>`,
    );
  });
  out.push(`<g class="legend">${key.join('')}</g>`);
  out.push('</svg>');
  return out.join('\n');
}
