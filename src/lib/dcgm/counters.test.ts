import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../db/duckdb.js';
import { aggregateIncreaseSql } from './counters.js';

/**
 * The counter_increase macro as Db.open creates it, run in DuckDB: the increase of a series of readings
 * is the sum of the macro over consecutive readings (prev = the previous non-null one), as in the rollups.
 */
describe('counter_increase', () => {
  let db: Db;
  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
  });
  afterAll(() => db.close());

  const one = async (value: number | null, prev: number | null): Promise<unknown> =>
    (await db.query<{ d: unknown }>('one', 'SELECT counter_increase(CAST($v AS BIGINT), CAST($p AS BIGINT)) AS d', { v: value, p: prev }))[0]!.d;

  /** The rollup's way: lag over the non-null readings in time order, summed; 0 without two readings. */
  const series = async (readings: readonly (number | null)[]): Promise<number> => {
    const values = readings.map((r, i) => `(${i}, ${r === null ? 'NULL' : r})`).join(', ');
    const rows = await db.query<{ d: number }>(
      'series',
      `SELECT coalesce(sum(counter_increase(v, prev)), 0) AS d
       FROM (SELECT v, lag(v IGNORE NULLS) OVER (ORDER BY t) AS prev FROM (VALUES ${values}) s(t, v))`,
    );
    return Number(rows[0]!.d);
  };

  it('adds a rise as the difference', async () => {
    expect(await one(5003, 5000)).toBe(3);
    expect(await series([5000, 5003, 5010])).toBe(10);
  });

  it('adds nothing for equal readings: a large lifetime count is not new errors', async () => {
    expect(await one(4812, 4812)).toBe(0);
    expect(await series([4812, 4812, 4812, 4812])).toBe(0);
  });

  it('reads a drop as a restart from 0: the new reading counts in full', async () => {
    expect(await one(2, 7)).toBe(2);
    expect(await series([5, 7, 0, 2])).toBe(4);
    expect(await series([5000, 5003, 1, 4])).toBe(7);
    expect(await series([3, 3, 0, 0])).toBe(0); // driver reload, no new errors
    expect(await series([2, 2, 0, 1])).toBe(1); // the error that came with the reset
  });

  it('adds nothing for a first reading: errors before it are not in the window', async () => {
    expect(await one(42, null)).toBe(0);
    expect(await series([42])).toBe(0);
  });

  it('is NULL-safe: a missing reading adds nothing and the next one is measured from the last reading', async () => {
    expect(await one(null, 5)).toBe(0);
    expect(await one(null, null)).toBe(0);
    expect(await series([3, null, null, 5])).toBe(2);
    expect(await series([null, null])).toBe(0);
  });

  it('is in the database, not the connection: a fork sees it', async () => {
    const fork = await db.fork();
    try {
      expect((await fork.query<{ d: number }>('fork', 'SELECT counter_increase(1, 5) AS d'))[0]!.d).toBe(1);
    } finally {
      fork.close();
    }
    const other = await db.connectAnother();
    try {
      const reader = await other.runAndReadAll('SELECT counter_increase(9, 4) AS d');
      expect(reader.getRowObjectsJS()[0]!['d']).toBe(5);
    } finally {
      other.closeSync();
    }
  });

  it('is expanded into the query: the plan holds the CASE, not a function call', async () => {
    const plan = await db.query<{ explain_value: string }>('explain', 'EXPLAIN SELECT counter_increase(v, p) FROM (VALUES (1, 2)) s(v, p)');
    const text = plan.map((r) => Object.values(r).join('\n')).join('\n');
    expect(text).toContain('CASE');
    expect(text).not.toContain('counter_increase');
  });
});

/** The aggregate rule as the rollups and the features apply it: each reading against the highest earlier one. */
describe('aggregateIncreaseSql', () => {
  let db: Db;
  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
  });
  afterAll(() => db.close());

  const series = async (readings: readonly (number | null)[]): Promise<number> => {
    const values = readings.map((r, i) => `(${i}, ${r === null ? 'NULL' : r})`).join(', ');
    const rows = await db.query<{ d: number }>(
      'series',
      `SELECT coalesce(sum(${aggregateIncreaseSql('v', 'high')}), 0) AS d
       FROM (SELECT v, max(v) OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS high FROM (VALUES ${values}) s(t, v))`,
    );
    return Number(rows[0]!.d);
  };

  it('adds a rise above the highest earlier reading', async () => {
    expect(await series([5000, 5003, 5010])).toBe(10);
  });

  it('adds nothing for a drop, nor for the climb back to where the counter was', async () => {
    expect(await series([5, 7, 2, 7, 8])).toBe(3);
    expect(await series([1000, 7, 1000, 1002])).toBe(2);
  });

  it('is NULL-safe', async () => {
    expect(await series([3, null, 5])).toBe(2);
    expect(await series([null, null])).toBe(0);
  });
});
