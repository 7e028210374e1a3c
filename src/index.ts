export { ingest, type IngestOptions, type IngestSummary } from './lib/ingest/pipeline.js';
