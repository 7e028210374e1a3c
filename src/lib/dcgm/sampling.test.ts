import { describe, expect, it } from 'vitest';
import { expectedSamples, gapThresholdS } from './sampling.js';

const WEEK_S = 7 * 86_400;

describe('sampling rules', () => {
  it('expects samples at the GPU’s own interval', () => {
    expect(expectedSamples(WEEK_S, 60)).toBe(10_080);
    expect(expectedSamples(WEEK_S, 10)).toBe(60_480);
    expect(expectedSamples(WEEK_S, 0)).toBe(0);
  });

  it('counts a gap after 5 min or 3 of the GPU’s intervals, whichever is longer', () => {
    expect(gapThresholdS(10)).toBe(300);
    expect(gapThresholdS(300)).toBe(900);
    expect(gapThresholdS(null)).toBe(300);
  });
});
