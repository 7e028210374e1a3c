import { describe, expect, it } from 'vitest';
import { buildDesign, MAX_LEVELS, UNKNOWN_LEVEL } from './design.js';

describe('buildDesign', () => {
  const event = [true, false, true, false, true, false, true, false];

  it('one-hot encodes a categorical covariate against its most common level with failures', () => {
    const d = buildDesign([{ kind: 'categorical', name: 'lot', values: ['A', 'A', 'A', 'B', 'B', 'C', 'C', 'A'] }], event);
    expect(d.references).toEqual({ lot: 'A' });
    // B and C have 2 GPUs each: the larger first, then by name
    expect(d.names).toEqual(['lot=B', 'lot=C']);
    expect(event.map((_, i) => d.columns.map((c) => c[i]).join(''))).toEqual(['00', '00', '00', '10', '10', '01', '01', '00']);
    expect(d.notes).toEqual([]);
  });

  it('makes a missing value a level of its own', () => {
    const d = buildDesign([{ kind: 'categorical', name: 'slot', values: ['0', null, null, '1', '1', '0', '0', '0'] }], event);
    expect(d.names).toEqual([`slot=${UNKNOWN_LEVEL}`, 'slot=1']);
  });

  it('puts levels without failures in with the reference, and says so', () => {
    // C has no failure: its hazard ratio would be 0 and the likelihood would have no maximum
    const d = buildDesign([{ kind: 'categorical', name: 'lot', values: ['A', 'A', 'B', 'C', 'B', 'C', 'A', 'A'] }], event);
    expect(d.names).toEqual(['lot=B']);
    expect(d.notes).toEqual(['lot: C had no failures and count with the reference A']);
  });

  it('picks a reference that has failures even where the most common level has none', () => {
    const values = ['B', 'A', 'B', 'A', 'C', 'A', 'C', 'A'];
    const d = buildDesign([{ kind: 'categorical', name: 'model', values }], event);
    expect(d.references).toEqual({ model: 'B' });
    expect(d.names).toEqual(['model=C']);
    expect(d.notes[0]).toMatch(/model: A had no failures/);
  });

  it('leaves out covariates that do not vary, or whose failures fall in one level', () => {
    const d = buildDesign(
      [
        { kind: 'numeric', name: 'deployed', values: [3, 3, 3, 3, 3, 3, 3, 3] },
        { kind: 'categorical', name: 'rack', values: ['r1', 'r1', 'r1', 'r1', 'r1', 'r1', 'r1', 'r1'] },
        { kind: 'categorical', name: 'lot', values: ['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B'] },
      ],
      event,
    );
    expect(d.names).toEqual([]);
    expect(d.notes).toEqual([
      'deployed: left out, every GPU has the same value',
      'rack: left out, every GPU has the same value',
      'lot: left out, failures fall in only one of its levels',
    ]);
  });

  it('leaves out a column the earlier ones determine (a lot that is exactly one model)', () => {
    const model = ['H100', 'H100', 'A100', 'A100', 'H100', 'A100', 'H100', 'A100'];
    const d = buildDesign(
      [
        { kind: 'categorical', name: 'model', values: model },
        { kind: 'categorical', name: 'lot', values: model.map((m) => (m === 'H100' ? 'L1' : 'L2')) },
        { kind: 'numeric', name: 'age', values: [1, 2, 3, 4, 5, 6, 7, 9] },
      ],
      [true, false, true, true, false, false, true, true],
    );
    expect(d.names).toEqual(['model=H100', 'age']);
    expect(d.notes).toEqual(['lot=L2: left out, it is determined by the covariates before it (the same GPUs)']);
  });

  it(`estimates at most ${MAX_LEVELS} levels of one covariate`, () => {
    const n = (MAX_LEVELS + 3) * 2;
    const values = Array.from({ length: n }, (_, i) => `r${String(Math.floor(i / 2)).padStart(2, '0')}`);
    const ev = Array.from({ length: n }, (_, i) => i % 2 === 0);
    const d = buildDesign([{ kind: 'categorical', name: 'rack', values }], ev);
    expect(d.names).toHaveLength(MAX_LEVELS);
    expect(d.notes).toEqual([`rack: only the ${MAX_LEVELS} largest levels are estimated; r25, r26 count with the reference r00`]);
  });
});
