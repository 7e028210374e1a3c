/** How score rows render (the score command and the demo). */
import { SCORE_COLUMNS } from '../stage/score.js';
import type { Cell, ColumnDef } from './output.js';

const dim = (v: Cell): string => (typeof v === 'number' ? v.toFixed(0) : '–');

export const SCORE_TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host' },
  { key: 'gpu_uuid', header: 'gpu', format: (v) => String(v).slice(0, 13) },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')) },
  { key: 'overall_score', header: 'score', format: (v) => (typeof v === 'number' ? v.toFixed(1) : '–') },
  { key: 'health_grade', header: 'grade' },
  { key: 'memory_health', header: 'mem', format: dim },
  { key: 'thermal_health', header: 'therm', format: dim },
  { key: 'performance_health', header: 'perf', format: dim },
  { key: 'power_health', header: 'power', format: dim },
  { key: 'reliability_health', header: 'rel', format: dim },
  { key: 'degradation_factors', header: 'factors', format: (v) => (Array.isArray(v) ? v.join(', ') : '') },
];

/** CSV: the JSON fields, lists joined with ';'. */
export const SCORE_CSV_COLUMNS: ColumnDef[] = Object.keys(SCORE_COLUMNS).map((key) => ({ key }));
