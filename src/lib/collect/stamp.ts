/**
 * One scrape as it is written to the spool: the exporter's exposition text with the scrape time
 * appended to every sample (as Prometheus stores it), then a trailer comment that marks the block
 * complete. The trailer is what makes restarts safe (spool-file.ts cuts a file after its last one)
 * and what tells a restarted collect which slot it scraped last.
 *
 * The body is handled as latin1, byte for byte: every delimiter the format has is ASCII, and no
 * byte of a UTF-8 sequence is, so label values in any encoding are written back exactly as served.
 */

/** Every trailer line starts with this; no other line of a spool file does (other comments are dropped). */
export const TRAILER_PREFIX = '# gpuhealth-collect scrape ';

export interface Trailer {
  target: string;
  /** The scrape's time: when the request was sent (ms). */
  ms: number;
  samples: number;
}

/** The trailer line of a scrape block, newline included. */
export function trailerLine(t: Trailer): string {
  return `${TRAILER_PREFIX}${t.target} ${t.ms} ${t.samples} samples\n`;
}

const TRAILER_RE = /^# gpuhealth-collect scrape ([A-Za-z0-9._-]+) (\d{1,16}) (\d{1,12}) samples$/;

/** A trailer line (without its newline) read back; null for any other line. */
export function parseTrailer(line: string): Trailer | null {
  const m = TRAILER_RE.exec(line);
  return m ? { target: m[1]!, ms: Number(m[2]), samples: Number(m[3]) } : null;
}

export interface StampedScrape {
  /** The block: stamped lines and the trailer, each ending in `\n`. */
  block: Buffer;
  /** Sample lines (stamped, or keeping the timestamp they had). */
  samples: number;
  /** Lines that are neither samples nor comments, kept as they were (ingest rejects them by line). */
  malformed: number;
}

const SP = 32,
  TAB = 9,
  HASH = 35,
  LBRACE = 123,
  RBRACE = 125,
  QUOTE = 34,
  BACKSLASH = 92;

const isNameChar = (c: number, first: boolean): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (!first && c >= 48 && c <= 57);

/** Index of the first character from i that is no space or tab. */
function skipBlanks(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === SP || s.charCodeAt(i) === TAB)) i++;
  return i;
}

/**
 * The index after the `}` that closes the label set opened at `open`, or -1 when it is not closed:
 * a `}` inside a quoted value (escapes `\"` and `\\` included) does not close it.
 */
export function labelSetEnd(line: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) quoted = false;
    } else if (c === QUOTE) quoted = true;
    else if (c === RBRACE) return i + 1;
  }
  return -1;
}

/** How many blank-separated tokens s[i…] holds (s has no trailing blanks), up to 3. */
function countTokens(s: string, i: number): number {
  let n = 0;
  while (i < s.length && n < 3) {
    n++;
    while (i < s.length && s.charCodeAt(i) !== SP && s.charCodeAt(i) !== TAB) i++;
    i = skipBlanks(s, i);
  }
  return n;
}

/**
 * What one line of a body becomes: `sample` (stamped), `timed` (a sample that has its own
 * timestamp, kept), `comment` (HELP or TYPE, kept), `drop` (blank, or another comment) or
 * `malformed` (kept as it was). `line` has no line terminator and no trailing blanks.
 */
export function classifyLine(line: string): 'sample' | 'timed' | 'comment' | 'drop' | 'malformed' {
  let i = skipBlanks(line, 0);
  if (i === line.length) return 'drop';
  if (line.charCodeAt(i) === HASH) return /^#\s*(HELP|TYPE)\s/.test(line.slice(i)) ? 'comment' : 'drop';
  const ns = i;
  while (i < line.length && isNameChar(line.charCodeAt(i), i === ns)) i++;
  if (i === ns) return 'malformed';
  // a name ends at a blank, a label set or the line's end; `DCGM-X 1` is no sample named DCGM
  const c = line.charCodeAt(i);
  if (i < line.length && c !== SP && c !== TAB && c !== LBRACE) return 'malformed';
  i = skipBlanks(line, i);
  if (line.charCodeAt(i) === LBRACE) {
    i = labelSetEnd(line, i);
    if (i < 0) return 'malformed';
    const d = line.charCodeAt(i);
    if (i < line.length && d !== SP && d !== TAB) return 'malformed';
    i = skipBlanks(line, i);
  }
  const tokens = countTokens(line, i);
  if (tokens === 1) return 'sample';
  if (tokens === 2) return 'timed';
  return 'malformed';
}

/** Right-trims spaces, tabs and a CR. */
function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c !== SP && c !== TAB && c !== 13) break;
    e--;
  }
  return e === s.length ? s : s.slice(0, e);
}

/**
 * The block written for one scrape of `target` sent at `ms`: every sample line of `body` with
 * ` <ms>` appended (one that has a timestamp keeps it), HELP and TYPE lines kept, blank lines and
 * other comments dropped (a comment could pass for a trailer), CRLF and a missing final newline
 * normalised, a UTF-8 byte-order mark dropped, malformed lines kept as they were; then the trailer.
 */
export function stampScrape(body: Buffer, target: string, ms: number): StampedScrape {
  let text = body.toString('latin1');
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  const stamp = ` ${ms}`;
  const out: string[] = [];
  let samples = 0;
  let malformed = 0;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const line = trimEnd(text.slice(start, nl));
    start = nl + 1;
    switch (classifyLine(line)) {
      case 'sample':
        samples++;
        out.push(line + stamp);
        break;
      case 'timed':
        samples++;
        out.push(line);
        break;
      case 'comment':
        out.push(line);
        break;
      case 'malformed':
        malformed++;
        out.push(line);
        break;
      case 'drop':
        break;
    }
  }
  out.push(trailerLine({ target, ms, samples }));
  return { block: Buffer.from(out.join('\n'), 'latin1'), samples, malformed };
}
