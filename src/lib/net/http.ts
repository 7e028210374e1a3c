/**
 * The one HTTP client of `collect` and `pull`: a GET that returns the whole body or fails, never a
 * part of one. A response is complete only when the server ended it as it said it would (the
 * Content-Length reached, or the last chunk of a chunked body); a connection dropped mid-body, a
 * timeout or a body over `maxBytes` is an HttpFailure, so a caller can never store half a scrape.
 *
 * Messages name the URL without its user-info or query string values that may be secrets, and
 * never a request header's value: `redactUrl` is the only way a URL reaches a message.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

export interface HttpGetOptions {
  /** Request headers (Authorization, …); their values never appear in a message. */
  headers?: Readonly<Record<string, string>>;
  /** The whole request (connect, headers, body) must finish within this; ms. */
  timeoutMs: number;
  /** A body larger than this (after decompression) fails the request; default 256 MiB. */
  maxBytes?: number;
  /** Keep-alive agents, so that a scrape every few seconds reuses its connection. */
  agent?: { http?: http.Agent; https?: https.Agent };
  /** Aborts the request (the caller is stopping). */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, decompressed when the server sent it gzip- or deflate-encoded. */
  body: Buffer;
}

export type HttpFailureKind = 'timeout' | 'connection' | 'truncated' | 'too-large' | 'aborted' | 'bad-url' | 'bad-request';

/** A request that gave no complete response. */
export class HttpFailure extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const DEFAULT_MAX_BYTES = 256 << 20;

/** The URL as messages show it: no user name or password, and no query value (a token may be one). */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    u.username = '';
    u.password = '';
    for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/** Whether Node sends this header value: tab, printable ASCII and Latin-1 only (RFC 9110 field-value). */
export function sendableHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/** The `Authorization` header for `user:password` (basic auth), as RFC 7617 builds it. */
export function basicAuthHeader(userPassword: string): string {
  return `Basic ${Buffer.from(userPassword, 'utf8').toString('base64')}`;
}

/** Keep-alive agents for a client that requests the same servers again and again. */
export function keepAliveAgents(maxSockets = 256): { http: http.Agent; https: https.Agent } {
  return { http: new http.Agent({ keepAlive: true, maxSockets }), https: new https.Agent({ keepAlive: true, maxSockets }) };
}

/** GET `url`; resolves with any HTTP status (the caller decides what a 500 means), rejects with HttpFailure. */
export function httpGet(url: string | URL, opts: HttpGetOptions): Promise<HttpResponse> {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return Promise.reject(new HttpFailure('bad-url', `not a URL: ${String(url).slice(0, 200)}`));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new HttpFailure('bad-url', `${redactUrl(u)}: only http and https URLs are read`));
  }
  const shown = redactUrl(u);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate', ...opts.headers };
  if (u.username || u.password) {
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    headers.authorization ??= basicAuthHeader(`${user}:${password}`);
    u.username = '';
    u.password = '';
  }
  const mod = u.protocol === 'https:' ? https : http;
  const agent = u.protocol === 'https:' ? opts.agent?.https : opts.agent?.http;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const fail = (kind: HttpFailureKind, message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      req?.destroy();
      reject(new HttpFailure(kind, `${shown}: ${message}`));
    };
    const onAbort = (): void => fail('aborted', 'request aborted');
    try {
      req = mod.request(u, { method: 'GET', headers, agent }, (res) => {
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) fail('too-large', `response larger than ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        res.on('error', (e) => fail('truncated', `connection failed mid-body (${(e as NodeJS.ErrnoException).code ?? e.message})`));
        res.on('close', () => {
          if (settled) return;
          // `complete` is false when the connection closed before the body's end (a dropped
          // connection, a Content-Length not reached, a chunked body without its last chunk)
          if (!res.complete) return fail('truncated', `connection closed mid-body after ${bytes} bytes`);
          let body = Buffer.concat(chunks);
          try {
            if (encoding === 'gzip' || encoding === 'x-gzip') body = zlib.gunzipSync(body, { maxOutputLength: maxBytes });
            else if (encoding === 'deflate') body = zlib.inflateSync(body, { maxOutputLength: maxBytes });
          } catch (e) {
            return fail('truncated', `the ${encoding} body does not decompress (${(e as Error).message})`);
          }
          settled = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.on('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        fail('connection', code === 'ECONNREFUSED' ? 'connection refused' : `connection failed (${code ?? e.message})`);
      });
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    } catch (e) {
      // a header Node refuses (a character outside Latin-1) throws before any request is sent
      return fail('bad-request', `request not sent (${(e as Error).message})`);
    }
    if (!settled) timer = setTimeout(() => fail('timeout', `no complete response within ${opts.timeoutMs} ms`), opts.timeoutMs);
  });
}
