import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensembleToOnnx, META_KEYS, type PostTransform } from './onnx-export.js';
import { loadOnnx } from './onnx-run.js';
import { ModelProto } from './onnx-schema.js';
import { mulberry32 } from './random.js';
import { addLeaf, type Ensemble, predictRaw, type Tree } from './tree.js';

/** A seeded generator, so every run sees the same ensembles and rows. */
const rng = mulberry32;

/** The float32 values just below and above a float32 value. */
function float32Neighbours(f: number): [number, number] {
  const b = new Float32Array([f]);
  const u = new Uint32Array(b.buffer);
  const up = f >= 0 ? u[0]! + 1 : u[0]! - 1;
  const down = f > 0 ? u[0]! - 1 : f === 0 ? 0x80000001 : u[0]! + 1;
  u[0] = down;
  const lo = b[0]!;
  u[0] = up;
  return [lo, b[0]!];
}

function leafValue(r: () => number, scale: number): number {
  // never near 0, so a row sent down the wrong branch changes the sum visibly
  const v = (0.05 + r()) * scale;
  return r() < 0.5 ? -v : v;
}

/**
 * A random tree: splits down to `depth` (some branches stop early), thresholds drawn both as float32
 * values and as float64 values that float32 cannot hold (0.07, 0.7), missing values sent either way.
 */
function randomTree(r: () => number, depth: number, nFeatures: number, target: number, leaf: () => number): Tree {
  const t: Tree = { target, feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [], cover: [] };
  const grow = (d: number): number => {
    const id = addLeaf(t, 1);
    if (d === depth || (d > 1 && r() < 0.15)) {
      t.value[id] = leaf();
      return id;
    }
    t.feature[id] = Math.floor(r() * nFeatures);
    t.threshold[id] = r() < 0.5 ? Math.fround(r() * 2 - 1) : Math.round((r() * 2 - 1) * 100) / 100;
    t.missingLeft[id] = r() < 0.5;
    t.left[id] = grow(d + 1);
    t.right[id] = grow(d + 1);
    return id;
  };
  grow(0);
  return t;
}

function randomEnsemble(seed: number, o: { trees: number; depth: number; nFeatures: number; nTargets: number; leaf?: (r: () => number) => number }): Ensemble {
  const r = rng(seed);
  const leaf = o.leaf ?? ((g) => leafValue(g, 0.5));
  const trees = Array.from({ length: o.trees }, (_, i) => randomTree(r, o.depth, o.nFeatures, i % o.nTargets, () => leaf(r)));
  return { nFeatures: o.nFeatures, nTargets: o.nTargets, base: Array.from({ length: o.nTargets }, () => r() - 0.5), trees };
}

/**
 * Rows that probe the splits: a fifth of the values sit exactly on a threshold of their feature, some
 * on the float32 values either side of one, a tenth are NaN, a few infinite, the rest uniform.
 */
function randomRows(seed: number, e: Ensemble, n: number): number[][] {
  const r = rng(seed);
  const cuts: number[][] = Array.from({ length: e.nFeatures }, () => []);
  for (const t of e.trees) for (const [i, f] of t.feature.entries()) if (f >= 0) cuts[f]!.push(t.threshold[i]!);
  return Array.from({ length: n }, () =>
    Array.from({ length: e.nFeatures }, (_, f) => {
      const u = r();
      const c = cuts[f]!;
      if (u < 0.1) return Number.NaN;
      if (u < 0.12) return r() < 0.5 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      if (u < 0.32 && c.length > 0) return c[Math.floor(r() * c.length)]!;
      if (u < 0.42 && c.length > 0) return float32Neighbours(Math.fround(c[Math.floor(r() * c.length)]!))[r() < 0.5 ? 0 : 1];
      return r() * 2.4 - 1.2;
    }),
  );
}

const flat = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `f${i}`);
}

/** Equal to 1e-6, relative for values above 1 in size, absolute below. */
function expectClose(actual: number, expected: number, what: string): void {
  const tol = 1e-6 * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol)) expect.fail(`${what}: onnxruntime ${actual}, expected ${expected}`);
}

async function runRaw(e: Ensemble, rows: number[][], post: PostTransform = { kind: 'none' }) {
  const model = await loadOnnx(ensembleToOnnx(e, { post, featureNames: names(e.nFeatures), name: 'test' }));
  try {
    return await model.run(flat(rows), rows.length);
  } finally {
    await model.close();
  }
}

function expectRawMatches(e: Ensemble, rows: number[][], raw: Float32Array): void {
  expect(raw.length).toBe(rows.length * e.nTargets);
  for (const [i, row] of rows.entries()) {
    const want = predictRaw(e, row);
    for (let k = 0; k < e.nTargets; k++) expectClose(raw[i * e.nTargets + k]!, want[k]!, `row ${i} target ${k} (${row.join(', ')})`);
  }
}

const leaf = (value: number): Partial<Tree> => ({ feature: [-1], threshold: [0], missingLeft: [false], left: [-1], right: [-1], value: [value] });

/** Three features, two targets; each tree's nodes are listed root first. */
const HAND: Ensemble = {
  nFeatures: 3,
  nTargets: 2,
  base: [0.5, -0.25],
  trees: [
    {
      // f0 < 0.1 (float64; float32 rounds it up), NaN left; then f1 < 0.7 (float32 rounds it down), NaN right
      target: 0,
      feature: [0, -1, 1, -1, -1],
      threshold: [0.1, 0, 0.7, 0, 0],
      missingLeft: [true, false, false, false, false],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      value: [0, 1, 0, 2, 3],
      cover: [3, 1, 2, 1, 1],
    },
    {
      // f0 < float32(0.1), NaN right; right child splits f2 < 0, whose right child splits f2 < +Infinity
      target: 1,
      feature: [0, -1, 2, -1, 2, -1, -1],
      threshold: [Math.fround(0.1), 0, 0, 0, Number.POSITIVE_INFINITY, 0, 0],
      missingLeft: [false, false, true, false, false, false, false],
      left: [1, -1, 3, -1, 5, -1, -1],
      right: [2, -1, 4, -1, 6, -1, -1],
      value: [0, -1, 0, 4, 0, 8, 16],
      cover: [1, 1, 1, 1, 1, 1, 1],
    },
    { target: 0, ...leaf(0.125), cover: [1] } as Tree,
  ],
};

describe('ensembleToOnnx + loadOnnx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuhealth-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('routes rows on float32 edges, NaN and infinities as predictRaw does', async () => {
    const f01 = Math.fround(0.1);
    const [below01, above01] = float32Neighbours(f01);
    const f07 = Math.fround(0.7);
    const rows = [
      [0.1, 0, 0], // float32(0.1) is above 0.1: right in tree 0, and not below float32(0.1) in tree 1
      [below01, 0, 0],
      [above01, 0.7, 0],
      [1, f07, 0], // float32(0.7) is below 0.7: left
      [1, float32Neighbours(f07)[1], 0], // the next float32 up is above 0.7: right
      [Number.NaN, Number.NaN, Number.NaN], // tree 0 left; tree 1 right, then left at f2
      [1, Number.NaN, -0], // tree 0 right, right; -0 is not below 0
      [1, -1, -1e-45], // the smallest negative float32 is below 0
      [1, 2, Number.POSITIVE_INFINITY], // not below +Infinity
      [1, 2, 3.4e38],
      [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    ];
    const out = await runRaw(HAND, rows);
    expectRawMatches(HAND, rows, out['raw']!);
    // the same rows by hand, so the format's semantics (not just agreement) are pinned
    const expected = [
      [0.5 + 2 + 0.125, -0.25 + 8],
      [0.5 + 1 + 0.125, -0.25 - 1],
      [0.5 + 2 + 0.125, -0.25 + 8],
      [0.5 + 2 + 0.125, -0.25 + 8],
      [0.5 + 3 + 0.125, -0.25 + 8],
      [0.5 + 1 + 0.125, -0.25 + 4],
      [0.5 + 3 + 0.125, -0.25 + 8],
      [0.5 + 2 + 0.125, -0.25 + 4],
      [0.5 + 3 + 0.125, -0.25 + 16],
      [0.5 + 3 + 0.125, -0.25 + 8],
      [0.5 + 1 + 0.125, -0.25 - 1],
    ];
    expect(Array.from(out['raw']!)).toEqual(expected.flat());
  });

  it('matches predictRaw on a random 50-tree, depth-5 ensemble with two targets', async () => {
    const e = randomEnsemble(7, { trees: 50, depth: 5, nFeatures: 20, nTargets: 2 });
    const rows = randomRows(8, e, 3000);
    expectRawMatches(e, rows, (await runRaw(e, rows))['raw']!);
  });

  it('matches predictRaw on deep trees with large leaf values', async () => {
    const e = randomEnsemble(11, { trees: 30, depth: 9, nFeatures: 5, nTargets: 1, leaf: (r) => leafValue(r, 1000) });
    const rows = randomRows(12, e, 2000);
    expectRawMatches(e, rows, (await runRaw(e, rows))['raw']!);
  });

  it('writes an ensemble without trees as its base values', async () => {
    const e: Ensemble = { nFeatures: 2, nTargets: 2, base: [0.25, -3], trees: [] };
    const out = await runRaw(e, [
      [1, 2],
      [Number.NaN, 0],
    ]);
    expect(Array.from(out['raw']!)).toEqual([0.25, -3, 0.25, -3]);
  });

  it('keeps the base of a target that has no trees', async () => {
    const e = randomEnsemble(5, { trees: 6, depth: 3, nFeatures: 4, nTargets: 3 });
    e.trees = e.trees.filter((t) => t.target !== 1);
    const rows = randomRows(6, e, 200);
    expectRawMatches(e, rows, (await runRaw(e, rows))['raw']!);
  });

  it('runs an empty batch', async () => {
    const e = randomEnsemble(3, { trees: 3, depth: 2, nFeatures: 4, nTargets: 1 });
    const out = await runRaw(e, [], { kind: 'isolation', c: 2 });
    expect(out['raw']!.length).toBe(0);
    expect(out['score']!.length).toBe(0);
  });

  it('softmax: prob is the softmax of raw, rows sum to 1', async () => {
    const e = randomEnsemble(21, { trees: 60, depth: 4, nFeatures: 8, nTargets: 3, leaf: (r) => leafValue(r, 2) });
    const rows = randomRows(22, e, 1000);
    const out = await runRaw(e, rows, { kind: 'softmax' });
    expectRawMatches(e, rows, out['raw']!);
    const prob = out['prob']!;
    for (const [i, row] of rows.entries()) {
      const z = predictRaw(e, row);
      const m = Math.max(...z);
      const ex = z.map((v) => Math.exp(v - m));
      const s = ex.reduce((a, b) => a + b, 0);
      let sum = 0;
      for (let k = 0; k < 3; k++) {
        expectClose(prob[i * 3 + k]!, ex[k]! / s, `row ${i} class ${k}`);
        sum += prob[i * 3 + k]!;
      }
      expectClose(sum, 1, `row ${i} sum`);
    }
  });

  it('survival: prob[k] = 1 − exp(−H[k]·exp(raw)) to 1e-6 relative, monotone in k', async () => {
    const cumHazard = [1e-7, 1e-5, 1e-3, 0.05, 0.7, 4];
    const e = randomEnsemble(31, { trees: 40, depth: 4, nFeatures: 6, nTargets: 1, leaf: (r) => leafValue(r, 0.4) });
    const rows = randomRows(32, e, 2000);
    const out = await runRaw(e, rows, { kind: 'survival', cumHazard });
    expectRawMatches(e, rows, out['raw']!);
    const prob = out['prob']!;
    const K = cumHazard.length;
    expect(prob.length).toBe(rows.length * K);
    for (const [i, row] of rows.entries()) {
      const ratio = Math.exp(predictRaw(e, row)[0]!);
      for (let k = 0; k < K; k++) {
        const want = -Math.expm1(-cumHazard[k]! * ratio);
        const got = prob[i * K + k]!;
        // relative, even for the smallest probabilities (the reason for the tanh form in the graph)
        if (!(Math.abs(got - want) <= 1e-6 * want)) expect.fail(`row ${i} k ${k}: onnxruntime ${got}, expected ${want}`);
        if (k > 0) expect(got).toBeGreaterThanOrEqual(prob[i * K + k - 1]!);
      }
    }
  });

  it('isolation: score = 2^(−raw/c)', async () => {
    const c = 10.244770920116851; // c(256)
    const e = randomEnsemble(41, { trees: 100, depth: 8, nFeatures: 10, nTargets: 1, leaf: (r) => (1 + r() * 11) / 100 });
    e.base = [0];
    const rows = randomRows(42, e, 2000);
    const out = await runRaw(e, rows, { kind: 'isolation', c });
    expectRawMatches(e, rows, out['raw']!);
    for (const [i, row] of rows.entries()) expectClose(out['score']![i]!, 2 ** (-predictRaw(e, row)[0]! / c), `row ${i}`);
  });

  it('keeps feature names, name, post transform and extra metadata', async () => {
    const featureNames = ['temp_c', 'xid "79"', 'ecc_sbe_rate', 'Ünïcode ✓'];
    const e = randomEnsemble(51, { trees: 4, depth: 3, nFeatures: 4, nTargets: 1 });
    const post: PostTransform = { kind: 'survival', cumHazard: [0.01, 0.02, 0.05] };
    const path = join(dir, 'hazard.onnx');
    writeFileSync(
      path,
      ensembleToOnnx(e, { post, featureNames, name: 'fleet-hazard', metadata: { trained_at: '2026-01-02T03:04:05Z', horizons: '[7,30,90]' } }),
    );
    const model = await loadOnnx(path);
    try {
      expect(model.featureNames).toEqual(featureNames);
      expect(model.inputName).toBe('X');
      expect(model.outputNames).toEqual(['raw', 'prob']);
      expect(model.metadata[META_KEYS.name]).toBe('fleet-hazard');
      expect(JSON.parse(model.metadata[META_KEYS.postTransform]!)).toEqual(post);
      expect(model.metadata['trained_at']).toBe('2026-01-02T03:04:05Z');
      expect(model.metadata['horizons']).toBe('[7,30,90]');
    } finally {
      await model.close();
    }
  });

  it('refuses ensembles and options it cannot write faithfully', () => {
    const one = randomEnsemble(61, { trees: 2, depth: 2, nFeatures: 3, nTargets: 1 });
    const two = randomEnsemble(62, { trees: 2, depth: 2, nFeatures: 3, nTargets: 2 });
    const opts = { featureNames: names(3), name: 'x' };
    expect(() => ensembleToOnnx(two, { ...opts, post: { kind: 'survival', cumHazard: [1] } })).toThrow(/one target/);
    expect(() => ensembleToOnnx(two, { ...opts, post: { kind: 'isolation', c: 1 } })).toThrow(/one target/);
    expect(() => ensembleToOnnx(one, { ...opts, post: { kind: 'isolation', c: 0 } })).toThrow(/c must be/);
    expect(() => ensembleToOnnx(one, { ...opts, post: { kind: 'survival', cumHazard: [] } })).toThrow(/cumHazard/);
    expect(() => ensembleToOnnx(one, { ...opts, featureNames: names(2), post: { kind: 'none' } })).toThrow(/2 feature names for 3/);
    expect(() => ensembleToOnnx(one, { ...opts, post: { kind: 'none' }, metadata: { feature_names: '[]' } })).toThrow(/written by the exporter/);
    const badChild = structuredClone(one);
    badChild.trees[0]!.left[0] = 99;
    expect(() => ensembleToOnnx(badChild, { ...opts, post: { kind: 'none' } })).toThrow(/tree 0: node 0 has children 99/);
    const badFeature = structuredClone(one);
    badFeature.trees[1]!.feature[0] = 3;
    expect(() => ensembleToOnnx(badFeature, { ...opts, post: { kind: 'none' } })).toThrow(/tree 1: node 0 splits on feature 3 of 3/);
  });

  it('names the file and the fault when a model cannot be loaded', async () => {
    const missing = join(dir, 'missing.onnx');
    await expect(loadOnnx(missing)).rejects.toThrow(`ONNX model ${missing}: cannot read it (file not found)`);

    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, Buffer.from('this is not a protobuf at all, just some text\n'));
    await expect(loadOnnx(garbage)).rejects.toThrow(new RegExp(`^ONNX model ${garbage}: not an ONNX file`));

    const good = ensembleToOnnx(randomEnsemble(71, { trees: 5, depth: 3, nFeatures: 4, nTargets: 1 }), {
      post: { kind: 'none' },
      featureNames: names(4),
      name: 'x',
    });
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    await expect(loadOnnx(truncated)).rejects.toThrow(new RegExp(`^ONNX model ${truncated}: not an ONNX file`));

    // a readable model whose tree points at a node that is not there: onnxruntime refuses it
    const corrupt = join(dir, 'corrupt.onnx');
    const bad = randomEnsemble(72, { trees: 1, depth: 1, nFeatures: 4, nTargets: 1 });
    const bytes = Buffer.from(ensembleToOnnx(bad, { post: { kind: 'none' }, featureNames: names(4), name: 'x' }));
    const modes = bytes.indexOf('BRANCH_LT');
    bytes.write('BRANCH_XX', modes);
    writeFileSync(corrupt, bytes);
    await expect(loadOnnx(corrupt)).rejects.toThrow(new RegExp(`^ONNX model ${corrupt}: onnxruntime cannot load it`));

    await expect(loadOnnx(dir)).rejects.toThrow(`ONNX model ${dir}: cannot read it (is a directory)`);

    const foreign = ModelProto.encode(
      ModelProto.fromObject({ ir_version: 8, graph: { name: 'g', input: [{ name: 'X' }] }, metadata_props: [{ key: 'author', value: 'someone else' }] }),
    ).finish();
    await expect(loadOnnx(foreign)).rejects.toThrow('ONNX model (in memory): no "feature_names" in its metadata');
  });

  it('refuses a batch whose size does not match its row count', async () => {
    const model = await loadOnnx(
      ensembleToOnnx(randomEnsemble(81, { trees: 2, depth: 2, nFeatures: 3, nTargets: 1 }), { post: { kind: 'none' }, featureNames: names(3), name: 'x' }),
    );
    try {
      await expect(model.run(new Float32Array(7), 2)).rejects.toThrow(/7 values are not 2 rows of 3 features/);
    } finally {
      await model.close();
    }
  });
});
