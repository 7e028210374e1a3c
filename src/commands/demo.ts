import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { InputError } from '../lib/errors.js';
import { ID_MIN, renderJson, renderRows, shellWord } from '../lib/cli/output.js';
import { SCORE_CSV_COLUMNS, SCORE_TABLE_COLUMNS } from '../lib/cli/score-columns.js';
import { PREDICTION_TABLE_COLUMNS } from '../lib/cli/predict-columns.js';
import { RECOMMENDATION_TABLE_COLUMNS, totalsLines } from '../lib/cli/recommend-columns.js';
import { GRADES } from '../lib/health/score.js';
import { runDemo } from '../lib/demo.js';
import { parseDuration, parseInstant } from '../lib/time.js';

export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = "Run the whole product on a simulated fleet (the README's main job).";
  static override description =
    'Simulates a mixed A100/H100 fleet (dcgm-exporter scrapes, assets.csv, failures.csv) into --out, ingests it into <out>/lake, imports the asset registry and failure history, scores every GPU over the last 7 days, predicts failures with the shipped model, values every GPU (keep, sell, repurpose or decommission, at the prices in the config), writes the nightly report (HTML, Markdown, JSON) into <out>/lake/reports/, and prints the lake summary, the grade counts, the worst GPUs with the factors behind their scores, the riskiest GPUs with theirs, and the GPUs to act on with the fleet totals. Starts from scratch each time; the same --seed gives the same fleet.';
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --out /tmp/fleet --gpus 200 --days 30 --json'];
  static override flags = {
    out: Flags.string({ summary: 'Folder for the simulated fleet and its lake.', default: 'demo-fleet' }),
    gpus: Flags.integer({ summary: 'Number of GPUs.', default: 48, min: 8, max: 10_000 }),
    days: Flags.integer({ summary: 'Days of telemetry.', default: 14, min: 1, max: 90 }),
    interval: Flags.string({ summary: 'Scrape interval.', default: '5m' }),
    seed: Flags.integer({ summary: 'Random seed.', default: 1 }),
    end: Flags.string({ summary: 'End of the simulated window (ISO-8601 or now).', default: 'now' }),
    top: Flags.integer({ summary: 'GPUs to list.', default: 10, min: 1 }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const intervalMs = parseDuration(f.interval);
    if (intervalMs < 10_000) throw new InputError('--interval must be at least 10s for the demo');
    const progress = this.makeProgress();
    const r = await runDemo({ out: f.out, gpus: f.gpus, days: f.days, intervalMs, seed: f.seed, endMs: parseInstant(f.end), progress });
    progress.done();
    if (this.outputFormat === 'json') {
      this.out(
        renderJson({
          lake: r.lake,
          seconds: r.seconds,
          simulate: r.simulate,
          ingest: r.ingest,
          assets: r.assets,
          failures: r.failures,
          info: r.info,
          score: r.score,
          predict: r.predict,
          recommend: r.recommend,
          report: r.report,
          nightly: r.nightly,
        }),
      );
      return;
    }
    if (this.outputFormat === 'csv') {
      this.out(renderRows(r.score.rows, SCORE_CSV_COLUMNS, 'csv'));
      return;
    }
    const i = r.info;
    const s = r.score;
    this.out(`gpuhealth demo — ${r.simulate.gpus} simulated GPUs on ${r.simulate.hosts} hosts, ${f.days} days at ${f.interval} (seed ${f.seed})`);
    this.out(`  scrapes:   ${r.simulate.files - 2} files, ${r.simulate.samples.toLocaleString('en-US')} samples → ${r.lake}`);
    this.out(
      `  ingested:  ${r.ingest.rows.toLocaleString('en-US')} rows for ${r.ingest.gpus} GPUs in ${r.ingest.elapsed_s.toFixed(1)} s, ${r.ingest.rejected} rejected`,
    );
    this.out(`  registry:  ${r.assets.total} assets, ${r.failures.total} recorded failures`);
    this.out(
      `  lake:      ${i.first?.slice(0, 16)} → ${i.last?.slice(0, 16)} UTC, ${i.gpus} GPUs, ${i.hosts} hosts, missing signals: ${i.missing_signals.join(', ') || 'none'}`,
    );
    const grades = [...GRADES, 'unknown' as const]
      .filter((g) => s.grades[g] > 0)
      .map((g) => `${s.grades[g]} ${g}`)
      .join(', ');
    this.out(`  health:    ${grades}`);
    this.out(`\nWorst ${Math.min(f.top, s.rows.length)} GPUs by health score, ${s.window_start.slice(0, 16)} → ${s.window_end.slice(0, 16)} UTC:`);
    this.out(renderRows(s.rows.slice(0, f.top), SCORE_TABLE_COLUMNS, 'table', this.tableOptions));
    const p = r.predict;
    this.out(
      `\nRiskiest ${Math.min(f.top, p.rows.length)} GPUs by 30-day failure probability at ${p.at.slice(0, 16)} UTC (model ${p.model.name}, trained on ${p.model.trained_on.split(' (')[0]}):`,
    );
    this.out(renderRows(p.rows.slice(0, f.top), PREDICTION_TABLE_COLUMNS, 'table', this.tableOptions));
    const rec = r.recommend;
    // the GPUs someone should act on: every decision but keep, lowest value first, then the lowest-valued kept ones
    const act = [...rec.rows.filter((x) => x.decision !== 'keep'), ...rec.rows.filter((x) => x.decision === 'keep')].slice(0, f.top);
    this.out(`\nWhat to do with each GPU at ${rec.at.slice(0, 16)} UTC (built-in prices: gpuhealth config show), ${act.length} shown, GPUs to act on first:`);
    this.out(renderRows(act, RECOMMENDATION_TABLE_COLUMNS, 'table', this.tableOptions));
    for (const line of totalsLines(rec.totals)) this.out(`  ${line}`);
    this.out(`\nThe nightly report (what cron would mail or publish every morning): ${r.report}`);
    // what to try next is a note; each line runs as written once `npm link` has put gpuhealth on the PATH
    const lake = `--lake ${shellWord(r.lake)}`;
    const worst = s.rows[0] ? [`gpuhealth score ${lake} --since 7d --at ${s.window_end} --gpu ${s.rows[0].gpu_uuid.slice(0, ID_MIN)} --wide`] : [];
    this.note(
      [
        `\nDone in ${r.seconds.toFixed(1)} s. Open ${r.report} in a browser, or explore (gpuhealth is node bin/run.js until npm link puts it on your PATH):`,
        ...[
          `gpuhealth score ${lake} --since 7d --at ${s.window_end}`,
          ...worst,
          `gpuhealth predict ${lake} --at ${s.window_end}`,
          `gpuhealth recommend ${lake} --at ${s.window_end} --sensitivity`,
          `gpuhealth features ${lake} --since 24h --at ${s.window_end}`,
          `gpuhealth lake info ${lake}`,
        ].map((l) => `  ${l}`),
      ].join('\n'),
    );
  }
}
