import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeStaging, openStaging } from '../ingest/staging.js';
import { parseLabelBody, parsePromTask } from '../ingest/prom-text.js';
import { DIMENSIONS } from '../health/score.js';
import { sampleReport } from './fixture.js';
import { escapeLabelValue, renderProm } from './prom.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-report-prom-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

/**
 * A strict reading of the text exposition format as the textfile collector takes it: HELP and TYPE once
 * per metric and before its samples, a metric's samples together, valid names, label values with only
 * the three escapes, a numeric value and no timestamp, no series twice, a final newline.
 */
function checkExposition(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('no final newline');
  const lines = text.slice(0, -1).split('\n');
  const help = new Set<string>();
  const type = new Set<string>();
  const finished = new Set<string>();
  const series = new Set<string>();
  const samples: Sample[] = [];
  let current: string | null = null;
  lines.forEach((line, i) => {
    const check = (ok: boolean, why: string): void => {
      if (!ok) throw new Error(`line ${i + 1}: ${why}: ${line}`);
    };
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      check(METRIC_NAME.test(name), 'bad metric name');
      check(!finished.has(name) && current !== name, 'after its samples');
      if (kind === 'HELP') {
        check(!help.has(name), 'HELP twice');
        check(!/\\[^\\n]/.test(rest), 'bad escape in HELP');
        help.add(name);
      } else {
        check(!type.has(name), 'TYPE twice');
        check(help.has(name), 'TYPE before HELP');
        check(rest === 'gauge', 'not a gauge');
        type.add(name);
      }
      return;
    }
    check(!line.startsWith('#'), 'an unknown comment');
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    check(m !== null, 'not "name{labels} value"');
    const [, name, body, value] = m as unknown as [string, string, string | undefined, string];
    check(METRIC_NAME.test(name), 'bad metric name');
    check(type.has(name), 'no TYPE before the sample');
    if (current !== name) {
      check(!finished.has(name), `samples of ${name} are not together`);
      if (current !== null) finished.add(current);
      current = name;
    }
    const labels: Record<string, string> = {};
    let rest = body ?? '';
    while (rest !== '') {
      const l = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      check(l !== null, `malformed label set at ${rest}`);
      const [all, key, raw, comma] = l as unknown as [string, string, string, string];
      check(LABEL_NAME.test(key) && !key.startsWith('__'), `bad label name ${key}`);
      check(labels[key] === undefined, `label ${key} twice`);
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(all.length);
      check(comma !== '' || rest === '', 'labels not separated by commas');
    }
    check(VALUE.test(value), 'not a number');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    check(!series.has(key), 'duplicate series');
    series.add(key);
    samples.push({ name, labels, value: Number(value) });
  });
  for (const name of help) if (!type.has(name)) throw new Error(`${name}: HELP without TYPE`);
  return samples;
}

describe('the strict exposition check', () => {
  it('rejects what the textfile collector would', () => {
    const ok = '# HELP a x\n# TYPE a gauge\na{l="v"} 1\n';
    expect(() => checkExposition(ok)).not.toThrow();
    for (const bad of [
      'a{l="v"} 1\n', // no TYPE
      '# HELP a x\n# TYPE a gauge\na{l="v"} 1 1700000000000\n', // a timestamp
      '# HELP a x\n# TYPE a gauge\na{l="v"} 1\na{l="v"} 2\n', // a duplicate series
      '# HELP a x\n# TYPE a gauge\na{l="v"x"} 1\n', // an unescaped quote
      '# HELP a x\n# TYPE a gauge\na{1l="v"} 1\n', // a bad label name
      '# HELP a x\n# TYPE a gauge\na{l="v"} one\n', // not a number
      '# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\na 1\nb 1\na{l="v"} 1\n', // a family split
      '# HELP a x\n# TYPE a gauge\na 1', // no final newline
    ]) {
      expect(() => checkExposition(bad), bad).toThrow();
    }
  });
});

describe('renderProm', () => {
  const r = sampleReport({ gpus: 300, seed: 1 });
  const text = renderProm(r);
  const samples = checkExposition(text);
  const of = (name: string): Sample[] => samples.filter((s) => s.name === name);

  it('passes the strict check, one gauge per GPU and score, dcgm-exporter’s labels on each', () => {
    const scored = r.gpus.filter((g) => g.overall_score !== null);
    expect(of('gpuhealth_overall_score')).toHaveLength(scored.length);
    const s = of('gpuhealth_overall_score')[0]!;
    expect(Object.keys(s.labels)).toEqual(['UUID', 'Hostname', 'modelName']);
    expect(s.labels.UUID).toBe(r.gpus[0]!.gpu_uuid);
    expect(s.value).toBe(r.gpus[0]!.overall_score);
    const dims = of('gpuhealth_dimension_score');
    expect(new Set(dims.map((d) => d.labels.dimension))).toEqual(new Set(DIMENSIONS));
    const memory = r.gpus.filter((g) => g.memory_health !== null).length;
    expect(dims.filter((d) => d.labels.dimension === 'memory')).toHaveLength(memory);
    const p = of('gpuhealth_failure_probability');
    expect(new Set(p.map((x) => x.labels.horizon))).toEqual(new Set(['7d', '30d', '90d']));
    expect(p.every((x) => x.value >= 0 && x.value <= 1)).toBe(true);
    expect(of('gpuhealth_grade_info')).toHaveLength(scored.length);
    expect(of('gpuhealth_grade_info').every((x) => x.value === 1 && x.labels.grade !== '')).toBe(true);
    expect(of('gpuhealth_expected_value_usd')).toHaveLength(r.gpus.filter((g) => g.expected_value !== null).length);
  });

  it('leaves out null values instead of writing 0', () => {
    const silent = r.gpus.find((g) => g.overall_score === null)!;
    expect(samples.filter((s) => s.labels.UUID === silent.gpu_uuid).map((s) => s.name)).toEqual(['gpuhealth_not_reporting']);
    expect(text).not.toMatch(/ (null|undefined)$/m);
  });

  it('writes the fleet gauges and the report time, with no sample timestamps', () => {
    expect(of('gpuhealth_fleet_health_index')[0]!.value).toBe(r.fleet.health_index);
    expect(of('gpuhealth_report_timestamp_seconds')[0]!.value).toBe(Date.parse(r.at) / 1000);
    expect(of('gpuhealth_fleet_grade_gpus').reduce((s, x) => s + x.value, 0)).toBe(r.fleet.gpus);
    expect(of('gpuhealth_fleet_value_usd')[0]!.value).toBe(r.economics!.fleet_value);
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    const odd = 'rack "7"\\ node\nb';
    const bad = structuredClone(r);
    bad.gpus[0]!.host = odd;
    bad.gpus[1]!.model = '\\';
    const s = checkExposition(renderProm(bad));
    expect(s.find((x) => x.labels.UUID === bad.gpus[0]!.gpu_uuid)!.labels.Hostname).toBe(odd);
    expect(s.find((x) => x.labels.UUID === bad.gpus[1]!.gpu_uuid)!.labels.modelName).toBe('\\');
    expect(escapeLabelValue(odd)).toBe('rack \\"7\\"\\\\ node\\nb');
    expect(parseLabelBody(`Hostname="${escapeLabelValue(odd)}"`)).toEqual({ Hostname: odd });
  });

  it('is read back by gpuhealth’s own exposition parser without a reject or a duplicate', async () => {
    const bad = structuredClone(r);
    bad.gpus[0]!.host = 'rack "7"\\ node\nb';
    const out = renderProm(bad);
    const file = path.join(TMP, 'report.prom');
    fs.writeFileSync(file, out);
    const staging = openStaging(TMP, 't');
    let result: Awaited<ReturnType<typeof parsePromTask>>;
    try {
      result = await parsePromTask(
        { path: file, displayName: 'report.prom', gzip: false, start: 0, end: -1, defaultTimeMs: Date.parse(r.at), host: null },
        staging,
        () => {},
      );
    } finally {
      closeStaging(staging);
    }
    expect(result.rejects).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(result.stats.samples).toBe(checkExposition(out).length);
  });
});
