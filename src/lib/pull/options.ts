/**
 * `pull`'s flags as checked lib options: the server URL, request headers and basic auth, the time
 * range and the step. Every mistake is an InputError (exit 2) whose message never repeats a header
 * value or a password.
 */
import { InputError } from '../errors.js';
import { basicAuthHeader, sendableHeaderValue } from '../net/http.js';
import { parseDuration, parseInstant } from '../time.js';
import { BASIC_AUTH_ENV } from './client.js';

/** The window a pull reads without --since or --from. */
export const DEFAULT_SINCE = '7d';
/** The step without --step: one row per GPU per minute, what the health rules need and 1/4 of a 15 s scrape's volume. */
export const DEFAULT_STEP = '60s';
/** The smallest --step: Prometheus stores samples to the ms, but no exporter is scraped faster than every second. */
export const MIN_STEP_MS = 1000;

/** A Prometheus base URL, checked: http or https, no query string or fragment (they would reach the records). */
export function serverUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new InputError('--prometheus is not a URL', ['--prometheus http://prometheus:9090']);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InputError(`--prometheus must be an http or https URL, not ${u.protocol}`, ['--prometheus http://prometheus:9090']);
  if (u.search !== '' || u.hash !== '') {
    throw new InputError('--prometheus takes the base URL without a query string or fragment', [
      'pass tenant or auth settings as headers: --header "X-Scope-OrgID: tenant"',
    ]);
  }
  if (/\/api\/v1\/?$/.test(u.pathname)) u.pathname = u.pathname.replace(/\/api\/v1\/?$/, '');
  return u.toString();
}

/** RFC 9110 token characters: a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Request headers from `--header 'Name: value'` (repeatable) and basic auth from the environment
 * (`GPUHEALTH_PROMETHEUS_BASIC_AUTH=user:password`); an Authorization header given wins over it.
 */
export function requestHeaders(flags: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, h] of flags.entries()) {
    const colon = h.indexOf(':');
    const name = colon > 0 ? h.slice(0, colon).trim() : '';
    const nth = flags.length > 1 ? ` (the ${ordinal(i + 1)})` : '';
    if (!HEADER_NAME.test(name)) throw new InputError(`--header${nth} is not 'Name: value'`, [`--header 'Authorization: Bearer <token>'`]);
    const value = h.slice(colon + 1).trim();
    if (/[\r\n\0]/.test(value)) throw new InputError(`--header ${name}: the value holds a line break`);
    if (!sendableHeaderValue(value)) {
      throw new InputError(`--header ${name}: the value holds a character an HTTP header cannot carry (outside Latin-1)`, [
        'a token is ASCII: check what was pasted (a typographic quote or ellipsis, …)',
      ]);
    }
    out[name.toLowerCase()] = value;
  }
  const basic = env[BASIC_AUTH_ENV];
  if (basic !== undefined && basic !== '' && out['authorization'] === undefined) {
    if (!basic.includes(':')) throw new InputError(`${BASIC_AUTH_ENV} must be user:password`);
    out['authorization'] = basicAuthHeader(basic);
  }
  return out;
}

const ordinal = (n: number): string => `${n}${n === 1 ? 'st' : n === 2 ? 'nd' : n === 3 ? 'rd' : 'th'}`;

export interface RangeFlags {
  since?: string;
  from?: string;
  to?: string;
}

/** `parse(text)`, its InputError naming the flag. */
function flagValue<T>(flag: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`--${flag}: ${e.message}`, e.suggestions);
    throw e;
  }
}

/** The time range in ms: --from/--to, or --since back from --to (default now). */
export function pullRange(f: RangeFlags, nowMs: number = Date.now()): { fromMs: number; toMs: number } {
  if (f.since !== undefined && f.from !== undefined) throw new InputError('--since and --from both set the start; give one of them');
  const toMs = f.to !== undefined ? flagValue('to', f.to, (t) => parseInstant(t, nowMs)) : nowMs;
  const fromMs =
    f.from !== undefined ? flagValue('from', f.from, (t) => parseInstant(t, nowMs)) : toMs - flagValue('since', f.since ?? DEFAULT_SINCE, parseDuration);
  if (fromMs > toMs) {
    throw new InputError(`--from ${new Date(fromMs).toISOString()} is after --to ${new Date(toMs).toISOString()}`, [
      '--from 2026-03-01T00:00:00Z --to 2026-03-08T00:00:00Z',
    ]);
  }
  return { fromMs, toMs };
}

/** --step in ms: positive, whole milliseconds, at least MIN_STEP_MS. */
export function pullStep(text: string): number {
  const ms = flagValue('step', text, parseDuration);
  if (!Number.isInteger(ms) || ms < MIN_STEP_MS) throw new InputError(`--step ${text} is under 1s or not whole milliseconds`, ['--step 60s']);
  return ms;
}

/** --timeout in ms. */
export function pullTimeout(text: string): number {
  return flagValue('timeout', text, parseDuration);
}
