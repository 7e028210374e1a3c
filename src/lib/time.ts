/** Time parsing shared by every parser and command. Everything in the lake is UTC (DESIGN §4). */
import { InputError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `10s`, `5m`, `7d`, `250ms`, `1.5h` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!m) throw new InputError(`invalid duration "${text}"`, ['use a number and a unit: 250ms, 10s, 5m, 6h, 7d, 2w']);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!(ms > 0)) throw new InputError(`duration must be positive: "${text}"`);
  return ms;
}

/**
 * An instant given by a user: ISO-8601 (a missing zone means UTC), `now`, or epoch seconds / milliseconds.
 * Returns milliseconds since the epoch.
 */
export function parseInstant(text: string, nowMs: number = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  if (/^\d{9,10}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^\d{12,13}$/.test(t)) return Number(t);
  const iso = parseIsoUtc(t);
  if (iso === null) throw new InputError(`invalid time "${text}"`, ['use ISO-8601 (2026-11-25T10:00:00Z), epoch seconds, or "now"']);
  return iso;
}

/** ISO-8601 date or date-time; without an offset the time is taken as UTC. Null when not ISO. */
export function parseIsoUtc(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!m) return null;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const base = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) + Math.round(frac);
  if (Number.isNaN(base)) return null;
  const zone = m[8];
  if (!zone || zone.toUpperCase() === 'Z') return base;
  const z = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
  const offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  return base - offsetMin * 60_000;
}

/**
 * A stamp in a file name: ISO (`2026-11-25T10:00:00Z`, `20261125T100000Z`, `2026-11-25T10-00-00Z`)
 * or epoch seconds / milliseconds standing alone between separators. Null when none.
 */
export function timeFromFileName(name: string): number | null {
  const base = name.replace(/^.*[\\/]/, '');
  const iso = /(\d{4})-?(\d{2})-?(\d{2})[T_](\d{2})[:-]?(\d{2})[:-]?(\d{2})(?:[.,](\d{1,3}))?(Z|[+-]\d{2}:?\d{2})?/i.exec(base);
  if (iso) {
    const text = `${iso[1]}-${iso[2]}-${iso[3]}T${iso[4]}:${iso[5]}:${iso[6]}${iso[7] ? `.${iso[7]}` : ''}${iso[8] ?? 'Z'}`;
    const ms = parseIsoUtc(text);
    if (ms !== null) return ms;
  }
  const epoch = /(?:^|[^0-9])(\d{10}|\d{13})(?=[^0-9]|$)/.exec(base);
  if (epoch) {
    const n = Number(epoch[1]);
    return epoch[1]!.length === 10 ? n * 1000 : n;
  }
  return null;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Throws InputError for an unknown IANA zone name. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new InputError(`unknown time zone "${tz}"`, ['use an IANA name such as UTC, Europe/Berlin or America/Los_Angeles']);
  }
}

function zoneOffsetMs(tz: string, utcMs: number): number {
  let fmt = offsetFormatters.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(tz, fmt);
  }
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Wall-clock time in zone `tz` → UTC milliseconds (DST-aware; an ambiguous hour takes the first). */
export function localToUtcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (tz === 'UTC' || tz === 'Etc/UTC') return wall;
  let guess = wall - zoneOffsetMs(tz, wall);
  guess = wall - zoneOffsetMs(tz, guess);
  return guess;
}

/** The machine's zone, the default for local timestamps (nvidia-smi, dmesg -T). */
export function localTimeZone(): string {
  return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
