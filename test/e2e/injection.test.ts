/**
 * Hostile values are data, never SQL (in the spirit of kysely's SQL-injection test): label values and
 * host names with quotes, backslashes, SQL, `{}`, `,` and `=` inside quoted values, newlines and
 * unicode are ingested, stored verbatim in metrics, metrics_other and the asset registry, read back
 * unchanged by score, and matched exactly by --gpu / --host, which never fail with a SQL error. Needs
 * `npm run build` first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryLake, runCli, stackLines, tempDir, tempLake } from '../helpers/cli.js';
import { T0, instants } from './scrapes.js';

const DROP = "'); DROP TABLE metrics; --";
const OR_TRUE = "x' OR '1'='1";
/** Two GPUs whose identity is hostile, and one plain neighbour. */
const GPUS = [
  { uuid: `GPU-${DROP}`, host: OR_TRUE, model: 'NVIDIA "H100" {a=1,b="2"}' },
  { uuid: 'GPU-q"uo\'te\\back\\slash{x=y, z}', host: 'ünïcødé-ホスト-🚀', model: "it's \\N NULL" },
  { uuid: 'GPU-plain-0000-0000-0000-000000000000', host: 'node-1', model: 'NVIDIA H100 80GB HBM3' },
];
/** Extra labels of a metric without a canonical column (kept in metrics_other.labels). */
const EXTRA = {
  pod: "'); DROP TABLE metrics_other; --",
  note: 'line one\nline two',
  path: 'C:\\Program Files\\NVIDIA\\',
  brace: '} {',
  pairs: 'a=b,c="d"',
  unicode: '日本語 ✓ \u00e9\u0301',
  empty: '',
};

/** A label value as the exposition format writes it. */
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelSet = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',');

const idLabels = (g: (typeof GPUS)[number], i: number): Record<string, string> => ({ gpu: String(i), UUID: g.uuid, modelName: g.model, Hostname: g.host });

function exposition(): string {
  const out: string[] = [];
  for (const t of instants(T0, 6, 60_000)) {
    GPUS.forEach((g, i) => {
      out.push(`DCGM_FI_DEV_GPU_TEMP{${labelSet(idLabels(g, i))}} ${40 + i} ${t}`);
      out.push(`DCGM_FI_DEV_POWER_USAGE{${labelSet(idLabels(g, i))}} ${200 + i} ${t}`);
      out.push(`DCGM_FI_DEV_ENC_UTIL{${labelSet({ ...idLabels(g, i), ...EXTRA })}} ${i} ${t}`);
    });
  }
  return `${out.join('\n')}\n`;
}

const AT = new Date(T0 + 3_600_000).toISOString();
const WINDOW = ['--since', '24h', '--at', AT];
const lake = tempLake();

beforeAll(async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'hostile.prom'), exposition());
  const ing = await runCli(['ingest', path.join(dir, 'hostile.prom'), '--lake', lake, '--json']);
  expect(ing.code, ing.stderr).toBe(0);
  expect(parseJson<{ rows: number; rejected: number; gpus: number }>(ing.stdout)).toMatchObject({ rows: 18, rejected: 0, gpus: 3 });
  const assets = path.join(dir, 'assets.csv');
  const csvField = (v: string): string => `"${v.replace(/"/g, '""')}"`;
  fs.writeFileSync(
    assets,
    `gpu_uuid,serial,host,datacenter,rack\n${GPUS.map((g) => [g.uuid, DROP, g.host, EXTRA.pairs, EXTRA.unicode].map(csvField).join(',')).join('\n')}\n`,
  );
  const imp = await runCli(['assets', 'import', assets, '--lake', lake, '--json']);
  expect(imp.code, imp.stderr).toBe(0);
  expect(parseJson<{ imported: number; rejected: number }>(imp.stdout)).toMatchObject({ imported: 3, rejected: 0 });
}, 120_000);

describe('hostile values are stored and read back as data', () => {
  it('keeps identities verbatim in metrics', async () => {
    const rows = await queryLake(lake, 'SELECT DISTINCT gpu_uuid, host, model FROM {metrics} ORDER BY gpu_uuid');
    const want = GPUS.map((g) => ({ gpu_uuid: g.uuid, host: g.host, model: g.model })).sort((a, b) => (a.gpu_uuid < b.gpu_uuid ? -1 : 1));
    expect(rows).toEqual(want);
    expect(await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}')).toEqual([{ n: 18 }]);
  });

  it('keeps every extra label verbatim in metrics_other', async () => {
    const rows = await queryLake(lake, 'SELECT gpu_uuid, host, metric, labels FROM {metrics_other}');
    expect(rows).toHaveLength(18);
    for (const r of rows) {
      const g = GPUS.find((x) => x.uuid === r.gpu_uuid)!;
      expect(g, String(r.gpu_uuid)).toBeDefined();
      expect(r.host).toBe(g.host);
      expect(r.metric).toBe('DCGM_FI_DEV_ENC_UTIL');
      expect(JSON.parse(String(r.labels))).toEqual({ ...idLabels(g, GPUS.indexOf(g)), ...EXTRA });
    }
  });

  it('keeps the asset registry verbatim', async () => {
    const rows = await queryLake(
      lake,
      `SELECT gpu_uuid, serial, host, datacenter, rack FROM read_parquet('${path.join(lake, 'assets', '*.parquet')}') ORDER BY gpu_uuid`,
    );
    expect(rows).toEqual(
      GPUS.map((g) => ({ gpu_uuid: g.uuid, serial: DROP, host: g.host, datacenter: EXTRA.pairs, rack: EXTRA.unicode })).sort((a, b) =>
        a.gpu_uuid < b.gpu_uuid ? -1 : 1,
      ),
    );
  });

  it('reads the identities back unchanged in score --json', async () => {
    const r = await runCli(['score', '--lake', lake, ...WINDOW, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseJson<{ gpu_uuid: string; host: string; model: string }[]>(r.stdout);
    expect(rows.map((x) => [x.gpu_uuid, x.host, x.model]).sort()).toEqual(GPUS.map((g) => [g.uuid, g.host, g.model]).sort());
  });

  it.each(GPUS.map((g) => [g.uuid, g]))('--gpu %s matches exactly that GPU', async (_uuid, g) => {
    for (const cmd of ['score', 'features']) {
      const r = await runCli([cmd, '--lake', lake, ...WINDOW, '--gpu', g.uuid, '--json', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(parseJson<{ gpu_uuid: string; host: string }[]>(r.stdout).map((x) => [x.gpu_uuid, x.host])).toEqual([[g.uuid, g.host]]);
    }
  });

  it.each(GPUS.map((g) => [g.host, g]))('--host %s matches exactly its GPU', async (_host, g) => {
    const r = await runCli(['score', '--lake', lake, ...WINDOW, '--host', g.host, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<{ gpu_uuid: string }[]>(r.stdout).map((x) => x.gpu_uuid)).toEqual([g.uuid]);
  });

  it.each([
    ['--host', "x' OR '1'='2"],
    ['--host', "' OR 1=1 --"],
    ['--gpu', "GPU-x' OR '1'='1"],
    ['--gpu', "'); DROP TABLE metrics; --"],
    ['--host', 'node-1\\'],
  ])('%s %s matches nothing: a usage error, not a SQL error', async (flag, value) => {
    const r = await runCli(['score', '--lake', lake, ...WINDOW, flag, value, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`no GPU in the window matches ${flag} ${value}`);
    expect(r.stderr).not.toMatch(/Binder|Parser|Catalog|SQL/i);
    expect(stackLines(r.stderr)).toEqual([]);
  });

  it('is still whole after all that', async () => {
    expect(await queryLake(lake, 'SELECT count(*) AS n FROM {metrics}')).toEqual([{ n: 18 }]);
    const info = await runCli(['lake', 'info', '--lake', lake, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(parseJson(info.stdout)).toMatchObject({ rows: 18, gpus: 3, hosts: 3 });
    const table = await runCli(['score', '--lake', lake, ...WINDOW, '--quiet']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(OR_TRUE);
  });
});
