/**
 * `assets import` and `failures import`: a CSV with a documented header becomes a small Parquet
 * table in the lake, merged with what is there column by column: for a row whose key is already in
 * the lake, the columns the file's header has take the file's values (an empty cell is NULL: that is
 * how a removed_date is cleared), and the columns it lacks keep the lake's. An operator who imports
 * `gpu_uuid,removed_date` to record removals must not wipe those GPUs' deployment dates and prices,
 * which survival analysis and economics read. A new key gets NULL in the columns the file lacks.
 * Bad rows are reported with their line number and left out; the rest is imported. Values are
 * checked strictly (a real calendar day, an integer that fits INTEGER), so that no row DuckDB would
 * refuse aborts the import, and none is shifted silently (2026-02-30 is not March 2); a date no GPU
 * could have (before 2000, or a deployment, removal or failure still to come) is a reject too.
 *
 * What is imported but looks wrong is a warning (ImportWarning), never a reject: a header column
 * the table does not know (ignored, with the closest known name), a key repeated inside the file (the
 * last row wins, as in the merge), failures whose serial no asset of the lake has (stored all the
 * same: the assets may come later).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { InputError } from '../errors.js';
import { RecordReader, type CsvRecord } from '../csv.js';
import { parseIsoUtc } from '../time.js';
import { quotePath } from '../db/duckdb.js';
import { emptySelect, quoteFile } from '../sql/lake-views.js';
import { withLakeRun, type LakeRun } from '../lake/run.js';
import { ASSET_COLUMNS } from '../schema.js';

export type FieldType = 'VARCHAR' | 'DATE' | 'TIMESTAMP' | 'DOUBLE' | 'INTEGER';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required?: boolean;
  /** Checks and normalises a non-empty value; returns an error message or the value. */
  parse?: (text: string) => string | number | null | { error: string };
  /**
   * A DATE or TIMESTAMP of something that has happened (a deployment, a removal, a failure): at most
   * FUTURE_SLACK_MS after now. (A warranty's expiry may well be years ahead.)
   */
  past?: boolean;
  /** Names other tools give this column, for the "did you mean" of an unknown header column (never read as it). */
  aliases?: readonly string[];
  doc: string;
}

export interface TableSpec {
  table: 'assets' | 'failures';
  fields: readonly FieldSpec[];
  /**
   * Columns that identify a row; a new row with the same key updates the old in the columns its
   * file has. A key column the header lacks is NULL in the key, as it always was: it is never merged.
   */
  key: readonly string[];
  /** Cross-field check of one row: of the file's row, and again once merged with the lake's. */
  check?: (row: Record<string, string | number | null>) => string | null;
}

export interface ImportReject {
  line: number;
  reason: string;
  text: string;
}

/**
 * Something imported that looks wrong; the import goes on and the exit code stays 0. `message` is
 * the one line a person reads; the other fields are for --json readers.
 */
export type ImportWarning =
  | {
      /** A header column the table does not have (misspelt, or another tool's): its values were ignored. */
      kind: 'unknown_column';
      message: string;
      line: number;
      column: string;
      /** The known column it is closest to, if any is close. */
      suggestion: string | null;
    }
  | {
      /** A header column named twice: only the first is read. */
      kind: 'repeated_column';
      message: string;
      line: number;
      column: string;
    }
  | {
      /** The same key on several lines of the file: the last row is kept. */
      kind: 'duplicate_key';
      message: string;
      key: Record<string, string | number | null>;
      lines: number[];
      kept_line: number;
    }
  | {
      /** Failures that name a serial (and no gpu_uuid) that no asset in the lake has: stored all the same. */
      kind: 'unmatched_serial';
      message: string;
      /** How many of the file's failures. */
      count: number;
      /** The first few such serials, in file order. */
      serials: string[];
    };

export interface ImportOptions {
  /** "Now" for the dates that must not lie in the future (ms since the epoch; default the clock). */
  nowMs?: number;
}

export interface ImportSummary {
  file: string;
  table: string;
  /**
   * The table's columns the file's header has, in the table's order: written for every row of the
   * file. The others keep the lake's values where the key was there already (NULL for a new key).
   */
  columns: string[];
  imported: number;
  /** Rows whose key was in the lake already: updated in `columns`, the rest kept. */
  replaced: number;
  total: number;
  rejected: number;
  rejects: ImportReject[];
  warnings: ImportWarning[];
}

/** INTEGER columns hold 32 bits. */
const MAX_INTEGER = 2 ** 31 - 1;

/**
 * The earliest date a registry row may carry. No GPU that DCGM reports on was deployed, under
 * warranty or failed before then; an earlier date is a default or a typo (1900-01-01 from a
 * spreadsheet, 1970-01-01 from epoch 0, 0001-01-01 from an empty date type), and would make an age
 * of decades.
 */
export const EARLIEST_REGISTRY_DATE = '2000-01-01';
const EARLIEST_REGISTRY_MS = Date.parse(`${EARLIEST_REGISTRY_DATE}T00:00:00Z`);

/**
 * How far after now a deployment, removal or failure may lie: one day, for a date written in a zone
 * ahead of UTC and for clocks a little apart. Anything later has not happened yet.
 */
export const FUTURE_SLACK_MS = 86_400_000;

/** How many serials an unmatched_serial warning names. */
const UNMATCHED_SERIALS_SHOWN = 5;

/**
 * True when the fields name a real instant of the calendar (years 0001–9999): Date.UTC rolls
 * 2026-02-30 over to March 2 and reads year 50 as 1950; this checks that nothing rolled.
 */
function realInstant(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    y >= 1 &&
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  );
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
/** ISO-8601 as time.ts parseIsoUtc reads it: a date, an optional time, an optional offset. */
const TIME_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?\s*(Z|[+-](\d{2}):?(\d{2}))?$/i;

/** An ISO-8601 time as UTC ISO text, or null when it is not one (or not a real instant). */
function strictTimestamp(t: string): string | null {
  const m = TIME_TEXT.exec(t);
  if (!m || !realInstant(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0))) return null;
  if (m[8] !== undefined && (+m[8] > 23 || +m[9]! > 59)) return null;
  const ms = parseIsoUtc(t);
  const iso = ms === null ? null : new Date(ms).toISOString();
  return iso !== null && /^\d{4}-/.test(iso) ? iso : null; // an offset may not push it out of years 0001–9999
}

/** An instant as ISO text to the second, for messages. */
const isoSecond = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The reason a checked DATE (YYYY-MM-DD, the day starting at 00:00 UTC) or TIMESTAMP (UTC ISO) is
 * not one a registry row can carry, or null when it is fine (see EARLIEST_REGISTRY_DATE, FUTURE_SLACK_MS).
 */
function implausibleDate(f: FieldSpec, text: string, value: string, nowMs: number): string | null {
  const ms = Date.parse(f.type === 'DATE' ? `${value}T00:00:00Z` : value);
  if (ms < EARLIEST_REGISTRY_MS) return `${f.name}: "${text}" is before ${EARLIEST_REGISTRY_DATE}`;
  if (f.past && ms > nowMs + FUTURE_SLACK_MS) return `${f.name}: "${text}" is more than a day in the future (now is ${isoSecond(nowMs)})`;
  return null;
}

function parseValue(f: FieldSpec, text: string, nowMs: number): string | number | null | { error: string } {
  const t = text.trim();
  if (t === '') return f.required ? { error: `${f.name} is required` } : null;
  if (f.parse) return f.parse(t);
  if (f.type === 'DATE' || f.type === 'TIMESTAMP') {
    const v = parseDateValue(f, t);
    if (typeof v !== 'string') return v;
    const bad = implausibleDate(f, t, v, nowMs);
    return bad === null ? v : { error: bad };
  }
  switch (f.type) {
    case 'DOUBLE': {
      const n = Number(t.replace(/^\$/, '').replace(/,/g, ''));
      return Number.isFinite(n) ? n : { error: `${f.name}: "${t}" is not a number` };
    }
    case 'INTEGER':
      return /^-?\d+$/.test(t) && Math.abs(Number(t)) <= MAX_INTEGER ? Number(t) : { error: `${f.name}: "${t}" is not an integer of at most 10 digits` };
    default:
      return t;
  }
}

/** A DATE as YYYY-MM-DD or a TIMESTAMP as UTC ISO text, when `t` is a real one. */
function parseDateValue(f: FieldSpec, t: string): string | { error: string } {
  if (f.type === 'DATE') {
    const m = DATE_TEXT.exec(t);
    return m && realInstant(+m[1]!, +m[2]!, +m[3]!) ? t : { error: `${f.name}: "${t}" is not a date (YYYY-MM-DD)` };
  }
  return strictTimestamp(t) ?? { error: `${f.name}: "${t}" is not an ISO-8601 time` };
}

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) between two names. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known column an unknown header name most likely meant, or null. A name another tool gives the
 * column (its `aliases`: `hostname` → host, `batch` → lot); else a close spelling (`deploy_date` →
 * deployed_date, `rak` → rack: at most a third of the name's letters edited, spaces and dashes read
 * as underscores); else a name whose words hold, or are held by, exactly one column's (`uuid` →
 * gpu_uuid, `serial_number` → serial). A name several columns fit equally (`date`) gets none: a
 * guess there would mislead.
 */
export function closestColumn(name: string, fields: readonly Pick<FieldSpec, 'name' | 'aliases'>[]): string | null {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (n === '') return null;
  const aliased = fields.find((f) => f.aliases?.includes(n));
  if (aliased) return aliased.name;
  const known = fields.map((f) => f.name);
  const budget = Math.max(1, Math.floor(n.length / 3));
  const near = known.map((k) => ({ k, d: editDistance(n, k) })).filter((c) => c.d <= budget);
  const best = Math.min(...near.map((c) => c.d));
  const nearest = near.filter((c) => c.d === best);
  if (nearest.length === 1) return nearest[0]!.k;
  if (nearest.length > 1) return null;
  const words = n.split('_').filter(Boolean);
  const holds = (outer: string[], inner: string[]) => inner.every((w) => outer.includes(w));
  const fits = known.filter((k) => {
    const kw = k.split('_');
    return holds(kw, words) || holds(words, kw);
  });
  return fits.length === 1 ? fits[0]! : null;
}

/** "rename the column X to Y" for each header column that is not a known one but is close to one (of `only`). */
function renames(header: readonly string[], spec: TableSpec, only?: readonly string[]): string[] {
  const known = spec.fields.map((f) => f.name);
  return header.flatMap((h) => {
    if (known.includes(h)) return [];
    const to = closestColumn(h, spec.fields);
    return to !== null && !header.includes(to) && (only ?? known).includes(to) ? [`rename the column ${h} to ${to}`] : [];
  });
}

/** Warnings for header columns the table does not read: unknown (ignored) and repeated ones. */
function headerWarnings(header: readonly string[], line: number, spec: TableSpec): ImportWarning[] {
  const known = spec.fields.map((f) => f.name);
  const out: ImportWarning[] = [];
  for (const [i, column] of header.entries()) {
    if (column !== '' && header.indexOf(column) !== i) {
      out.push({
        kind: 'repeated_column',
        message: `column ${column} appears twice in the header; only the first (column ${header.indexOf(column) + 1}) is read`,
        line,
        column,
      });
    } else if (!known.includes(column)) {
      const suggestion = closestColumn(column, spec.fields);
      const what = column === '' ? `column ${i + 1} has no name` : `unknown column ${column}`;
      out.push({
        kind: 'unknown_column',
        message: `${what}${suggestion ? ` (did you mean ${suggestion}?)` : ''}: its values were ignored`,
        line,
        column,
        suggestion,
      });
    }
  }
  return out;
}

/** A key's values for a message: `gpu_uuid GPU-…, failed_at 2026-…` (empty parts left out). */
function describeKey(key: Record<string, string | number | null>): string {
  return Object.entries(key)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/**
 * The keys that appear on several lines of the file, among the rows that are stored (`skip`: indexes
 * of rows that were not). The merge keeps the last of them (stageRegistryTable), and so says each warning.
 */
export function duplicateKeys(
  spec: TableSpec,
  rows: readonly Record<string, string | number | null>[],
  lines: readonly number[],
  skip: ReadonlySet<number> = new Set(),
): ImportWarning[] {
  const seen = new Map<string, { key: Record<string, string | number | null>; lines: number[] }>();
  for (const [i, r] of rows.entries()) {
    if (skip.has(i)) continue;
    const key = Object.fromEntries(spec.key.map((k) => [k, r[k] ?? null]));
    const id = JSON.stringify(spec.key.map((k) => r[k] ?? null));
    const g = seen.get(id);
    if (g) g.lines.push(lines[i]!);
    else seen.set(id, { key, lines: [lines[i]!] });
  }
  const out: ImportWarning[] = [];
  for (const { key, lines: ls } of seen.values()) {
    if (ls.length < 2) continue;
    const kept = ls[ls.length - 1]!;
    out.push({
      kind: 'duplicate_key',
      message: `${describeKey(key)} is on lines ${ls.join(', ')}: line ${kept} is kept (the last row of a key wins)`,
      key,
      lines: ls,
      kept_line: kept,
    });
  }
  return out;
}

/** A registry CSV's rows, parsed and checked; bad rows are rejects with their line numbers. */
export interface RegistryRows {
  /** The table's columns the header has (unknown and repeated ones aside), in the table's order. */
  columns: string[];
  /** Every field of the table per row; a column the header lacks is NULL. */
  rows: Record<string, string | number | null>[];
  /** The CSV line of each row. */
  lines: number[];
  /** Each row's record as it was in the file (for a reject found when the row is stored). */
  texts: string[];
  rejects: ImportReject[];
  /** The header's unknown and repeated columns. */
  warnings: ImportWarning[];
}

export async function readRegistryCsv(file: string, spec: TableSpec, opts: ImportOptions = {}): Promise<RegistryRows> {
  if (!fs.existsSync(file)) throw new InputError(`no such file: ${file}`);
  const nowMs = opts.nowMs ?? Date.now();
  const rows: Record<string, string | number | null>[] = [];
  const lines: number[] = [];
  const texts: string[] = [];
  const rejects: ImportReject[] = [];
  const warnings: ImportWarning[] = [];
  let header: string[] | null = null;
  const reader = new RecordReader();
  const handle = (rec: CsvRecord): void => {
    if (rec.fields === null) {
      rejects.push({ line: rec.line, reason: rec.error ?? 'malformed CSV record', text: rec.text });
      return;
    }
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') return;
    if (header === null) {
      header = rec.fields.map((h) => h.trim().toLowerCase());
      const missing = spec.fields.filter((f) => f.required && !header!.includes(f.name)).map((f) => f.name);
      if (missing.length) {
        throw new InputError(`${file}: header lacks ${missing.join(', ')}`, [
          ...renames(header, spec, missing),
          `the header is: ${spec.fields.map((f) => f.name).join(',')}`,
        ]);
      }
      warnings.push(...headerWarnings(header, rec.line, spec));
      return;
    }
    if (rec.fields.length !== header.length) {
      rejects.push({ line: rec.line, reason: `expected ${header.length} fields, found ${rec.fields.length}`, text: rec.text });
      return;
    }
    const row: Record<string, string | number | null> = {};
    for (const f of spec.fields) {
      const i = header.indexOf(f.name);
      const v = parseValue(f, i >= 0 ? rec.fields[i]! : '', nowMs);
      if (v !== null && typeof v === 'object') {
        rejects.push({ line: rec.line, reason: v.error, text: rec.text });
        return;
      }
      row[f.name] = v;
    }
    const err = spec.check?.(row) ?? null;
    if (err) {
      rejects.push({ line: rec.line, reason: err, text: rec.text });
      return;
    }
    rows.push(row);
    lines.push(rec.line);
    texts.push(rec.text);
  };
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let no = 0;
  for await (const raw of rl) {
    no++;
    for (const rec of reader.push(no, (no === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, ''))) handle(rec);
  }
  for (const rec of reader.finish()) handle(rec);
  if (header === null) throw new InputError(`${file} is empty`, [`the header is: ${spec.fields.map((f) => f.name).join(',')}`]);
  if (rows.length === 0) {
    const first = rejects[0];
    // a misspelt gpu_uuid or serial rejects every row: say which column to rename
    throw new InputError(`nothing to import from ${file}${first ? ` (line ${first.line}: ${first.reason})` : ''}`, renames(header, spec));
  }

  const named: readonly string[] = header;
  const columns = spec.fields.filter((f) => named.includes(f.name)).map((f) => f.name);
  return { columns, rows, lines, texts, rejects, warnings };
}

export async function importTable(lake: string, file: string, spec: TableSpec, opts: ImportOptions = {}): Promise<ImportSummary> {
  const { columns, rows, lines, texts, rejects, warnings } = await readRegistryCsv(file, spec, opts);
  const { refused, unmatched, ...counts } = await withLakeRun({ lake, create: true, threads: 1 }, async (run) => {
    const staged = await stageRegistryTable(run, spec, rows, columns);
    return { ...staged, unmatched: spec.table === 'failures' ? await unmatchedSerials(run) : null };
  });
  for (const u of refused) rejects.push({ line: lines[u.row]!, reason: u.reason, text: texts[u.row]! });
  rejects.sort((a, b) => a.line - b.line);
  warnings.push(...duplicateKeys(spec, rows, lines, new Set(refused.map((u) => u.row))));
  if (unmatched) warnings.push(unmatched);
  return { file, table: spec.table, columns, ...counts, rejected: rejects.length, rejects, warnings };
}

/**
 * The one-line summary of an import on stderr. When the file had only some of the columns it says
 * which it set and that the others were kept, so an operator sees that `gpu_uuid,removed_date` did
 * not touch the rest.
 */
export function importSummaryLine(s: ImportSummary, spec: TableSpec, what: { rows: string; table: string }): string {
  const set = s.columns.filter((c) => !spec.key.includes(c));
  const partial = s.columns.length < spec.fields.length && s.replaced > 0;
  const replaced = partial
    ? `${s.replaced} already there: ${set.length ? `${set.join(', ')} set` : 'nothing set'}, other columns kept`
    : `${s.replaced} replaced`;
  return `imported ${s.imported} ${what.rows} (${replaced}), ${what.table} now ${s.total}; ${s.rejected} rows rejected`;
}

/** Rejects and warnings of each kind shown as notes; --json lists them all. */
const NOTES_SHOWN = 10;

/**
 * The stderr notes of an import: its rejects and its warnings, each list cut to its first
 * NOTES_SHOWN with a line saying how many more (a file of 10,000 repeated rows would bury the summary).
 */
export function importNotes(s: ImportSummary): string[] {
  const out = s.rejects.slice(0, NOTES_SHOWN).map((r) => `rejected ${s.file}:${r.line}: ${r.reason}`);
  if (s.rejects.length > NOTES_SHOWN) out.push(`… ${s.rejects.length - NOTES_SHOWN} more rejected rows`);
  out.push(...s.warnings.slice(0, NOTES_SHOWN).map((w) => `warning: ${s.file}${'line' in w ? `:${w.line}` : ''}: ${w.message}`));
  if (s.warnings.length > NOTES_SHOWN) out.push(`… ${s.warnings.length - NOTES_SHOWN} more warnings (--json lists them all)`);
  return out;
}

/** The lake's registry files of a table (assets/*.parquet, failures/*.parquet). */
function registryFiles(run: LakeRun, table: TableSpec['table']): string[] {
  const dir = path.join(run.layout.root, table);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => path.join(dir, f))
    : [];
}

/**
 * Rows of registry files with every column of `columns`, also where an older file lacks some (NULL
 * there): a file written before `lot` and `removed_date` existed still merges and reads.
 */
function registrySource(columns: readonly { name: string; type: string }[], files: readonly string[]): string {
  return files.length
    ? `(${emptySelect(columns)} UNION ALL BY NAME SELECT * FROM read_parquet([${files.map(quoteFile).join(', ')}], union_by_name = true))`
    : `(${emptySelect(columns)})`;
}

/**
 * Failures just staged (incoming_failures) that name a serial and no gpu_uuid, whose serial no asset
 * of the lake has: scoring and training match them to a GPU through that serial, so until the asset
 * is imported they count for nothing. Per serial: its failures, and its first row (file order).
 */
const UNMATCHED_SERIALS_SQL = (assets: string): string => `
  SELECT i.serial, count(*) AS n, min(i.line) AS first FROM incoming_failures i
  WHERE i.gpu_uuid IS NULL AND NOT EXISTS (SELECT 1 FROM ${assets} a WHERE a.serial = i.serial)
  GROUP BY i.serial ORDER BY first`;

async function unmatchedSerials(run: LakeRun): Promise<ImportWarning | null> {
  const assets = registryFiles(run, 'assets');
  const found = await run.db.query<{ serial: string; n: number }>('unmatched serials', UNMATCHED_SERIALS_SQL(registrySource(ASSET_COLUMNS, assets)));
  if (found.length === 0) return null;
  const count = found.reduce((s, r) => s + r.n, 0);
  const serials = found.slice(0, UNMATCHED_SERIALS_SHOWN).map((r) => r.serial);
  const more = found.length > serials.length ? ` and ${found.length - serials.length} more` : '';
  const one = count === 1;
  const none = assets.length === 0 ? ' (the lake has no asset registry yet)' : '';
  return {
    kind: 'unmatched_serial',
    message: `${count} failure${one ? ' names only a serial' : 's name only a serial'} (${serials.join(', ')}${more}) that no asset in the lake has${none}: ${one ? 'it is stored, and counts' : 'they are stored, and count'} for a GPU once gpuhealth assets import brings ${found.length === 1 ? 'that serial' : 'those serials'}`,
    count,
    serials,
  };
}

/** A key's columns equal (NULL equal to NULL, as the window's PARTITION BY has them) in `a` and `b`. */
const keyMatch = (spec: TableSpec, a: string, b: string): string => spec.key.map((k) => `${a}.${k} IS NOT DISTINCT FROM ${b}.${k}`).join(' AND ');

/**
 * A column as the JS value readRegistryCsv gives it (DATE as YYYY-MM-DD, TIMESTAMP as UTC ISO with
 * milliseconds), so that spec.check compares the lake's values with the file's like for like.
 */
function asParsed(f: FieldSpec, ref: string): string {
  if (f.type === 'DATE') return `CAST(${ref} AS VARCHAR)`;
  if (f.type === 'TIMESTAMP') return `strftime(${ref}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
  return ref;
}

/**
 * The lake's values of the kept columns (`kept`) for each incoming row whose key the lake has
 * (`old`: the lake's rows): `line` (the row's index) and one column per kept field, as parsed values.
 * No value of the file is spliced: the columns come from the spec, the rows from the staged table.
 */
const LAKE_VALUES_SQL = (spec: TableSpec, kept: readonly FieldSpec[], old: string): string => `
  SELECT i.line, ${kept.map((f) => `${asParsed(f, `o.${f.name}`)} AS ${f.name}`).join(', ')}
  FROM incoming_${spec.table} i JOIN (${old}) o ON ${keyMatch(spec, 'i', 'o')}`;

/** A table for the file's rows as text (raw_<table>): every field VARCHAR, and line. */
const RAW_INCOMING_SQL = (spec: TableSpec): string =>
  `CREATE OR REPLACE TABLE raw_${spec.table} (${spec.fields.map((f) => `${f.name} VARCHAR`).join(', ')}, line INTEGER)`;

/** A raw value its column's type refuses. */
const castFails = (f: FieldSpec): string => `(${f.name} IS NOT NULL AND TRY_CAST(${f.name} AS ${f.type}) IS NULL)`;

/** The raw rows with a value their type refuses → line, bad ('field|type|value' of the first such field). */
const UNCASTABLE_SQL = (spec: TableSpec): string => `
  SELECT line, coalesce(${spec.fields.map((f) => `CASE WHEN ${castFails(f)} THEN '${f.name}|${f.type}|' || ${f.name} END`).join(', ')}) AS bad
  FROM raw_${spec.table} WHERE ${spec.fields.map(castFails).join(' OR ')} ORDER BY line`;

/** The raw rows whose every value casts, typed, into incoming_<table>. */
const CAST_INCOMING_SQL = (spec: TableSpec): string => `
  INSERT INTO incoming_${spec.table}
  SELECT ${spec.fields.map((f) => `CAST(${f.name} AS ${f.type})`).join(', ')}, line
  FROM raw_${spec.table} WHERE NOT (${spec.fields.map(castFails).join(' OR ')})`;

/** Drops a staged row whose merged row is refused. Parameter: $line (its index). */
const DROP_INCOMING_SQL = (spec: TableSpec): string => `DELETE FROM incoming_${spec.table} WHERE line = $line`;

/**
 * The merged table, one row per key, from the lake's rows (`old`, src 0) and the staged ones (src 1,
 * `line` their order in the file). Per key the row kept is the file's last, else the lake's. A column
 * the file's header lacks (`kept`) is taken, for a file's row, from the key's first row in (src, line)
 * order: the lake's when the lake has the key; else a file row, where it is NULL as in every file row.
 */
const MERGE_REGISTRY_SQL = (spec: TableSpec, kept: readonly FieldSpec[], old: string): string => {
  const keep = new Set(kept.map((f) => f.name));
  const key = spec.key.join(', ');
  const cols = spec.fields.map((f) =>
    keep.has(f.name) ? `CASE WHEN src = 1 THEN first_value(${f.name}) OVER (PARTITION BY ${key} ORDER BY src, line) ELSE ${f.name} END AS ${f.name}` : f.name,
  );
  return `
    CREATE TEMP TABLE merged_${spec.table} AS
    SELECT ${spec.fields.map((f) => f.name).join(', ')} FROM (
      SELECT ${cols.join(', ')}, row_number() OVER (PARTITION BY ${key} ORDER BY src DESC, line DESC) AS rn
      FROM (${old} UNION ALL SELECT ${spec.fields.map((f) => f.name).join(', ')}, 1 AS src, line FROM incoming_${spec.table})
    ) WHERE rn = 1 ORDER BY ${key}`;
};

/** The merged table's rows, and how many of the lake's rows have a key the file has. */
const MERGE_COUNTS_SQL = (spec: TableSpec, old: string): string => `
  SELECT (SELECT count(*) FROM merged_${spec.table}) AS total,
         (SELECT count(*) FROM (${old}) o WHERE EXISTS (SELECT 1 FROM incoming_${spec.table} i WHERE ${keyMatch(spec, 'i', 'o')})) AS replaced`;

/** How many keys the staged rows have (the rows imported). */
const INCOMING_KEYS_SQL = (spec: TableSpec): string => `SELECT count(*) AS n FROM (SELECT DISTINCT ${spec.key.join(', ')} FROM incoming_${spec.table})`;

/**
 * Merges rows into a registry table within a lake run: the table's new file is staged and queued,
 * and its old files are queued for removal, so the run's commit swaps them. (A rename over the old
 * file could not be rolled back.) Later rows win over earlier ones, and the rows win over the lake in
 * the columns of `columns` (default: all; readRegistryCsv gives the header's). The others keep the
 * lake's values for a key it has; spec.check then runs again on the merged row (a removed_date of
 * the file before the lake's deployed_date), and a row it fails is left out. Left out too is a row
 * DuckDB refuses all the same; both are returned in `refused` (by their index in `rows`).
 */
export async function stageRegistryTable(
  run: LakeRun,
  spec: TableSpec,
  rows: readonly Record<string, string | number | null>[],
  columns: readonly string[] = spec.fields.map((f) => f.name),
): Promise<{ imported: number; replaced: number; total: number; refused: { row: number; reason: string }[] }> {
  const { db, layout, stage, runId } = run;
  const incoming = `incoming_${spec.table}`;
  const cols = spec.fields.map((f) => `${f.name} ${f.type}`).join(', ');
  await db.exec('create incoming', `CREATE TEMP TABLE ${incoming} (${cols}, line INTEGER)`);
  // every value goes in as text through an appender (no SQL parsed per row), then is cast in one
  // statement; a value the cast refuses names its row (the parse already checked every field, so
  // this is a last line of defence)
  await db.exec('create raw incoming', RAW_INCOMING_SQL(spec));
  const appender = await db.conn.createAppender(`raw_${spec.table}`);
  try {
    for (const [i, r] of rows.entries()) {
      for (const f of spec.fields) {
        const v = r[f.name] ?? null;
        if (v === null) appender.appendNull();
        else appender.appendVarchar(String(v));
      }
      appender.appendInteger(i);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const refused = (await db.query<{ line: number; bad: string }>('uncastable registry values', UNCASTABLE_SQL(spec))).map((r) => {
    const [field, type, ...value] = r.bad.split('|');
    return { row: Number(r.line), reason: `not storable: ${field} "${value.join('|')}" is not a ${type}` };
  });
  await db.exec('insert incoming', CAST_INCOMING_SQL(spec));
  await db.exec('drop raw incoming', `DROP TABLE raw_${spec.table}`);
  const dir = path.join(layout.root, spec.table);
  const olds = registryFiles(run, spec.table);
  const names = spec.fields.map((f) => f.name).join(', ');
  const oldSql = `SELECT ${names}, 0 AS src, 0 AS line FROM ${registrySource(spec.fields, olds)}`;
  const kept = spec.fields.filter((f) => !columns.includes(f.name) && !spec.key.includes(f.name));
  if (kept.length > 0 && spec.check && olds.length > 0) {
    const checked = new Set<number>(); // a key the lake holds twice (hand-placed files) joins twice
    for (const lake of await db.query<Record<string, string | number | null> & { line: number }>('lake values', LAKE_VALUES_SQL(spec, kept, oldSql))) {
      if (checked.has(lake.line)) continue;
      checked.add(lake.line);
      const err = spec.check({ ...rows[lake.line]!, ...Object.fromEntries(kept.map((f) => [f.name, lake[f.name] ?? null])) });
      if (err === null) continue;
      const theirs = kept.filter((f) => lake[f.name] != null && err.includes(f.name)).map((f) => `${f.name} ${lake[f.name]}`);
      refused.push({ row: lake.line, reason: theirs.length ? `${err} (the lake's ${theirs.join(', ')})` : err });
      await db.exec('drop incoming', DROP_INCOMING_SQL(spec), { line: lake.line });
    }
    refused.sort((a, b) => a.row - b.row);
  }
  if (rows.length > 0 && refused.length === rows.length) throw new InputError(`nothing to import: no row could be stored (first: ${refused[0]!.reason})`);
  await db.exec('merge table', MERGE_REGISTRY_SQL(spec, kept, oldSql));
  const counts = (await db.query<{ total: number; replaced: number }>('count merged', MERGE_COUNTS_SQL(spec, oldSql)))[0]!;
  const out = path.join(stage, `${spec.table}.parquet`);
  await db.exec('write table', `COPY merged_${spec.table} TO ${quotePath(out)} (FORMAT parquet, COMPRESSION zstd)`);
  run.add(out, path.join(dir, `${spec.table}-${runId}.parquet`));
  run.remove(...olds);
  const imported = (await db.query<{ n: number }>('count incoming', INCOMING_KEYS_SQL(spec)))[0]!.n;
  return { imported, replaced: counts.replaced, total: counts.total, refused };
}
