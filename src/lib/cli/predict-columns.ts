/** How prediction rows render (the predict command and the demo): risk, the three probabilities, days, type, anomaly, the top factor. */
import { PREDICTION_COLUMNS } from '../stage/predict.js';
import type { ColumnDef } from './output.js';

const pct = (v: unknown): string => (typeof v === 'number' ? `${(100 * v).toFixed(v < 0.001 ? 2 : 1)}%` : '–');

export const PREDICTION_TABLE_COLUMNS: ColumnDef[] = [
  { key: 'host', dropRank: 4 },
  { key: 'gpu_uuid', header: 'gpu', fit: 'id' },
  { key: 'model', format: (v) => (v === null || v === undefined ? '–' : String(v).replace('NVIDIA ', '')), dropRank: 1 },
  { key: 'risk_level', header: 'risk' },
  { key: 'failure_prob_7d', header: 'P7', format: pct, dropRank: 2 },
  { key: 'failure_prob_30d', header: 'P30', format: pct },
  { key: 'failure_prob_90d', header: 'P90', format: pct, dropRank: 2 },
  // null: the median lies past the last horizon, where P90 < ½ says the GPU more likely than not outlives it
  { key: 'expected_days_to_failure', header: 'days', format: (v) => (typeof v === 'number' ? v.toFixed(0) : '>90'), dropRank: 3 },
  { key: 'predicted_failure_type', header: 'type', format: (v) => String(v ?? '–'), dropRank: 3 },
  { key: 'anomaly_score', header: 'anom', format: (v) => (typeof v === 'number' ? v.toFixed(2) : '–'), dropRank: 3 },
  { key: 'top_factor', header: 'top factor', format: (v) => (typeof v === 'string' ? v : ''), fit: 'wrap' },
];

/** CSV: the JSON fields; the factors as their sentences joined with '; '. */
export const PREDICTION_CSV_COLUMNS: ColumnDef[] = Object.keys(PREDICTION_COLUMNS).map((key) => ({
  key,
  ...(key === 'top_factors' ? { format: (v: unknown) => (Array.isArray(v) ? v.map((f) => (f as { text: string }).text).join('; ') : '') } : {}),
}));
