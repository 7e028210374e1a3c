import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcgmFleet, recorded, startFakePrometheus, type Fault, type FakePrometheus } from '../../../fixtures/prom-api/fake-prometheus.js';
import { basicAuthHeader } from '../net/http.js';
import { PromApiError, PromClient, retryAfterMs, TooLargeError } from './client.js';

const TOKEN = 'Bearer s3cr3t-t0ken-value';
let fault: (req: { path: string; n: number }) => Fault = () => undefined;
let server: FakePrometheus;
let open: FakePrometheus;

beforeAll(async () => {
  const series = dcgmFleet({ hosts: 2, gpusPerHost: 1 });
  server = await startFakePrometheus({ series, auth: TOKEN, fault: (r) => fault(r) });
  open = await startFakePrometheus({ series, warnings: ['result may be partial: store gpu-a is down'] });
});
afterAll(async () => {
  await server.close();
  await open.close();
});

const client = (headers: Record<string, string> = { authorization: TOKEN }, url = server.url): PromClient =>
  new PromClient({ server: url, headers, retryBaseMs: 1, timeoutMs: 5000 });

async function failure(p: Promise<unknown>): Promise<PromApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PromApiError) return e;
    throw e;
  }
  throw new Error('expected a PromApiError');
}

const QR = '/api/v1/query_range';
const params: [string, string][] = [
  ['query', '{__name__="DCGM_FI_DEV_GPU_TEMP"}'],
  ['start', '1772323200'],
  ['end', '1772326800'],
  ['step', '60'],
];

describe('PromClient', () => {
  it('reads label values and query_range matrices, with the server warnings as notes', async () => {
    const c = client({}, open.url);
    const names = await c.labelValues('__name__', '{__name__=~"DCGM_.*"}', null, 'names');
    expect(names.values).toContain('DCGM_FI_DEV_GPU_TEMP');
    expect(names.values).not.toContain('up');
    const r = await c.get(QR, params, 'q');
    const data = r.json.data as { resultType: string; result: { values: unknown[] }[] };
    expect(data.resultType).toBe('matrix');
    expect(data.result).toHaveLength(2);
    expect(data.result[0]!.values).toHaveLength(61);
    expect(r.notes).toEqual(['Prometheus warning: result may be partial: store gpu-a is down']);
    expect(c.requests).toBe(2);
    c.close();
  });

  it('says credentials are needed on a 401, and how to give them', async () => {
    const e = await failure(client({}).get(QR, params, 'q'));
    expect(e.message).toBe(`Prometheus at ${server.url} answered 401 Unauthorized: it needs credentials (q)`);
    expect(e.suggestions.join('\n')).toContain('--header');
    expect(e.suggestions.join('\n')).toContain('GPUHEALTH_PROMETHEUS_BASIC_AUTH');
    const wrong = await failure(client({ authorization: basicAuthHeader('ann:hunter22') }).get(QR, params, 'q'));
    expect(wrong.message).toContain('the credentials given were refused');
    expect(`${wrong.message}${wrong.suggestions.join('')}`).not.toMatch(/hunter22|YW5uOmh1bnRlcjIy/);
  });

  it('asks again on 503 and dropped connections, honouring Retry-After', async () => {
    const faults: Fault[] = [{ status: 503, body: recorded('not-ready.txt'), headers: { 'retry-after': '0' } }, 'drop'];
    fault = (r) => (r.path === QR ? faults.shift() : undefined);
    const c = client();
    const r = await c.get(QR, params, 'q');
    expect(r.json.status).toBe('success');
    expect(c.retries).toBe(2);
    expect(c.requests).toBe(3);
    fault = () => undefined;
  });

  it('gives up after three tries with what the server said', async () => {
    fault = () => ({ status: 503, body: recorded('not-ready.txt') });
    const c = client();
    const e = await failure(c.get(QR, params, 'q'));
    expect(e.message).toBe(`Prometheus at ${server.url} answered 503 Service Unavailable (Service Unavailable) (q; 3 tries)`);
    expect(c.requests).toBe(3);
    fault = () => undefined;
  });

  it('does not retry a 500, and quotes its errorType and error', async () => {
    fault = () => ({ status: 500, body: recorded('internal-error.json') });
    const c = client();
    const e = await failure(c.get(QR, params, 'q'));
    expect(e.message).toBe(`Prometheus at ${server.url} answered 500 internal: expanding series: read chunk range: get chunk: invalid chunk reference (q)`);
    expect(c.requests).toBe(1);
    fault = () => undefined;
  });

  it('turns "too many samples" into a TooLargeError, for the caller to split', async () => {
    fault = () => ({ status: 422, body: recorded('too-many-samples.json') });
    expect(await failure(client().get(QR, params, 'q'))).toBeInstanceOf(TooLargeError);
    fault = () => undefined;
  });

  it('explains the 11,000-point refusal, also in a 200 with "status":"error"', async () => {
    fault = () => ({ status: 400, body: recorded('resolution-error.json') });
    const e = await failure(client().get(QR, params, 'q'));
    expect(e).not.toBeInstanceOf(TooLargeError);
    expect(e.message).toContain('exceeded maximum resolution of 11,000 points per timeseries');
    expect(e.message).toContain('at most 1440 points per series');
    fault = () => ({ status: 200, body: recorded('resolution-error.json') });
    expect((await failure(client().get(QR, params, 'q'))).message).toContain('bad_data: exceeded maximum resolution');
    fault = () => undefined;
  });

  it('points at the base URL when the answer is no API response', async () => {
    fault = () => ({ status: 200, body: '<html>Grafana</html>' });
    const e = await failure(client().get(QR, params, 'q'));
    expect(e.message).toContain('a body that is not JSON');
    expect(e.suggestions[0]).toContain('the part before /api/v1');
    fault = () => undefined;
    const missing = await failure(client({ authorization: TOKEN }, `${server.url}/nope`).get(QR, params, 'q'));
    expect(missing.message).toContain('answered 404');
  });

  it('never repeats a credential the server echoes back', async () => {
    fault = () => ({ status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: `bad header ${TOKEN}` }) });
    const e = await failure(client().get(QR, params, 'q'));
    expect(e.message).not.toContain('s3cr3t');
    expect(e.message).toContain('bad header ***');
    fault = () => undefined;
    const u = new URL(server.url);
    u.username = 'ann';
    u.password = 'pa55word';
    const c = new PromClient({ server: u.toString(), retryBaseMs: 1 });
    expect(c.shown).toBe(server.url);
    expect((await failure(c.get(QR, params, 'q'))).message).not.toContain('pa55word');
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
});
