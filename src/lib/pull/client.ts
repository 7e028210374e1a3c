/**
 * The Prometheus HTTP API as `pull` uses it (`/api/v1/label/<name>/values`, `/api/v1/series`,
 * `/api/v1/query_range`), on the shared client lib/net/http.ts. Anything with Prometheus's API
 * answers it: Prometheus, Thanos Query, VictoriaMetrics, Mimir, Cortex.
 *
 * What can go wrong is sorted here, once: a server that is busy or unreachable (429, 502, 503, 504, a
 * refused or dropped connection, a timeout) is asked again, up to PULL_TRIES times with backoff and its
 * Retry-After honoured up to MAX_RETRY_AFTER_MS; an answer that a smaller query would avoid (too many
 * samples, a body over the size bound, a query timeout) is a TooLargeError for the caller to split;
 * everything else is a PromApiError (exit 1) whose message says what the server answered. No message
 * holds a credential: URLs go through redactUrl, and every header value given is scrubbed from any
 * text the server sent back.
 */
import { GpuhealthError } from '../errors.js';
import { HttpFailure, httpGet, keepAliveAgents, redactUrl, type HttpResponse } from '../net/http.js';

/** Tries per request before a transient failure fails the pull. */
export const PULL_TRIES = 3;
/** First backoff between tries; doubled each time (1 s, 2 s). */
export const RETRY_BASE_MS = 1000;
/** A Retry-After longer than this is cut to it: a pull waits, but not for hours. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Prometheus's own default query timeout is 2 min; a response gets that plus time to send its body. */
export const REQUEST_TIMEOUT_MS = 150_000;
/**
 * The largest response body taken: MAX_POINTS_PER_RESPONSE points are ~12 MB of JSON; a body ten
 * times that means the size estimate was wrong, and the piece is split instead.
 */
export const MAX_RESPONSE_BYTES = 128 << 20;

const RETRY_STATUS = new Set([429, 502, 503, 504]);
/** The environment variable with `user:password` for basic auth. */
export const BASIC_AUTH_ENV = 'GPUHEALTH_PROMETHEUS_BASIC_AUTH';

export const AUTH_HINTS = [
  `--header 'Authorization: Bearer <token>' (repeat --header for more, e.g. 'X-Scope-OrgID: <tenant>')`,
  `${BASIC_AUTH_ENV}=user:password gpuhealth pull … (basic auth, kept out of the shell history's command line)`,
];

/** A failed request: what the server answered, in one line without credentials. Exit 1. */
export class PromApiError extends GpuhealthError {}

/** The server found a query too large (samples, body size, time): a smaller one may pass. */
export class TooLargeError extends PromApiError {}

export interface PromJson {
  status: 'success';
  data: unknown;
  warnings?: unknown[];
  infos?: unknown[];
}

export interface PromReply {
  /** The body as received (decompressed): what ingest reads. */
  body: Buffer;
  json: PromJson;
  /** Warnings and infos the server attached, as text. */
  notes: string[];
}

export interface PromClientOptions {
  /** The base URL (no query string), e.g. http://prometheus:9090 or https://thanos.example/prometheus. */
  server: string;
  /** Request headers (Authorization, X-Scope-OrgID, …). */
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
  tries?: number;
  retryBaseMs?: number;
  maxBytes?: number;
  /** Called before a retry with why (no credentials in it). */
  onRetry?: (why: string) => void;
  signal?: AbortSignal;
}

type ErrorBody = { errorType: string; error: string };

function errorBody(body: Buffer): ErrorBody | null {
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (j && j['status'] === 'error') return { errorType: String(j['errorType'] ?? 'error'), error: String(j['error'] ?? '') };
  } catch {
    // not JSON
  }
  return null;
}

/** A Retry-After header (seconds or an HTTP date) in ms, or null. */
export function retryAfterMs(value: string | string[] | undefined, nowMs = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Prometheus's refusal of more than 11,000 points per series (promql/engine.go, web/api/v1/api.go). */
const RESOLUTION_ERROR = /exceeded maximum resolution/i;
/** Errors a smaller query avoids: Prometheus's max-samples, Thanos/Mimir/VictoriaMetrics limits. */
const TOO_MUCH_ERROR = /too many samples|max.?samples|exceeded .*limit|too many (series|points|chunks)|max series|maxSamplesPerQuery|would fetch too many/i;

export class PromClient {
  /** The server as messages and records show it: no user-info, no trailing slash. */
  readonly shown: string;
  requests = 0;
  retries = 0;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly agent = keepAliveAgents(16);

  constructor(private readonly opts: PromClientOptions) {
    this.base = new URL(opts.server);
    this.shown = redactUrl(this.base).replace(/\/+$/, '');
    this.headers = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) this.headers[k.toLowerCase()] = v;
    this.secrets = secretsOf(this.headers, this.base);
  }

  /** Whether the requests carry credentials (a header or user-info), for the 401 message. */
  get hasCredentials(): boolean {
    return this.headers['authorization'] !== undefined || this.base.username !== '' || this.base.password !== '';
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  /** `text` with every credential replaced: the only way server text reaches a message. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  private url(path: string, params: readonly [string, string][]): URL {
    const u = new URL(this.base.toString());
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
    for (const [k, v] of params) u.searchParams.append(k, v);
    return u;
  }

  /** GET an API path; the parsed success response, or a thrown PromApiError. `what` names the request in messages. */
  async get(path: string, params: readonly [string, string][], what: string): Promise<PromReply> {
    const tries = this.opts.tries ?? PULL_TRIES;
    const url = this.url(path, params);
    const shownUrl = redactUrl(url);
    let last = '';
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | null = null;
      let wait: number | null = null;
      this.requests++;
      try {
        res = await httpGet(url, {
          headers: this.headers,
          timeoutMs: this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
          maxBytes: this.opts.maxBytes ?? MAX_RESPONSE_BYTES,
          agent: this.agent,
          ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        });
      } catch (e) {
        if (!(e instanceof HttpFailure)) throw e;
        const why = this.scrub(e.message.startsWith(`${shownUrl}: `) ? e.message.slice(shownUrl.length + 2) : e.message);
        if (e.kind === 'too-large') throw new TooLargeError(`Prometheus at ${this.shown}: ${what}: ${why}`);
        if (e.kind === 'aborted' || e.kind === 'bad-url') throw new PromApiError(`Prometheus at ${this.shown}: ${what}: ${why}`);
        last = why;
      }
      if (res !== null) {
        if (res.status === 200) return this.success(res, what);
        const err = errorBody(res.body);
        last = this.statusText(res, err);
        if (!RETRY_STATUS.has(res.status) || err?.errorType === 'timeout') this.fail(res, err, what);
        wait = retryAfterMs(res.headers['retry-after']);
      }
      if (attempt >= tries) {
        throw new PromApiError(`Prometheus at ${this.shown}${res ? ' answered' : ':'} ${last} (${what}; ${tries} tries)`, [
          'check that the server is up and reachable from here; a pull run again resumes where this one stopped',
        ]);
      }
      const delay = Math.min(wait ?? (this.opts.retryBaseMs ?? RETRY_BASE_MS) * 2 ** (attempt - 1), MAX_RETRY_AFTER_MS);
      this.retries++;
      this.opts.onRetry?.(
        `Prometheus at ${this.shown}${res ? ' answered' : ':'} ${last}; trying again in ${(delay / 1000).toFixed(delay < 1000 ? 1 : 0)} s (${what})`,
      );
      await sleep(delay, this.opts.signal);
    }
  }

  private statusText(res: HttpResponse, err: ErrorBody | null): string {
    const head = `${res.status}${err ? ` ${err.errorType}` : STATUS_TEXT[res.status] ? ` ${STATUS_TEXT[res.status]}` : ''}`;
    if (err) return this.scrub(`${head}: ${oneLine(err.error)}`);
    const text = oneLine(res.body.toString('utf8').replace(/<[^>]*>/g, ' '));
    return this.scrub(text ? `${head} (${text.slice(0, 160)}${text.length > 160 ? '…' : ''})` : head);
  }

  private fail(res: HttpResponse, err: ErrorBody | null, what: string): never {
    const status = res.status;
    if (status === 401 || status === 403) {
      const given = this.hasCredentials;
      throw new PromApiError(
        `Prometheus at ${this.shown} answered ${status} ${STATUS_TEXT[status]}: ${given ? 'the credentials given were refused' : 'it needs credentials'} (${what})`,
        given ? ['check the token or password (they are never printed)', ...AUTH_HINTS] : AUTH_HINTS,
      );
    }
    const text = this.statusText(res, err);
    if (err && (err.errorType === 'timeout' || TOO_MUCH_ERROR.test(err.error)))
      throw new TooLargeError(`Prometheus at ${this.shown} answered ${text} (${what})`);
    if (err && RESOLUTION_ERROR.test(err.error)) throw this.resolutionError(text, what);
    if (status >= 300 && status < 400) {
      const to = res.headers.location ? ` to ${redactUrl(new URL(String(res.headers.location), this.base))}` : '';
      throw new PromApiError(`Prometheus at ${this.shown} answered ${status}, a redirect${to} (${what})`, ['pass the URL it redirects to as --prometheus']);
    }
    const hint = status === 404 ? [`--prometheus takes the server's base URL, the part before /api/v1 (e.g. http://prometheus:9090)`] : [];
    throw new PromApiError(`Prometheus at ${this.shown} answered ${text} (${what})`, hint);
  }

  private resolutionError(text: string, what: string): PromApiError {
    return new PromApiError(
      `Prometheus at ${this.shown} refused a query as too fine (${text}) (${what}); gpuhealth asks for at most 1440 points per series, so this server limits fewer than Prometheus's 11,000`,
      ['please report it with the server and its version; a larger --step does not help, the chunks are 1440 steps long whatever the step'],
    );
  }

  private success(res: HttpResponse, what: string): PromReply {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new PromApiError(`Prometheus at ${this.shown} answered 200 with a body that is not JSON (${what})`, [
        `--prometheus takes the server's base URL, the part before /api/v1 (e.g. http://prometheus:9090)`,
      ]);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new PromApiError(`Prometheus at ${this.shown} answered 200 with JSON that is no API response (${what})`);
    }
    if (json['status'] === 'error') {
      const err = { errorType: String(json['errorType'] ?? 'error'), error: String(json['error'] ?? '') };
      const text = this.scrub(`${err.errorType}: ${oneLine(err.error)}`);
      if (RESOLUTION_ERROR.test(err.error)) throw this.resolutionError(text, what);
      if (err.errorType === 'timeout' || TOO_MUCH_ERROR.test(err.error)) throw new TooLargeError(`Prometheus at ${this.shown} answered ${text} (${what})`);
      throw new PromApiError(`Prometheus at ${this.shown} answered ${text} (HTTP 200, ${what})`);
    }
    if (json['status'] !== 'success' || !('data' in json)) {
      throw new PromApiError(`Prometheus at ${this.shown} answered 200 without "status":"success" and "data" (${what})`, [
        `--prometheus takes the server's base URL, the part before /api/v1 (e.g. http://prometheus:9090)`,
      ]);
    }
    const notes: string[] = [];
    for (const key of ['warnings', 'infos'] as const) {
      const list = json[key];
      if (Array.isArray(list)) for (const w of list) notes.push(this.scrub(`Prometheus ${key === 'warnings' ? 'warning' : 'info'}: ${oneLine(String(w))}`));
    }
    return { body: res.body, json: json as unknown as PromJson, notes };
  }

  /** Values of a label among the series `match` selects in [start, end] (seconds; omitted: all time). */
  async labelValues(label: string, match: string, range: { start: string; end: string } | null, what: string): Promise<{ values: string[]; notes: string[] }> {
    const params: [string, string][] = [['match[]', match]];
    if (range) params.push(['start', range.start], ['end', range.end]);
    const r = await this.get(`/api/v1/label/${encodeURIComponent(label)}/values`, params, what);
    const data = r.json.data;
    if (!Array.isArray(data)) throw new PromApiError(`Prometheus at ${this.shown} answered label values that are not a list (${what})`);
    return { values: data.map(String), notes: r.notes };
  }

  /** Whether any series matches `match` in [start, end] (seconds). */
  async seriesExist(match: string, range: { start: string; end: string }, what: string): Promise<boolean> {
    const r = await this.get(
      '/api/v1/series',
      [
        ['match[]', match],
        ['start', range.start],
        ['end', range.end],
        ['limit', '1'],
      ],
      what,
    );
    return Array.isArray(r.json.data) && r.json.data.length > 0;
  }
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The strings no message may hold: header values (and their parts after a scheme), user-info. */
function secretsOf(headers: Readonly<Record<string, string>>, base: URL): string[] {
  const out = new Set<string>();
  for (const v of Object.values(headers)) {
    const value = v.trim();
    if (value.length >= 4) out.add(value);
    const m = /^\S+\s+(\S.*)$/.exec(value);
    if (m && m[1]!.length >= 4) {
      out.add(m[1]!);
      // a basic-auth header's base64 decoded: user:password, and the password alone
      if (/^basic$/i.test(value.split(/\s/)[0]!)) {
        const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
        if (plain.length >= 4) out.add(plain);
        const pw = plain.slice(plain.indexOf(':') + 1);
        if (plain.includes(':') && pw.length >= 4) out.add(pw);
      }
    }
  }
  if (base.password) {
    out.add(base.password);
    out.add(decodeURIComponent(base.password));
  }
  return [...out].sort((a, b) => b.length - a.length);
}
