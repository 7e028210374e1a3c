/**
 * A model card (`card.json` beside the ONNX files): what the models read, what they were trained on,
 * how well they did on data they never saw, and how `predict` turns their outputs into answers.
 */
import type { FailureType } from '../features/prediction-features.js';
import type { HazardHyper } from './failure-model.js';
import type { GbdtParams } from './gbdt.js';
import type { RiskMetrics } from './evaluate.js';

/** Risk levels by 30-day failure probability: at least `medium`, `high`, `critical` (docs/prediction.md). */
export const RISK_LEVEL_THRESHOLDS = { medium: 0.01, high: 0.05, critical: 0.2 } as const;
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

export function riskLevel(p30: number): RiskLevel {
  if (p30 >= RISK_LEVEL_THRESHOLDS.critical) return 'critical';
  if (p30 >= RISK_LEVEL_THRESHOLDS.high) return 'high';
  if (p30 >= RISK_LEVEL_THRESHOLDS.medium) return 'medium';
  return 'low';
}

export interface ModelCard {
  name: string;
  /** The first 12 hex digits of the SHA-256 of the model files. */
  version: string;
  created_at: string;
  /** Where the training data came from, in words. */
  trained_on: string;
  note: string;
  /** Input order of every model; the hazard model takes `segment` (0, 1, …) after them. */
  features: string[];
  horizon_days: number;
  /** Boundaries (days from the cut-off) of the hazard model's segments. */
  segment_bounds_days: number[];
  training: {
    from: string;
    to: string;
    gpus: number;
    gpu_days: number;
    failures_by_type: Record<FailureType, number>;
  };
  validation: {
    /** Cut-offs at or after `split` on GPUs kept out of training; the model scored here was trained on earlier cut-offs of other GPUs. */
    split: string;
    to: string;
    train_gpus: number;
    valid_gpus: number;
    gpu_days: number;
    failures: number;
    horizon_days: number;
    metrics: { model: RiskMetrics; rule_based_risk: RiskMetrics | null; overall_score: RiskMetrics | null; anomaly_score: RiskMetrics | null };
    hazard_trees: number;
  };
  hyperparameters: { hazard: HazardHyper; type: GbdtParams; anomaly: { trees: number; sample_size: number } };
  risk_levels: typeof RISK_LEVEL_THRESHOLDS;
  /** Feature medians of the training rows: the isolation forest's stand-in for a missing value. */
  imputation_medians: number[];
  anomaly_c: number;
  files: { hazard: string; hazard_trees: string; type: string | null; anomaly: string };
}
