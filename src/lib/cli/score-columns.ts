/**
 * How score rows render (the score command and the demo). On a narrow terminal the model goes first,
 * then the five dimensions, then the confidence; the score, grade, action and top factor always show.
 */
import { DIMENSIONS } from '../health/score.js';
import { SCORE_COLUMNS, type ScoreExplanation } from '../stage/score.js';
import type { Cell, ColumnDef, Row } from './output.js';

const dim = (v: Cell): string => (typeof v === 'number' ? v.toFixed(0) : '–');

export const SCORE_TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host', dropRank: 4 },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')), dropRank: 1 },
  { key: 'overall_score', header: 'score', format: (v) => (typeof v === 'number' ? v.toFixed(1) : '–') },
  { key: 'health_grade', header: 'grade' },
  { key: 'recommended_action', header: 'action', format: (v) => (v === 'none' ? '' : String(v ?? '')) },
  { key: 'confidence', header: 'conf', dropRank: 3 },
  { key: 'memory_health', header: 'mem', format: dim, dropRank: 2 },
  { key: 'thermal_health', header: 'therm', format: dim, dropRank: 2 },
  { key: 'performance_health', header: 'perf', format: dim, dropRank: 2 },
  { key: 'power_health', header: 'power', format: dim, dropRank: 2 },
  { key: 'reliability_health', header: 'rel', format: dim, dropRank: 2 },
  { key: 'top_factor', header: 'top factor', format: (v) => (typeof v === 'string' ? v : ''), fit: 'wrap' },
];

/** CSV: the JSON fields, lists joined with ';'. */
export const SCORE_CSV_COLUMNS: ColumnDef[] = Object.keys(SCORE_COLUMNS).map((key) => ({ key }));

/** `score --explain GPU` as a table: the score's verdict, each factor's evidence, then every feature. */
export function explanationRecord(e: ScoreExplanation): Row {
  const s = e.score;
  const rec: Row = {
    gpu_uuid: s.gpu_uuid,
    host: s.host,
    model: s.model,
    grade: `${s.health_grade ?? 'unknown'} (${s.overall_score ?? '–'})`,
    recommended_action: s.recommended_action,
    confidence: `${s.confidence}${s.confidence_reasons.length ? `: ${s.confidence_reasons.join('; ')}` : ''}`,
    grade_caps: s.grade_caps.join('; '),
    dimensions: DIMENSIONS.map((d) => `${d} ${dim(s[`${d}_health`])}`).join(', '),
  };
  for (const [i, f] of s.factors.entries()) rec[`factor ${i + 1}`] = f.evidence;
  for (const [k, v] of Object.entries(e.features)) if (!(k in rec)) rec[k] = v as Cell;
  return rec;
}
