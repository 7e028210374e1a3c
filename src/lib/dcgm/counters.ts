/**
 * The reset-aware counter rule, once, as a DuckDB macro. DCGM's error and violation counters
 * (ECC, PCIe replays, NVLink CRC, violation time) only grow, except that volatile ones restart from 0
 * on a driver reload or GPU reset. So the increase from one reading to the next is the difference when
 * the counter rose or stayed, and the new reading itself when it fell: the counter restarted from 0
 * and has counted that much since. A missing reading (or no previous one) adds nothing, so errors
 * before the first reading do not count.
 *
 * The rollups apply it between consecutive samples (sql/rollup.ts), the features query at the seams
 * between rollup segments (sql/features.ts). `Db.open` creates the macro in every database the product
 * opens; it is not TEMP, so every connection to that database (`fork`, `connectAnother`) sees it.
 * DuckDB expands a scalar macro into the calling expression when it binds the query, so using it
 * costs nothing over writing the CASE out. Its text is part of ROLLUP_VERSION: changing the rule
 * rebuilds the rollups.
 */

/** Creates `counter_increase(value, prev)`: NULL-safe; value − prev when value ≥ prev, else value; 0 when either is NULL. */
export const COUNTER_INCREASE_MACRO_SQL = `CREATE OR REPLACE MACRO counter_increase(value, prev) AS
  CASE WHEN value IS NULL OR prev IS NULL THEN 0 WHEN value >= prev THEN value - prev ELSE value END`;

/**
 * The aggregate ECC counters (DCGM_FI_DEV_ECC_{SBE,DBE}_AGG_TOTAL) live in the InfoROM and never
 * reset, so a reading below an earlier one is bad data (a glitched read, a board swapped under the
 * same UUID), not a restart: reading it as a reset would count the counter's lifetime total as new
 * errors. Their rule is a high-water mark: a reading adds only what it rises above the highest earlier
 * reading, so a drop adds nothing, and neither does the climb back to where the counter was. The
 * rollups count each drop (`_drops`) so the features can report it (`ecc_aggregate_drops`).
 */
export const AGGREGATE_COUNTERS = ['ecc_sbe_aggregate', 'ecc_dbe_aggregate'] as const;

/** The volatile ECC counters: a drop is a GPU reset or driver reload (`volatile_reset_last_at`). */
export const VOLATILE_ECC_COUNTERS = ['ecc_sbe_volatile', 'ecc_dbe_volatile'] as const;

/** SQL for the aggregate rule: what `value` adds over the high-water mark `highWater`; 0 when either is NULL. */
export function aggregateIncreaseSql(value: string, highWater: string): string {
  return `CASE WHEN ${value} IS NULL OR ${highWater} IS NULL THEN 0 WHEN ${value} > ${highWater} THEN ${value} - ${highWater} ELSE 0 END`;
}
