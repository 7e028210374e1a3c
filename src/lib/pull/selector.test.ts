import { describe, expect, it } from 'vitest';
import { parseSelector } from '../../../fixtures/prom-api/fake-prometheus.js';
import { InputError } from '../errors.js';
import { escapeRegex, parseMatchers, renderSelector } from './selector.js';

describe('parseMatchers', () => {
  it('reads label matchers with and without braces, every operator and quoting', () => {
    expect(parseMatchers('{cluster="a",Hostname=~"gpu-.*"}')).toEqual([
      { label: 'cluster', op: '=', value: 'a' },
      { label: 'Hostname', op: '=~', value: 'gpu-.*' },
    ]);
    expect(parseMatchers(` job != 'x' , pod!~\`a\\d+\`, `)).toEqual([
      { label: 'job', op: '!=', value: 'x' },
      { label: 'pod', op: '!~', value: 'a\\d+' },
    ]);
    expect(parseMatchers('{}')).toEqual([]);
    expect(parseMatchers('{a="q\\"uote\\\\ \\u00e9\\x41\\101\\n"}')).toEqual([{ label: 'a', op: '=', value: 'q"uote\\ éAA\n' }]);
  });

  it.each([
    ['', 'no label matchers'],
    ['up', 'is a metric name'],
    ['DCGM_FI_DEV_GPU_TEMP{gpu="0"}', 'is a metric name'],
    ['{cluster="a"', 'missing }'],
    ['{cluster=a}', 'expected a quoted value'],
    ['{cluster=="a"}', 'expected a quoted value'],
    ['{1abc="a"}', 'expected a label name'],
    ['{a="x" b="y"}', 'expected , between matchers'],
    ['{a=~"("}', 'not a valid regular expression'],
    ['{a="x"} junk', 'text after the matchers'],
    ['{a="unterminated}', 'unterminated string'],
    ['{a="\\q"}', 'unknown escape'],
  ])('refuses %j (exit 2): %s', (text, why) => {
    let err: unknown;
    try {
      parseMatchers(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(why);
    expect((err as InputError).exitCode).toBe(2);
  });
});

describe('renderSelector', () => {
  it('is canonical: sorted matchers, one quoting, whatever the input spacing and order', () => {
    const a = renderSelector(parseMatchers(`{ b =~ 'x|y', a="1" }`));
    const b = renderSelector(parseMatchers('a="1",b=~"x|y"'));
    expect(a).toBe('{a="1",b=~"x|y"}');
    expect(b).toBe(a);
  });

  it('quotes values so that Prometheus reads them back as they were', () => {
    const values = ['plain', 'with "quotes"', 'back\\slash', 'new\nline', 'tab\t', 'ünïcödé', 'gpu-01.rack[2]'];
    for (const value of values) {
      const text = renderSelector([
        { label: '__name__', op: '=', value: 'x' },
        { label: 'v', op: '=', value },
      ]);
      const back = parseSelector(text).find((m) => m.label === 'v');
      expect(back?.value, text).toBe(value);
    }
  });
});

describe('escapeRegex', () => {
  it('makes a host name match only itself', () => {
    for (const host of ['gpu-01.example.com', 'a+b', 'x(1)', 'rack[2]', 'a|b', 'back\\slash', '^$*?{}']) {
      const re = new RegExp(`^(?:${escapeRegex(host)})$`);
      expect(re.test(host), host).toBe(true);
      expect(re.test(`${host}x`)).toBe(false);
    }
    expect(new RegExp(`^(?:${escapeRegex('gpu-01.a')})$`).test('gpu-01xa')).toBe(false);
  });
});
