// Runs one `score --since 7d` in a fresh process and prints its figures (peak RSS covers DuckDB,
// which lives in this process). First run on a lake without rollups builds them; that time is included.
import { scoreFleet } from '../dist/lib/stage/score.js';

const [lake, at] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const r = await scoreFleet({ lake, sinceMs: 7 * 86_400_000, atMs: Date.parse(at) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  JSON.stringify({
    seconds,
    gpus: r.gpus_total,
    rollups_built: r.rollups_built,
    grades: r.grades,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
