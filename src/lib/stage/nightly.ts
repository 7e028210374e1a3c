/**
 * `gpuhealth nightly`: everything cron needs in one run — ingest what is new in the spool, compact
 * partitions that have gathered many small files, score, predict and recommend at `at`, write the
 * dated report (HTML, Markdown, JSON) into `<lake>/reports/<date>/` (and `--out-dir`), and refresh the
 * Prometheus textfile. A stage that fails is recorded and the stages that do not need it still run;
 * the report needs the scores, the textfile needs the report's data.
 *
 * One nightly at a time per lake: a second one finds the nightly lock held by a live process and
 * exits at once (the lake's own lock is only taken around each stage's commit, as the stages do).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GpuhealthConfig } from '../config.js';
import { GpuhealthError, InputError } from '../errors.js';
import { GRADES, type HealthGrade } from '../health/score.js';
import { ingest } from '../ingest/ingest.js';
import type { IngestSummary } from '../ingest/summary.js';
import { lakeLayout } from '../lake/layout.js';
import { acquireLock, LakeLockedError } from '../lake/lock.js';
import { compactLake, type CompactSummary } from '../maintenance/compact.js';
import { NO_PROGRESS, type ProgressFn } from '../progress.js';
import { REPORT_RENDERERS } from '../report/render.js';
import type { ReportData, ReportFormat } from '../report/types.js';
import { predictFleet, type PredictResult } from './predict.js';
import { recommendFleet, type RecommendResult } from './recommend.js';
import { buildReportData, reportFile } from './report.js';
import { scoreFleet, type ScoreResult } from './score.js';
import { writeFileAtomic } from './survival.js';
import { HOUR_MS } from './window.js';

export const NIGHTLY_STAGES = ['ingest', 'compact', 'score', 'predict', 'recommend', 'report', 'prom'] as const;
export type NightlyStage = (typeof NIGHTLY_STAGES)[number];

/** Exit codes of `nightly` beyond the usual ones: 3 when a GPU is graded below --alert-below. */
export const EXIT_ALERT = 3;

/** A partition with this many files or more is compacted (ingest every 10 minutes makes 144 a day). */
export const NIGHTLY_COMPACT_MIN_FILES = 24;

/** The report formats the nightly job writes into the lake (the textfile is separate: --prom). */
const NIGHTLY_FORMATS: readonly ReportFormat[] = ['html', 'md', 'json'];

export interface StageOutcome {
  stage: NightlyStage;
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  /** What went wrong, or why the stage did not run. */
  error: string | null;
}

export interface NightlyOptions {
  lake: string;
  /** Spool folders or files to ingest first (none: the lake is fed some other way). */
  spool?: string[];
  /** The cut-off (ms); default now, rounded down to the hour. */
  atMs?: number;
  outDir?: string;
  /** Prometheus textfile to refresh (for node_exporter's textfile collector). */
  prom?: string;
  alertBelow?: HealthGrade;
  config: GpuhealthConfig;
  progress?: ProgressFn;
  /** Tests: make this stage fail (GPUHEALTH_TEST_FAIL_STAGE). */
  failStage?: NightlyStage;
  /** Tests: called once the nightly lock is held. */
  afterLock?: () => Promise<void>;
  /** The ingest of a simulated fleet dated ahead of this machine's clock (the demo). */
  allowFuture?: boolean;
}

export interface NightlyResult {
  at: string;
  stages: StageOutcome[];
  ingest: IngestSummary | null;
  compact: CompactSummary | null;
  score: ScoreResult | null;
  predict: PredictResult | null;
  recommend: RecommendResult | null;
  report: ReportData | null;
  /** The files written: the report in the lake and in --out-dir, and the textfile. */
  files: string[];
  /** GPUs graded below --alert-below. */
  below: { gpu_uuid: string; host: string | null; health_grade: HealthGrade }[];
  exit_code: 0 | 1 | typeof EXIT_ALERT;
  /** The one line cron mails on success. */
  summary: string;
  seconds: number;
}

/** The nightly lock's file: beside the lake's lock, so it goes where the lake goes. */
export function nightlyLockFile(lake: string): string {
  return path.join(lakeLayout(lake).root, '_ingest', 'nightly.lock');
}

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export async function runNightly(opts: NightlyOptions): Promise<NightlyResult> {
  const t0 = Date.now();
  const progress = opts.progress ?? NO_PROGRESS;
  const atMs = Math.floor((opts.atMs ?? Date.now()) / HOUR_MS) * HOUR_MS;
  const layout = lakeLayout(opts.lake);
  if (!opts.spool?.length && !fs.existsSync(layout.root)) {
    throw new InputError(`no lake at ${layout.root}`, ['gpuhealth nightly --spool /var/spool/dcgm --lake … ingests into a new one']);
  }
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(nightlyLockFile(opts.lake), { waitMs: 0 });
  } catch (e) {
    if (!(e instanceof LakeLockedError)) throw e;
    throw new GpuhealthError(`another gpuhealth nightly is running on ${layout.root} (pid ${e.holder}); this one exits without doing anything`, [
      'if that run is stuck, stop it; a lock left by a process that is gone is taken over by the next run',
    ]);
  }
  try {
    await opts.afterLock?.();
    const stages: StageOutcome[] = [];
    const run = async <T>(stage: NightlyStage, needs: readonly NightlyStage[], work: () => Promise<T>): Promise<T | null> => {
      const missing = needs.filter((n) => stages.find((s) => s.stage === n)?.status !== 'ok');
      if (missing.length > 0) {
        stages.push({ stage, status: 'skipped', seconds: 0, error: `needs ${missing.join(', ')}` });
        return null;
      }
      const s0 = Date.now();
      progress(stage);
      try {
        if (opts.failStage === stage) throw new GpuhealthError(`${stage} failed on purpose (GPUHEALTH_TEST_FAIL_STAGE)`);
        const out = await work();
        stages.push({ stage, status: 'ok', seconds: (Date.now() - s0) / 1000, error: null });
        return out;
      } catch (e) {
        stages.push({ stage, status: 'failed', seconds: (Date.now() - s0) / 1000, error: (e as Error).message });
        return null;
      }
    };
    const common = { lake: opts.lake, atMs, checkAt: false, progress };
    const ing = opts.spool?.length
      ? await run('ingest', [], () => ingest({ lake: opts.lake, inputs: opts.spool!, progress, allowFuture: opts.allowFuture }))
      : null;
    const compact = await run('compact', [], () => compactLake(opts.lake, { progress, minFiles: NIGHTLY_COMPACT_MIN_FILES }));
    const score = await run('score', [], () => scoreFleet({ ...common, sinceMs: 7 * 24 * HOUR_MS, xidClasses: opts.config.xid }));
    const predict = await run('predict', [], () => predictFleet(common));
    const recommend = await run('recommend', [], () => recommendFleet({ ...common, economics: opts.config.economics, xidClasses: opts.config.xid }));
    const files: string[] = [];
    let htmlFile: string | null = null;
    const report = await run('report', ['score'], async () => {
      const data = await buildReportData({ lake: opts.lake, atMs, xidClasses: opts.config.xid });
      for (const format of NIGHTLY_FORMATS) {
        const text = REPORT_RENDERERS[format](data);
        const target = reportFile(layout.root, data.at, format as 'html' | 'md' | 'json');
        fs.mkdirSync(path.dirname(target), { recursive: true });
        writeFileAtomic(target, text);
        files.push(target);
        if (format === 'html') htmlFile = target;
        if (opts.outDir) {
          fs.mkdirSync(opts.outDir, { recursive: true });
          const copy = path.resolve(opts.outDir, path.basename(target));
          writeFileAtomic(copy, text);
          files.push(copy);
          if (format === 'html') htmlFile = copy;
        }
      }
      return data;
    });
    if (opts.prom) {
      const prom = opts.prom;
      await run('prom', ['report'], async () => {
        writeFileAtomic(prom, REPORT_RENDERERS.prom(report!));
        files.push(prom);
      });
    }
    const alertRank = opts.alertBelow ? GRADES.indexOf(opts.alertBelow) : Number.POSITIVE_INFINITY;
    const below = (score?.rows ?? [])
      .filter((r) => r.health_grade !== null && GRADES.indexOf(r.health_grade) > alertRank)
      .map((r) => ({ gpu_uuid: r.gpu_uuid, host: r.host, health_grade: r.health_grade! }));
    const failed = stages.filter((s) => s.status === 'failed');
    const exitCode = failed.length > 0 ? 1 : below.length > 0 ? EXIT_ALERT : 0;
    const parts: string[] = [];
    if (score) {
      parts.push(count(score.gpus_total, 'GPU'));
      for (const g of ['degraded', 'poor', 'critical'] as const) if (score.grades[g] > 0) parts.push(`${score.grades[g]} ${g}`);
      if (score.not_reporting > 0) parts.push(`${score.not_reporting} not reporting`);
    }
    if (predict) {
      const risky = predict.risk_levels.high + predict.risk_levels.critical;
      if (risky > 0) parts.push(`${risky} at high or critical risk`);
    }
    if (recommend) parts.push(`${recommend.totals.decisions.sell} to sell`);
    if (below.length > 0) parts.push(`${count(below.length, 'GPU')} below ${opts.alertBelow}`);
    if (htmlFile) parts.push(`report → ${htmlFile}`);
    for (const f of failed) parts.push(`${f.stage} FAILED: ${f.error}`);
    return {
      at: new Date(atMs).toISOString(),
      stages,
      ingest: ing,
      compact,
      score,
      predict,
      recommend,
      report,
      files,
      below,
      exit_code: exitCode,
      summary: `nightly ${new Date(atMs).toISOString().slice(0, 10)}: ${parts.join(', ')}`,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    lock.release();
  }
}
