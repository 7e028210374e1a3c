/**
 * How score rows render (the score command and the demo). On a narrow terminal the model goes first,
 * then the five dimensions; the overall score, grade and factors always show.
 */
import { SCORE_COLUMNS } from '../stage/score.js';
import type { Cell, ColumnDef } from './output.js';

const dim = (v: Cell): string => (typeof v === 'number' ? v.toFixed(0) : '–');

export const SCORE_TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host' },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')), dropRank: 1 },
  { key: 'overall_score', header: 'score', format: (v) => (typeof v === 'number' ? v.toFixed(1) : '–') },
  { key: 'health_grade', header: 'grade' },
  { key: 'memory_health', header: 'mem', format: dim, dropRank: 2 },
  { key: 'thermal_health', header: 'therm', format: dim, dropRank: 2 },
  { key: 'performance_health', header: 'perf', format: dim, dropRank: 2 },
  { key: 'power_health', header: 'power', format: dim, dropRank: 2 },
  { key: 'reliability_health', header: 'rel', format: dim, dropRank: 2 },
  { key: 'degradation_factors', header: 'factors', format: (v) => (Array.isArray(v) ? v.join(', ') : ''), fit: 'wrap' },
];

/** CSV: the JSON fields, lists joined with ';'. */
export const SCORE_CSV_COLUMNS: ColumnDef[] = Object.keys(SCORE_COLUMNS).map((key) => ({ key }));
