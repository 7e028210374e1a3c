/**
 * End-to-end tests of values that make no physical sense (issue 10): out-of-range values are stored
 * as null and counted per column; samples dated before 2000, or more than a day ahead without
 * --allow-future, are rejected by line. Before, −40 °C, negative watts, 1e308 W and a 2100 partition
 * were stored as given. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLakeFiles, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { T0 } from './scrapes.js';

const L = (i: number): string => `gpu="${i}",UUID="GPU-p${i}",Hostname="node-p"`;
const t = (k: number): number => T0 + k * 60_000;

/** GPU 0 is sane; GPU 1 reports nonsense at two instants. */
const TEXT = [
  `DCGM_FI_DEV_GPU_TEMP{${L(0)}} 45 ${t(0)}`,
  `DCGM_FI_DEV_POWER_USAGE{${L(0)}} 350.5 ${t(0)}`,
  `DCGM_FI_DEV_GPU_TEMP{${L(1)}} -40 ${t(0)}`,
  `DCGM_FI_DEV_POWER_USAGE{${L(1)}} -12 ${t(0)}`,
  `DCGM_FI_PROF_SM_ACTIVE{${L(1)}} 1.5 ${t(0)}`,
  `DCGM_FI_DEV_GPU_TEMP{${L(1)}} 50 ${t(1)}`,
  `DCGM_FI_DEV_POWER_USAGE{${L(1)}} 1e308 ${t(1)}`,
  `DCGM_FI_DEV_PCIE_REPLAY_COUNTER{${L(1)}} -3 ${t(1)}`,
  `DCGM_FI_DEV_GPU_TEMP{${L(0)}} 46 0`,
  `DCGM_FI_DEV_GPU_TEMP{${L(0)}} 47 ${Date.UTC(2100, 0, 1)}`,
  '',
].join('\n');

interface Summary {
  rows: number;
  rejected: number;
  rejects_file: string;
  implausible_values: Record<string, number>;
}

describe.concurrent('values that make no physical sense', () => {
  it('are stored as null and counted per column; samples from 1970 and 2100 are rejected by line', async () => {
    const file = path.join(tempDir(), 'odd.prom');
    fs.writeFileSync(file, TEXT);
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(stackLines(res.stderr)).toEqual([]);
    const s = parseJson<Summary>(res.stdout);
    expect(s).toMatchObject({ rows: 3, rejected: 2, implausible_values: { gpu_temp: 1, power_usage: 2, sm_active: 1, pcie_replay_count: 1 } });
    expect(res.stderr).toMatch(/5 physically impossible value\(s\) stored as null/);
    const rows = await queryLake(lake, 'SELECT gpu_uuid, epoch_ms(time) AS t, gpu_temp, power_usage, sm_active, pcie_replay_count FROM {metrics} ORDER BY ALL');
    expect(rows).toEqual([
      { gpu_uuid: 'GPU-p0', t: t(0), gpu_temp: 45, power_usage: 350.5, sm_active: null, pcie_replay_count: null },
      { gpu_uuid: 'GPU-p1', t: t(0), gpu_temp: null, power_usage: null, sm_active: null, pcie_replay_count: null },
      { gpu_uuid: 'GPU-p1', t: t(1), gpu_temp: 50, power_usage: null, sm_active: null, pcie_replay_count: null },
    ]);
    const rejects = fs
      .readFileSync(s.rejects_file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects).toEqual([
      { file: expect.any(String), line: 9, reason: expect.stringMatching(/1970-01-01T00:00:00.000Z is before 2000-01-01/), text: expect.any(String) },
      {
        file: expect.any(String),
        line: 10,
        reason: expect.stringMatching(/2100-01-01T00:00:00.000Z is more than a day in the future \(pass --allow-future/),
        text: expect.any(String),
      },
    ]);
    expect(listLakeFiles(lake).some((f) => f.includes('date=2100') || f.includes('date=1970'))).toBe(false);
  });

  it('--allow-future takes the 2100 sample', async () => {
    const file = path.join(tempDir(), 'odd.prom');
    fs.writeFileSync(file, TEXT);
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake, '--json', '--allow-future']);
    expect(res.code, res.stderr).toBe(0);
    expect(parseJson<Summary>(res.stdout)).toMatchObject({ rows: 4, rejected: 1 });
    expect(listLakeFiles(lake).some((f) => f.startsWith('metrics/date=2100-01-01/'))).toBe(true);
  });

  it('a line format (CSV export) gets the same checks', async () => {
    const file = path.join(tempDir(), 'export.csv');
    fs.writeFileSync(
      file,
      ['time,gpu_uuid,host,gpu_temp,power_usage', `2026-01-01T00:00:00Z,GPU-c0,node-c,-40,300`, `2100-01-01T00:00:00Z,GPU-c0,node-c,40,300`, ''].join('\n'),
    );
    const lake = tempLake();
    const res = await runCli(['ingest', file, '--lake', lake, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(parseJson<Summary>(res.stdout)).toMatchObject({ rows: 1, rejected: 1, implausible_values: { gpu_temp: 1 } });
  });
});
