import { describe, expect, it } from 'vitest';
import { DCGM_FIELD_MAP } from '../dcgm/fields.js';
import { scaleReading } from '../dcgm/values.js';
import { VALUE_COLUMNS } from '../schema.js';
import { ByteSink, FAMILIES, familiesFor, formatValue, renderScrape, renderScrapeTo } from './exposition.js';
import { planFleet } from './fleet.js';
import { scrapes } from './telemetry.js';

const SAMPLE =
  /^([A-Z_0-9]+)\{gpu="(\d)",UUID="(GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",pci_bus_id="[0-9A-F]{8}:[0-9A-F]{2}:00\.0",device="nvidia\d",modelName="NVIDIA (?:A100-SXM4-80GB|H100 80GB HBM3)",Hostname="gpu-[ab]-r\d\d-n\d\d",DCGM_FI_DRIVER_VERSION="\d+\.\d+\.\d+"\} (\d+|\d+\.\d{6}) (\d{13})$/;

describe('exposition', () => {
  it('covers every canonical column once, in DCGM field-id order, with names the ingester maps', () => {
    expect(FAMILIES.map((f) => f.column).sort()).toEqual(VALUE_COLUMNS.map((c) => c.name).sort());
    const ids = FAMILIES.map((f) => f.fieldId);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const field of ['DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS'] as const) {
      for (const f of familiesFor(field)) expect(DCGM_FIELD_MAP.get(f.name)?.column, f.name).toBe(f.column);
    }
  });

  it('formats integers as %d and doubles as %f', () => {
    const power = FAMILIES.find((f) => f.column === 'power_usage')!;
    const sm = FAMILIES.find((f) => f.column === 'sm_active')!;
    const temp = FAMILIES.find((f) => f.column === 'gpu_temp')!;
    expect(formatValue(power, 16.365)).toBe('16.365000');
    expect(formatValue(power, 700)).toBe('700.000000');
    expect(formatValue(sm, 87.3215)).toBe('0.873215');
    expect(formatValue(sm, 100)).toBe('1.000000');
    expect(formatValue(sm, 0)).toBe('0.000000');
    expect(formatValue(temp, 1234567890123)).toBe('1234567890123');
  });

  it('renders well-formed lines: HELP and TYPE before each family, samples with a ms timestamp', () => {
    const plan = planFleet({ gpus: 16, days: 1 / 24, intervalMs: 60_000, seed: 3, endMs: Date.UTC(2026, 0, 1, 12) });
    const problems: string[] = [];
    let samples = 0;
    for (const sc of scrapes(plan)) {
      const text = renderScrape(sc, plan);
      expect(text.endsWith('\n')).toBe(true);
      let family = '';
      let typed = false;
      for (const line of text.slice(0, -1).split('\n')) {
        const help = /^# HELP ([A-Z_0-9]+) \S.*$/.exec(line);
        const type = /^# TYPE ([A-Z_0-9]+) (gauge|counter)$/.exec(line);
        const sample = SAMPLE.exec(line);
        if (help) {
          family = help[1]!;
          typed = false;
        } else if (type) {
          if (type[1] !== family) problems.push(`TYPE for ${type[1]} after HELP for ${family}`);
          typed = true;
        } else if (sample) {
          samples++;
          if (sample[1] !== family || !typed) problems.push(`sample of ${sample[1]} outside its family`);
          if (Number(sample[5]) !== sc.time_ms) problems.push(`timestamp ${sample[5]}`);
        } else problems.push(`malformed: ${line}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(samples).toBeGreaterThan(16 * 50 * FAMILIES.length);
  });

  it('round-trips: ingesting the text gives exactly the canonical values', () => {
    const plan = planFleet({ gpus: 24, days: 0.5, intervalMs: 300_000, seed: 8, endMs: Date.UTC(2026, 0, 1) });
    const problems: string[] = [];
    for (const sc of scrapes(plan)) {
      const byUuid = new Map(sc.gpus.slice(0, sc.count).map((g, i) => [g.uuid, i]));
      for (const line of renderScrape(sc, plan).split('\n')) {
        const m = SAMPLE.exec(line);
        if (!m) continue;
        const map = DCGM_FIELD_MAP.get(m[1]!)!;
        const i = byUuid.get(m[3]!)!;
        // What the ingester stores: the printed decimal, scaled in decimal (0.058619 → 5.8619).
        const ingested = scaleReading(Number(m[4]), map.scale, m[4]);
        if (ingested !== sc.values[map.column][i]) problems.push(`${m[1]} ${m[4]} → ${ingested} ≠ ${sc.values[map.column][i]}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('renders into a byte sink exactly what renderScrape returns', () => {
    const plan = planFleet({ gpus: 9, days: 0.05, intervalMs: 60_000, seed: 1, endMs: Date.UTC(2026, 0, 1) });
    const sink = new ByteSink(16);
    let text = '';
    for (const sc of scrapes(plan)) {
      renderScrapeTo(sink, sc, plan);
      text += renderScrape(sc, plan);
    }
    expect(sink.toString()).toBe(text);
  });
});
