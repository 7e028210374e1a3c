import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { nameTargets, parseHeader, parseTargetsFile } from './targets.js';

describe('target names', () => {
  it('are host_port, with the scheme default port when the URL names none', () => {
    expect(nameTargets(['http://node-17:9400/metrics', 'https://gpu.example.org/metrics', 'http://10.0.0.7/metrics']).map((t) => t.name)).toEqual([
      'node-17_9400',
      'gpu.example.org_443',
      '10.0.0.7_80',
    ]);
  });

  it('replace characters outside [A-Za-z0-9._-] (IPv6, odd host names)', () => {
    expect(nameTargets(['http://[::1]:9400/metrics'])[0]!.name).toBe('__1_9400');
    expect(nameTargets(['http://n%C3%B6de:9400/'])[0]!.name).toMatch(/^[A-Za-z0-9._-]+_9400$/);
  });

  it('tell apart targets on one host and port by a hash of their path, whatever their order', () => {
    const a = nameTargets(['http://proxy:80/node-1/metrics', 'http://proxy:80/node-2/metrics', 'http://other:9400/metrics']);
    const b = nameTargets(['http://proxy:80/node-2/metrics', 'http://proxy:80/node-1/metrics']);
    expect(a[0]!.name).toMatch(/^proxy_80_[0-9a-f]{6}$/);
    expect(a[0]!.name).not.toBe(a[1]!.name);
    expect(a[2]!.name).toBe('other_9400');
    expect(b.find((t) => t.url.includes('node-1'))!.name).toBe(a[0]!.name);
  });

  it('refuse the same URL twice, and URLs that differ only in user-info, naming them without it', () => {
    expect(() => nameTargets(['http://n:9400/metrics', 'http://n:9400/metrics'])).toThrow(/given twice/);
    let err: unknown;
    try {
      nameTargets(['http://ann:s3cret@n:9400/metrics', 'http://bob:hunter2@n:9400/metrics']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(String((err as Error).message)).toContain('http://n:9400/metrics');
    expect(String((err as Error).message)).not.toMatch(/s3cret|hunter2|ann|bob/);
  });

  it('refuse what is not an http(s) URL, without showing a password', () => {
    expect(() => nameTargets(['node-17:9400'])).toThrow(InputError);
    expect(() => nameTargets(['ftp://n/metrics'])).toThrow(/only http and https/);
    expect(() => nameTargets(['http://ann:s3cret@'])).toThrow(/^not a URL: http:\/\/…@$/);
  });

  it('show the URL without user-info', () => {
    expect(nameTargets(['http://ann:s3cret@n:9400/metrics'])[0]!.shown).toBe('http://n:9400/metrics');
  });
});

describe('--targets files', () => {
  it('hold one URL a line, with comments and blank lines', () => {
    const text = '# exporters of rack 7\nhttp://n1:9400/metrics\n\n  http://n2:9400/metrics   # the new one\r\n\t\n#http://n3:9400/metrics\n';
    expect(parseTargetsFile(text)).toEqual(['http://n1:9400/metrics', 'http://n2:9400/metrics']);
  });
});

describe('--header', () => {
  it('takes Name: value and never shows the value in its error', () => {
    expect(parseHeader('Authorization: Bearer abc:def')).toEqual(['authorization', 'Bearer abc:def']);
    expect(parseHeader('X-Scope-OrgID:team-a')).toEqual(['x-scope-orgid', 'team-a']);
    for (const bad of ['Bearer s3cret', 'Bad Name: s3cret', ': s3cret', 'Authorization: Bearer s3cret…']) {
      expect(() => parseHeader(bad)).toThrow(InputError);
      expect(() => parseHeader(bad)).not.toThrow(/s3cret/);
    }
  });
});
