/**
 * The report's headlines as Markdown for an email or a chat message: the same figures as the top of the
 * HTML page, every list cut to its first rows with a count of the rest, so the message stays under
 * 100 lines whatever the fleet's size. Strings from the data are backslash-escaped (CommonMark allows
 * it before any punctuation), so a host name cannot break a table, start a link or inject HTML.
 */
import { DECISIONS } from '../economics/types.js';
import { GRADES, UNKNOWN_MARK } from '../health/score.js';
import { formatPercent, formatUsd } from './charts.js';
import { trendArrow, trendDelta } from './html.js';
import type { ReportData } from './types.js';

/** Rows per list: small enough that every section together stays well under 100 lines. */
export const MD_ROWS = 8;

export function escapeMarkdown(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|&]/g, (c) => `\\${c}`);
}

const md = (s: string | null): string => (s === null || s === '' ? UNKNOWN_MARK : escapeMarkdown(s));
const count = (n: number): string => n.toLocaleString('en-US');
const pct = (p: number | null): string => (p === null ? UNKNOWN_MARK : formatPercent(p));
const utc = (iso: string | null): string => (iso === null ? UNKNOWN_MARK : `${iso.slice(0, 16).replace('T', ' ')} UTC`);
const gpu = (g: { gpu_uuid: string; host: string | null }): string => `\`${g.gpu_uuid.replace(/`/g, '')}\` on ${md(g.host)}`;

function rest(total: number, shown: number): string[] {
  return total > shown ? [`- … and ${count(total - shown)} more (see the HTML or JSON report)`] : [];
}

export function renderMarkdown(r: ReportData): string {
  const f = r.fleet;
  const e = r.economics;
  const delta = trendDelta(r);
  const out: string[] = [];
  out.push(`# GPU fleet health — ${utc(r.at)}`, '');
  const index =
    f.health_index === null
      ? UNKNOWN_MARK
      : `${f.health_index.toFixed(1)}${delta === null ? '' : ` ${trendArrow(delta)} ${delta > 0 ? '+' : ''}${delta.toFixed(1)}`}`;
  out.push(
    `**Health index ${index}** · ${pct(f.share_good_or_better)} good or better · ` +
      `**${r.sources.predictions === null ? UNKNOWN_MARK : count(f.risk_levels.high + f.risk_levels.critical)} at high/critical risk** · ` +
      `${count(f.not_reporting)} of ${count(f.gpus)} GPUs not reporting`,
  );
  if (e !== null)
    out.push(
      `Fleet value ${formatUsd(e.fleet_value)} · monthly profit ${formatUsd(e.monthly_profit)} · **${count(e.for_sale.gpus)} GPUs to sell** (${formatUsd(e.for_sale.value)})`,
    );
  else out.push('No recommendations for this time (run `gpuhealth recommend`).');
  out.push('');

  out.push('## Grades', '');
  out.push(`| ${[...GRADES, 'unknown'].join(' | ')} |`, `|${[...GRADES, 'unknown'].map(() => '---:').join('|')}|`);
  out.push(`| ${[...GRADES, 'unknown'].map((g) => count(f.grades[g as keyof typeof f.grades])).join(' | ')} |`, '');
  if (r.previous_at === null) out.push('No previous report to compare with.');
  else if (r.grade_changes.length === 0) out.push(`No grade changes since ${utc(r.previous_at)}.`);
  else {
    const down = r.grade_changes.filter((c) => c.direction === 'down');
    out.push(`Since ${utc(r.previous_at)}: ${count(down.length)} down, ${count(r.grade_changes.length - down.length)} up.`);
    const shown = [...down, ...r.grade_changes.filter((c) => c.direction === 'up')].slice(0, MD_ROWS);
    for (const c of shown) out.push(`- ${c.direction === 'down' ? '▼' : '▲'} ${gpu(c)}: ${c.from ?? 'new'} → ${c.to ?? UNKNOWN_MARK}`);
    out.push(...rest(r.grade_changes.length, shown.length));
  }
  out.push('');

  out.push('## Top at-risk GPUs', '');
  if (r.sources.predictions === null) out.push('No predictions for this time (run `gpuhealth predict`).');
  else if (r.at_risk.length === 0) out.push('No GPU has a failure prediction.');
  else {
    const shown = r.at_risk.slice(0, MD_ROWS);
    out.push('| GPU | host | rack | P30 | risk | top factor | warranty left |', '|---|---|---|---:|---|---|---:|');
    for (const g of shown) {
      const factor = g.risk_factors[0] ?? g.top_factor;
      const warranty = g.warranty_days_left === null ? UNKNOWN_MARK : g.warranty_days_left < 0 ? 'expired' : `${count(g.warranty_days_left)} d`;
      out.push(
        `| \`${g.gpu_uuid.replace(/[`|]/g, '')}\` | ${md(g.host)} | ${md(g.rack)} | ${pct(g.failure_prob_30d)} | ${g.risk_level ?? UNKNOWN_MARK} | ${md(factor)} | ${warranty} |`,
      );
    }
    if (r.at_risk.length > shown.length) out.push('', `… and ${count(r.at_risk.length - shown.length)} more in the report.`);
  }
  out.push('');

  out.push("## Last day's events", '');
  const ev = r.events;
  const list = <T>(title: string, items: readonly T[], line: (x: T) => string, empty: string): void => {
    if (items.length === 0) {
      out.push(`**${title}:** ${empty}.`, '');
      return;
    }
    out.push(`**${title}** (${count(items.length)}):`);
    const shown = items.slice(0, MD_ROWS / 2);
    for (const x of shown) out.push(`- ${line(x)}`);
    out.push(...rest(items.length, shown.length), '');
  };
  list('Xid events', ev.xids, (x) => `${gpu(x)}: Xid ${x.xid} (${md(x.meaning)}) ×${x.count}`, 'none in the last day');
  list('New uncorrectable ECC errors', ev.uncorrectable_ecc, (c) => `${gpu(c)}: +${c.increase}`, 'none in the last day');
  list('New remapped rows', ev.remapped_rows, (c) => `${gpu(c)}: +${c.increase}`, 'none in the last day');
  list('Stopped reporting', ev.stopped_reporting, (s) => `${gpu(s)}: last sample ${utc(s.last_sample)}`, 'no GPU stopped reporting in the last day');

  out.push('## Recommendations', '');
  if (e === null) out.push('No recommendations for this time.');
  else {
    out.push(`Decisions: ${[...DECISIONS, 'none' as const].map((d) => `${d === 'none' ? 'no decision' : d} ${count(e.decisions[d])}`).join(' · ')}`);
    out.push(
      `Monthly revenue ${formatUsd(e.monthly_revenue)} − operating cost ${formatUsd(e.monthly_operating_cost)} = profit ${formatUsd(e.monthly_profit)}.`,
    );
    const sell = r.gpus.filter((g) => g.decision === 'sell').sort((a, b) => (b.expected_value ?? 0) - (a.expected_value ?? 0));
    const shown = sell.slice(0, MD_ROWS / 2);
    if (shown.length > 0) out.push(`To sell (${count(e.for_sale.gpus)}, ${formatUsd(e.for_sale.value)}):`);
    for (const g of shown)
      out.push(`- ${gpu(g)}: ${md(g.model)}, ${g.health_grade ?? UNKNOWN_MARK}, ${g.expected_value === null ? UNKNOWN_MARK : formatUsd(g.expected_value)}`);
    out.push(...rest(sell.length, shown.length));
    if (e.models_without_prices.length > 0) out.push('');
    if (e.models_without_prices.length > 0) out.push(`No prices for: ${e.models_without_prices.map(md).join(', ')} (add them under \`economics.models\`).`);
  }
  out.push('');

  out.push('## Data coverage', '');
  const c = r.coverage;
  const hosts = c.silent_hosts.slice(0, MD_ROWS / 2);
  out.push(
    c.silent_hosts.length === 0
      ? '- Every host is reporting.'
      : `- Silent hosts (${count(c.silent_hosts.length)}): ${hosts.map((h) => `${md(h.host)} (${count(h.gpus)} GPUs)`).join(', ')}${c.silent_hosts.length > hosts.length ? `, … ${count(c.silent_hosts.length - hosts.length)} more` : ''}`,
  );
  out.push(c.silent_gpus.length === 0 ? '- Every GPU is reporting.' : `- Silent GPUs: ${count(c.silent_gpus.length)}`);
  const signals = c.missing_signals.slice(0, MD_ROWS / 2);
  for (const m of signals) out.push(`- ${count(m.gpus)} GPUs without \`${m.signal.replace(/`/g, '')}\`: switch on \`${m.hint.replace(/`/g, '')}\``);
  if (c.missing_signals.length > signals.length) out.push(`- … and ${count(c.missing_signals.length - signals.length)} more missing signals`);
  out.push(
    c.ingest_rejects_last_day === 0
      ? '- No ingest rejects in the last day.'
      : `- ${count(c.ingest_rejects_last_day)} lines rejected by ingest in the last day (\`_ingest/rejects/\`).`,
  );
  out.push('', `_${count(f.gpus)} GPUs on ${count(f.hosts)} hosts · made ${utc(r.generated_at)} by gpuhealth report_`);
  return `${out.join('\n')}\n`;
}
