// npm run bench: prints figures, asserts nothing. Each measurement runs in a fresh process.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsvExports } from './gen-csv-export.js';
import { generateCorpus } from './gen-exposition.js';
import { mulberry32 } from '../dist/lib/model/random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.env.BENCH_DIR ?? path.join(here, 'out');
const corpus = path.join(out, 'corpus');
const targetBytes = Number(process.env.BENCH_BYTES ?? 1.1e9);

function du(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : fs.statSync(p).size;
  }
  return n;
}

console.log(`gpuhealth bench — ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
// BENCH_PART=ingest|history|score|predict|survival|collect|pull|all (default all); BENCH_PREDICT_GPUS (default 10000); BENCH_SCORE_GPUS=1000,10000 (default 1000: the 10,000-GPU
// lake takes ~30 min to simulate the first time; it is kept in bench/out for later runs).
const part = process.env.BENCH_PART ?? 'all';
if (part === 'all' || part === 'ingest') benchIngest();
if (part === 'all' || part === 'history') benchHistory();
if (part === 'all' || part === 'score') benchScore();

function benchIngest() {
  if (!fs.existsSync(corpus) || du(corpus) < targetBytes * 0.95) {
    fs.rmSync(corpus, { recursive: true, force: true });
    const t = Date.now();
    const g = generateCorpus(corpus, { targetBytes });
    console.log(`generated corpus: ${g.files} files, ${(g.bytes / 1e9).toFixed(2)} GB, ${g.samples} samples in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const bytes = du(corpus);

  function run(label, lake, threads) {
    const res = JSON.parse(
      execFileSync(process.execPath, [path.join(here, 'ingest-child.js'), corpus, lake, threads ?? ''], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop(),
    );
    const rate =
      res.samples > 0
        ? `${(res.samples / res.seconds / 1e6).toFixed(2).padStart(5)} M samples/s  ${(bytes / 1e6 / res.seconds).toFixed(0).padStart(4)} MB/s`
        : 'nothing to read'.padEnd(32);
    console.log(
      `${label.padEnd(34)} ${res.seconds.toFixed(2).padStart(7)} s  ${rate}  peak RSS ${res.peak_rss_mib} MiB  (${res.samples} samples → ${res.rows} rows, ${res.skipped} skipped)`,
    );
    return res;
  }

  console.log(`corpus: ${(bytes / 1e9).toFixed(2)} GB of exposition text`);
  for (const threads of [undefined, 1]) {
    const lake = path.join(out, 'lake');
    fs.rmSync(lake, { recursive: true, force: true });
    run(threads === 1 ? 'ingest, 1 parser thread' : 'ingest, default threads', lake, threads);
  }
  run('re-ingest (all sources known)', path.join(out, 'lake'));
}

/**
 * History import: CSV exports in the lake's 30 columns (bench/gen-csv-export.js, seeded), one file per
 * host as a per-host TimescaleDB `\copy` writes them. The fleet case: 400 GPUs (8 per host) × 180 days
 * at 15-minute samples, 50 files, 6.9 M rows; and one host's year in one file (366 date partitions).
 */
function benchHistory() {
  const cases = [
    { label: 'one host, a year, 1 file', dir: path.join(out, 'history-year'), opts: { hosts: 1, days: 366 } },
    { label: '400 GPUs × 180 days, 50 files', dir: path.join(out, 'history-fleet'), opts: { hosts: 50, days: 180 } },
  ];
  console.log('\nhistory import: CSV exports, 30 columns (time, 6 identity, 23 values), 15-minute samples, 8 GPUs per host');
  for (const c of cases) {
    const expected = c.opts.hosts * 8 * c.opts.days * 96;
    if (!fs.existsSync(c.dir) || fs.readdirSync(c.dir).length !== c.opts.hosts) {
      fs.rmSync(c.dir, { recursive: true, force: true });
      const t = Date.now();
      const g = generateCsvExports(c.dir, c.opts);
      console.log(`  generated ${c.dir}: ${g.files} files, ${(g.bytes / 1e6).toFixed(0)} MB, ${g.rows} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const bytes = du(c.dir);
    const lake = path.join(out, 'history-lake');
    fs.rmSync(lake, { recursive: true, force: true });
    const res = JSON.parse(
      execFileSync(process.execPath, [path.join(here, 'ingest-child.js'), c.dir, lake], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .pop(),
    );
    const note = res.rows === expected ? '' : `  (expected ${expected} rows!)`;
    const rate = `${String(Math.round(res.rows / res.seconds / 1000)).padStart(5)} k rows/s  ${(bytes / 1e6 / res.seconds).toFixed(0).padStart(4)} MB/s`;
    console.log(
      `  ${c.label.padEnd(32)} ${res.seconds.toFixed(2).padStart(7)} s  ${rate}  peak RSS ${res.peak_rss_mib} MiB  (${res.rows} rows, ${res.rejected} rejected)${note}`,
    );
  }
}

function benchScore() {
  const END = '2026-11-20T00:00:00Z';
  const fleets = (process.env.BENCH_SCORE_GPUS ?? '1000').split(',').map(Number);
  const bin = path.join(here, '..', 'bin', 'run.js');
  console.log(`\nscore --since 7d on simulated fleets (7 days × 10 s, window ending ${END})`);
  for (const gpus of fleets) {
    const lake = path.join(out, `score-${gpus}g`);
    if (!fs.existsSync(path.join(lake, 'metrics'))) {
      fs.rmSync(lake, { recursive: true, force: true });
      const t = Date.now();
      execFileSync(
        process.execPath,
        [bin, 'simulate', '--to-lake', '--lake', lake, '--gpus', String(gpus), '--days', '7', '--interval', '10s', '--seed', '1', '--end', END, '-q'],
        { stdio: 'inherit' },
      );
      console.log(`  ${gpus} GPUs: simulated into ${lake} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    const rows = Number(JSON.parse(execFileSync(process.execPath, [bin, 'lake', 'info', '--lake', lake, '--json'], { encoding: 'utf8' })).rows);
    const score = (label) => {
      const r = JSON.parse(
        execFileSync(process.execPath, [path.join(here, 'score-child.js'), lake, END], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop(),
      );
      console.log(
        `  ${String(gpus).padStart(6)} GPUs, ${(rows / 1e6).toFixed(1)} M rows, ${label.padEnd(36)} ${r.seconds.toFixed(2).padStart(7)} s  peak RSS ${r.peak_rss_mib} MiB  (${r.rollups_built} rollup files built)`,
      );
    };
    // first run: a lake whose rollups were never built (one ingested by an older version) pays for them once
    fs.rmSync(path.join(lake, 'rollups'), { recursive: true, force: true });
    score('first run (builds rollups from raw)');
    score('nightly run (rollups kept by ingest)');
  }
}

function benchPredict() {
  const bin = path.join(here, '..', 'bin', 'run.js');
  const gpus = Number(process.env.BENCH_PREDICT_GPUS ?? 10_000);
  console.log(`\npredict on ${gpus} GPUs`);
  const r = JSON.parse(
    execFileSync(process.execPath, [path.join(here, 'predict-child.js'), String(gpus)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  );
  console.log(
    `  model half (3 ONNX models, survival curves, attributions), synthetic rows: ${r.predict_s.toFixed(2)} s (+ ${r.load_s.toFixed(2)} s to load), peak RSS ${r.peak_rss_mib} MiB`,
  );
  // end to end on a fleet with the 28 days of history the features read, at 15-minute scrapes
  const END = '2026-11-20T00:00:00Z';
  const lake = path.join(out, `predict-${gpus}g`);
  if (!fs.existsSync(path.join(lake, 'metrics'))) {
    fs.rmSync(lake, { recursive: true, force: true });
    const t = Date.now();
    execFileSync(
      process.execPath,
      [bin, 'simulate', '--to-lake', '--lake', lake, '--gpus', String(gpus), '--days', '29', '--interval', '15m', '--seed', '3', '--end', END, '-q'],
      {
        stdio: 'inherit',
      },
    );
    console.log(`  simulated ${gpus} GPUs × 29 days × 15 min into ${lake} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  for (const label of ['first run (builds rollups if missing)', 'again']) {
    const t = Date.now();
    execFileSync(process.execPath, [bin, 'predict', '--lake', lake, '--at', END, '--json', '-q'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      maxBuffer: 1 << 30,
    });
    console.log(`  predict through the CLI, ${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

if (part === 'all' || part === 'predict') benchPredict();
if (part === 'all' || part === 'survival') benchSurvival();
// collect (100 targets at 10 s, CPU share and memory) and pull (rows/s from a local Prometheus API):
// standalone scripts, each a fresh process
for (const name of ['collect', 'pull']) {
  if (part !== 'all' && part !== name) continue;
  console.log(`\n${name}`);
  execFileSync(process.execPath, [path.join(here, `${name}.js`)], { stdio: 'inherit' });
}

/**
 * survival on a 100,000-GPU registry (target: under 5 s through the CLI): three models, 40 lots, 2,500
 * racks, deployed over four years; Weibull lifetimes (shape 0.8–2.5 by lot), 5 % removed before failing.
 */
function benchSurvival() {
  const bin = path.join(here, '..', 'bin', 'run.js');
  const n = Number(process.env.BENCH_SURVIVAL_GPUS ?? 100_000);
  const lake = path.join(out, `survival-${n}g`);
  const END = Date.parse('2026-11-20T00:00:00Z');
  const DAY = 86_400_000;
  console.log(`\nsurvival on a ${n}-GPU registry`);
  if (!fs.existsSync(path.join(lake, 'assets'))) {
    fs.rmSync(lake, { recursive: true, force: true });
    fs.mkdirSync(lake, { recursive: true });
    const rand = mulberry32(7);
    const models = ['NVIDIA A100-SXM4-80GB', 'NVIDIA H100 80GB HBM3', 'NVIDIA H200'];
    const day = (ms) => new Date(ms).toISOString().slice(0, 10);
    const assets = ['gpu_uuid,serial,model,host,datacenter,rack,deployed_date,lot,removed_date'];
    const failures = ['gpu_uuid,serial,failed_at,failure_type,description'];
    for (let i = 0; i < n; i++) {
      const lot = i % 40;
      const shape = 0.8 + (lot % 8) * 0.24;
      const deployed = END - Math.floor(rand() * 4 * 365) * DAY;
      const fails = deployed + 2500 * (-Math.log(1 - rand())) ** (1 / shape) * DAY;
      const removed = rand() < 0.05 ? deployed + Math.floor(rand() * ((END - deployed) / DAY)) * DAY : null;
      const failed = fails < END && (removed === null || fails < removed);
      const uuid = `GPU-0000bench-${String(i).padStart(12, '0')}`;
      const host = `gpu-n${String(Math.floor(i / 8)).padStart(5, '0')}`;
      assets.push(
        `${uuid},SN${i},${models[lot % 3]},${host},dc${lot % 2},r${String(Math.floor(i / 40)).padStart(4, '0')},${day(deployed)},PO-${lot},${removed !== null && !failed ? day(removed) : ''}`,
      );
      if (failed) failures.push(`${uuid},,${new Date(fails).toISOString().replace(/\.\d+Z$/, 'Z')},memory,bench`);
    }
    fs.writeFileSync(path.join(out, 'survival-assets.csv'), `${assets.join('\n')}\n`);
    fs.writeFileSync(path.join(out, 'survival-failures.csv'), `${failures.join('\n')}\n`);
    for (const [what, file] of [
      ['assets', 'survival-assets.csv'],
      ['failures', 'survival-failures.csv'],
    ]) {
      const t = Date.now();
      execFileSync(process.execPath, [bin, what, 'import', path.join(out, file), '--lake', lake, '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
      console.log(`  ${what} import (${what === 'assets' ? n : failures.length - 1} rows): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
  }
  for (const by of [null, 'model', 'lot', 'rack']) {
    const args = [bin, 'survival', '--lake', lake, '--json', '-q', ...(by ? ['--by', by] : [])];
    const t = Date.now();
    const r = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 }));
    console.log(
      `  survival${by ? ` --by ${by}` : ''} --json through the CLI: ${((Date.now() - t) / 1000).toFixed(2)} s (${r.groups.length} groups, ${r.failures} failures, Cox ${r.cox ? `${r.cox.covariates.length} covariates` : 'none'})`,
    );
  }
}
