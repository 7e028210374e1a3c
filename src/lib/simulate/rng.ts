/**
 * Seeded pseudo-random numbers for the simulator. Every draw in the simulator comes from an `Rng`
 * derived from the user's seed plus a stream id (fleet layout, failures, one per host, one per GPU),
 * so a run is reproducible and a change in one part of the model does not reshuffle the others.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): 32-bit integer ops only,
 * passes PractRand to 2^60 bytes and is several times faster in V8 than anything built on BigInt.
 * Gaussian noise comes from a precomputed inverse-CDF table (one table read per draw): the
 * telemetry hot loop draws several per GPU per tick and only needs plausible noise, not exact tails.
 */

const GAUSS_BITS = 12;
const GAUSS_SIZE = 1 << GAUSS_BITS;

/** Acklam's rational approximation of the inverse standard normal CDF (relative error < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const GAUSS_TABLE = new Float64Array(GAUSS_SIZE);
for (let i = 0; i < GAUSS_SIZE; i++) GAUSS_TABLE[i] = inverseNormalCdf((i + 0.5) / GAUSS_SIZE);

/** murmur3's 32-bit finaliser: spreads a seed or stream id over all 32 bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds any finite number (seeds may exceed 32 bits or be negative) into the hash state. */
function foldNumber(h: number, x: number): number {
  const lo = x >>> 0;
  const hi = Math.floor(x / 4294967296) >>> 0;
  h = fmix32((h ^ lo) + 0x9e3779b9);
  return fmix32((h ^ hi) + 0x7f4a7c15);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is the user's seed; `streams` name an independent sub-stream (e.g. STREAM_GPU, gpuId). */
  constructor(seed: number, ...streams: number[]) {
    let h = foldNumber(0x243f6a88, seed);
    for (const s of streams) h = foldNumber(h, s);
    this.a = h;
    this.b = fmix32(h + 0x3c6ef372);
    this.c = fmix32(h + 0xa54ff53a);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const a = this.a,
      b = this.b,
      c = this.c,
      d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal noise (table-based, |z| ≤ 3.7). */
  gauss(): number {
    return GAUSS_TABLE[this.u32() >>> (32 - GAUSS_BITS)]!;
  }

  /**
   * Fills out[0..n) with standard normal noise, two draws per 32-bit output, generator state in
   * locals: the telemetry loop's per-row noise in one call.
   */
  fillGauss(out: Float64Array, n: number): void {
    let a = this.a,
      b = this.b,
      c = this.c,
      d = this.d;
    for (let i = 0; i < n; i += 2) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      out[i] = GAUSS_TABLE[t >>> 20]!;
      out[i + 1] = GAUSS_TABLE[(t >>> 8) & (GAUSS_SIZE - 1)]!;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Exponential with mean 1. */
  exp(): number {
    return -Math.log(1 - this.next());
  }

  /** Poisson count with mean `lambda`; normal approximation above 30. */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.gauss()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Index drawn with probability proportional to `weights[i]`. */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** `n` lower-case hex digits. */
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i += 2) {
      const byte = HEX2[this.u32() >>> 24]!;
      s += i + 1 < n ? byte : byte[0]!;
    }
    return s;
  }

  /** `n` decimal digits. */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}

/** Stream ids: each part of the model draws from its own stream. */
export const STREAM = {
  layout: 1,
  failures: 2,
  problematic: 3,
  planted: 4,
  hostEvents: 5,
  host: 6,
  gpu: 7,
  identity: 8,
} as const;
