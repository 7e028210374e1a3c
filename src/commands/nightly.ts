import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderCsv, renderJson } from '../lib/cli/output.js';
import { configFlag, testHold } from '../lib/cli/window-flags.js';
import { configPath, loadConfig } from '../lib/config.js';
import { GRADES } from '../lib/health/score.js';
import { EXIT_ALERT, NIGHTLY_COMPACT_MIN_FILES, NIGHTLY_STAGES, type NightlyStage, runNightly } from '../lib/stage/nightly.js';
import { parseInstant } from '../lib/time.js';

export default class Nightly extends BaseCommand<typeof Nightly> {
  static override summary = 'The whole nightly job in one command: ingest, compact, score, predict, recommend, report.';
  static override description =
    `For cron or a systemd timer. In order: ingest what is new in --spool; compact partitions with ${NIGHTLY_COMPACT_MIN_FILES} files or more; score (7 days), predict and recommend at --at; write the dated report (HTML, Markdown, JSON) into <lake>/reports/<date>/ and --out-dir; refresh the Prometheus textfile --prom. A stage that fails is reported and the stages that do not need it still run (the report needs the scores; the textfile needs the report). Quiet on success but for one summary line. Exit codes: 0 ok; 1 a stage failed, or another nightly is running on the lake (this one then exits at once); 2 a usage error; ${EXIT_ALERT} with --alert-below GRADE when a GPU is graded below it, so cron mail fires. Running it again for the same --at writes the same results and report.`;
  static override examples = [
    '<%= config.bin %> nightly --spool /var/spool/dcgm --lake /data/gpu-lake',
    '<%= config.bin %> nightly --spool /var/spool/dcgm --out-dir /var/www/gpuhealth --prom /var/lib/node_exporter/textfile/gpuhealth.prom --alert-below poor',
    '<%= config.bin %> nightly --at 2026-12-04T06:00:00Z --json',
  ];
  static override flags = {
    spool: Flags.string({ summary: 'Spool folder (or file, or glob) to ingest first; repeat for several.', multiple: true }),
    at: Flags.string({ summary: 'Cut-off: ISO-8601 (UTC unless it has an offset), epoch seconds, or now.', default: 'now' }),
    'out-dir': Flags.string({ summary: 'Also write the report (HTML, Markdown, JSON) into this folder.' }),
    prom: Flags.string({ summary: "Prometheus textfile to refresh (node_exporter's textfile collector), written atomically." }),
    'alert-below': Flags.option({ summary: `Exit ${EXIT_ALERT} when any GPU is graded below this grade.`, options: GRADES })(),
    config: configFlag,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const config = loadConfig(configPath(f.config, this.lakeDir));
    const failStage = process.env['GPUHEALTH_TEST_FAIL_STAGE'];
    const progress = this.makeProgress();
    const r = await runNightly({
      lake: this.lakeDir,
      spool: f.spool,
      atMs: parseInstant(f.at),
      outDir: f['out-dir'],
      prom: f.prom,
      alertBelow: f['alert-below'],
      config,
      progress,
      failStage: (NIGHTLY_STAGES as readonly string[]).includes(failStage ?? '') ? (failStage as NightlyStage) : undefined,
      afterLock: testHold().afterSnapshot,
    });
    progress.done();
    for (const s of r.stages) if (s.status === 'failed') this.note(`${s.stage} failed: ${s.error}`);
    for (const s of r.stages) if (s.status === 'skipped') this.note(`${s.stage} skipped: ${s.error}`);
    if (r.below.length > 0) {
      const shown = r.below.slice(0, 10).map((b) => `${b.gpu_uuid} (${b.host ?? '?'}) ${b.health_grade}`);
      this.note(`below ${f['alert-below']}: ${shown.join(', ')}${r.below.length > 10 ? `, and ${r.below.length - 10} more` : ''}`);
    }
    if (this.outputFormat === 'json') {
      this.out(renderJson({ at: r.at, exit_code: r.exit_code, summary: r.summary, stages: r.stages, files: r.files, below: r.below, seconds: r.seconds }));
    } else if (this.outputFormat === 'csv') {
      this.out(renderCsv(r.stages, [{ key: 'stage' }, { key: 'status' }, { key: 'seconds' }, { key: 'error' }]));
    } else this.out(r.summary);
    process.exitCode = r.exit_code;
  }
}
