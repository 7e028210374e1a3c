import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthHeader, HttpFailure, httpGet, redactUrl } from './http.js';

let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/ok') return res.end('hello\n');
    if (req.url === '/gzip') {
      res.setHeader('content-encoding', 'gzip');
      return res.end(zlib.gzipSync('zipped\n'));
    }
    if (req.url === '/auth') {
      res.statusCode = req.headers.authorization === basicAuthHeader('ann:s3cret') ? 200 : 401;
      return res.end(String(res.statusCode));
    }
    if (req.url === '/short') {
      // promises 100 bytes, sends 10, then drops the connection
      res.setHeader('content-length', '100');
      res.write('0123456789');
      return setTimeout(() => req.socket.destroy(), 20);
    }
    if (req.url === '/chunked-drop') {
      res.write('a line\n');
      return setTimeout(() => req.socket.destroy(), 20);
    }
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
    res.statusCode = 500;
    res.end('boom');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const failure = async (p: Promise<unknown>): Promise<HttpFailure> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpFailure) return e;
    throw e;
  }
  throw new Error('expected an HttpFailure');
};

describe('httpGet', () => {
  it('returns the whole body, decompressing gzip', async () => {
    expect((await httpGet(`${base}/ok`, { timeoutMs: 1000 })).body.toString()).toBe('hello\n');
    expect((await httpGet(`${base}/gzip`, { timeoutMs: 1000 })).body.toString()).toBe('zipped\n');
  });

  it('resolves with an error status; the caller decides', async () => {
    const res = await httpGet(`${base}/nope`, { timeoutMs: 1000 });
    expect(res.status).toBe(500);
  });

  it('fails a body cut short, by Content-Length or mid-chunk, never returning part of it', async () => {
    expect((await failure(httpGet(`${base}/short`, { timeoutMs: 1000 }))).kind).toBe('truncated');
    expect((await failure(httpGet(`${base}/chunked-drop`, { timeoutMs: 1000 }))).kind).toBe('truncated');
  });

  it('fails on timeout, on a refused connection and on a body over the limit', async () => {
    expect((await failure(httpGet(`${base}/slow`, { timeoutMs: 100 }))).kind).toBe('timeout');
    expect((await failure(httpGet('http://127.0.0.1:1/', { timeoutMs: 1000 }))).kind).toBe('connection');
    expect((await failure(httpGet(`${base}/ok`, { timeoutMs: 1000, maxBytes: 3 }))).kind).toBe('too-large');
  });

  it('sends user-info as basic auth and never shows it', async () => {
    const port = new URL(base).port;
    expect((await httpGet(`http://ann:s3cret@127.0.0.1:${port}/auth`, { timeoutMs: 1000 })).status).toBe(200);
    const e = await failure(httpGet(`http://ann:s3cret@127.0.0.1:${port}/slow`, { timeoutMs: 50 }));
    expect(e.message).not.toContain('s3cret');
    expect(redactUrl('http://ann:s3cret@host:9090/x')).toBe('http://host:9090/x');
    expect(redactUrl('http://gw/metrics?api_key=s3cret&node=7')).toBe('http://gw/metrics?api_key=***&node=***');
  });

  it('fails a request Node refuses to send (a header outside Latin-1) at once, with no timer left behind', async () => {
    const e = await failure(httpGet(`${base}/ok`, { timeoutMs: 30_000, headers: { authorization: 'Bearer tök€n' } }));
    expect(e.kind).toBe('bad-request');
    expect(e.message).not.toContain('tök€n');
  });
});
