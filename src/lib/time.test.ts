import { describe, expect, it } from 'vitest';
import { localToUtcMs, parseDuration, parseInstant, parseIsoUtc, timeFromFileName } from './time.js';

describe('time', () => {
  it('parses durations', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('7 days')).toThrow(/invalid duration/);
    expect(() => parseDuration('0s')).toThrow(/positive/);
  });

  it('parses instants: ISO with and without zone, epoch seconds and ms, now', () => {
    expect(parseInstant('2026-11-25T10:00:00Z')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseInstant('2026-11-25 10:00:00')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseInstant('2026-11-25T12:00:00+02:00')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseInstant('1764064800')).toBe(1764064800_000);
    expect(parseInstant('1764064800123')).toBe(1764064800123);
    expect(parseInstant('now', 42)).toBe(42);
    expect(() => parseInstant('yesterday')).toThrow(/invalid time/);
    expect(parseIsoUtc('2026-02-23T16:24:18,123456+00:00')).toBe(Date.UTC(2026, 1, 23, 16, 24, 18, 123));
  });

  it('finds stamps in file names', () => {
    expect(timeFromFileName('/spool/node1_2026-11-25T10-00-00Z.prom.gz')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(timeFromFileName('scrape-20261125T103000Z.prom')).toBe(Date.UTC(2026, 10, 25, 10, 30));
    expect(timeFromFileName('metrics.1764064800.prom')).toBe(1764064800_000);
    expect(timeFromFileName('metrics.prom')).toBeNull();
    expect(timeFromFileName('gpu-node-0001.prom')).toBeNull();
  });

  it('converts local wall-clock time across DST', () => {
    // 2026-03-08 02:30 does not exist in New York; 01:30 EST is 06:30Z, 03:30 EDT is 07:30Z.
    expect(localToUtcMs(2026, 3, 8, 1, 30, 0, 0, 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 6, 30));
    expect(localToUtcMs(2026, 3, 8, 3, 30, 0, 0, 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 7, 30));
    expect(localToUtcMs(2026, 7, 1, 12, 0, 0, 0, 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10));
  });
});
