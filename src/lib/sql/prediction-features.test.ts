import { describe, expect, it } from 'vitest';
import { PREDICTION_FEATURES } from '../features/prediction-features.js';
import { PREDICTION_FEATURE_SQL, predictionFeaturesSql } from './prediction-features.js';

describe('prediction features query', () => {
  it('has one expression per listed feature, in the list order', () => {
    expect(Object.keys(PREDICTION_FEATURE_SQL)).toEqual(PREDICTION_FEATURES.map((f) => f.name));
  });

  it('refuses a feature it does not know (a model card from a newer release)', () => {
    expect(() => predictionFeaturesSql(['sbe_rate_1d', 'no_such_feature'])).toThrow(/no_such_feature/);
  });

  it('binds every user value as a parameter', () => {
    const sql = predictionFeaturesSql(PREDICTION_FEATURES.map((f) => f.name));
    for (const p of ['$start_us', '$end_us', '$anchor_us', '$first_b', '$last_b']) expect(sql).toContain(p);
  });
});
