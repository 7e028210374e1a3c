/**
 * End-to-end tests of dmon and kernel-log sources without --host (issue 10): recordings from two
 * machines must never land on the same GPUs. The host comes from --host or the file's name; a dmon
 * file with neither is skipped with a hint, a kernel log's Xid lines that name neither a host nor a
 * GPU UUID are rejected. Before, both files below merged into `idx:unknown-host:0`. Needs
 * `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { T0, gpus, instants, scrape } from './scrapes.js';

const DMON = path.join(FIXTURES, 'dmon', 'nvsmi-dmon-default.txt');
const TIMING = ['--time', '2026-01-02T00:00:00Z', '--interval', '1s'];

interface Summary {
  files: number;
  rows: number;
  xid_events: number;
  rejected: number;
  rejects_file: string | null;
  sources: { file: string; status: string; message?: string }[];
}

describe.concurrent('dmon and kernel logs without --host', () => {
  it('two dmon recordings named for no host: skipped with a hint, exit 2, no lake', async () => {
    const dir = tempDir();
    fs.copyFileSync(DMON, path.join(dir, 'a.txt'));
    fs.copyFileSync(DMON, path.join(dir, 'b.txt'));
    const lake = tempLake();
    const res = await runCli(['ingest', dir, '--format-in', 'dmon', ...TIMING, '--lake', lake]);
    expect(res.code).toBe(2);
    expect(stackLines(res.stderr)).toEqual([]);
    expect(res.stderr).toMatch(/names no host.*pass --host NAME, or name the file after its host/);
    expect(fs.existsSync(lake)).toBe(false);
  });

  it('beside a scrape: the scrape is ingested, the hostless dmon file skipped with its reason, exit 0', async () => {
    const dir = tempDir();
    fs.copyFileSync(DMON, path.join(dir, 'dmon.txt'));
    fs.writeFileSync(path.join(dir, 'node-1.prom'), scrape({ gpus: gpus(2), times: instants(T0, 2), seed: 3 }).text);
    const lake = tempLake();
    const res = await runCli(['ingest', dir, ...TIMING, '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const s = parseJson<Summary>(res.stdout);
    expect(s.rows).toBe(4);
    expect(s.sources.find((x) => x.file.endsWith('dmon.txt'))).toMatchObject({ status: 'failed', message: expect.stringMatching(/names no host/) });
  });

  it('the host from each file name keeps two machines apart', async () => {
    const dir = tempDir();
    // the same recording twice would be one source (same bytes): the second machine's differs a little
    fs.copyFileSync(DMON, path.join(dir, 'node-a.dmon'));
    fs.writeFileSync(path.join(dir, 'dmon_node-b.txt'), fs.readFileSync(DMON, 'utf8').replace(' 612 ', ' 611 '));
    const lake = tempLake();
    const res = await runCli(['ingest', dir, '--format-in', 'dmon', ...TIMING, '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const g = await queryLake(lake, 'SELECT gpu_uuid, host, count(*) AS n FROM {metrics} GROUP BY ALL ORDER BY gpu_uuid');
    expect(g).toEqual([
      { gpu_uuid: 'idx:node-a:0', host: 'node-a', n: 3 },
      { gpu_uuid: 'idx:node-a:1', host: 'node-a', n: 3 },
      { gpu_uuid: 'idx:node-b:0', host: 'node-b', n: 3 },
      { gpu_uuid: 'idx:node-b:1', host: 'node-b', n: 3 },
    ]);
  });

  it('a kernel log without a host: Xids by PCI address only are rejected, not matched to a known host’s GPU', async () => {
    const dir = tempDir();
    // the lake knows a GPU at PCI 0000:4e:00.0 on node-x
    const known = { ...gpus(1, 'node-x')[0]!, pci: '00000000:4E:00.0' };
    fs.writeFileSync(path.join(dir, 'node-x.prom'), scrape({ gpus: [known], times: instants(T0, 1), seed: 4 }).text);
    const lake = tempLake();
    expect((await runCli(['ingest', path.join(dir, 'node-x.prom'), '--lake', lake])).code).toBe(0);
    const log = path.join(dir, 'dmesg.log');
    fs.copyFileSync(path.join(FIXTURES, 'dmesg', 'dmesg-unmapped-pci.log'), log);
    const res = await runCli(['ingest', log, '--lake', lake, '--json']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no host for this Xid line: pass --host NAME/);
    const xids = await queryLake(lake, `SELECT count(*) AS n FROM glob('${lake}/xid_events/*/*.parquet')`);
    expect(xids[0]!.n).toBe(0);

    // named for its host, the same lines map to node-x's GPU
    const named = path.join(dir, 'node-x.dmesg.log');
    fs.copyFileSync(log, named);
    const ok = await runCli(['ingest', named, '--lake', lake, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const ev = await queryLake(lake, "SELECT DISTINCT gpu_uuid, host FROM {xid_events} WHERE pci_bus_id = '0000:4e:00.0'");
    expect(ev).toEqual([{ gpu_uuid: known.uuid, host: 'node-x' }]);
  });

  it('a kernel log without a host that names its GPUs (NVRM: GPU at PCI … GPU-<uuid>) keeps those Xids', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'dmesg.log');
    fs.copyFileSync(path.join(FIXTURES, 'dmesg', 'dmesg-iso-comma.log'), log);
    const lake = tempLake();
    const res = await runCli(['ingest', log, '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const s = parseJson<Summary>(res.stdout);
    expect(s).toMatchObject({ xid_events: 3, rejected: 0 });
    const ev = await queryLake(lake, 'SELECT DISTINCT gpu_uuid FROM {xid_events}');
    expect(ev).toEqual([{ gpu_uuid: 'GPU-0c9e4b71-2d3a-4f58-8e16-b9a7c5d3e210' }]);
  });
});
