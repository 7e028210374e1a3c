/**
 * The fleet report as one self-contained HTML file: inline CSS (with a print stylesheet), inline SVG
 * charts (charts.ts) and a few lines of script that only sort tables. Nothing is fetched: a
 * Content-Security-Policy forbids it, so the file reads the same offline, from a mail attachment or
 * from a wiki. Every table is complete in the markup, so with scripts off the page loses only sorting.
 *
 * Sections run from what an operator needs in ten seconds (the headline cards and a "do this first"
 * line) down to the full GPU table. Every string from the data (GPU names, hosts, racks, file names)
 * is HTML-escaped; a null shows as "–"; an empty section says that it is empty.
 */
import { DECISIONS } from '../economics/types.js';
import { GRADES, UNKNOWN_MARK } from '../health/score.js';
import {
  DECISION_COLORS,
  formatPercent,
  formatUsd,
  GRADE_COLORS,
  gradeHistogramSvg,
  healthTrendSvg,
  rackHeatmapSvg,
  riskValueSvg,
  tempOutliersSvg,
} from './charts.js';
import type { ReportData, ReportGpu } from './types.js';

/** The full GPU table stops here (worst first): a browser stays quick, and the JSON holds every GPU. */
export const FULL_TABLE_LIMIT = 2000;
/** Lists that grow with the fleet (events, silent GPUs, GPUs to sell) show this many rows in the page. */
export const LIST_LIMIT = 100;
/** Grade changes sit above the at-risk table: a big fleet's hundreds of changes would push it off the first screen. */
export const GRADE_CHANGES_LIMIT = 25;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const NULL = `<span class="null">${UNKNOWN_MARK}</span>`;
const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;
const utc = (iso: string | null): string => (iso === null ? UNKNOWN_MARK : `${iso.slice(0, 16).replace('T', ' ')} UTC`);

/** A table cell: the shown HTML and, for numbers, the value the sorting script compares. */
interface Cell {
  html: string;
  sort?: number | null;
  cls?: string;
}

const text = (s: string | null | undefined): Cell => ({ html: s === null || s === undefined || s === '' ? NULL : escapeHtml(s) });
/** Free text (factors, rationales): the only cells allowed to wrap, so identifiers and numbers stay on one line. */
const prose = (s: string | null | undefined): Cell => ({ ...text(s), cls: 'wrap' });
const num = (v: number | null, show: (v: number) => string = (x) => String(x)): Cell => ({ html: v === null ? NULL : escapeHtml(show(v)), sort: v, cls: 'n' });

/**
 * A GPU in the shorter tables: the UUID's first block is enough to tell GPUs apart beside their host,
 * and keeps the table within a screen; the whole UUID is in the tooltip and in the full GPU table.
 */
function gpuCell(g: { gpu_uuid: string }, full = false): Cell {
  const shown = full || g.gpu_uuid.length <= 16 ? g.gpu_uuid : `${g.gpu_uuid.slice(0, 12)}…`;
  return { html: `<code title="${escapeHtml(g.gpu_uuid)}">${escapeHtml(shown)}</code>` };
}

function gradeCell(grade: string | null): Cell {
  if (grade === null) return { html: NULL, sort: null };
  return { html: `<span class="badge g-${escapeHtml(grade)}">${escapeHtml(grade)}</span>`, sort: (GRADES as readonly string[]).indexOf(grade) };
}

function riskCell(level: string | null): Cell {
  if (level === null) return { html: NULL, sort: null };
  return { html: `<span class="badge r-${escapeHtml(level)}">${escapeHtml(level)}</span>`, sort: ['low', 'medium', 'high', 'critical'].indexOf(level) };
}

function decisionCell(d: string | null): Cell {
  if (d === null) return { html: NULL };
  return { html: `<span class="badge d-${escapeHtml(d)}">${escapeHtml(d)}</span>` };
}

function warrantyCell(days: number | null): Cell {
  if (days === null) return { html: NULL, sort: null, cls: 'n' };
  return { html: days < 0 ? `<span class="muted">expired ${count(-days)} d ago</span>` : `${count(days)} d`, sort: days, cls: 'n' };
}

function table(id: string, headers: readonly string[], rows: readonly Cell[][], opts: { total?: number; more?: string } = {}): string {
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r
          .map((c) => {
            const sort = c.sort === undefined ? '' : ` data-v="${c.sort === null ? '' : c.sort}"`;
            return `<td${c.cls ? ` class="${c.cls}"` : ''}${sort}>${c.html}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  const total = opts.total ?? rows.length;
  const cut = total > rows.length ? `<p class="more">Showing ${count(rows.length)} of ${count(total)}${opts.more ? `; ${opts.more}` : ''}.</p>` : '';
  return `<div class="table-wrap"><table id="${id}" class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>${cut}`;
}

const none = (s: string): string => `<p class="none">${escapeHtml(s)}</p>`;

interface Card {
  label: string;
  value: string;
  sub: string;
  tone?: 'good' | 'warn' | 'bad';
}

function cards(list: readonly Card[]): string {
  return `<div class="cards">${list
    .map(
      (c) =>
        `<div class="card${c.tone ? ` ${c.tone}` : ''}"><div class="label">${c.label}</div><div class="value">${c.value}</div><div class="sub">${c.sub}</div></div>`,
    )
    .join('')}</div>`;
}

/** The change of the health index since the previous trend point with a value. */
export function trendDelta(r: ReportData): number | null {
  const pts = r.trend.filter((p) => p.health_index !== null);
  if (pts.length < 2 || r.fleet.health_index === null) return null;
  return Math.round((r.fleet.health_index - pts.at(-2)!.health_index!) * 10) / 10;
}

export function trendArrow(delta: number | null): string {
  if (delta === null) return '';
  return delta > 0 ? '▲' : delta < 0 ? '▼' : '▶';
}

function headline(r: ReportData): string {
  const f = r.fleet;
  const delta = trendDelta(r);
  const atRisk = f.risk_levels.high + f.risk_levels.critical;
  const e = r.economics;
  const list: Card[] = [
    {
      label: 'Health index',
      value: f.health_index === null ? UNKNOWN_MARK : `${f.health_index.toFixed(1)} <span class="arrow">${trendArrow(delta)}</span>`,
      sub: delta === null ? 'mean score of the graded GPUs (0–100)' : `${delta > 0 ? '+' : ''}${delta.toFixed(1)} since the previous report`,
      tone: delta === null ? undefined : delta < -0.5 ? 'bad' : delta > 0.5 ? 'good' : undefined,
    },
    {
      label: 'Good or better',
      value: f.share_good_or_better === null ? UNKNOWN_MARK : formatPercent(f.share_good_or_better),
      sub: `of ${plural(f.gpus - f.grades.unknown, 'graded GPU')}`,
    },
    {
      label: 'At high or critical risk',
      value: r.sources.predictions === null ? UNKNOWN_MARK : count(atRisk),
      sub:
        r.sources.predictions === null
          ? 'no predictions for this time'
          : `${count(f.risk_levels.critical)} critical · ${count(f.risk_levels.high)} high (30 days)`,
      tone: f.risk_levels.critical > 0 ? 'bad' : atRisk > 0 ? 'warn' : 'good',
    },
    {
      label: 'Not reporting',
      value: count(f.not_reporting),
      sub: `of ${plural(f.gpus, 'GPU')} · ${plural(r.coverage.silent_hosts.length, 'silent host')}`,
      tone: f.not_reporting > 0 ? 'warn' : 'good',
    },
    {
      label: 'Fleet value',
      value: e === null ? UNKNOWN_MARK : formatUsd(e.fleet_value),
      sub: e === null ? 'no recommendations for this time' : `monthly profit ${formatUsd(e.monthly_profit)}`,
    },
    {
      label: 'To sell',
      value: e === null ? UNKNOWN_MARK : count(e.for_sale.gpus),
      sub: e === null ? UNKNOWN_MARK : `GPUs worth ${formatUsd(e.for_sale.value)}`,
      tone: e !== null && e.for_sale.gpus > 0 ? 'warn' : undefined,
    },
  ];
  const todo: string[] = [];
  if (f.risk_levels.critical > 0)
    todo.push(`drain the ${plural(f.risk_levels.critical, 'GPU')} at critical risk before ${f.risk_levels.critical === 1 ? 'its' : 'their'} next long job`);
  if (r.events.uncorrectable_ecc.length > 0) todo.push(`check the ${plural(r.events.uncorrectable_ecc.length, 'GPU')} with new uncorrectable ECC errors`);
  if (r.events.stopped_reporting.length > 0) todo.push(`find out why ${plural(r.events.stopped_reporting.length, 'GPU')} stopped reporting`);
  if (e !== null && e.for_sale.gpus > 0) todo.push(`list ${plural(e.for_sale.gpus, 'GPU')} for sale`);
  const missing: string[] = [];
  if (r.sources.scores === null) missing.push('scores (run <code>gpuhealth score</code>)');
  if (r.sources.predictions === null) missing.push('predictions (run <code>gpuhealth predict</code>)');
  if (r.sources.recommendations === null) missing.push('recommendations (run <code>gpuhealth recommend</code>)');
  return [
    '<header>',
    `<h1>GPU fleet health <span class="when">${escapeHtml(utc(r.at))}</span></h1>`,
    `<p class="meta">${plural(r.fleet.gpus, 'GPU')} on ${plural(r.fleet.hosts, 'host')} · lake <code>${escapeHtml(r.lake)}</code> · made ${escapeHtml(utc(r.generated_at))}</p>`,
    cards(list),
    todo.length > 0
      ? `<p class="todo"><strong>First:</strong> ${todo.join('; ')}.</p>`
      : '<p class="todo ok"><strong>Nothing urgent:</strong> no GPU at critical risk, no new uncorrectable errors, none stopped reporting.</p>',
    missing.length > 0 ? `<p class="warn-line">The lake has no ${missing.join(', ')} for this time: those figures show as ${UNKNOWN_MARK}.</p>` : '',
    '</header>',
  ].join('\n');
}

function gradesSection(r: ReportData): string {
  const changes = r.grade_changes;
  const down = changes.filter((c) => c.direction === 'down').length;
  const shown = [...changes].sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'down' ? -1 : 1)).slice(0, GRADE_CHANGES_LIMIT);
  const rows = shown.map((c) => [
    gpuCell(c),
    text(c.host),
    c.from === null ? { html: '<span class="muted">new</span>', sort: null } : gradeCell(c.from),
    gradeCell(c.to),
    { html: c.direction === 'down' ? '<span class="down">▼ down</span>' : '<span class="up">▲ up</span>' },
  ]);
  const since = r.previous_at === null ? '' : ` since ${escapeHtml(utc(r.previous_at))}`;
  return [
    '<section id="grades"><h2>Grades</h2>',
    `<div class="charts">${gradeHistogramSvg(r.fleet.grades)}${healthTrendSvg(r.trend)}</div>`,
    `<h3>Grade changes${since}</h3>`,
    r.previous_at === null
      ? none('no previous report in the lake to compare with')
      : changes.length === 0
        ? none('no GPU changed grade since the previous report')
        : `<p>${plural(down, 'GPU')} down, ${count(changes.length - down)} up.</p>${table('grade-changes', ['GPU', 'host', 'from', 'to', 'change'], rows, { total: changes.length, more: 'the JSON report lists them all' })}`,
    '</section>',
  ].join('\n');
}

function riskSection(r: ReportData): string {
  const rows = r.at_risk.map((g) => [
    gpuCell(g),
    text(g.host),
    text(g.rack),
    text(g.model),
    num(g.failure_prob_30d, formatPercent),
    riskCell(g.risk_level),
    text(g.predicted_failure_type),
    { html: factors(g), cls: 'wrap' },
    warrantyCell(g.warranty_days_left),
    decisionCell(g.decision),
  ]);
  return [
    '<section id="risk"><h2>Top at-risk GPUs</h2>',
    r.sources.predictions === null
      ? none('no predictions for this time: run gpuhealth predict')
      : rows.length === 0
        ? none('no GPU has a failure prediction')
        : table('at-risk', ['GPU', 'host', 'rack', 'model', 'P30', 'risk', 'likely failure', 'top factors', 'warranty left', 'decision'], rows),
    '<p class="hint">P30: the probability that the GPU fails within 30 days. Risk: low &lt; 1 %, medium ≥ 1 %, high ≥ 5 % (drain at the next job boundary and run <code>dcgmi diag -r 3</code>), critical ≥ 20 % (should not start a long job).</p>',
    `<div class="charts">${tempOutliersSvg(r.gpus)}${rackHeatmapSvg(r.racks)}</div>`,
    '</section>',
  ].join('\n');
}

function factors(g: ReportGpu): string {
  const list = g.risk_factors.length > 0 ? g.risk_factors : g.top_factor ? [g.top_factor] : [];
  if (list.length === 0) return NULL;
  return `<ul class="factors">${list.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`;
}

function eventsSection(r: ReportData): string {
  const ev = r.events;
  const counters = (id: string, list: typeof ev.uncorrectable_ecc, label: string, empty: string): string =>
    list.length === 0
      ? none(empty)
      : table(
          id,
          ['GPU', 'host', label],
          list.slice(0, LIST_LIMIT).map((c) => [gpuCell(c), text(c.host), num(c.increase)]),
          { total: list.length },
        );
  return [
    '<section id="events"><h2>Last day\'s events</h2>',
    '<h3>Xid events</h3>',
    ev.xids.length === 0
      ? none('no Xid events in the last day')
      : table(
          'xids',
          ['GPU', 'host', 'Xid', 'meaning', 'count', 'last'],
          ev.xids.slice(0, LIST_LIMIT).map((x) => [gpuCell(x), text(x.host), num(x.xid), prose(x.meaning), num(x.count), text(utc(x.last))]),
          { total: ev.xids.length, more: 'the JSON report lists them all' },
        ),
    '<h3>New uncorrectable ECC errors</h3>',
    counters('uncorrectable-ecc', ev.uncorrectable_ecc, 'new errors', 'no new uncorrectable ECC errors in the last day'),
    '<h3>New remapped rows</h3>',
    counters('remapped-rows', ev.remapped_rows, 'new rows', 'no new remapped rows in the last day'),
    '<h3>GPUs that stopped reporting</h3>',
    ev.stopped_reporting.length === 0
      ? none('no GPU stopped reporting in the last day')
      : table(
          'stopped',
          ['GPU', 'host', 'last sample'],
          ev.stopped_reporting.slice(0, LIST_LIMIT).map((s) => [gpuCell(s), text(s.host), text(utc(s.last_sample))]),
          { total: ev.stopped_reporting.length },
        ),
    '</section>',
  ].join('\n');
}

function economicsSection(r: ReportData): string {
  const e = r.economics;
  if (e === null)
    return `<section id="economics"><h2>Recommendations and economics</h2>\n${none('no recommendations for this time: run gpuhealth recommend')}\n</section>`;
  const forSale = r.gpus.filter((g) => g.decision === 'sell').sort((a, b) => (b.expected_value ?? 0) - (a.expected_value ?? 0));
  const decisions = [...DECISIONS, 'none' as const].map((d) => [
    d === 'none' ? { html: '<span class="muted">no decision</span>' } : decisionCell(d),
    num(e.decisions[d]),
    { html: d === 'none' ? 'no prices for the model, or nothing measured' : DECISION_TEXT[d], cls: 'wrap' },
  ]);
  return [
    '<section id="economics"><h2>Recommendations and economics</h2>',
    cards([
      { label: 'Fleet value', value: formatUsd(e.fleet_value), sub: 'Σ expected value of the best decision per GPU' },
      { label: 'Monthly revenue', value: formatUsd(e.monthly_revenue), sub: 'as the fleet runs now' },
      { label: 'Monthly operating cost', value: formatUsd(e.monthly_operating_cost), sub: 'power, maintenance, expected failures' },
      { label: 'Monthly profit', value: formatUsd(e.monthly_profit), sub: 'revenue − operating cost', tone: e.monthly_profit < 0 ? 'bad' : undefined },
      { label: 'To sell', value: count(e.for_sale.gpus), sub: `GPUs worth ${formatUsd(e.for_sale.value)}` },
    ]),
    `<div class="charts"><div>${table('decisions', ['decision', 'GPUs', 'meaning'], decisions)}</div>${riskValueSvg(r.gpus)}</div>`,
    e.models_without_prices.length > 0
      ? `<p class="warn-line">No prices for ${e.models_without_prices.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ')}: add them under <code>economics.models</code> in gpuhealth.json (docs/economics.md).</p>`
      : '',
    '<h3>GPUs to sell</h3>',
    forSale.length === 0
      ? none('no GPU to sell')
      : table(
          'for-sale',
          ['GPU', 'host', 'model', 'grade', 'P30', 'expected value', 'rationale'],
          forSale
            .slice(0, LIST_LIMIT)
            .map((g) => [
              gpuCell(g),
              text(g.host),
              text(g.model),
              gradeCell(g.health_grade),
              num(g.failure_prob_30d, formatPercent),
              num(g.expected_value, formatUsd),
              prose(g.rationale),
            ]),
          { total: forSale.length },
        ),
    '</section>',
  ].join('\n');
}

const DECISION_TEXT: Record<(typeof DECISIONS)[number], string> = {
  keep: 'keep it in service',
  sell: 'sell it used while it still fetches its grade’s price',
  repurpose: 'move it to inference or batch work',
  decommission: 'take it out of service (salvage)',
};

function coverageSection(r: ReportData): string {
  const c = r.coverage;
  return [
    '<section id="coverage"><h2>Data coverage</h2>',
    '<h3>Silent hosts</h3>',
    c.silent_hosts.length === 0
      ? none('every host is reporting')
      : table(
          'silent-hosts',
          ['host', 'GPUs', 'last sample'],
          c.silent_hosts.map((h) => [text(h.host), num(h.gpus), text(utc(h.last_sample))]),
        ),
    '<h3>Silent GPUs</h3>',
    c.silent_gpus.length === 0
      ? none('every GPU is reporting')
      : table(
          'silent-gpus',
          ['GPU', 'host', 'last sample'],
          c.silent_gpus.slice(0, LIST_LIMIT).map((s) => [gpuCell(s), text(s.host), text(utc(s.last_sample))]),
          { total: c.silent_gpus.length },
        ),
    '<h3>Missing signals</h3>',
    c.missing_signals.length === 0
      ? none('no signal is missing')
      : table(
          'missing-signals',
          ['signal', 'GPUs without it', 'switch it on with'],
          c.missing_signals.map((m) => [
            { html: `<code>${escapeHtml(m.signal)}</code>` },
            num(m.gpus),
            { html: `<code>${escapeHtml(m.hint)}</code>`, cls: 'wrap' },
          ]),
        ),
    '<h3>Ingest rejects</h3>',
    c.ingest_rejects_last_day === 0
      ? none('no ingest rejects in the last day')
      : `<p>${plural(c.ingest_rejects_last_day, 'line')} rejected in the last day${c.ingest_reject_files.length > 0 ? `, from: ${c.ingest_reject_files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}` : ''}. The reasons are in <code>_ingest/rejects/</code>.</p>`,
    '</section>',
  ].join('\n');
}

function gpusSection(r: ReportData): string {
  const shown = r.gpus.slice(0, FULL_TABLE_LIMIT);
  const score = (v: number | null): Cell => num(v, (x) => x.toFixed(1));
  const rows = shown.map((g) => [
    gpuCell(g, true),
    text(g.host),
    text(g.rack),
    text(g.model),
    score(g.overall_score),
    gradeCell(g.health_grade),
    score(g.memory_health),
    score(g.thermal_health),
    score(g.performance_health),
    score(g.power_health),
    score(g.reliability_health),
    num(g.failure_prob_7d, formatPercent),
    num(g.failure_prob_30d, formatPercent),
    num(g.failure_prob_90d, formatPercent),
    riskCell(g.risk_level),
    decisionCell(g.decision),
    num(g.expected_value, formatUsd),
    warrantyCell(g.warranty_days_left),
    num(g.temp_excess_at_power, (v) => `${v > 0 ? '+' : ''}${v}`),
    text(g.recommended_action),
    prose(g.top_factor),
    { html: g.not_reporting ? '<span class="down">silent</span>' : '' },
  ]);
  return [
    '<section id="gpus"><h2>All GPUs</h2>',
    r.gpus.length === 0
      ? none('no GPUs in this report')
      : table(
          'all-gpus',
          [
            'GPU',
            'host',
            'rack',
            'model',
            'score',
            'grade',
            'memory',
            'thermal',
            'perf.',
            'power',
            'reliab.',
            'P7',
            'P30',
            'P90',
            'risk',
            'decision',
            'value',
            'warranty left',
            '°C vs peers',
            'action',
            'top factor',
            'status',
          ],
          rows,
          {
            total: r.gpus.length,
            more: `the worst first; the other ${count(r.gpus.length - shown.length)} are in the JSON report (gpuhealth report --format json)`,
          },
        ),
    '</section>',
  ].join('\n');
}

const STYLE = `
:root { --ink: #1d232a; --muted: #5f6b76; --line: #d8dde3; --bg: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1360px; margin: 0 auto; padding: 16px 24px 48px; }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 16px; }
h1 { font-size: 22px; margin: 0 0 2px; } h1 .when { font-weight: normal; color: var(--muted); }
h2 { font-size: 18px; margin: 0 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 6px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav { margin: 0 0 12px; font-size: 13px; } nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; }
.meta, .hint, .more { color: var(--muted); font-size: 12px; margin: 4px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-left: 6px solid #8a99a8; border-radius: 6px; padding: 8px 12px; background: #fff; }
.card.good { border-left-color: #1b7837; } .card.warn { border-left-color: #e69f00; } .card.bad { border-left-color: #b2182b; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 30px; font-weight: 700; line-height: 1.2; }
.card.bad .value { color: #b2182b; }
.card .sub { font-size: 12px; color: var(--muted); }
.arrow { font-size: 20px; }
.todo { font-size: 15px; margin: 8px 0 0; padding: 8px 12px; background: #fff4e5; border-radius: 6px; }
.todo.ok { background: #e9f5ec; }
.warn-line { background: #fdecea; padding: 6px 10px; border-radius: 6px; }
.none { color: var(--muted); font-style: italic; margin: 4px 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; margin: 10px 0; }
.chart { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 200px; max-width: 420px; }
th { background: #eef1f4; position: sticky; top: 0; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.null, .muted { color: #8a96a3; }
.factors { margin: 0; padding-left: 16px; } .factors li { margin: 0; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; white-space: nowrap; }
${Object.entries(GRADE_COLORS)
  .map(([g, c]) => `.g-${g} { background: ${c}; color: ${['fair', 'degraded', 'unknown'].includes(g) ? '#1d232a' : '#fff'}; }`)
  .join('\n')}
.r-low { background: #e9f5ec; color: #1b5e20; } .r-medium { background: #fdb863; } .r-high { background: #e66101; color: #fff; } .r-critical { background: #b2182b; color: #fff; }
${Object.entries(DECISION_COLORS)
  .map(([d, c]) => `.d-${d} { border: 1px solid ${c}; color: ${c}; }`)
  .join('\n')}
.down { color: #b2182b; } .up { color: #1b7837; }
footer { color: var(--muted); font-size: 12px; text-align: center; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  header, section { border: none; padding: 0; margin: 0 0 12pt; }
  h2 { break-after: avoid; }
  .cards { grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); }
  .card .value { font-size: 22px; }
  .charts .chart { max-width: 48%; }
  .cards, .chart, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  table { font-size: 7.5pt; width: 100%; }
  th, td { white-space: normal; padding: 2px 4px; }
  td.wrap { min-width: 0; }
  td.n, .badge { white-space: nowrap; }
  code, .badge { font-size: 7pt; }
  th { position: static; cursor: auto; }
  thead { display: table-header-group; }
  th[aria-sort]::after { content: ""; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/**
 * Click a header to sort by it (again to reverse). Numbers sort by data-v; empty values go last either
 * way. The attribute on <html> tells a reader (and the browser test) that the script ran.
 */
const SCRIPT = `
(function () {
  function key(td) {
    if (!td) return null;
    var v = td.getAttribute('data-v');
    if (v !== null) return v === '' ? null : Number(v);
    var t = td.textContent.trim();
    return t === '' || t === '${UNKNOWN_MARK}' ? null : t.toLowerCase();
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(ths, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  });
  document.documentElement.setAttribute('data-sortable-tables', String(tables.length));
})();
`;

export function renderHtml(r: ReportData): string {
  const title = `GPU fleet health ${utc(r.at)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="gpuhealth report (schema ${r.schema_version})">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<nav><a href="#grades">Grades</a><a href="#risk">At risk</a><a href="#events">Last day</a><a href="#economics">Economics</a><a href="#coverage">Coverage</a><a href="#gpus">All GPUs</a></nav>
${headline(r)}
${gradesSection(r)}
${riskSection(r)}
${eventsSection(r)}
${economicsSection(r)}
${coverageSection(r)}
${gpusSection(r)}
<footer>gpuhealth report · results at ${escapeHtml(utc(r.at))} · JSON schema version ${r.schema_version} (docs/report.md)</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
