/** How recommendation rows and the fleet totals render (the recommend command and the demo). */
import type { DecisionFlip } from '../economics/types.js';
import { RECOMMENDATION_COLUMNS, type FleetTotals } from '../stage/recommend.js';
import type { Cell, ColumnDef } from './output.js';

/** "$21,400" (to the dollar), "–" for none. */
export function usd(v: Cell | number): string {
  if (typeof v !== 'number') return '–';
  const s = `$${Math.round(Math.abs(v)).toLocaleString('en-US')}`;
  return v < 0 ? `-${s}` : s;
}

const pct = (v: Cell): string => (typeof v === 'number' ? `${(100 * v).toFixed(v < 0.001 ? 2 : 1)}%` : '–');

/** A flip as "rental_rate −20 % → sell". */
export function flipText(f: DecisionFlip): string {
  return `${f.input} ${f.change > 0 ? '+' : '−'}${Math.round(Math.abs(f.change) * 100)} % → ${f.decision}`;
}

const flips = (v: Cell): string => (Array.isArray(v) ? (v as unknown as DecisionFlip[]).map(flipText).join('; ') : '');

export const RECOMMENDATION_TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host', dropRank: 4 },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')), dropRank: 1 },
  { key: 'decision', format: (v) => String(v ?? '–') },
  { key: 'expected_value', header: 'value', format: usd },
  { key: 'npv_keep', header: 'keep', format: usd, dropRank: 3 },
  { key: 'npv_sell', header: 'sell', format: usd, dropRank: 3 },
  { key: 'health_grade', header: 'grade', format: (v) => String(v ?? '–'), dropRank: 2 },
  { key: 'failure_prob_30d', header: 'P30', format: pct, dropRank: 2 },
  { key: 'utilization', header: 'util', format: (v) => (typeof v === 'number' ? `${Math.round(100 * v)}%` : '–'), dropRank: 2 },
  { key: 'confidence', header: 'conf', format: (v) => (typeof v === 'number' ? v.toFixed(2) : '–'), dropRank: 3 },
  { key: 'rationale', fit: 'wrap' },
];

/** With --sensitivity: the flips after the value columns. */
export const SENSITIVITY_TABLE_COLUMN: ColumnDef = { key: 'sensitivity', header: 'flips at ±20 %', format: flips, fit: 'wrap' };

/** CSV: the JSON fields; the flips as their texts joined with '; '. */
export const RECOMMENDATION_CSV_COLUMNS: ColumnDef[] = Object.keys(RECOMMENDATION_COLUMNS).map((key) => ({
  key,
  ...(key === 'sensitivity' ? { format: flips } : {}),
}));

/** The fleet totals as lines for stderr. */
export function totalsLines(t: FleetTotals): string[] {
  const d = t.decisions;
  const lines = [
    `fleet: ${t.gpus} GPUs worth ${usd(t.fleet_value)}; a month as it runs: revenue ${usd(t.monthly_revenue)}, operating cost ${usd(t.monthly_operating_cost)} (power, maintenance, expected failures), profit ${usd(t.monthly_profit)}`,
    `decisions: ${d.keep} keep, ${d.sell} sell, ${d.repurpose} repurpose, ${d.decommission} decommission${t.rma_under_warranty ? ` (${t.rma_under_warranty} RMA under warranty)` : ''}${d.none ? `, ${d.none} without a decision` : ''}`,
  ];
  if (t.for_sale.gpus > 0) {
    const shown = t.for_sale.list.slice(0, 10).map((g) => `${g.gpu_uuid} ${usd(g.value)}`);
    lines.push(
      `for sale: ${t.for_sale.gpus} GPU${t.for_sale.gpus === 1 ? '' : 's'} worth ${usd(t.for_sale.value)}: ${shown.join(', ')}${t.for_sale.gpus > 10 ? `, and ${t.for_sale.gpus - 10} more (--decision sell)` : ''}`,
    );
  }
  if (t.models_without_prices.length > 0)
    lines.push(
      `no prices for ${t.models_without_prices.join(', ')}: their GPUs have no decision; add them under economics.models in the config (gpuhealth config init writes a starter)`,
    );
  if (t.sensitivity) {
    const by = Object.entries(t.sensitivity.flips)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    lines.push(
      `sensitivity: ${t.sensitivity.gpus_with_flips} of ${t.gpus} decisions flip when an input moves ±20 %${by ? ` (${by})` : ''}; the others are robust`,
    );
  }
  return lines;
}
