import { describe, expect, it } from 'vitest';
import { sampleReport } from './fixture.js';
import { REPORT_RENDERERS } from './render.js';
import { REPORT_FORMATS } from './types.js';

describe('REPORT_RENDERERS', () => {
  const r = sampleReport({ gpus: 50, seed: 4 });

  it('has one renderer per format, each ending its output with a newline', () => {
    expect(Object.keys(REPORT_RENDERERS).sort()).toEqual([...REPORT_FORMATS].sort());
    for (const f of REPORT_FORMATS) expect(REPORT_RENDERERS[f](r).endsWith('\n'), f).toBe(true);
  });

  it('json is the report data itself', () => {
    const json = REPORT_RENDERERS.json(r);
    expect(JSON.parse(json)).toEqual(r);
    expect(json.split('\n')[1]).toBe('  "schema_version": 1,');
  });

  it('is pure: the same data renders the same bytes', () => {
    for (const f of REPORT_FORMATS) expect(REPORT_RENDERERS[f](r), f).toBe(REPORT_RENDERERS[f](sampleReport({ gpus: 50, seed: 4 })));
  });
});
