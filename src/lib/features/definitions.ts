/**
 * Constants that define what a window feature means (docs/features.md), as opposed to how a score
 * judges it: the features query (sql/features.ts) computes with them and scoring (health/score.ts)
 * reads them where a rule depends on how a feature was made. Scoring thresholds stay in health/score.ts.
 */

/** Fewer same-model GPUs than this and a cohort median/MAD is noise: the cohort-relative features are null. */
export const COHORT_MIN_GPUS = 8;
/** Repeated log lines of one fault (dmesg prints Xid 119 several times per incident) within a minute are one incident. */
export const XID_INCIDENT_GAP_S = 60;
/**
 * Xids of one family (the UE codes; the reset-class codes) within this of the previous one, whatever
 * their codes, are one incident. One uncorrectable error logs Xid 48 and then 94 or 95 within seconds,
 * and one GSP failure logs 119, 120 and 62. A minute also covers dcgm-exporter's Xid count, which sees
 * the same event up to a scrape interval (15–60 s) after the kernel log, and it is far below the hours
 * between two faults an operator would treat apart: two UEs a minute apart get one reset.
 */
export const XID_GROUP_GAP_S = 60;
/** Fewer correctable errors than this and a rate ratio is noise. */
export const SBE_ACCEL_MIN_ERRORS = 10;
