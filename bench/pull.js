// node bench/pull.js (after npm run build): `gpuhealth pull` from a local Prometheus HTTP API
// (fixtures/prom-api/fake-prometheus.js, in this process) into a temp lake; prints rows/s, wall
// time and the CLI's peak RSS. Prints figures, asserts nothing. The server shares the machine's
// cores with the CLI, as a Prometheus on the same host would.
//   BENCH_PULL_HOSTS (default 100) × BENCH_PULL_GPUS (8) GPUs × every dcgm-exporter 2.x–4.x family
//   the lake stores (33), BENCH_PULL_HOURS (24) at BENCH_PULL_STEP (60s), seeded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dcgmFleet, startFakePrometheus } from '../fixtures/prom-api/fake-prometheus.js';
import { DCGM_FIELD_MAP } from '../dist/lib/dcgm/fields.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'bin', 'run.js');
const hosts = Number(process.env.BENCH_PULL_HOSTS ?? 100);
const gpus = Number(process.env.BENCH_PULL_GPUS ?? 8);
const hours = Number(process.env.BENCH_PULL_HOURS ?? 24);
const step = process.env.BENCH_PULL_STEP ?? '60s';
// the names dcgm-exporter 2.x–4.x emits (the renamed clock-event field once, under its new name)
const families = [...DCGM_FIELD_MAP.keys()].filter((n) => n.startsWith('DCGM_') && n !== 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS');

const FROM = Date.UTC(2026, 2, 1);
const TO = FROM + hours * 3_600_000 - 60_000;
// the CLI's peak RSS, printed by the child itself as it exits
const PEAK_RSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("peak_rss_kib="+process.resourceUsage().maxRSS+"\\n"))';

function runPull(url, lake) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [
        '--import',
        PEAK_RSS_HOOK,
        BIN,
        'pull',
        '--prometheus',
        url,
        '--lake',
        lake,
        '--from',
        new Date(FROM).toISOString(),
        '--to',
        new Date(TO).toISOString(),
        '--step',
        step,
        '--json',
        '--quiet',
      ],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`pull exited ${code}: ${err}`));
      const rss = Number(/peak_rss_kib=(\d+)/.exec(err)?.[1] ?? 0);
      resolve({ summary: JSON.parse(out), seconds, peakRssMib: Math.round(rss / 1024) });
    });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-bench-pull-'));
const series = dcgmFleet({ hosts, gpusPerHost: gpus, seed: 7, families });
const server = await startFakePrometheus({ series });
console.log(`gpuhealth pull bench — ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
console.log(`fleet: ${hosts} hosts × ${gpus} GPUs × ${families.length} families = ${series.length - hosts} series, ${hours} h at ${step}`);
try {
  const lake = path.join(dir, 'lake');
  for (const label of ['pull into an empty lake', 'pull again (nothing missing)']) {
    const before = server.requests.length;
    // the local server shares the machine: its CPU time (building the JSON) is shown apart
    const serverCpu = process.cpuUsage();
    const { summary: s, seconds, peakRssMib } = await runPull(server.url, lake);
    const used = process.cpuUsage(serverCpu);
    const serverS = (used.user + used.system) / 1e6;
    const rate =
      s.rows > 0
        ? `${Math.round(s.rows / seconds).toLocaleString('en-US')} rows/s, ${Math.round(s.samples / seconds).toLocaleString('en-US')} samples/s`
        : 'nothing to write';
    console.log(
      `${label.padEnd(30)} ${seconds.toFixed(1).padStart(6)} s  ${rate}  peak RSS ${peakRssMib} MiB  (${s.samples} samples → ${s.rows} rows, ${s.queries} queries, ${s.commits} commits, ${server.requests.length - before} requests); the server's CPU ${serverS.toFixed(1)} s`,
    );
  }
} finally {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
