/** RFC 4180 CSV, read line by line: quoted fields, doubled quotes, line breaks inside quotes. */

export interface CsvRecord {
  /** Line on which the record starts. */
  line: number;
  text: string;
  fields: string[] | null;
  error?: string;
}

/** One RFC 4180 record from `text`; `open` when a quoted field runs past the end (continues on the next line). */
export function splitRecord(text: string): { fields: string[]; open: false } | { open: true } | { error: string; open: false } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return { open: true };
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (i < text.length && text[i] !== ',') return { error: `text after a closing quote in field ${fields.length + 1}`, open: false };
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
    }
    fields.push(value);
    if (i >= text.length) return { fields, open: false };
    i++; // the comma
  }
}

/** Longest record (in lines) a quoted field may span before its opening quote is taken as a stray. */
const MAX_RECORD_LINES = 100;

/** Assembles records from lines; a record that never closes its quote is rejected and its lines re-read. */
export class RecordReader {
  private open: { no: number; text: string }[] = [];

  push(no: number, text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const work = [{ no, text }];
    while (work.length > 0) {
      const cur = work.shift()!;
      this.open.push(cur);
      const joined = this.open.map((l) => l.text).join('\n');
      const r = splitRecord(joined);
      if (!r.open) {
        out.push({ line: this.open[0]!.no, text: joined, fields: 'fields' in r ? r.fields : null, ...('error' in r ? { error: r.error } : {}) });
        this.open = [];
      } else if (this.open.length > MAX_RECORD_LINES) {
        out.push(...this.abandon(work));
      }
    }
    return out;
  }

  finish(): CsvRecord[] {
    const out: CsvRecord[] = [];
    while (this.open.length > 0) {
      const work: { no: number; text: string }[] = [];
      out.push(...this.abandon(work));
      for (const l of work) out.push(...this.push(l.no, l.text));
    }
    return out;
  }

  private abandon(work: { no: number; text: string }[]): CsvRecord[] {
    const [first, ...rest] = this.open;
    this.open = [];
    work.unshift(...rest);
    return [{ line: first!.no, text: first!.text, fields: null, error: 'unterminated quoted field' }];
  }
}
