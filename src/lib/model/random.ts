/**
 * Seeded randomness for the model trainers (gbdt.ts, iforest.ts): a training run is a pure function of
 * its data and seed, so a model card's seed reproduces the model bit for bit.
 */

/** mulberry32: a 32-bit state generator, uniform in [0, 1); plenty for row and feature sampling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `k` of 0..n−1 without replacement, in increasing order (Knuth's selection sampling, algorithm S):
 * one pass, and the sorted order keeps later scans over the rows cache-friendly.
 */
export function sampleSorted(n: number, k: number, rnd: () => number): Uint32Array {
  const out = new Uint32Array(Math.min(k, n));
  let need = out.length;
  let m = 0;
  for (let i = 0; i < n && need > 0; i++) {
    if (rnd() * (n - i) < need) {
      out[m++] = i;
      need--;
    }
  }
  return out;
}
