/**
 * Fuzz test of ingest (issue 10): seeded random mutations of real fixtures — a line cut short, a bit
 * flipped, a line turned into 200 KB of junk, an odd value — are ingested. Whatever the damage:
 * - no run ends with exit 1 or a stack trace (exit 2 is a clear "nothing to ingest");
 * - only mutated lines are rejected: damage never takes a valid neighbour with it;
 * - the lake holds exactly what a clean ingest of the lines that were not rejected holds, so every
 *   line the parser took counts and nothing else does.
 * Needs `npm run build` first. `FUZZ_SEEDS=1,2,3 npx vitest run test/e2e/fuzz.test.ts` tries more seeds.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURES, parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { T0, gpus, instants, rng, scrape } from './scrapes.js';

type Rand = () => number;

const ODD_VALUES = ['NaN', '-1e308', '1e999', '99999999999999999999', '-0', '0x1F', '', '--', '+Inf', '-40', '1e-320', '٣'];

/** One mutation of `line`; never adds a line break, so line numbers stay those of the original. */
function mutate(line: string, r: Rand): string {
  const kind = Math.floor(r() * 4);
  if (kind === 0) return line.slice(0, Math.max(1, Math.floor(r() * line.length)));
  if (kind === 1) {
    const b = Buffer.from(line);
    for (let tries = 0; tries < 20; tries++) {
      const i = Math.floor(r() * b.length);
      const flipped = b[i]! ^ (1 << Math.floor(r() * 8));
      if (flipped === 0x0a || flipped === 0x0d) continue;
      b[i] = flipped;
      break;
    }
    return b.toString('latin1');
  }
  if (kind === 2) {
    const junk = Array.from({ length: 200_000 }, () => String.fromCharCode(33 + Math.floor(r() * 90))).join('');
    return r() < 0.5 ? junk : `${line}${junk}`;
  }
  // an odd value in place of the line's last number-looking token (or its end)
  const m = /(-?[\d.]+(?:e[-+]?\d+)?)(?=[^\d]*$)/i.exec(line);
  const odd = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)]!;
  return m ? `${line.slice(0, m.index)}${odd}${line.slice(m.index + m[0].length)}` : `${line} ${odd}`;
}

/** `text` with about a tenth of its lines after `skip` (a header) mutated; the mutated line numbers. */
function damage(text: string, seed: number, skip: number): { text: string; mutated: Set<number> } {
  const r = rng(seed);
  const lines = text.split('\n');
  const mutated = new Set<number>();
  for (let i = skip; i < lines.length; i++) {
    if (lines[i] === '' || r() >= 0.1) continue;
    lines[i] = mutate(lines[i]!, r);
    mutated.add(i + 1);
  }
  // a short fixture may draw no line: then one, so that every case is damaged
  if (mutated.size === 0) {
    const candidates = lines.map((l, i) => (i >= skip && l !== '' ? i : -1)).filter((i) => i >= 0);
    const i = candidates[Math.floor(r() * candidates.length)]!;
    lines[i] = mutate(lines[i]!, r);
    mutated.add(i + 1);
  }
  return { text: lines.join('\n'), mutated };
}

interface Summary {
  rejected: number;
  rejects_file: string | null;
}

/** A file an hour old (past the pending-line window, as a finished spool file). */
function writeOld(file: string, data: string | Buffer): void {
  fs.writeFileSync(file, data);
  const t = new Date(Date.now() - 3600_000);
  fs.utimesSync(file, t, t);
}

async function counts(lake: string): Promise<{ metrics: number; xids: number; other: number }> {
  const n = async (table: string): Promise<number> => {
    const files = await queryLake(lake, `SELECT count(*) AS n FROM glob('${path.join(lake, table, '*', '*.parquet')}')`);
    if (files[0]!.n === 0) return 0;
    return (await queryLake(lake, `SELECT count(*) AS n FROM {${table}}`))[0]!.n as number;
  };
  return { metrics: await n('metrics'), xids: await n('xid_events'), other: await n('metrics_other') };
}

const MULTI = scrape({ gpus: gpus(4), times: instants(T0, 6), seed: 17, ecc: true }).text;

const CASES: { name: string; text: () => string; file: string; header: number; args: string[] }[] = [
  { name: 'dcgm-exporter scrapes', text: () => MULTI, file: 'node-1.prom', header: 0, args: [] },
  {
    name: 'a single scrape (fixtures/prom/h100-single-scrape.prom)',
    text: () => fs.readFileSync(path.join(FIXTURES, 'prom', 'h100-single-scrape.prom'), 'utf8'),
    file: 'scrape.prom',
    header: 0,
    args: ['--time', '2026-01-02T00:00:00Z'],
  },
  {
    name: 'nvidia-smi CSV (fixtures/nvidia-smi/h100-full-field-list.csv)',
    text: () => fs.readFileSync(path.join(FIXTURES, 'nvidia-smi', 'h100-full-field-list.csv'), 'utf8'),
    file: 'smi.csv',
    header: 1,
    args: ['--host', 'node-s', '--format-in', 'nvidia-smi'],
  },
  {
    name: 'a CSV export (fixtures/csv/poc-gpu-health-metrics.csv)',
    text: () => fs.readFileSync(path.join(FIXTURES, 'csv', 'poc-gpu-health-metrics.csv'), 'utf8'),
    file: 'export.csv',
    header: 1,
    args: ['--format-in', 'csv'],
  },
  {
    name: 'a kernel log (fixtures/dmesg/dmesg-iso-comma.log)',
    text: () => fs.readFileSync(path.join(FIXTURES, 'dmesg', 'dmesg-iso-comma.log'), 'utf8'),
    file: 'node-k.dmesg.log',
    header: 0,
    args: ['--format-in', 'dmesg'],
  },
];

/** One seed per case keeps the suite fast; FUZZ_SEEDS=1,2,3,… runs more (each is deterministic). */
const SEEDS = (process.env['FUZZ_SEEDS'] ?? '1').split(',').map(Number);

describe.concurrent('fuzzed fixtures', () => {
  for (const c of CASES) {
    for (const seed of SEEDS) {
      it(`${c.name}, seed ${seed}`, async () => {
        const dir = tempDir();
        const { text, mutated } = damage(c.text(), seed * 7919 + c.file.length, c.header);
        expect(mutated.size).toBeGreaterThan(0);
        const file = path.join(dir, c.file);
        writeOld(file, text);
        const lake = tempLake();
        const res = await runCli(['ingest', file, ...c.args, '--lake', lake, '--json', '-q']);
        expect([0, 2], res.stderr).toContain(res.code);
        expect(stackLines(res.stderr)).toEqual([]);
        if (res.code === 2) return; // nothing could be ingested: said clearly, nothing written
        const s = parseJson<Summary>(res.stdout);
        const rejected = s.rejects_file
          ? fs
              .readFileSync(s.rejects_file, 'utf8')
              .trim()
              .split('\n')
              .map((l) => (JSON.parse(l) as { line: number }).line)
          : [];
        for (const line of rejected) expect(mutated, `line ${line} was not mutated but was rejected`).toContain(line);

        // the lines the parser took, ingested clean
        const kept = text
          .split('\n')
          .filter((_, i) => !rejected.includes(i + 1))
          .join('\n');
        const cleanFile = path.join(tempDir(), c.file);
        writeOld(cleanFile, kept);
        const cleanLake = tempLake();
        const clean = await runCli(['ingest', cleanFile, ...c.args, '--lake', cleanLake, '--json', '-q']);
        expect(clean.code, clean.stderr).toBe(0);
        expect(parseJson<Summary>(clean.stdout).rejected).toBe(0);
        expect(await counts(lake)).toEqual(await counts(cleanLake));
      });
    }
  }

  it('a .gz cut anywhere: exit 0 or 2, never 1, and never more rows than the whole file', async () => {
    const dir = tempDir();
    const gz = zlib.gzipSync(MULTI);
    const whole = tempLake();
    writeOld(path.join(dir, 'whole.prom.gz'), gz);
    expect((await runCli(['ingest', path.join(dir, 'whole.prom.gz'), '--lake', whole])).code).toBe(0);
    const all = (await counts(whole)).metrics;
    const r = rng(99);
    for (let k = 0; k < 3; k++) {
      const file = path.join(dir, `cut-${k}.prom.gz`);
      writeOld(file, gz.subarray(0, Math.floor(r() * gz.length)));
      const lake = tempLake();
      const res = await runCli(['ingest', file, '--lake', lake]);
      expect([0, 2], res.stderr).toContain(res.code);
      expect(stackLines(res.stderr)).toEqual([]);
      if (res.code === 0) expect((await counts(lake)).metrics).toBeLessThanOrEqual(all);
    }
  });
});
