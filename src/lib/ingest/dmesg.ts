/**
 * Kernel logs (dmesg, journalctl -k, /var/log/kern.log) → Xid events.
 *
 * Only `NVRM: Xid (PCI:dddd:bb:dd): <code>, …` lines become events; everything else in a kernel log
 * (other drivers, GSP RPC dumps, stack traces) is ignored, not rejected. `NVRM: GPU at PCI:…: GPU-…`
 * lines, printed when the driver loads, say which GPU sits at a PCI address; the parser applies them
 * to the Xid lines that follow (a GPU swapped at the same address gets a new line after the next
 * boot, so order matters) and tells the resolver, so later sources in the run can use them too.
 *
 * Each line's time is read from its own prefix, in whichever form the tool wrote it:
 *   `[Sun Feb 23 16:24:18 2025] `             dmesg -T (local time, --tz)
 *   `2025-02-23T16:24:18,123456+00:00 `        dmesg --time-format iso
 *   `2025-02-23T16:24:18+0000 host kernel: `   journalctl -o short-iso (also short-iso-precise, RFC 3339 syslog)
 *   `Feb 23 16:24:18 host kernel: `            journalctl -k, syslog (local time, no year)
 *   `[ 1234.567890] `                         plain dmesg: seconds since boot, which cannot be dated
 */
import { normalizePciBusId } from '../schema.js';
import { localToUtcMs, parseIsoUtc } from '../time.js';
import type { IngestSink, ParseContext, Parser } from './types.js';

const SOURCE = 'dmesg';
const MAX_TEXT = 1000;
/** A syslog date after the file's time by less than this is clock or zone skew, not last year. */
const YEAR_SKEW_MS = 86_400_000;

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const ISO = String.raw`(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?`;
/** journald / syslog: ` host ident[pid]: ` then, in older syslog setups, the printk `[ 123.456] ` stamp. */
const HOST_IDENT = String.raw`\s+(\S+)\s+[^\s:\[]+(?:\[\d+\])?:\s*(?:\[\s*\d+\.\d+\]\s*)?`;

const CTIME_RE = /^\[\s*[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\]\s*$/;
const BOOT_RE = /^\[\s*\d+\.\d+\]\s*$/;
const ISO_RE = new RegExp(`^${ISO}\\s*$`);
const ISO_HOST_RE = new RegExp(`^${ISO}${HOST_IDENT}$`);
const SYSLOG_RE = new RegExp(String.raw`^([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?${HOST_IDENT}$`);

const XID_RE = /^Xid\s*\(([^)]*)\)\s*:\s*(\d+)\b\s*,?\s*(.*)$/;
const GPU_AT_RE = /^GPU at (?:PCI:)?([0-9a-fA-F]+:[0-9a-fA-F]+:[0-9a-fA-F]+(?:\.[0-7])?):\s*(GPU-[0-9a-fA-F-]+)/;

/** What a line's prefix says about its time. */
type Stamp =
  | { kind: 'time'; ms: number; host: string | null }
  | { kind: 'boot'; host: string | null }
  | { kind: 'no-year'; host: string | null }
  | { kind: 'invalid'; host: string | null }
  | { kind: 'unknown' };

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function fractionMs(frac: string | undefined): number {
  return frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
}

/** A wall-clock date that does not exist (Feb 30, 25:00) is null. */
function wallClock(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, tz: string): number | null {
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi)
    return null;
  return localToUtcMs(y, mo, d, h, mi, s, ms, tz);
}

function isoStamp(m: RegExpExecArray, tz: string): number | null {
  if (m[8]) return parseIsoUtc(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? `.${m[7]}` : ''}${m[8]}`);
  // No offset: local time, as journalctl and dmesg print it.
  return wallClock(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, fractionMs(m[7]), tz);
}

/**
 * Syslog time without a year: the latest year that does not put it after `refMs` (the file's time)
 * by more than a day of skew.
 */
function inferYear(mo: number, d: number, h: number, mi: number, s: number, ms: number, refMs: number, tz: string): number | null {
  const refYear = new Date(refMs).getUTCFullYear() + 1;
  for (let y = refYear; y > refYear - 9; y--) {
    const t = wallClock(y, mo, d, h, mi, s, ms, tz);
    if (t !== null && t <= refMs + YEAR_SKEW_MS) return t;
  }
  return null;
}

/** Reads the text before `NVRM:` (raw priority `<4>` and `dmesg -x` facility/level already removed). */
function readStamp(prefix: string, ctx: ParseContext): Stamp {
  let m = CTIME_RE.exec(prefix);
  if (m) {
    const mo = MONTHS[m[1]!.toLowerCase()];
    const ms = mo === undefined ? null : wallClock(+m[6]!, mo, +m[2]!, +m[3]!, +m[4]!, +m[5]!, 0, ctx.tz);
    return ms === null ? { kind: 'invalid', host: null } : { kind: 'time', ms, host: null };
  }
  if (BOOT_RE.test(prefix)) return { kind: 'boot', host: null };
  m = ISO_RE.exec(prefix);
  if (m) {
    const ms = isoStamp(m, ctx.tz);
    return ms === null ? { kind: 'invalid', host: null } : { kind: 'time', ms, host: null };
  }
  m = ISO_HOST_RE.exec(prefix);
  if (m) {
    const ms = isoStamp(m, ctx.tz);
    return ms === null ? { kind: 'invalid', host: m[9]! } : { kind: 'time', ms, host: m[9]! };
  }
  m = SYSLOG_RE.exec(prefix);
  if (m) {
    const host = m[7]!;
    const mo = MONTHS[m[1]!.toLowerCase()];
    if (mo === undefined) return { kind: 'invalid', host };
    if (ctx.defaultTimeMs === null) return { kind: 'no-year', host };
    const ms = inferYear(mo, +m[2]!, +m[3]!, +m[4]!, +m[5]!, fractionMs(m[6]), ctx.defaultTimeMs, ctx.tz);
    return ms === null ? { kind: 'invalid', host } : { kind: 'time', ms, host };
  }
  return { kind: 'unknown' };
}

/** Bracketed dmesg stamps, or `host kernel:` with a syslog / ISO date. */
const KERNEL_LOG_LINE = new RegExp(
  String.raw`^(?:<\d+>)?(?:\[\s*\d+\.\d+\]|\[\s*[A-Za-z]{3}\s+[A-Za-z]{3}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4}\]|${ISO}\s+\S+\s+kernel:|[A-Za-z]{3}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?\s+\S+\s+kernel:)`,
);

function sniff(head: string): number {
  if (/NVRM: /.test(head)) return 0.95;
  let lines = 0;
  let kernel = 0;
  for (const raw of head.split(/\r?\n/, 200)) {
    const line = raw.trim();
    if (line === '') continue;
    lines += 1;
    if (KERNEL_LOG_LINE.test(line) || (ISO_RE.test(line.split(/\s/)[0] ?? '') && /^\S+\s+\S/.test(line))) kernel += 1;
  }
  return lines > 0 && kernel / lines >= 0.5 ? 0.5 : 0;
}

async function parse(lines: AsyncIterable<string>, ctx: ParseContext, sink: IngestSink): Promise<void> {
  /** pci → uuid learned from `GPU at PCI` lines, per host. */
  const learned = new Map<string, string>();
  const key = (host: string | null, pci: string): string => `${host ?? ''}\u0000${pci}`;
  const unmapped = new Map<string, { host: string | null; pci: string }>();
  let bootRejects = 0;
  let noYearRejects = 0;
  let lineNo = 0;

  for await (const line of lines) {
    lineNo += 1;
    const at = line.indexOf('NVRM:');
    if (at < 0) continue;
    const message = line.slice(at + 'NVRM:'.length).trim();
    const prefix = line
      .slice(0, at)
      .replace(/^\s*<\d+>/, '')
      .replace(/^\s*[a-z]+\s*:\s*[a-z]+\s*:\s/, '');

    const gpuAt = GPU_AT_RE.exec(message);
    if (gpuAt) {
      const pci = normalizePciBusId(gpuAt[1]!);
      if (pci === null) continue;
      // The mapping needs no time, so any prefix will do; only a journal line names another host.
      const stamp = readStamp(prefix, ctx);
      const host = ('host' in stamp ? stamp.host : null) ?? ctx.host;
      learned.set(key(host, pci), gpuAt[2]!);
      ctx.resolver.remember({ gpu_uuid: gpuAt[2]!, host, gpu_index: null, model: null, pci_bus_id: pci, driver_version: null });
      continue;
    }
    if (!/^Xid\b/.test(message)) continue;

    const xid = XID_RE.exec(message);
    const pci = xid ? normalizePciBusId(xid[1]!) : null;
    if (!xid || pci === null) {
      sink.reject(lineNo, xid ? `unreadable PCI address "${xid[1]}" in NVRM Xid line` : 'NVRM Xid line without a PCI address and Xid code', clip(line));
      continue;
    }
    const stamp = readStamp(prefix, ctx);
    if (stamp.kind === 'boot') {
      bootRejects += 1;
      sink.reject(lineNo, 'dmesg timestamps are seconds since boot; re-run with dmesg -T or --time-format iso', clip(line));
      continue;
    }
    if (stamp.kind === 'no-year') {
      noYearRejects += 1;
      sink.reject(lineNo, 'syslog timestamp has no year; pass --time <when the log was saved>', clip(line));
      continue;
    }
    if (stamp.kind === 'invalid') {
      sink.reject(lineNo, 'invalid date in timestamp', clip(line));
      continue;
    }
    if (stamp.kind === 'unknown') {
      sink.reject(lineNo, 'unrecognised timestamp before NVRM: (expected dmesg -T, dmesg --time-format iso, or journalctl -k output)', clip(line));
      continue;
    }
    const host = stamp.host ?? ctx.host;
    const gpuUuid = learned.get(key(host, pci)) ?? ctx.resolver.byPci(host, pci)?.gpu_uuid ?? null;
    if (gpuUuid === null) unmapped.set(key(host, pci), { host, pci });
    sink.xid(
      { time_ms: stamp.ms, gpu_uuid: gpuUuid, host, pci_bus_id: pci, xid: Number(xid[2]), source: SOURCE, message: xid[3]!.trim() },
      { line: lineNo, text: clip(line) },
    );
  }

  if (bootRejects > 0) {
    sink.warn(
      `${ctx.file}: ${bootRejects} Xid line${bootRejects > 1 ? 's' : ''} rejected: plain dmesg stamps are seconds since boot and cannot be dated; ` +
        're-run with dmesg -T or dmesg --time-format iso (or use journalctl -k -o short-iso)',
    );
  }
  if (noYearRejects > 0) {
    sink.warn(
      `${ctx.file}: ${noYearRejects} Xid line${noYearRejects > 1 ? 's' : ''} rejected: syslog dates have no year; pass --time <when the log was saved>, or use journalctl -k -o short-iso`,
    );
  }
  if (unmapped.size > 0) {
    const list = [...unmapped.values()].map((u) => (u.host === null ? u.pci : `${u.pci} on ${u.host}`));
    sink.warn(
      `${ctx.file}: Xid events at PCI ${list.join(', ')} have no GPU UUID yet; they are kept with their pci_bus_id. ` +
        "Ingest the host's dcgm-exporter or nvidia-smi --query-gpu data (or pass --gpu-map) to map them" +
        (ctx.host === null && [...unmapped.values()].some((u) => u.host === null) ? ', and pass --host for dmesg files' : ''),
    );
  }
}

export const dmesgParser: Parser = { format: 'dmesg', sniff, parse };
