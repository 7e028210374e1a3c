/**
 * Constants that define what a window feature means (docs/features.md), as opposed to how a score
 * judges it: the features query (sql/features.ts) computes with them and scoring (health/score.ts)
 * reads them where a rule depends on how a feature was made. Scoring thresholds stay in health/score.ts.
 */

/** Fewer same-model GPUs than this and a cohort median/MAD is noise: the cohort-relative features are null. */
export const COHORT_MIN_GPUS = 8;
/** Repeated log lines of one fault (dmesg prints Xid 119 several times per incident) within a minute are one incident. */
export const XID_INCIDENT_GAP_S = 60;
/** Fewer correctable errors than this and a rate ratio is noise. */
export const SBE_ACCEL_MIN_ERRORS = 10;
