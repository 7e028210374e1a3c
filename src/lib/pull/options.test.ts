import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { basicAuthHeader } from '../net/http.js';
import { pullRange, pullStep, requestHeaders, serverUrl } from './options.js';

const NOW = Date.UTC(2026, 2, 10, 12);

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('pull options', () => {
  it('takes a base URL and drops a trailing /api/v1', () => {
    expect(serverUrl('http://prom:9090')).toBe('http://prom:9090/');
    expect(serverUrl('https://mimir.example/prometheus/api/v1/')).toBe('https://mimir.example/prometheus');
    expect(inputError(() => serverUrl('prom:9090')).message).toContain('http or https');
    expect(inputError(() => serverUrl('not a url')).message).toBe('--prometheus is not a URL');
    expect(inputError(() => serverUrl('http://prom:9090/?token=abc')).message).toContain('without a query string');
  });

  it('reads headers and basic auth without ever repeating a value', () => {
    expect(requestHeaders(['Authorization: Bearer abc', 'X-Scope-OrgID:tenant-1'], {})).toEqual({ authorization: 'Bearer abc', 'x-scope-orgid': 'tenant-1' });
    expect(requestHeaders([], { GPUHEALTH_PROMETHEUS_BASIC_AUTH: 'ann:pw' })).toEqual({ authorization: basicAuthHeader('ann:pw') });
    // a header given wins over the environment
    expect(requestHeaders(['Authorization: Bearer abc'], { GPUHEALTH_PROMETHEUS_BASIC_AUTH: 'ann:pw' })).toEqual({ authorization: 'Bearer abc' });
    for (const bad of ['Bearer topsecret', ': topsecret', 'Bad Name: topsecret', 'Authorization: Bearer tök€n-topsecret']) {
      const e = inputError(() => requestHeaders([bad], {}));
      expect(e.message).not.toContain('topsecret');
    }
    expect(inputError(() => requestHeaders([], { GPUHEALTH_PROMETHEUS_BASIC_AUTH: 'topsecret' })).message).not.toContain('topsecret');
  });

  it('reads the range: --since back from --to or now, or --from/--to', () => {
    expect(pullRange({}, NOW)).toEqual({ fromMs: NOW - 7 * 86_400_000, toMs: NOW });
    expect(pullRange({ since: '2d', to: '2026-03-05T00:00:00Z' }, NOW)).toEqual({ fromMs: Date.UTC(2026, 2, 3), toMs: Date.UTC(2026, 2, 5) });
    expect(pullRange({ from: '2026-03-01' }, NOW)).toEqual({ fromMs: Date.UTC(2026, 2, 1), toMs: NOW });
    expect(inputError(() => pullRange({ since: '1d', from: '2026-03-01' }, NOW)).message).toContain('--since and --from');
    expect(inputError(() => pullRange({ from: '2026-03-02', to: '2026-03-01' }, NOW)).message).toContain('is after --to');
    expect(inputError(() => pullRange({ from: 'yesterday' }, NOW)).message).toContain('--from: invalid time');
  });

  it('takes a step of at least a second', () => {
    expect(pullStep('60s')).toBe(60_000);
    expect(pullStep('1.5s')).toBe(1500);
    expect(inputError(() => pullStep('0s')).message).toContain('--step: duration must be positive');
    expect(inputError(() => pullStep('-5s')).message).toContain('--step');
    expect(inputError(() => pullStep('500ms')).message).toContain('under 1s');
  });
});
