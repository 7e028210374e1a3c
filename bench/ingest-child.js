// Runs one ingest in a fresh process and prints its figures (peak RSS covers the worker threads
// and DuckDB, which live in this process).
import { ingest } from '../dist/lib/ingest/ingest.js';

const [corpus, lake, threads] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const s = await ingest({ lake, inputs: [corpus], threads: threads ? Number(threads) : undefined });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  JSON.stringify({
    seconds,
    samples: s.samples,
    rows: s.rows,
    files: s.files,
    rejected: s.rejected,
    skipped: s.skipped_files,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
