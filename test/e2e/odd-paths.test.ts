/**
 * A lake whose path holds a quote, glob characters and spaces (`it's [a] *? {b}/lake`): DuckDB reads
 * `*`, `?` and `[` in a read_parquet path as a glob, so such a lake used to ingest once and then fail
 * with "No files found". Here it ingests, scores and compacts twice. Needs `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli, stackLines, tempDir } from '../helpers/cli.js';
import { T0, gpus, instants, scrape } from './scrapes.js';

const G = gpus(3);
const HOUR = 3_600_000;
/** Three hours of scrapes every 10 minutes, one file per hour, all on 2026-01-01. */
const HOURS = [0, 1, 2].map((h) => scrape({ gpus: G, times: instants(T0 + h * HOUR, 6, 600_000), seed: 40 + h }));
const AT = new Date(T0 + 3 * HOUR).toISOString();

async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = await runCli([...args, '--json']);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  expect(stackLines(r.stderr)).toEqual([]);
  return parseJson(r.stdout);
}

describe('a lake path with a quote, glob characters and spaces', () => {
  it('ingests, scores and compacts twice', async () => {
    const parent = path.join(tempDir(), "it's [a] *? {b}");
    const lake = path.join(parent, 'lake');
    // a sibling the escaped globs must not read: `[a]` as a glob would match `a`
    const decoy = path.join(path.dirname(parent), "it's a xy {b}", 'lake');
    const inputs = tempDir();
    const files = HOURS.map((s, i) => {
      const f = path.join(inputs, `hour-${i}.prom`);
      fs.writeFileSync(f, s.text);
      return f;
    });
    expect((await ok(['ingest', files[2]!, '--lake', decoy])).rows).toBe(18);

    expect((await ok(['ingest', files[0]!, '--lake', lake])).rows).toBe(18);
    expect((await ok(['ingest', files[1]!, '--lake', lake])).rows).toBe(18);
    let scores = (await ok(['score', '--lake', lake, '--since', '24h', '--at', AT])) as unknown as { gpu_uuid: string; samples: number }[];
    expect(scores.map((s) => s.gpu_uuid).sort()).toEqual(G.map((g) => g.uuid));
    expect(scores.every((s) => s.samples === 12)).toBe(true);
    expect(await ok(['compact', '--lake', lake])).toMatchObject({ partitions_compacted: 1, files_before: 2, files_after: 1 });

    expect((await ok(['ingest', files[2]!, '--lake', lake])).rows).toBe(18);
    expect((await ok(['ingest', files[2]!, '--lake', lake])).rows).toBe(0); // already in the lake
    scores = (await ok(['score', '--lake', lake, '--since', '24h', '--at', AT])) as unknown as { gpu_uuid: string; samples: number }[];
    expect(scores.every((s) => s.samples === 18)).toBe(true);
    expect(await ok(['compact', '--lake', lake])).toMatchObject({ partitions_compacted: 1, files_before: 2, files_after: 1 });

    expect(await ok(['lake', 'info', '--lake', lake])).toMatchObject({ rows: 54, files: 1, gpus: 3, sources: 3 });
    const features = (await ok(['features', '--lake', lake, '--since', '24h', '--at', AT])) as unknown as unknown[];
    expect(features).toHaveLength(3);
    const r = await runCli(['score', '--lake', lake, '--since', '24h', '--at', AT, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
});
