/**
 * All rendering lives here: human tables (cli-table3), CSV and JSON. Commands compute plain data and
 * hand it over; stdout carries data only. Human tables fit the terminal they are given (see fitTable);
 * CSV and JSON always carry every column and whole values.
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
  /**
   * How the column gives way in a table wider than the terminal (never with `wide`): `wrap` breaks
   * its cells into lines; `id` cuts every cell, fitting or not, to the shortest prefix of at least
   * ID_MIN characters that still tells the rows apart, marked with `…` (`--gpu` takes such a prefix).
   */
  fit?: 'wrap' | 'id';
  /** Left out, lowest rank first, while the table is still too wide (never with `wide`). */
  dropRank?: number;
}

export interface TableOptions {
  /** Columns the table must fit into; no limit when absent. */
  width?: number;
  /** Whole values and every column, however wide the table gets. */
  wide?: boolean;
}

/** `GPU-` and 8 hex digits (32 bits); a table cuts longer where its rows need it to tell them apart. */
export const ID_MIN = 12;
const CUT = '…';
/** A wrap column keeps whole words up to this long while columns can still be left out… */
const WRAP_WORD = 30;
/** …and at least this width when none can (longer words are broken). */
const WRAP_MIN = 12;

/** Null in a human table is shown as an en dash, as the scoring docs promise. */
export const NULL_MARK = '–';

/**
 * C0 and C1 control characters (but tab and newline), DEL, and the bidirectional overrides: what a
 * terminal acts on (escape sequences, a title change, text shown reversed) instead of showing.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from input files (a rejected line, a file name, a value in a message) made safe for a
 * terminal: every control character as a visible escape (`\x1b`, `\u202e`). JSON and CSV output
 * carry values as they are; this is for text a person reads on a terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

function human(v: Cell): string {
  if (v === null || v === undefined) return NULL_MARK;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (Array.isArray(v)) return printable(v.join(', '));
  if (typeof v === 'object') return JSON.stringify(v);
  return printable(String(v));
}

export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(';') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows are plain objects (typed results of lib functions); columns pick and order their fields. */
const cell = (r: object, key: string): Cell => (r as Record<string, Cell>)[key];

/** Display width, counting code points (the tables hold no double-width text of their own). */
const textWidth = (s: string): number => Math.max(0, ...s.split('\n').map((l) => [...l].length));

/** The cells of an `id` column, each cut to the shortest prefix (≥ ID_MIN) that keeps them distinct. */
function cutIds(values: readonly string[]): string[] {
  const distinct = new Set(values).size;
  const longest = Math.max(0, ...values.map((v) => v.length));
  let n = ID_MIN;
  while (n < longest && new Set(values.map((v) => v.slice(0, n))).size < distinct) n++;
  return values.map((v) => (v.length > n ? `${v.slice(0, n)}${CUT}` : v));
}

/** Breaks text into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      let w = word;
      if (line !== '' && [...line].length + 1 + [...w].length <= width) {
        line += ` ${w}`;
        continue;
      }
      if (line !== '') lines.push(line);
      while ([...w].length > width) {
        lines.push([...w].slice(0, width).join(''));
        w = [...w].slice(width).join('');
      }
      line = w;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** Width of a table whose columns hold `widths` characters: one space either side, and the borders. */
const tableWidth = (widths: readonly number[]): number => widths.reduce((a, w) => a + w + 3, 1);

/** Longest word of a cell (a wrapped column tries not to break words up to WRAP_WORD characters). */
const longestWord = (s: string): number => Math.max(0, ...s.split(/[ \n]/).map((w) => [...w].length));

/**
 * Which columns to show, and how wide each wrap column may be, so that the table fits `width`. First the
 * wrap columns shrink to their longest word (up to WRAP_WORD); then column groups are left out by
 * `dropRank`; when none is left, wrap columns break words down to WRAP_MIN. Null widths mean natural
 * width. When nothing more can give way, the table is wider than `width`.
 */
function fitTable(
  columns: readonly ColumnDef[],
  head: readonly string[],
  cells: readonly string[][],
  width: number,
): { keep: number[]; widths: (number | null)[] } {
  const natural = columns.map((_, i) => Math.max(textWidth(head[i]!), ...cells.map((r) => textWidth(r[i]!))));
  const floor = (i: number, words: boolean): number => {
    if (columns[i]!.fit !== 'wrap') return natural[i]!;
    const word = words ? Math.min(WRAP_WORD, Math.max(0, ...cells.map((r) => longestWord(r[i]!)))) : 0;
    return Math.min(natural[i]!, Math.max(WRAP_MIN, textWidth(head[i]!), word));
  };
  const ranks = [...new Set(columns.map((c) => c.dropRank).filter((r): r is number => r !== undefined))].sort((a, b) => a - b);
  let keep = columns.map((_, i) => i);
  for (;;) {
    const widths: (number | null)[] = columns.map(() => null);
    if (tableWidth(keep.map((i) => natural[i]!)) <= width) return { keep, widths };
    const words = tableWidth(keep.map((i) => floor(i, true))) <= width;
    if (words || ranks.length === 0) {
      // each wrap column gets its floor, and the room left goes to them in turn, up to natural width
      const floors = keep.map((i) => floor(i, words));
      let room = width - tableWidth(floors);
      keep.forEach((i, k) => {
        if (columns[i]!.fit !== 'wrap') return;
        const extra = Math.max(0, Math.min(room, natural[i]! - floors[k]!));
        widths[i] = floors[k]! + extra;
        room -= extra;
      });
      return { keep, widths };
    }
    const rank = ranks.shift();
    keep = keep.filter((i) => columns[i]!.dropRank !== rank);
  }
}

export function renderTable(rows: readonly object[], columns: readonly ColumnDef[], opts: TableOptions = {}): string {
  let cells = rows.map((r) => columns.map((c) => (c.format ? c.format(cell(r, c.key)) : human(cell(r, c.key)))));
  let head = columns.map((c) => c.header ?? c.key);
  if (!opts.wide) {
    columns.forEach((c, i) => {
      if (c.fit !== 'id') return;
      const cut = cutIds(cells.map((r) => r[i]!));
      cells = cells.map((r, j) => r.map((v, k) => (k === i ? cut[j]! : v)));
    });
    if (opts.width !== undefined) {
      const { keep, widths } = fitTable(columns, head, cells, opts.width);
      const wrap = (v: string, i: number): string => (widths[i] === null ? v : wrapText(v, widths[i]!));
      head = keep.map((i) => wrap(head[i]!, i));
      cells = cells.map((r) => keep.map((i) => wrap(r[i]!, i)));
    }
  }
  // a record without a title has no header row
  const table = new Table({ head: head.every((h) => h === '') ? [] : head, style: { head: [], border: [] } });
  for (const r of cells) table.push(r);
  return table.toString();
}

export function renderCsv(rows: readonly object[], columns: readonly ColumnDef[]): string {
  const lines = [columns.map((c) => csvField(c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(cell(r, c.key))).join(','));
  return lines.join('\n');
}

/** A word for a shell command line shown to the user: quoted only when it has to be. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

export function renderJson(data: unknown): string {
  return JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2);
}

/** Renders a list of rows in the chosen format. */
export function renderRows(rows: readonly object[], columns: readonly ColumnDef[], format: OutputFormat, table: TableOptions = {}): string {
  if (format === 'json') return renderJson(rows);
  if (format === 'csv') return renderCsv(rows, columns);
  return renderTable(rows, columns, table);
}

/** Renders a key/value record (a summary) in the chosen format; a table titled `title` wraps long values. */
export function renderRecord(record: Row, format: OutputFormat, title = '', table: TableOptions = {}): string {
  if (format === 'json') return renderJson(record);
  const rows = Object.entries(record).map(([field, value]) => ({ field, value }));
  if (format === 'csv') return renderCsv(rows, [{ key: 'field' }, { key: 'value' }]);
  return renderTable(
    rows,
    [
      { key: 'field', header: title },
      { key: 'value', header: '', fit: 'wrap' },
    ],
    table,
  );
}
