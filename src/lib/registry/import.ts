/**
 * `assets import` and `failures import`: a CSV with a documented header becomes a small Parquet
 * table in the lake, merged with what is there (a row with the same key replaces the old one).
 * Bad rows are reported with their line number and left out; the rest is imported. Values are
 * checked strictly (a real calendar day, an integer that fits INTEGER), so that no row DuckDB would
 * refuse aborts the import, and none is shifted silently (2026-02-30 is not March 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { InputError } from '../errors.js';
import { RecordReader, type CsvRecord } from '../csv.js';
import { parseIsoUtc } from '../time.js';
import { quotePath } from '../db/duckdb.js';
import { quoteFile } from '../sql/lake-views.js';
import { withLakeRun, type LakeRun } from '../lake/run.js';

export type FieldType = 'VARCHAR' | 'DATE' | 'TIMESTAMP' | 'DOUBLE' | 'INTEGER';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required?: boolean;
  /** Checks and normalises a non-empty value; returns an error message or the value. */
  parse?: (text: string) => string | number | null | { error: string };
  doc: string;
}

export interface TableSpec {
  table: 'assets' | 'failures';
  fields: readonly FieldSpec[];
  /** Columns that identify a row; a new row with the same key replaces the old. */
  key: readonly string[];
  /** Cross-field check of one parsed row. */
  check?: (row: Record<string, string | number | null>) => string | null;
}

export interface ImportReject {
  line: number;
  reason: string;
  text: string;
}

export interface ImportSummary {
  file: string;
  table: string;
  imported: number;
  replaced: number;
  total: number;
  rejected: number;
  rejects: ImportReject[];
}

/** INTEGER columns hold 32 bits. */
const MAX_INTEGER = 2 ** 31 - 1;

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

function parseValue(f: FieldSpec, text: string): string | number | null | { error: string } {
  const t = text.trim();
  if (t === '') return f.required ? { error: `${f.name} is required` } : null;
  if (f.parse) return f.parse(t);
  switch (f.type) {
    case 'DOUBLE': {
      const n = Number(t.replace(/^\$/, '').replace(/,/g, ''));
      return Number.isFinite(n) ? n : { error: `${f.name}: "${t}" is not a number` };
    }
    case 'INTEGER':
      return /^-?\d+$/.test(t) && Math.abs(Number(t)) <= MAX_INTEGER ? Number(t) : { error: `${f.name}: "${t}" is not an integer of at most 10 digits` };
    case 'DATE': {
      const m = DATE_TEXT.exec(t);
      return m && realInstant(+m[1]!, +m[2]!, +m[3]!) ? t : { error: `${f.name}: "${t}" is not a date (YYYY-MM-DD)` };
    }
    case 'TIMESTAMP':
      return strictTimestamp(t) ?? { error: `${f.name}: "${t}" is not an ISO-8601 time` };
    default:
      return t;
  }
}

/** A registry CSV's rows, parsed and checked; bad rows are rejects with their line numbers. */
export interface RegistryRows {
  rows: Record<string, string | number | null>[];
  /** The CSV line of each row. */
  lines: number[];
  /** Each row's record as it was in the file (for a reject found when the row is stored). */
  texts: string[];
  rejects: ImportReject[];
}

export async function readRegistryCsv(file: string, spec: TableSpec): Promise<RegistryRows> {
  if (!fs.existsSync(file)) throw new InputError(`no such file: ${file}`);
  const rows: Record<string, string | number | null>[] = [];
  const lines: number[] = [];
  const texts: string[] = [];
  const rejects: ImportReject[] = [];
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
        throw new InputError(`${file}: header lacks ${missing.join(', ')}`, [`the header is: ${spec.fields.map((f) => f.name).join(',')}`]);
      }
      return;
    }
    if (rec.fields.length !== header.length) {
      rejects.push({ line: rec.line, reason: `expected ${header.length} fields, found ${rec.fields.length}`, text: rec.text });
      return;
    }
    const row: Record<string, string | number | null> = {};
    for (const f of spec.fields) {
      const i = header.indexOf(f.name);
      const v = parseValue(f, i >= 0 ? rec.fields[i]! : '');
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
    throw new InputError(`nothing to import from ${file}${first ? ` (line ${first.line}: ${first.reason})` : ''}`);
  }

  return { rows, lines, texts, rejects };
}

export async function importTable(lake: string, file: string, spec: TableSpec): Promise<ImportSummary> {
  const { rows, lines, texts, rejects } = await readRegistryCsv(file, spec);
  const { unstorable, ...counts } = await withLakeRun({ lake, create: true, threads: 1 }, (run) => stageRegistryTable(run, spec, rows));
  for (const u of unstorable) rejects.push({ line: lines[u.row]!, reason: u.reason, text: texts[u.row]! });
  rejects.sort((a, b) => a.line - b.line);
  return { file, table: spec.table, ...counts, rejected: rejects.length, rejects };
}

/**
 * Merges rows into a registry table within a lake run: the table's new file is staged and queued,
 * and its old files are queued for removal, so the run's commit swaps them. (A rename over the old
 * file could not be rolled back.) Later rows win over earlier ones, and the rows win over the lake.
 * A row DuckDB refuses all the same is left out and returned in `unstorable` (by its index in `rows`).
 */
export async function stageRegistryTable(
  run: LakeRun,
  spec: TableSpec,
  rows: readonly Record<string, string | number | null>[],
): Promise<{ imported: number; replaced: number; total: number; unstorable: { row: number; reason: string }[] }> {
  const { db, layout, stage, runId } = run;
  const incoming = `incoming_${spec.table}`;
  const merged = `merged_${spec.table}`;
  const cols = spec.fields.map((f) => `${f.name} ${f.type}`).join(', ');
  await db.exec('create incoming', `CREATE TEMP TABLE ${incoming} (${cols}, line INTEGER)`);
  const insert = `INSERT INTO ${incoming} VALUES (${spec.fields.map((f) => `CAST($${f.name} AS ${f.type})`).join(', ')}, $line)`;
  const unstorable: { row: number; reason: string }[] = [];
  for (const [i, r] of rows.entries()) {
    const params: Record<string, string | number | null> = { line: i };
    // a DOUBLE goes as text: the driver binds a whole JS number as BIGINT, which 1e20 overflows
    for (const f of spec.fields) params[f.name] = f.type === 'DOUBLE' && typeof r[f.name] === 'number' ? String(r[f.name]) : (r[f.name] ?? null);
    try {
      await db.exec('insert incoming', insert, params as Record<string, string | number>);
    } catch (e) {
      unstorable.push({ row: i, reason: `not storable: ${String((e as Error).message).split('\n')[0]}` });
    }
  }
  if (rows.length > 0 && unstorable.length === rows.length) throw new InputError(`nothing to import: no row could be stored (first: ${unstorable[0]!.reason})`);
  const dir = path.join(layout.root, spec.table);
  const olds = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => path.join(dir, f))
    : [];
  const names = spec.fields.map((f) => f.name).join(', ');
  const key = spec.key.join(', ');
  const oldSql = olds.length
    ? `SELECT ${names}, 0 AS src, 0 AS line FROM read_parquet([${olds.map(quoteFile).join(', ')}], union_by_name = true)`
    : `SELECT ${names}, 0 AS src, 0 AS line FROM ${incoming} WHERE false`;
  await db.exec(
    'merge table',
    `CREATE TEMP TABLE ${merged} AS
     SELECT ${names} FROM (
       SELECT *, row_number() OVER (PARTITION BY ${key} ORDER BY src DESC, line DESC) AS rn
       FROM (${oldSql} UNION ALL SELECT ${names}, 1 AS src, line FROM ${incoming})
     ) WHERE rn = 1 ORDER BY ${key}`,
  );
  const counts = (
    await db.query<{ total: number; replaced: number }>(
      'count merged',
      `SELECT (SELECT count(*) FROM ${merged}) AS total, (SELECT count(*) FROM (${oldSql}) o WHERE EXISTS (SELECT 1 FROM ${incoming} i WHERE ${spec.key.map((k) => `i.${k} IS NOT DISTINCT FROM o.${k}`).join(' AND ')})) AS replaced`,
    )
  )[0]!;
  const out = path.join(stage, `${spec.table}.parquet`);
  await db.exec('write table', `COPY ${merged} TO ${quotePath(out)} (FORMAT parquet, COMPRESSION zstd)`);
  run.add(out, path.join(dir, `${spec.table}-${runId}.parquet`));
  run.remove(...olds);
  const imported = (await db.query<{ n: number }>('count incoming', `SELECT count(*) AS n FROM (SELECT DISTINCT ${key} FROM ${incoming})`))[0]!.n;
  return { imported, replaced: counts.replaced, total: counts.total, unstorable };
}
