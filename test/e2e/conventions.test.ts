/**
 * End-to-end tests of the CLI's conventions: oclif's `help`, the unknown-command answer and shell
 * completions; stdout for data only, notes on stderr and `--quiet` silencing them; human tables that
 * fit 80–120 columns, cut GPU UUIDs that `--gpu` takes as prefixes, and `--wide`. The built CLI runs
 * as a child process (stdin is a pipe, never a terminal). Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, parseJson, runCli, tempDir, tempLake } from '../helpers/cli.js';
import { T0, gpus, instants, scrape } from './scrapes.js';

const END = '2026-11-20T00:00:00Z';
const WINDOW = ['--since', '24h', '--at', END];

/** The text without colour codes (oclif's plugins colour their messages, also under CI). */
const plain = (text: string): string => stripVTControlCharacters(text);

/** Longest line, in characters (the tables hold no double-width text). */
const widest = (text: string): number => Math.max(0, ...text.split('\n').map((l) => [...l].length));

describe.concurrent('oclif conventions', () => {
  it('help <command> shows the command help', async () => {
    const r = await runCli(['help', 'score']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('$ gpuhealth score');
    for (const flag of ['--since', '--gpu', '--wide', '--lake', '--quiet']) expect(r.stdout, flag).toContain(flag);
  });

  it('answers a mistyped command with exit 127 and no prompt when stdin is not a terminal', async () => {
    const r = await runCli(['scroe', '--lake', tempLake()], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(127);
    expect(r.stdout).toBe('');
    expect(plain(r.stderr)).toContain('scroe is not a gpuhealth command');
    expect(plain(r.stderr)).toContain('Run gpuhealth help for a list of available commands');
  });

  it('offers shell completions without the network', async () => {
    const help = await runCli(['autocomplete', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('$ gpuhealth autocomplete');
    const home = tempDir();
    const env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
    const script = await runCli(['autocomplete', 'script', 'bash'], { env });
    expect(script.code, script.stderr).toBe(0);
    expect(script.stdout).toContain('GPUHEALTH_AC_BASH_SETUP_PATH');
  });
});

describe.concurrent('environment', () => {
  it('names GPUHEALTH_MEMORY_LIMIT when its value is not a size, and exits 2 without touching the lake', async () => {
    const lake = tempLake();
    const r = await runCli(['ingest', path.join(FIXTURES, 'prom', 'h100-single-scrape.prom'), '--lake', lake], { env: { GPUHEALTH_MEMORY_LIMIT: 'lots' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('GPUHEALTH_MEMORY_LIMIT="lots" is not a memory size');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(lake)).toBe(false);
  });
});

describe('output conventions and tables on a simulated fleet', () => {
  const out = tempDir();
  const lake = path.join(out, 'lake');
  let uuids: string[] = [];

  beforeAll(async () => {
    const sim = await runCli(['simulate', '--out', out, '--gpus', '16', '--days', '2', '--interval', '10m', '--seed', '5', '--end', END, '--quiet']);
    expect(sim.code, sim.stderr).toBe(0);
    // two ingest runs, so that compact has partitions with several files
    const prom = path.join(out, 'prom');
    const hosts = fs.readdirSync(prom).sort();
    for (const part of [hosts.slice(0, 1), hosts.slice(1)]) {
      const ing = await runCli(['ingest', ...part.map((h) => path.join(prom, h)), '--lake', lake, '--quiet']);
      expect(ing.code, ing.stderr).toBe(0);
      expect(ing.stdout).toBe('');
    }
    const r = await runCli(['score', '--lake', lake, ...WINDOW, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    uuids = parseJson<{ gpu_uuid: string }[]>(r.stdout).map((s) => s.gpu_uuid);
    expect(uuids.length).toBeGreaterThanOrEqual(16);
  }, 120_000);

  it.each([
    ['assets', 'assets.csv', /imported \d+ assets/],
    ['failures', 'failures.csv', /imported \d+ failures/],
  ])('%s import: the summary is a note on stderr; --csv and --json are data on stdout; --quiet is silent', async (topic, file, summary) => {
    const csvFile = path.join(out, file);
    const human = await runCli([topic, 'import', csvFile, '--lake', lake]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(summary);
    const quiet = await runCli([topic, 'import', csvFile, '--lake', lake, '--quiet']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    const csv = await runCli([topic, 'import', csvFile, '--lake', lake, '--csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('field,value');
    expect(csv.stdout).toMatch(/^imported,\d+$/m);
    expect(csv.stderr).not.toMatch(summary);
    const json = await runCli([topic, 'import', csvFile, '--lake', lake, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(parseJson<{ imported: number }>(json.stdout).imported).toBeGreaterThan(0);
  });

  it('import rejects are notes: shown on stderr, silenced by --quiet', async () => {
    const bad = path.join(tempDir(), 'assets.csv');
    fs.writeFileSync(bad, `gpu_uuid,deployed_date\n${uuids[0]},2026-01-01\n${uuids[1]},not-a-date\n`);
    const copy = tempLake();
    fs.cpSync(lake, copy, { recursive: true });
    const loud = await runCli(['assets', 'import', bad, '--lake', copy]);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toContain('rejected');
    expect(loud.stdout).toBe('');
    const quiet = await runCli(['assets', 'import', bad, '--lake', copy, '--quiet']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it('compact: the summary is a note on stderr, --json is data on stdout, --quiet is silent', async () => {
    const copy = tempLake();
    fs.cpSync(lake, copy, { recursive: true });
    const human = await runCli(['compact', '--lake', copy]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/compacted [1-9]\d* partitions/);
    const json = await runCli(['compact', '--lake', copy, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(parseJson<{ partitions_compacted: number }>(json.stdout).partitions_compacted).toBe(0);
    expect(json.stderr).toBe('');
    const quiet = await runCli(['compact', '--lake', copy, '--quiet']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it('ingest rejects are notes: shown on stderr, silenced by --quiet', async () => {
    const lines = scrape({ gpus: gpus(2), times: instants(T0, 3), seed: 9 })
      .text.trimEnd()
      .split('\n');
    lines.splice(4, 0, 'this is { not valid', 'DCGM_FI_DEV_GPU_TEMP{gpu="0" 12 13');
    const bad = path.join(tempDir(), 'bad.prom');
    fs.writeFileSync(bad, `${lines.join('\n')}\n`);
    const loud = await runCli(['ingest', bad, '--lake', tempLake()]);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stdout).toBe('');
    expect(loud.stderr).toMatch(/^rejected .*bad\.prom:5/m);
    const quiet = await runCli(['ingest', bad, '--lake', tempLake(), '--quiet']);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it.each([80, 100, 120])('score, features and lake info tables fit COLUMNS=%i', async (columns) => {
    for (const args of [
      ['score', ...WINDOW],
      ['features', ...WINDOW],
      ['lake', 'info'],
    ]) {
      const r = await runCli([...args, '--lake', lake, '--quiet'], { env: { COLUMNS: String(columns) } });
      expect(r.code, r.stderr).toBe(0);
      expect(widest(r.stdout), `${args.join(' ')}\n${r.stdout}`).toBeLessThanOrEqual(columns);
    }
  });

  it('cuts GPU UUIDs to a prefix that --gpu takes as it is, and --wide shows them whole', async () => {
    const r = await runCli(['score', '--lake', lake, ...WINDOW, '--quiet'], { env: { COLUMNS: '80' } });
    expect(r.code, r.stderr).toBe(0);
    const cut = [...r.stdout.matchAll(/GPU-[0-9a-f-]+…/g)].map((m) => m[0]);
    // the GPUs scored now (an earlier test imported the failure history, whose dead GPUs are left out)
    const live = await runCli(['score', '--lake', lake, ...WINDOW, '--json', '--quiet']);
    const scored = parseJson<{ gpu_uuid: string }[]>(live.stdout).map((s) => s.gpu_uuid);
    expect(cut.length).toBe(scored.length);
    for (const c of cut) expect(c.length).toBeGreaterThanOrEqual('GPU-1a2b3c4d…'.length);
    const pick = cut[cut.length - 1]!;
    const one = await runCli(['score', '--lake', lake, ...WINDOW, '--gpu', pick, '--json', '--quiet']);
    expect(one.code, one.stderr).toBe(0);
    const rows = parseJson<{ gpu_uuid: string }[]>(one.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.gpu_uuid.startsWith(pick.slice(0, -1))).toBe(true);
    const wide = await runCli(['score', '--lake', lake, ...WINDOW, '--wide', '--quiet'], { env: { COLUMNS: '80' } });
    expect(wide.code, wide.stderr).toBe(0);
    for (const u of scored) expect(wide.stdout).toContain(u);
    expect(wide.stdout).not.toContain('…');
  });

  it('rejects an ambiguous --gpu prefix with exit 2, naming the candidates', async () => {
    const r = await runCli(['features', '--lake', lake, ...WINDOW, '--gpu', 'GPU-', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const live = await runCli(['features', '--lake', lake, ...WINDOW, '--json', '--quiet']);
    expect(r.stderr).toMatch(new RegExp(`--gpu GPU- matches ${parseJson<unknown[]>(live.stdout).length} GPUs: GPU-`));
  });
});
