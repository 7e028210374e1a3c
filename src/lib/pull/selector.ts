/**
 * PromQL label matchers: `--match` parsed and checked, host names escaped into regexes, and selectors
 * rendered in one canonical text (matchers sorted, one way of quoting). The same pull therefore always
 * renders the same selector, which is what its pulled-chunk records are matched on by the next run.
 */
import { InputError } from '../errors.js';

export const MATCH_OPS = ['=~', '!~', '!=', '='] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

export interface Matcher {
  readonly label: string;
  readonly op: MatchOp;
  /** The value as Prometheus compares it (unquoted, escapes resolved). */
  readonly value: string;
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MATCH_EXAMPLE = `--match '{cluster="a",Hostname=~"gpu-.*"}'`;

/** A PromQL string literal for `value`: JSON's escapes are a subset of the Go escapes PromQL reads. */
export function quotePromString(value: string): string {
  return JSON.stringify(value);
}

/** `value` as an RE2 regex that matches exactly it (host names may hold `.` and other metacharacters). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** The canonical text of a selector: `{a="x",b=~"y"}`, matchers sorted by label, operator and value. */
export function renderSelector(matchers: readonly Matcher[]): string {
  const sorted = [...matchers].sort((a, b) => cmp(a.label, b.label) || cmp(a.op, b.op) || cmp(a.value, b.value));
  return `{${sorted.map((m) => `${m.label}${m.op}${quotePromString(m.value)}`).join(',')}}`;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Go's single-character escapes, as PromQL strings take them. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

class MatchSyntax extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a quoted PromQL string at `text[i]`; returns its value and the index after it. */
function readString(text: string, i: number): { value: string; end: number } {
  const quote = text[i];
  if (quote === '`') {
    const close = text.indexOf('`', i + 1);
    if (close < 0) throw new MatchSyntax(i, 'unterminated `string`');
    return { value: text.slice(i + 1, close), end: close + 1 };
  }
  if (quote !== '"' && quote !== "'") throw new MatchSyntax(i, 'expected a quoted value');
  let value = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === quote) return { value, end: j + 1 };
    if (c === '\n') break;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = text[++j];
    if (e === undefined) break;
    if (e in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[e];
      continue;
    }
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hex > 0) {
      const digits = text.slice(j + 1, j + 1 + hex);
      if (!new RegExp(`^[0-9A-Fa-f]{${hex}}$`).test(digits)) throw new MatchSyntax(j - 1, `bad \\${e} escape`);
      value += String.fromCodePoint(Number.parseInt(digits, 16));
      j += hex;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const digits = text.slice(j, j + 3);
      if (!/^[0-7]{3}$/.test(digits)) throw new MatchSyntax(j - 1, 'bad octal escape');
      value += String.fromCharCode(Number.parseInt(digits, 8));
      j += 2;
      continue;
    }
    throw new MatchSyntax(j - 1, `unknown escape \\${e}`);
  }
  throw new MatchSyntax(i, 'unterminated string');
}

/**
 * Parses one `--match`: label matchers in braces (`{cluster="a",Hostname=~"gpu-.*"}`) or without
 * them. A metric name is refused: gpuhealth picks the DCGM families itself. Regex values must compile.
 */
export function parseMatchers(text: string): Matcher[] {
  try {
    return readMatchers(text);
  } catch (e) {
    if (!(e instanceof MatchSyntax)) throw e;
    throw new InputError(`--match ${JSON.stringify(text)}: ${e.message} (at character ${e.at + 1})`, [MATCH_EXAMPLE]);
  }
}

function readMatchers(text: string): Matcher[] {
  let i = 0;
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skip();
  if (i === text.length) throw new MatchSyntax(0, 'no label matchers');
  if (/[A-Za-z_:]/.test(text[i]!)) {
    // a metric name, or a bare matcher list without braces
    const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(text.slice(i))![0];
    const after = text.slice(i + word.length).trimStart();
    if (after.startsWith('{') || after === '') {
      throw new MatchSyntax(i, `"${word}" is a metric name; --match takes label matchers only (gpuhealth chooses the DCGM families)`);
    }
  }
  const braced = text[i] === '{';
  if (braced) i++;
  const out: Matcher[] = [];
  for (;;) {
    skip();
    if (braced && text[i] === '}') {
      i++;
      break;
    }
    if (i >= text.length) {
      if (braced) throw new MatchSyntax(i, 'missing }');
      break;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name) throw new MatchSyntax(i, 'expected a label name');
    i += name.length;
    skip();
    const op = MATCH_OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new MatchSyntax(i, `expected one of ${MATCH_OPS.join(' ')} after ${name}`);
    i += op.length;
    skip();
    const { value, end } = readString(text, i);
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        throw new MatchSyntax(i, `${name}${op}${quotePromString(value)} is not a valid regular expression`);
      }
    }
    out.push({ label: name, op, value });
    i = end;
    skip();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (braced && text[i] === '}') continue;
    if (i >= text.length) {
      if (braced) throw new MatchSyntax(i, 'missing }');
      break;
    }
    throw new MatchSyntax(i, 'expected , between matchers');
  }
  skip();
  if (i < text.length) throw new MatchSyntax(i, 'text after the matchers');
  for (const m of out) if (!LABEL_NAME.test(m.label)) throw new MatchSyntax(0, `bad label name ${m.label}`);
  return out;
}
