/**
 * The exporters `collect` scrapes: URLs from --url and --targets files, each given a name that
 * becomes its spool folder and file-name prefix. A name is `host_port`, readable and stable across
 * restarts; two URLs on the same host and port (exporters behind one proxy) get a suffix from a hash
 * of their path, so that neither name depends on the order the URLs were given in.
 */
import crypto from 'node:crypto';
import { InputError } from '../errors.js';
import { redactUrl, sendableHeaderValue } from '../net/http.js';

export interface CollectTarget {
  /** As given (may hold user-info for basic auth: never shown). */
  url: string;
  /** Spool folder and file-name prefix: [A-Za-z0-9._-] only. */
  name: string;
  /** The URL as messages show it (redactUrl). */
  shown: string;
}

/** The URLs of a --targets file: one per line; `#` starts a comment; blank lines are skipped. */
export function parseTargetsFile(text: string): string[] {
  const urls: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line !== '') urls.push(line);
  }
  return urls;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** Characters outside [A-Za-z0-9._-] become `_`: a name is safe as a folder and file name, and in a trailer line. */
export const safeName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_');

/** The URL checked: http or https with a host; InputError (exit 2) otherwise. */
export function checkTargetUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // user-info may hold a password: cut it out of the text shown
    throw new InputError(`not a URL: ${url.replace(/\/\/[^@]*@/, '//…@').slice(0, 200)}`, ['give the exporter as http://HOST:9400/metrics']);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`${redactUrl(u)}: only http and https URLs are scraped`);
  if (!u.hostname) throw new InputError(`${redactUrl(u)}: the URL has no host`);
  return u;
}

/** `host_port` of a URL (the scheme's default port when it names none); `.` and `-` kept. */
export function baseTargetName(u: URL): string {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port || DEFAULT_PORTS[u.protocol] || '0';
  // a leading dot would hide the folder from ingest (it skips dot files) and from ls
  return safeName(`${host}_${port}`).replace(/^\./, '_');
}

/** A short hash of the URL's path and query: the suffix that tells apart targets on one host and port. */
const pathHash = (u: URL): string =>
  crypto
    .createHash('sha256')
    .update(u.pathname + u.search)
    .digest('hex')
    .slice(0, 6);

/**
 * Names the targets. The same URL twice is a mistake (InputError naming it); URLs on the same host
 * and port each get `_<hash of path>`; two names still the same after that (a hash collision, or
 * URLs that differ only in user-info) are an InputError naming both.
 */
export function nameTargets(urls: readonly string[]): CollectTarget[] {
  const parsed = urls.map((url) => ({ url, u: checkTargetUrl(url) }));
  const seen = new Map<string, string>();
  for (const { url, u } of parsed) {
    const key = u.toString();
    if (seen.has(key)) throw new InputError(`the URL ${redactUrl(u)} is given twice`);
    seen.set(key, url);
  }
  const byBase = new Map<string, number>();
  for (const { u } of parsed) byBase.set(baseTargetName(u), (byBase.get(baseTargetName(u)) ?? 0) + 1);
  const targets = parsed.map(({ url, u }) => {
    const base = baseTargetName(u);
    return { url, name: byBase.get(base)! > 1 ? `${base}_${pathHash(u)}` : base, shown: redactUrl(u) };
  });
  const byName = new Map<string, CollectTarget>();
  for (const t of targets) {
    const other = byName.get(t.name);
    if (other) throw new InputError(`${other.shown} and ${t.shown} would share the spool folder ${t.name}`, ['scrape each exporter once']);
    byName.set(t.name, t);
  }
  return targets;
}

/** A --header value `Name: value` → [name, value]; InputError without the value in its message. */
export function parseHeader(text: string): [string, string] {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*?)\s*$/.exec(text);
  if (!m) {
    // only the first word: a header given without its name may be all value
    const name = text.trim().split(/[:\s]/)[0]!.slice(0, 40);
    throw new InputError(`--header "${name}: …" is not "Name: value"`, ["--header 'Authorization: Bearer <token>'"]);
  }
  if (!sendableHeaderValue(m[2]!)) {
    throw new InputError(`--header ${m[1]}: the value holds a character an HTTP header cannot carry (outside Latin-1, or a line break)`, [
      'a token is ASCII: check what was pasted (a typographic quote or ellipsis, …)',
    ]);
  }
  return [m[1]!.toLowerCase(), m[2]!];
}
