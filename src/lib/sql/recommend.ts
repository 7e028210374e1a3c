/**
 * The registry facts `gpuhealth recommend` needs beside the scores and predictions (views of
 * lake-views.ts). Dates come back as epoch milliseconds.
 */

/** RECOMMEND_ASSETS_SQL (no parameters) → gpu_uuid, model, deployed_ms, warranty_ms: one row per asset. */
export const RECOMMEND_ASSETS_SQL = `
SELECT gpu_uuid, model,
       epoch_ms(CAST(deployed_date AS TIMESTAMP)) AS deployed_ms,
       epoch_ms(CAST(warranty_expiry AS TIMESTAMP)) AS warranty_ms
FROM assets`;
