import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import type { GpuIdentity } from '../schema.js';
import { runParser, staticResolver } from '../../../test/helpers/parse.js';
import { hostOfInstance, parseSampleValue, promJsonParser } from './prom-json.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/prom-json/${name}`, import.meta.url), 'utf8');

const H100 = 'NVIDIA H100 80GB HBM3';
const GPU_A: GpuIdentity = {
  gpu_uuid: 'GPU-5e0c7a4b-21f3-4d8e-9b1a-6c2f0d9e8a17',
  host: 'gpu-node-a',
  gpu_index: 0,
  model: H100,
  pci_bus_id: '0000:18:00.0',
  driver_version: '580.105.08',
};
const GPU_B: GpuIdentity = {
  gpu_uuid: 'GPU-9a3d1f62-0b7e-4c55-8e2d-f14b7a6c3e90',
  host: 'gpu-node-a',
  gpu_index: 1,
  model: H100,
  pci_bus_id: '0000:2a:00.0',
  driver_version: '580.105.08',
};
const GPU_C: GpuIdentity = {
  gpu_uuid: 'GPU-c71e8b05-6d2a-4f93-a0b4-28e5d3f91c6b',
  host: 'gpu-node-b',
  gpu_index: 3,
  model: H100,
  pci_bus_id: '0000:9b:00.0',
  driver_version: '580.105.08',
};

describe('promJsonParser.sniff', () => {
  it('is sure of an API response, less sure of bare result items, and ignores other text', () => {
    expect(promJsonParser.sniff(fixture('vector-k8s.json'))).toBe(0.95);
    expect(promJsonParser.sniff(fixture('matrix-2gpu.json'))).toBe(0.95);
    expect(promJsonParser.sniff(fixture('error.json'))).toBe(0);
    expect(promJsonParser.sniff('\uFEFF  {"resultType":"vector","result":[]}')).toBe(0.95);
    expect(promJsonParser.sniff('[\n  {\n    "metric": {"__name__": "up"},\n    "value": [1, "1"]\n  }\n]')).toBe(0.6);
    expect(promJsonParser.sniff('{"metric":{"__name__":"up"},"value":[1,"1"]}\n')).toBe(0.6);
    expect(promJsonParser.sniff('# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n')).toBe(0);
    expect(promJsonParser.sniff('{"name": "package.json"}')).toBe(0);
    expect(promJsonParser.sniff('timestamp, name, pci.bus_id\n')).toBe(0);
  });
});

describe('promJsonParser: instant vector from Prometheus scraping dcgm-exporter under Kubernetes', () => {
  it('makes one row per GPU and time from its series, with identity from the DCGM labels', async () => {
    const rec = await runParser(promJsonParser, fixture('vector-k8s.json'));
    const t = 1773114089184;
    expect(rec.rows).toEqual([
      { ...GPU_A, time_ms: t, values: { gpu_temp: 41, power_usage: 312.457 } },
      { ...GPU_B, time_ms: t, values: { gpu_temp: 35, power_usage: 71.204 } },
      { ...GPU_C, time_ms: t, values: { gpu_temp: 38, power_usage: 68.99 } },
    ]);
    expect(rec.others).toEqual([]);
    expect(rec.rejects).toEqual([]);
    expect(rec.warnings).toEqual([]);
  });

  it('tells the resolver about each GPU once', async () => {
    const remembered: GpuIdentity[] = [];
    const resolver = { ...staticResolver(), remember: (id: GpuIdentity) => void remembered.push(id) };
    await runParser(promJsonParser, fixture('vector-k8s.json'), { resolver });
    expect(remembered).toEqual([GPU_A, GPU_B, GPU_C]);
  });

  it('keeps every label, the exporter pod and the workload (exported_*) alike, on other samples', async () => {
    const text = fixture('vector-k8s.json').replaceAll('DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_POWER_MGMT_LIMIT');
    const rec = await runParser(promJsonParser, text);
    expect(rec.others).toHaveLength(3);
    expect(rec.others[0]).toEqual({
      time_ms: 1773114089184,
      gpu_uuid: GPU_A.gpu_uuid,
      host: 'gpu-node-a',
      metric: 'DCGM_FI_DEV_POWER_MGMT_LIMIT',
      value: 312.457,
      labels: {
        DCGM_FI_DRIVER_VERSION: '580.105.08',
        Hostname: 'gpu-node-a',
        UUID: GPU_A.gpu_uuid,
        container: 'nvidia-dcgm-exporter',
        device: 'nvidia0',
        endpoint: 'gpu-metrics',
        exported_container: 'main',
        exported_namespace: 'training',
        exported_pod: 'llm-train-0',
        gpu: '0',
        instance: '10.0.1.23:9400',
        job: 'nvidia-dcgm-exporter',
        modelName: H100,
        namespace: 'gpu-operator',
        pci_bus_id: '00000000:18:00.0',
        pod: 'nvidia-dcgm-exporter-7xk2p',
        service: 'nvidia-dcgm-exporter',
      },
    });
  });
});

describe('promJsonParser: range matrix', () => {
  it('emits every step of every series, gaps left out', async () => {
    const rec = await runParser(promJsonParser, fixture('matrix-2gpu.json'));
    const id0: GpuIdentity = {
      gpu_uuid: 'GPU-0d4f6b2a-93c1-4e7a-b5d8-1a6e9c2f7b34',
      host: 'dgx-a100-04',
      gpu_index: 0,
      model: 'NVIDIA A100-SXM4-80GB',
      pci_bus_id: '0000:07:00.0',
      driver_version: '550.127.05',
    };
    const id1: GpuIdentity = { ...id0, gpu_uuid: 'GPU-e8b27c19-5a0d-4f6e-8c3b-97d1a4e60f25', gpu_index: 1, pci_bus_id: '0000:0f:00.0' };
    const t = (step: number): number => 1773110400_000 + step * 30_000;
    expect(rec.rows).toEqual([
      { ...id0, time_ms: t(0), values: { gpu_util: 97, fb_used_mib: 71234 } },
      { ...id0, time_ms: t(1), values: { gpu_util: 100, fb_used_mib: 71234 } },
      { ...id0, time_ms: t(2), values: { gpu_util: 99, fb_used_mib: 71240 } },
      { ...id0, time_ms: t(3), values: { gpu_util: 98, fb_used_mib: 71240 } },
      { ...id1, time_ms: t(0), values: { gpu_util: 0, fb_used_mib: 4 } },
      { ...id1, time_ms: t(1), values: { gpu_util: 12, fb_used_mib: 20311 } },
      { ...id1, time_ms: t(2), values: { gpu_util: 55 } },
      { ...id1, time_ms: t(3), values: { gpu_util: 61, fb_used_mib: 20311 } },
    ]);
    expect(rec.others).toEqual([]);
    expect(rec.rejects).toEqual([]);
  });
});

describe('promJsonParser: values', () => {
  it('turns NaN, ±Inf and DCGM blanks into null', async () => {
    const rec = await runParser(promJsonParser, fixture('nan-inf.json'));
    const id: GpuIdentity = {
      gpu_uuid: 'GPU-47a0e3d9-8c1b-4b26-9f57-d3e2a81c06b4',
      host: 'gpu-node-c',
      gpu_index: 0,
      model: 'NVIDIA L40S',
      pci_bus_id: '0000:41:00.0',
      driver_version: null,
    };
    const t = 1773115200500;
    expect(rec.rows).toEqual([
      { ...id, time_ms: t, values: { power_usage: null, gpu_temp: null, sm_clock_mhz: null, memory_temp: null, mem_clock_mhz: 9001 } },
    ]);
    expect(rec.others).toHaveLength(1);
    expect(rec.others[0]).toMatchObject({ metric: 'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', value: null, gpu_uuid: id.gpu_uuid, time_ms: t });
    expect(rec.rejects).toEqual([]);
  });

  it('scales DCP ratios to percent in decimal, as the exposition-text parser does (dcgm/values.ts)', async () => {
    const rec = await runParser(promJsonParser, fixture('dcp-ratio.json'));
    const id: GpuIdentity = { ...GPU_A };
    const t = 1773114090000;
    expect(rec.rows).toEqual([
      { ...id, time_ms: t, values: { gr_engine_active: 91.2345, sm_active: 87.3412, sm_occupancy: 40.123, tensor_active: 41.2006, dram_active: 65.5 } },
    ]);
  });

  it('reads Prometheus sample strings as Go floats', () => {
    expect(parseSampleValue('1.5e+06')).toBe(1_500_000);
    expect(parseSampleValue('+Inf')).toBe(Infinity);
    expect(parseSampleValue('-Inf')).toBe(-Infinity);
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue(42)).toBe(42);
    expect(parseSampleValue('')).toBeNull();
    expect(parseSampleValue('n/a')).toBeNull();
    expect(parseSampleValue(null)).toBeNull();
  });
});

describe('promJsonParser: MIG', () => {
  it('keeps GPU-instance series out of GPU rows, in metrics_other under the parent UUID', async () => {
    const rec = await runParser(promJsonParser, fixture('mig.json'));
    const id: GpuIdentity = {
      gpu_uuid: 'GPU-b2f6d0e4-1c7a-4398-a5e1-0f9c3d8b72a6',
      host: 'a100-mig-01',
      gpu_index: 0,
      model: 'NVIDIA A100-SXM4-40GB',
      pci_bus_id: '0000:b7:00.0',
      driver_version: null,
    };
    const t = 1773116000000;
    expect(rec.rows).toEqual([{ ...id, time_ms: t, values: { gpu_temp: 33 } }]);
    expect(rec.others.map((o) => [o.metric, o.labels['GPU_I_ID'], o.value, o.gpu_uuid, o.host, o.time_ms])).toEqual([
      ['DCGM_FI_DEV_FB_USED', '1', 12010, id.gpu_uuid, 'a100-mig-01', t],
      ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', '1', 0.99821, id.gpu_uuid, 'a100-mig-01', t],
      ['DCGM_FI_DEV_FB_USED', '2', 0, id.gpu_uuid, 'a100-mig-01', t],
      ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', '2', 0, id.gpu_uuid, 'a100-mig-01', t],
    ]);
    expect(rec.warnings).toEqual(['4 MIG series kept in metrics_other']);
  });
});

describe('promJsonParser: dcgm-exporter 1.x names, and host when no Hostname label exists', () => {
  const id: GpuIdentity = {
    gpu_uuid: 'GPU-6f18c2a7-d43e-4b09-8e71-a5c0b9d2e364',
    host: 'gpu07.cluster.local',
    gpu_index: 2,
    model: null,
    pci_bus_id: null,
    driver_version: null,
  };

  it('maps dcgm_* names and takes the host from instance, with a warning', async () => {
    const rec = await runParser(promJsonParser, fixture('v1-names.json'));
    const t = 1773117000000;
    expect(rec.rows).toEqual([{ ...id, time_ms: t, values: { gpu_temp: 52, power_usage: 187.11, gpu_util: 88 } }]);
    expect(rec.warnings).toEqual([
      '1 GPU(s) have no Hostname label; host taken from the Prometheus "instance" label (e.g. "gpu07.cluster.local"); pass --host to set it',
    ]);
  });

  it('prefers --host over instance', async () => {
    const rec = await runParser(promJsonParser, fixture('v1-names.json'), { host: 'rack3-n07' });
    expect(rec.rows.map((r) => r.host)).toEqual(['rack3-n07']);
    expect(rec.warnings).toEqual([]);
  });

  it('never lets --host override a Hostname label', async () => {
    const rec = await runParser(promJsonParser, fixture('vector-k8s.json'), { host: 'other' });
    expect(new Set(rec.rows.map((r) => r.host))).toEqual(new Set(['gpu-node-a', 'gpu-node-b']));
  });

  it('strips the port from instance, IPv6 included', () => {
    expect(hostOfInstance('10.0.1.23:9400')).toBe('10.0.1.23');
    expect(hostOfInstance('[fd00::17]:9400')).toBe('fd00::17');
    expect(hostOfInstance('fd00::17')).toBe('fd00::17');
    expect(hostOfInstance('node7')).toBe('node7');
    expect(hostOfInstance(undefined)).toBeNull();
  });
});

describe('promJsonParser: several responses in one file', () => {
  const id: GpuIdentity = {
    gpu_uuid: 'GPU-2c9e5a13-7f4b-4d60-b8a2-e1d07c3f5948',
    host: 'gpu-node-d',
    gpu_index: 0,
    model: H100,
    pci_bus_id: '0000:1b:00.0',
    driver_version: '570.172.08',
  };

  it('reads NDJSON line by line, rejecting the garbled line and keeping the rest', async () => {
    const text = fixture('three-responses-garbled.ndjson');
    const rec = await runParser(promJsonParser, text);
    expect(rec.rows).toEqual([
      { ...id, time_ms: 1773118000000, values: { gpu_temp: 44 } },
      { ...id, time_ms: 1773118060000, values: { gpu_temp: 47 } },
      { ...id, time_ms: 1773118120000, values: { gpu_temp: 45 } },
    ]);
    expect(rec.rejects).toEqual([
      { line: 2, reason: 'invalid JSON: document starting here is incomplete (brackets still open at line 2)', text: text.split('\n')[1] },
    ]);
  });

  it('rejects a line whose brackets balance but whose JSON does not parse, saying where', async () => {
    const lines = fixture('three-responses-garbled.ndjson').split('\n');
    const garbled = (value: string): string =>
      `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"DCGM_FI_DEV_GPU_TEMP"},"value":[1773118030,${value}]}]}}`;
    lines[1] = garbled('"45",');
    lines[2] = garbled('x');
    const rec = await runParser(promJsonParser, lines.join('\n'));
    expect(rec.rows.map((r) => r.values.gpu_temp)).toEqual([44, 45]);
    expect(rec.rejects).toEqual([
      { line: 2, reason: "invalid JSON: Unexpected token ']' (line 2, column 132)", text: lines[1] },
      { line: 3, reason: "invalid JSON: Unexpected token 'x' (line 3, column 127)", text: lines[2] },
    ]);
  });

  it('splits pretty-printed responses written back to back', async () => {
    const rec = await runParser(promJsonParser, fixture('concatenated.json'));
    expect(rec.rows).toEqual([
      { ...GPU_A, time_ms: 1773120000000, values: { gpu_temp: 50 } },
      { ...GPU_A, time_ms: 1773120060000, values: { gpu_temp: 51 } },
    ]);
    expect(rec.rejects).toEqual([]);
  });

  it('rejects text between documents (curl -i headers, shell noise) by line', async () => {
    const body = fixture('vector-k8s.json');
    const text = `HTTP/1.1 200 OK\nContent-Type: application/json\n\n${body}`;
    const rec = await runParser(promJsonParser, text);
    expect(rec.rows).toHaveLength(3);
    expect(rec.rejects).toEqual([
      { line: 1, reason: 'text outside a JSON document', text: 'HTTP/1.1 200 OK' },
      { line: 2, reason: 'text outside a JSON document', text: 'Content-Type: application/json' },
    ]);
  });

  it('rejects an error response among successful ones at its line', async () => {
    const lines = fixture('three-responses-garbled.ndjson').split('\n');
    lines[1] = fixture('error.json').trim();
    const rec = await runParser(promJsonParser, lines.join('\n'));
    expect(rec.rows).toHaveLength(3);
    expect(rec.rejects).toEqual([
      {
        line: 2,
        reason: 'Prometheus error (bad_data): invalid parameter "query": 1:21: parse error: unexpected character inside braces: \'~\'',
        text: lines[1],
      },
    ]);
  });
});

describe('promJsonParser: other shapes', () => {
  const item = (ts: number, v: string): string =>
    JSON.stringify({ metric: { __name__: 'DCGM_FI_DEV_GPU_TEMP', Hostname: 'gpu-node-a', UUID: GPU_A.gpu_uuid, gpu: '0' }, value: [ts, v] });
  const id = { ...GPU_A, model: null, pci_bus_id: null, driver_version: null };

  it('accepts a bare data object', async () => {
    const rec = await runParser(promJsonParser, `{"resultType":"vector","result":[${item(1773120000, '50')}]}`);
    expect(rec.rows).toEqual([{ ...id, time_ms: 1773120000000, values: { gpu_temp: 50 } }]);
  });

  it('accepts a bare result array', async () => {
    const rec = await runParser(promJsonParser, `[\n${item(1773120000, '50')},\n${item(1773120000.25, '51')}\n]\n`);
    expect(rec.rows.map((r) => [r.time_ms, r.values.gpu_temp])).toEqual([
      [1773120000000, 50],
      [1773120000250, 51],
    ]);
  });

  it('accepts result items one per line (jq -c ".data.result[]")', async () => {
    const rec = await runParser(promJsonParser, `${item(1773120000, '50')}\n${item(1773120060, '52')}\n`);
    expect(rec.rows.map((r) => r.values.gpu_temp)).toEqual([50, 52]);
    expect(rec.rejects).toEqual([]);
  });

  it('accepts a list of responses (jq -s)', async () => {
    const resp = (ts: number, v: string): string => `{"status":"success","data":{"resultType":"vector","result":[${item(ts, v)}]}}`;
    const rec = await runParser(promJsonParser, `[${resp(1773120000, '50')},${resp(1773120060, '53')}]`);
    expect(rec.rows.map((r) => [r.time_ms, r.values.gpu_temp])).toEqual([
      [1773120000000, 50],
      [1773120060000, 53],
    ]);
  });

  it('passes on Prometheus warnings once', async () => {
    const resp = `{"status":"success","warnings":["PromQL info: metric might not be a counter"],"data":{"resultType":"vector","result":[${item(1773120000, '50')}]}}`;
    const rec = await runParser(promJsonParser, `${resp}\n${resp}\n`);
    expect(rec.rows).toHaveLength(2);
    expect(rec.warnings).toEqual(['Prometheus warning: PromQL info: metric might not be a counter']);
  });

  it('warns when the query returned nothing', async () => {
    const rec = await runParser(promJsonParser, '{"status":"success","data":{"resultType":"vector","result":[]}}');
    expect(rec.rows).toEqual([]);
    expect(rec.warnings).toEqual(['the query results hold no series']);
  });

  it('rejects broken items and samples, keeping the good ones', async () => {
    const doc = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { values: [[1, '1']] },
          { metric: { __name__: 'DCGM_FI_DEV_GPU_TEMP', UUID: GPU_A.gpu_uuid }, values: [[1773120000, '50'], [1773120030, 'hot'], ['later', '51'], 7] },
          { metric: { __name__: 'DCGM_FI_DEV_GPU_TEMP', UUID: GPU_B.gpu_uuid } },
        ],
      },
    };
    const rec = await runParser(promJsonParser, `\n${JSON.stringify(doc)}\n`);
    expect(rec.rows.map((r) => [r.gpu_uuid, r.time_ms, r.values.gpu_temp])).toEqual([[GPU_A.gpu_uuid, 1773120000000, 50]]);
    expect(rec.rejects).toEqual([
      { line: 2, reason: 'result[0]: no "metric" label object', text: '{"values":[[1,"1"]]}' },
      { line: 2, reason: 'result[1].values[1]: bad sample value', text: '[1773120030,"hot"]' },
      { line: 2, reason: 'result[1].values[2]: bad timestamp', text: '["later","51"]' },
      { line: 2, reason: 'result[1].values[3]: not a [time, "value"] pair', text: '7' },
      { line: 2, reason: 'result[2]: no "value" or "values"', text: `{"metric":{"__name__":"DCGM_FI_DEV_GPU_TEMP","UUID":"${GPU_B.gpu_uuid}"}}` },
    ]);
  });
});

describe('promJsonParser: samples without a canonical column', () => {
  it('keeps them as other samples, with or without a GPU', async () => {
    const rec = await runParser(promJsonParser, fixture('other-metrics.json'));
    const t = 1773114089184;
    expect(rec.rows).toEqual([]);
    expect(rec.others.map((o) => ({ ...o, labels: Object.keys(o.labels).length }))).toEqual([
      { time_ms: t, gpu_uuid: GPU_B.gpu_uuid, host: 'gpu-node-a', metric: 'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', value: 123456, labels: 8 },
      { time_ms: t, gpu_uuid: GPU_B.gpu_uuid, host: 'gpu-node-a', metric: 'DCGM_FI_DEV_VGPU_LICENSE_STATUS', value: 0, labels: 8 },
      { time_ms: t, gpu_uuid: null, host: '10.0.1.23', metric: 'up', value: 1, labels: 2 },
    ]);
    expect(rec.others[2]!.labels).toEqual({ instance: '10.0.1.23:9400', job: 'nvidia-dcgm-exporter' });
  });

  it('names series without __name__ "unnamed" and keeps their labels', async () => {
    const rec = await runParser(promJsonParser, fixture('unnamed.json'));
    expect(rec.rows).toEqual([]);
    expect(rec.others).toEqual([
      {
        time_ms: 1773118800000,
        gpu_uuid: GPU_A.gpu_uuid,
        host: 'gpu-node-a',
        metric: 'unnamed',
        value: 40.25,
        labels: { Hostname: 'gpu-node-a', UUID: GPU_A.gpu_uuid },
      },
      {
        time_ms: 1773118800000,
        gpu_uuid: GPU_B.gpu_uuid,
        host: 'gpu-node-a',
        metric: 'unnamed',
        value: 34.5,
        labels: { Hostname: 'gpu-node-a', UUID: GPU_B.gpu_uuid },
      },
    ]);
    expect(rec.warnings).toEqual(['2 series without __name__ (PromQL expression results) kept in metrics_other as metric "unnamed"']);
  });
});

describe('promJsonParser: DCGM_EXP_XID_ERRORS_COUNT', () => {
  it('keeps every count and yields an Xid event where a window count rises', async () => {
    const rec = await runParser(promJsonParser, fixture('xid-count-matrix.json'));
    expect(rec.others).toHaveLength(10);
    expect(rec.others.map((o) => o.value)).toEqual([1, 1, 2, 2, 0, 0, 0, 0, 0, 0]);
    const base = { gpu_uuid: GPU_A.gpu_uuid, host: 'gpu-node-a', pci_bus_id: '0000:18:00.0', xid: 79, source: 'prom-json' };
    expect(rec.xids).toEqual([
      { ...base, time_ms: 1773119000000, message: 'DCGM_EXP_XID_ERRORS_COUNT window count 1' },
      { ...base, time_ms: 1773119120000, message: 'DCGM_EXP_XID_ERRORS_COUNT window count 2' },
    ]);
  });
});

describe('promJsonParser: files with nothing usable', () => {
  it('throws the Prometheus error when the file is only an error response', async () => {
    const run = runParser(promJsonParser, fixture('error.json'), { file: 'q.json' });
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow(
      'q.json: Prometheus error (bad_data): invalid parameter "query": 1:21: parse error: unexpected character inside braces: \'~\'',
    );
  });

  it('throws with the line of a JSON syntax error in one big document', async () => {
    const run = runParser(promJsonParser, fixture('missing-comma.json'), { file: 'm.json' });
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow("m.json:16: invalid JSON: Expected ',' or '}' after property value (line 16, column 11)");
  });

  it('finds the line of an unexpected token from the context Node echoes', async () => {
    const text = fixture('missing-comma.json')
      .replace('"nvidia-dcgm-exporter"\n', '"nvidia-dcgm-exporter",\n')
      .replace('"value": [\n          1773120000,\n          "50"', '"value": [\n          1773120000,\n          x');
    await expect(runParser(promJsonParser, text, { file: 'x.json' })).rejects.toThrow("x.json:21: invalid JSON: Unexpected token 'x' (line 21, column 11)");
  });

  it('keeps a complete document that follows a truncated one', async () => {
    const whole = fixture('concatenated.json');
    const cut = whole.indexOf('}{');
    const text = `${whole.slice(0, cut - 40)}\n${whole.slice(cut + 1)}`;
    const rec = await runParser(promJsonParser, text);
    expect(rec.rows.map((r) => r.time_ms)).toEqual([1773120060000]);
    expect(rec.rejects).toEqual([{ line: 1, reason: 'invalid JSON: document starting here is incomplete (brackets still open at line 21)', text: '{' }]);
  });

  it('reads pretty-printing without indentation (json.dumps(indent=0))', async () => {
    const doc = JSON.parse(fixture('dcp-ratio.json')) as unknown;
    const flat = JSON.stringify(doc, null, 2).replace(/^ +/gm, '');
    // the second copy repeats every value: it stays a row of its own for the merge's duplicate rules
    const rec = await runParser(promJsonParser, `${flat}\n${flat}\n`);
    expect(rec.rows).toHaveLength(2);
    expect(rec.rejects).toEqual([]);
  });

  it('throws for a truncated document', async () => {
    const text = fixture('vector-k8s.json').split('\n').slice(0, 40).join('\n');
    await expect(runParser(promJsonParser, text, { file: 't.json' })).rejects.toThrow(
      't.json:1: invalid JSON: document starting here is incomplete (brackets still open at line 40)',
    );
  });

  it('throws for an empty file, a scalar result and JSON that is not a query result', async () => {
    await expect(runParser(promJsonParser, '\n  \n', { file: 'e.json' })).rejects.toThrow('e.json: no JSON in file');
    await expect(
      runParser(promJsonParser, '{"status":"success","data":{"resultType":"scalar","result":[1773120000,"8"]}}', { file: 's.json' }),
    ).rejects.toThrow('s.json:1: resultType "scalar" holds no series');
    await expect(runParser(promJsonParser, '{"status":"success","data":["up","DCGM_FI_DEV_GPU_TEMP"]}', { file: 'l.json' })).rejects.toThrow(
      'l.json:1: not a Prometheus HTTP API response',
    );
  });
});
