import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { selectGpus } from './select.js';

const row = (gpu_uuid: string, host: string | null = 'node-1') => ({ gpu_uuid, host });
const ROWS = [
  row('GPU-1a2b3c4d-0000-0000-0000-000000000001'),
  row('GPU-1a2b3c4d-0000-0000-0000-000000000002', 'node-2'),
  row('GPU-9f000000-0000-0000-0000-000000000003', 'node-2'),
  row('GPU-9f', null),
];

const uuids = (rows: { gpu_uuid: string }[]) => rows.map((r) => r.gpu_uuid);

describe('selectGpus', () => {
  it('returns every row without filters', () => {
    expect(selectGpus(ROWS)).toEqual(ROWS);
  });

  it('matches a whole UUID exactly, before any prefix', () => {
    expect(uuids(selectGpus(ROWS, ['GPU-9f']))).toEqual(['GPU-9f']);
    expect(uuids(selectGpus(ROWS, ['GPU-1a2b3c4d-0000-0000-0000-000000000002']))).toEqual(['GPU-1a2b3c4d-0000-0000-0000-000000000002']);
  });

  it('takes a unique prefix, also as a table cuts it (with …)', () => {
    expect(uuids(selectGpus(ROWS, ['GPU-9f0']))).toEqual(['GPU-9f000000-0000-0000-0000-000000000003']);
    expect(uuids(selectGpus(ROWS, ['GPU-9f000000…']))).toEqual(['GPU-9f000000-0000-0000-0000-000000000003']);
    expect(uuids(selectGpus(ROWS, ['GPU-1a2b3c4d-0000-0000-0000-000000000001…']))).toEqual(['GPU-1a2b3c4d-0000-0000-0000-000000000001']);
  });

  it('rejects an ambiguous prefix, naming the candidates', () => {
    const err = (() => {
      try {
        selectGpus(ROWS, ['GPU-1a2b3c4d…']);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).message).toBe(
      '--gpu GPU-1a2b3c4d… matches 2 GPUs: GPU-1a2b3c4d-0000-0000-0000-000000000001, GPU-1a2b3c4d-0000-0000-0000-000000000002',
    );
  });

  it('says so when a filter matches nothing', () => {
    expect(() => selectGpus(ROWS, ['GPU-nope'])).toThrow(/no GPU in the window matches --gpu GPU-nope/);
    expect(() => selectGpus(ROWS, ['…'])).toThrow(/no GPU in the window matches/);
    expect(() => selectGpus(ROWS, [], ['node-9'])).toThrow(/--host node-9/);
  });

  it('combines --gpu and --host', () => {
    expect(uuids(selectGpus(ROWS, ['GPU-1a2b3c4d-0000-0000-0000-000000000002', 'GPU-9f0'], ['node-2']))).toEqual([
      'GPU-1a2b3c4d-0000-0000-0000-000000000002',
      'GPU-9f000000-0000-0000-0000-000000000003',
    ]);
    expect(uuids(selectGpus(ROWS, [], ['node-2']))).toHaveLength(2);
  });

  it('matches values with quotes and SQL in them as plain text', () => {
    const hostile = [row("GPU-x' OR '1'='1", "x' OR '1'='1"), row('GPU-y', 'node-1')];
    expect(uuids(selectGpus(hostile, ["GPU-x' OR '1'='1"]))).toEqual(["GPU-x' OR '1'='1"]);
    expect(uuids(selectGpus(hostile, [], ["x' OR '1'='1"]))).toEqual(["GPU-x' OR '1'='1"]);
    expect(() => selectGpus(hostile, [], ["x' OR '1'='2"])).toThrow(InputError);
  });
});
