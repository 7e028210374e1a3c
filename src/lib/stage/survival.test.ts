import { describe, expect, it } from 'vitest';
import { type AssetLifetimeRow, buildLifetimes, largestGroups, type SurvivalResult } from './survival.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');
const AT = T0 + 100 * DAY;

const row = (o: Partial<AssetLifetimeRow>): AssetLifetimeRow => ({
  gpu_uuid: 'GPU-1',
  model: null,
  lot: null,
  rack: null,
  datacenter: null,
  host: null,
  slot: null,
  deployed_ms: T0,
  removed_ms: null,
  failed_ms: null,
  failures_before: 0,
  ...o,
});

const one = (o: Partial<AssetLifetimeRow>) => {
  const { lifetimes, leftOut } = buildLifetimes([row(o)], AT);
  return { l: lifetimes[0], leftOut };
};

describe('buildLifetimes', () => {
  it('runs from deployment to the first failure', () => {
    expect(one({ failed_ms: T0 + 10.5 * DAY }).l).toMatchObject({ time: 10.5, event: true, end: 'failed' });
  });

  it('censors a removal, and a GPU still in service at the observation end', () => {
    expect(one({ removed_ms: T0 + 40 * DAY }).l).toMatchObject({ time: 40, event: false, end: 'removed' });
    expect(one({}).l).toMatchObject({ time: 100, event: false, end: 'in_service' });
  });

  it('counts a failure on the removal day as a failure (an RMA entered as a removal), a later one not', () => {
    expect(one({ removed_ms: T0 + 40 * DAY, failed_ms: T0 + 40 * DAY + 3_600_000 }).l).toMatchObject({ event: true, end: 'failed' });
    const late = one({ removed_ms: T0 + 40 * DAY, failed_ms: T0 + 41 * DAY + 1 });
    expect(late.l).toMatchObject({ time: 40, event: false, end: 'removed' });
    expect(late.leftOut.failures_after_removal).toBe(1);
  });

  it('does not see what happens after the observation end', () => {
    expect(one({ failed_ms: AT + DAY }).l).toMatchObject({ time: 100, event: false, end: 'in_service' });
    expect(one({ removed_ms: AT + DAY }).l).toMatchObject({ time: 100, end: 'in_service' });
    expect(one({ deployed_ms: AT + DAY }).leftOut.deployed_after_at).toBe(1);
  });

  it('leaves out GPUs without a start or removed before deployment, and counts failures dated before it', () => {
    const { lifetimes, leftOut } = buildLifetimes(
      [row({ deployed_ms: null }), row({ removed_ms: T0 - DAY }), row({ failures_before: 2, failed_ms: T0 + DAY })],
      AT,
    );
    expect(lifetimes).toHaveLength(1);
    expect(lifetimes[0]).toMatchObject({ time: 1, event: true });
    expect(leftOut).toEqual({
      no_deployed_date: 1,
      deployed_after_at: 0,
      removed_before_deployed: 1,
      failures_before_deployment: 2,
      failures_after_removal: 0,
    });
  });
});

describe('largestGroups', () => {
  it('keeps the groups with most GPUs, in the result order, ties by that order', () => {
    const r = { groups: ['a', 'b', 'c', 'd'].map((group, i) => ({ group, n: [5, 9, 5, 7][i]! })) } as unknown as SurvivalResult;
    expect(largestGroups(r, 3).map((g) => g.group)).toEqual(['a', 'b', 'd']);
    expect(largestGroups(r, 10)).toBe(r.groups);
  });
});
