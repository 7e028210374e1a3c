// node bench/collect.js (after npm run build): what `gpuhealth collect` costs a host. Serves 100
// dcgm-exporter targets on 127.0.0.1 (each an 8-GPU scrape built from fixtures/prom/h100-single-scrape.prom),
// runs the built CLI with the 100 URLs at --interval 10s, pinned to one core when taskset exists, and
// prints its CPU share and peak RSS, scrapes/s and bytes written; then the CPU one hour file's gzip
// takes (the hourly close). Prints figures, asserts nothing.
//   BENCH_COLLECT_S=60 (run length), BENCH_TARGETS=100, BENCH_INTERVAL=10s
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeHourFile } from '../dist/lib/collect/spool-file.js';
import { stampScrape } from '../dist/lib/collect/stamp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const SECONDS = Number(process.env.BENCH_COLLECT_S ?? 60);
const TARGETS = Number(process.env.BENCH_TARGETS ?? 100);
const INTERVAL = process.env.BENCH_INTERVAL ?? '10s';
const GPUS = 8;
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** Fields a default dcgm-exporter config serves beyond the fixture's, as [name, type, help]. */
const EXTRA_FIELDS = [
  ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'Total number of PCIe retries.'],
  ['DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization (in %).'],
  ['DCGM_FI_DEV_FB_RESERVED', 'gauge', 'Framebuffer memory reserved (in MiB).'],
  ['DCGM_FI_DEV_FB_USED_PERCENT', 'gauge', 'Percentage used of Frame Buffer.'],
  ['DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', 'counter', 'Total number of single-bit volatile ECC errors.'],
  ['DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', 'counter', 'Total number of double-bit volatile ECC errors.'],
  ['DCGM_FI_DEV_ECC_SBE_AGG_TOTAL', 'counter', 'Total number of single-bit persistent ECC errors.'],
  ['DCGM_FI_DEV_ECC_DBE_AGG_TOTAL', 'counter', 'Total number of double-bit persistent ECC errors.'],
  ['DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS', 'counter', 'Number of remapped rows for correctable errors'],
  ['DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', 'counter', 'Number of remapped rows for uncorrectable errors'],
  ['DCGM_FI_DEV_ROW_REMAP_FAILURE', 'gauge', 'Whether remapping of rows has failed'],
  ['DCGM_FI_DEV_ROW_REMAP_PENDING', 'gauge', 'Whether remapping of rows is pending'],
  ['DCGM_FI_DEV_POWER_VIOLATION', 'counter', 'Throttling duration due to power constraints (in us).'],
  ['DCGM_FI_DEV_THERMAL_VIOLATION', 'counter', 'Throttling duration due to thermal constraints (in us).'],
  ['DCGM_FI_DEV_CLOCKS_EVENT_REASONS', 'gauge', 'Current clock event reasons.'],
  ['DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', 'counter', 'Total number of NVLink bandwidth counters for all lanes.'],
  ['DCGM_FI_DEV_VGPU_LICENSE_STATUS', 'gauge', 'vGPU License status'],
  ['DCGM_FI_PROF_SM_ACTIVE', 'gauge', 'The ratio of cycles an SM has at least 1 warp assigned.'],
  ['DCGM_FI_PROF_SM_OCCUPANCY', 'gauge', 'The ratio of number of warps resident on an SM.'],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'gauge', 'Ratio of cycles the tensor (HMMA) pipe is active.'],
  ['DCGM_FI_PROF_DRAM_ACTIVE', 'gauge', 'Ratio of cycles the device memory interface is active.'],
  ['DCGM_FI_PROF_PCIE_TX_BYTES', 'counter', 'The rate of data transmitted over the PCIe bus.'],
  ['DCGM_FI_PROF_PCIE_RX_BYTES', 'counter', 'The rate of data received over the PCIe bus.'],
];

/** One node's scrape: the fixture's families and the extra ones, for 8 GPUs with the fixture's label set. */
function nodeScrape(node) {
  const fixture = fs.readFileSync(path.join(repo, 'fixtures', 'prom', 'h100-single-scrape.prom'), 'utf8').split('\n');
  const families = [];
  for (let i = 0; i < fixture.length; i++) {
    const help = /^# HELP (\S+) (.*)$/.exec(fixture[i]);
    const type = /^# TYPE (\S+) (\S+)$/.exec(fixture[i + 1] ?? '');
    if (help && type) families.push([help[1], type[2], help[2]]);
  }
  const template = fixture.find((l) => l.startsWith('DCGM_FI_DEV_SM_CLOCK{gpu="0"'));
  const labels = /\{(.*)\}/.exec(template)[1];
  const out = [];
  let v = node * 7;
  for (const [name, type, help] of [...families, ...EXTRA_FIELDS]) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (let g = 0; g < GPUS; g++) {
      const l = labels
        .replace(/gpu="0"/, `gpu="${g}"`)
        .replace(/UUID="GPU-[0-9a-f]{8}/, `UUID="GPU-${node.toString(16).padStart(4, '0')}${g.toString(16).padStart(4, '0')}`)
        .replace(/device="nvidia0"/, `device="nvidia${g}"`)
        .replace(/pci_bus_id="00000000:18:00.0"/, `pci_bus_id="00000000:${(0x18 + g * 0x11).toString(16).toUpperCase()}:00.0"`)
        .replace(/Hostname="[^"]*"/, `Hostname="gpu-node-${String(node).padStart(3, '0')}"`);
      v = (v * 1103515245 + 12345) % 2 ** 31;
      out.push(`${name}{${l}} ${type === 'counter' ? v : (v % 10000) / 100}`);
    }
  }
  return Buffer.from(`${out.join('\n')}\n`);
}

/** user+system CPU seconds and resident memory (MiB, now and peak) of a process, from /proc. */
function procStats(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpu: (Number(f[11]) + Number(f[12])) / TICK, rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function main() {
  const cores = os.availableParallelism();
  console.log(`gpuhealth bench collect — ${cores} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`);
  // the exporters run in this process, on another core than collect where there is one
  if (hasTaskset && cores > 1) execFileSync('taskset', ['-cp', `1-${cores - 1}`, String(process.pid)], { stdio: 'ignore' });
  const bodies = Array.from({ length: TARGETS }, (_, i) => nodeScrape(i));
  const servers = [];
  for (const body of bodies) {
    const server = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(body);
    });
    server.keepAliveTimeout = 0; // as dcgm-exporter (Go net/http): an idle connection stays open for the next scrape
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
  }
  const samplesPerScrape = bodies[0]
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#')).length;
  console.log(`${TARGETS} exporters, ${GPUS} GPUs each: ${samplesPerScrape} samples, ${(bodies[0].length / 1024).toFixed(1)} KiB a scrape`);

  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-bench-collect-'));
  const args = [path.join(repo, 'bin', 'run.js'), 'collect', '--spool', spool, '--interval', INTERVAL, '--duration', `${SECONDS}s`, '--json', '--quiet'];
  for (const s of servers) args.push('--url', `http://127.0.0.1:${s.address().port}/metrics`);
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const child = spawn(cmd, hasTaskset ? ['-c', '0', process.execPath, ...args] : args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise((r) => child.on('close', r));
  console.log(
    `collect ${TARGETS} URLs --interval ${INTERVAL} --duration ${SECONDS}s${hasTaskset ? ', pinned to CPU 0 (taskset -c 0)' : ' (taskset not found: not pinned)'}`,
  );

  // CPU after start-up (node, oclif, the first scrapes) and at the end, read while it runs
  const t0 = Date.now();
  let warm = null;
  let last = null;
  let peakRss = 0;
  const warmAfterMs = Math.min(15_000, (SECONDS * 1000) / 4);
  const timer = setInterval(() => {
    try {
      const s = procStats(child.pid);
      peakRss = Math.max(peakRss, s.peakMiB);
      if (warm === null && Date.now() - t0 >= warmAfterMs) warm = { ...s, at: Date.now() };
      last = { ...s, at: Date.now() };
    } catch {
      // exited
    }
  }, 250);
  await exited;
  clearInterval(timer);
  for (const s of servers) s.close();
  const summary = JSON.parse(stdout);
  const wall = (Date.now() - t0) / 1000;
  const steady = warm && last && last.at > warm.at ? (last.cpu - warm.cpu) / ((last.at - warm.at) / 1000) : NaN;
  console.log(
    `CPU: ${((100 * (last?.cpu ?? NaN)) / wall).toFixed(1)} % of one core over the run (${(last?.cpu ?? NaN).toFixed(2)} s in ${wall.toFixed(1)} s, start-up included); steady state ${(100 * steady).toFixed(2)} % (after the first ${warmAfterMs / 1000} s)`,
  );
  console.log(`memory: peak RSS ${peakRss.toFixed(0)} MiB (last seen ${last?.rssMiB.toFixed(0)} MiB)`);
  const runS = (Date.parse(summary.stopped_at) - Date.parse(summary.started_at)) / 1000;
  console.log(
    `scrapes: ${summary.scrapes_ok} ok, ${summary.scrapes_failed} failed, ${summary.slots_skipped} slots skipped in ${runS.toFixed(1)} s (${(summary.scrapes_ok / runS).toFixed(1)}/s); ${summary.samples} samples; ${(summary.bytes / 1e6).toFixed(1)} MB written (${(((summary.bytes / runS) * 3600) / 1e9).toFixed(2)} GB/hour before gzip)`,
  );

  // the hourly close: one target's hour at this interval, gzipped as collect does it
  const hourFile = path.join(spool, 'gzip-bench', 'gzip-bench_2026-12-05T21.prom');
  fs.mkdirSync(path.dirname(hourFile), { recursive: true });
  const perHour = Math.round(3600 / (summary.interval_ms / 1000));
  const fd = fs.openSync(hourFile, 'w');
  for (let i = 0; i < perHour; i++) fs.writeSync(fd, stampScrape(bodies[i % TARGETS], 'gzip-bench', Date.UTC(2026, 11, 5, 21) + i * summary.interval_ms).block);
  fs.closeSync(fd);
  const size = fs.statSync(hourFile).size;
  const c0 = process.cpuUsage();
  const w0 = Date.now();
  await closeHourFile(hourFile, 'gzip-bench');
  const c1 = process.cpuUsage(c0);
  const gzCpu = (c1.user + c1.system) / 1e6;
  const gz = fs.statSync(`${hourFile}.gz`).size;
  console.log(
    `hour close: ${(size / 1e6).toFixed(1)} MB → ${(gz / 1e6).toFixed(2)} MB gzip (${(size / gz).toFixed(0)}×) in ${gzCpu.toFixed(2)} s CPU (${((Date.now() - w0) / 1000).toFixed(2)} s wall); for ${TARGETS} targets ${((100 * gzCpu * TARGETS) / 3600).toFixed(2)} % of one core averaged over the hour`,
  );
  fs.rmSync(spool, { recursive: true, force: true });
}

await main();
