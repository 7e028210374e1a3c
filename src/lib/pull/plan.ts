/**
 * What `pull` asks Prometheus for, as pure functions of the range, the step, the host units and the
 * ranges already pulled.
 *
 * Time is cut on a fixed grid: cells of CHUNK_POINTS steps whose boundaries are multiples of the cell
 * length in epoch time, so that every pull with the same step cuts the same cells whatever its range.
 * The series are cut by host ("units": the values of a host label, see BATCH_LABELS), and what is
 * already pulled is tracked per unit and time range, so a resumed pull asks only for the (unit, range)
 * pairs that no committed record covers: a host that appears between two runs, or a range that grew,
 * costs only what is new. Each query_range asks for a batch of units over one missing range, sized so
 * that the response stays under MAX_POINTS_PER_RESPONSE points and its URL under MAX_SELECTOR_CHARS.
 */
import { escapeRegex, renderSelector, type Matcher } from './selector.js';

/** Prometheus refuses a query_range of more points per series ("exceeded maximum resolution of 11,000 points"). */
export const MAX_POINTS_PER_SERIES = 11_000;
/**
 * Points per series in one grid cell: a day at the default 60 s step, 4 h at 10 s; far below the
 * 11,000-point limit, and a host of 8 GPUs × 33 families is ~380,000 points, one response.
 */
export const CHUNK_POINTS = 1440;
/**
 * Points (series × steps) one response may hold: ~12 MB of JSON, which ingest holds parsed whole
 * (~100 MB of heap); with four in flight a pull stays under ~600 MB (bench/pull.js: 590 MiB at this
 * bound, 780 MiB at twice it, for the same speed), and far under Prometheus's --query.max-samples (50 M).
 */
export const MAX_POINTS_PER_RESPONSE = 500_000;
/** Before a response says otherwise, a host is taken to have this many GPUs (a DGX/HGX node has 8). */
export const GPUS_PER_HOST_GUESS = 8;
/**
 * Characters of selector per query: the URL stays under 8 KiB, the request-line limit of common
 * proxies in front of Prometheus (nginx large_client_header_buffers), with the rest of the URL.
 */
export const MAX_SELECTOR_CHARS = 6000;
/**
 * A range that ends later than this before now is pulled but not recorded as complete: scrapes and
 * remote-write arrive late, so the next pull asks for it again (ingest drops the rows it has).
 */
export const FRESH_LAG_MS = 5 * 60_000;

/**
 * Labels that tell hosts apart, in order: a series belongs to the unit of the first of them it has
 * (dcgm-exporter's Hostname; `hostname` since its 2026 rename; the scrape target's instance, one per
 * exporter); series with none of them form one unit of their own.
 */
export const BATCH_LABELS = ['Hostname', 'hostname', 'instance'] as const;

/** A time range in ms, [start, end); both multiples of the step. */
export interface TimeRange {
  readonly start: number;
  readonly end: number;
}

/** A host unit: one value of a batch label, or (label null) the series that have none of them. */
export interface Unit {
  readonly label: string | null;
  readonly value: string | null;
}

/** One query_range: a batch of units (all of one label) over one range. */
export interface Piece extends TimeRange {
  readonly label: string | null;
  readonly units: readonly Unit[];
  /** Series per unit assumed when the piece was sized (for splitting it again). */
  readonly seriesPerUnit: number;
}

export const unitKey = (u: Unit): string => JSON.stringify([u.label, u.value]);

/**
 * The evaluation times a range covers, as [start, end): the start rounded down to the step, the end
 * one step past the last step at or before `toMs` (query_range's end is inclusive; ours is not).
 */
export function alignedRange(fromMs: number, toMs: number, stepMs: number): TimeRange {
  const start = Math.floor(fromMs / stepMs) * stepMs;
  return { start, end: Math.floor(toMs / stepMs) * stepMs + stepMs };
}

export const cellMs = (stepMs: number): number => stepMs * CHUNK_POINTS;

/** The grid cells of `range` (each clipped to it), in time order. */
export function gridCells(range: TimeRange, stepMs: number): TimeRange[] {
  const len = cellMs(stepMs);
  const out: TimeRange[] = [];
  for (let c = Math.floor(range.start / len) * len; c < range.end; c += len) {
    out.push({ start: Math.max(c, range.start), end: Math.min(c + len, range.end) });
  }
  return out;
}

export const pointsIn = (r: TimeRange, stepMs: number): number => Math.round((r.end - r.start) / stepMs);

/** Merges overlapping or touching ranges. */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The parts of `range` that `covered` (merged, sorted) does not cover. */
export function uncovered(range: TimeRange, covered: readonly TimeRange[]): TimeRange[] {
  const out: TimeRange[] = [];
  let at = range.start;
  for (const c of covered) {
    if (c.end <= at) continue;
    if (c.start >= range.end) break;
    if (c.start > at) out.push({ start: at, end: c.start });
    at = Math.max(at, c.end);
    if (at >= range.end) break;
  }
  if (at < range.end) out.push({ start: at, end: range.end });
  return out;
}

/** Whether a range's data may still change: its last evaluation is within FRESH_LAG_MS of now. */
export const isFresh = (r: TimeRange, nowMs: number): boolean => r.end > nowMs - FRESH_LAG_MS;

/** The matchers that select a batch of units (all of one label, or the unit with none). */
export function unitMatchers(label: string | null, values: readonly string[]): Matcher[] {
  const i = label === null ? BATCH_LABELS.length : BATCH_LABELS.indexOf(label as (typeof BATCH_LABELS)[number]);
  const out: Matcher[] = BATCH_LABELS.slice(0, i).map((l) => ({ label: l, op: '=', value: '' }));
  if (label === null) return out;
  if (values.length === 1) out.push({ label, op: '=', value: values[0]! });
  else out.push({ label, op: '=~', value: values.map(escapeRegex).join('|') });
  return out;
}

/** The selector of a piece: the pull's own matchers (families, --match) and its units' matchers. */
export function pieceSelector(base: readonly Matcher[], piece: Pick<Piece, 'label' | 'units'>): string {
  return renderSelector([
    ...base,
    ...unitMatchers(
      piece.label,
      piece.units.map((u) => u.value!),
    ),
  ]);
}

/**
 * The pieces for the missing (unit, range) pairs of one cell. Units missing the same ranges are
 * batched, as many as fit MAX_POINTS_PER_RESPONSE at `seriesPerUnit` series each and
 * MAX_SELECTOR_CHARS of selector; a unit too large alone has its range cut in parts.
 */
export function cellPieces(
  missing: ReadonlyMap<string, { unit: Unit; ranges: readonly TimeRange[] }>,
  stepMs: number,
  seriesPerUnit: number,
  baseSelectorChars: number,
  maxPoints = MAX_POINTS_PER_RESPONSE,
): Piece[] {
  // group units by label and by the ranges they miss
  const groups = new Map<string, { label: string | null; range: TimeRange; units: Unit[] }>();
  for (const { unit, ranges } of missing.values()) {
    for (const range of ranges) {
      const key = JSON.stringify([unit.label, range.start, range.end]);
      const g = groups.get(key) ?? { label: unit.label, range, units: [] };
      g.units.push(unit);
      groups.set(key, g);
    }
  }
  const pieces: Piece[] = [];
  const ordered = [...groups.values()].sort((a, b) => a.range.start - b.range.start || labelOrder(a.label) - labelOrder(b.label));
  for (const g of ordered) {
    const units = g.units.sort((a, b) => cmp(a.value ?? '', b.value ?? ''));
    const points = pointsIn(g.range, stepMs);
    const perUnit = Math.max(1, seriesPerUnit) * points;
    if (perUnit > maxPoints || g.label === null) {
      // one unit per piece (the unit without a host label is always alone); cut its range to fit
      for (const u of units)
        for (const r of splitRange(g.range, stepMs, Math.ceil(perUnit / maxPoints))) pieces.push({ ...r, label: g.label, units: [u], seriesPerUnit });
      continue;
    }
    const fit = Math.max(1, Math.floor(maxPoints / perUnit));
    let batch: Unit[] = [];
    let chars = baseSelectorChars + 40;
    for (const u of units) {
      const cost = escapeRegex(u.value!).length + 1;
      if (batch.length > 0 && (batch.length >= fit || chars + quotedCost(cost) > MAX_SELECTOR_CHARS)) {
        pieces.push({ ...g.range, label: g.label, units: batch, seriesPerUnit });
        batch = [];
        chars = baseSelectorChars + 40;
      }
      batch.push(u);
      chars += quotedCost(cost);
    }
    if (batch.length > 0) pieces.push({ ...g.range, label: g.label, units: batch, seriesPerUnit });
  }
  return pieces;
}

/** Quoting doubles a regex's backslashes: count the worst case. */
const quotedCost = (chars: number): number => chars * 2;

const labelOrder = (label: string | null): number => (label === null ? BATCH_LABELS.length : BATCH_LABELS.indexOf(label as (typeof BATCH_LABELS)[number]));

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `range` cut into `parts` consecutive ranges of whole steps (fewer when it has fewer steps). */
export function splitRange(range: TimeRange, stepMs: number, parts: number): TimeRange[] {
  const points = pointsIn(range, stepMs);
  const n = Math.max(1, Math.min(parts, points));
  const each = Math.ceil(points / n);
  const out: TimeRange[] = [];
  for (let s = range.start; s < range.end; s += each * stepMs) out.push({ start: s, end: Math.min(s + each * stepMs, range.end) });
  return out;
}

/**
 * A piece cut in two after the server found it too large: its units halved, or, for one unit, its
 * range. Null when it is one unit over one step (nothing left to cut).
 */
export function halve(piece: Piece, stepMs: number): [Piece, Piece] | null {
  if (piece.units.length > 1) {
    const mid = Math.ceil(piece.units.length / 2);
    return [
      { ...piece, units: piece.units.slice(0, mid) },
      { ...piece, units: piece.units.slice(mid) },
    ];
  }
  const points = pointsIn(piece, stepMs);
  if (points < 2) return null;
  const mid = piece.start + Math.ceil(points / 2) * stepMs;
  return [
    { ...piece, end: mid },
    { ...piece, start: mid },
  ];
}

/** query_range's parameters for a piece: its end is inclusive, so it is the last step inside the piece. */
export function queryRangeParams(selector: string, piece: TimeRange, stepMs: number): [string, string][] {
  return [
    ['query', selector],
    ['start', secondsText(piece.start)],
    ['end', secondsText(piece.end - stepMs)],
    ['step', secondsText(stepMs)],
    // Thanos: fail rather than answer without a store that is down (a partial answer would be recorded)
    ['partial_response', 'false'],
  ];
}

/** ms → Prometheus's seconds (a decimal, exact to the ms). */
export const secondsText = (ms: number): string => (ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(3));

/** The `__name__` matcher of the families a pull asks for. */
export function familiesMatcher(families: readonly string[]): Matcher {
  return { label: '__name__', op: '=~', value: [...families].sort().map(escapeRegex).join('|') };
}
