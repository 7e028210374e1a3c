/**
 * All rendering lives here: human tables (cli-table3), CSV and JSON. Commands compute plain data and
 * hand it over; stdout carries data only.
 */
import Table from 'cli-table3';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | boolean | null | undefined | readonly unknown[] | Record<string, unknown>;
export type Row = Record<string, Cell>;

export interface ColumnDef {
  key: string;
  header?: string;
  /** Human rendering only; CSV and JSON always carry the raw value. */
  format?: (v: Cell) => string;
}

/** Null in a human table is shown as an en dash, as the scoring docs promise. */
export const NULL_MARK = '–';

function human(v: Cell): string {
  if (v === null || v === undefined) return NULL_MARK;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(';') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows are plain objects (typed results of lib functions); columns pick and order their fields. */
const cell = (r: object, key: string): Cell => (r as Record<string, Cell>)[key];

export function renderTable(rows: readonly object[], columns: readonly ColumnDef[]): string {
  const table = new Table({ head: columns.map((c) => c.header ?? c.key), style: { head: [], border: [] } });
  for (const r of rows) table.push(columns.map((c) => (c.format ? c.format(cell(r, c.key)) : human(cell(r, c.key)))));
  return table.toString();
}

export function renderCsv(rows: readonly object[], columns: readonly ColumnDef[]): string {
  const lines = [columns.map((c) => csvField(c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(cell(r, c.key))).join(','));
  return lines.join('\n');
}

export function renderJson(data: unknown): string {
  return JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2);
}

/** Renders a list of rows in the chosen format. */
export function renderRows(rows: readonly object[], columns: readonly ColumnDef[], format: OutputFormat): string {
  if (format === 'json') return renderJson(rows);
  if (format === 'csv') return renderCsv(rows, columns);
  return renderTable(rows, columns);
}

/** Renders a key/value record (a summary) in the chosen format. */
export function renderRecord(record: Row, format: OutputFormat, title?: string): string {
  if (format === 'json') return renderJson(record);
  const rows = Object.entries(record).map(([field, value]) => ({ field, value }));
  if (format === 'csv') return renderCsv(rows, [{ key: 'field' }, { key: 'value' }]);
  const table = new Table({ head: title ? [title, ''] : [], style: { head: [], border: [] } });
  for (const r of rows) table.push([r.field, human(r.value as Cell)]);
  return table.toString();
}
