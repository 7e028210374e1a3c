export { ingest, type IngestOptions } from './lib/ingest/ingest.js';
export type { IngestSummary } from './lib/ingest/summary.js';
