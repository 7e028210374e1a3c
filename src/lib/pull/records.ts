/**
 * The pulled-chunk records (`<lake>/_ingest/pulled/part-<run>.parquet`, columns in sql/pull.ts): read
 * before a pull to skip what the lake holds, and staged into the same commit as the data they describe
 * (ingest's beforeCommit), so that a record exists if and only if its rows landed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { quotePath, withDb } from '../db/duckdb.js';
import type { LakeLayout } from '../lake/layout.js';
import type { LakeRun } from '../lake/run.js';
import { recoverBeforeRead } from '../lake/txn.js';
import { copyTableSql } from '../sql/ingest.js';
import { createLakeViews, loadJsonlTable } from '../sql/lake-views.js';
import { PULLED_COLUMNS, PULLED_RANGES_SQL } from '../sql/pull.js';
import { mergeRanges, unitKey, type TimeRange, type Unit } from './plan.js';

export interface PulledRecord {
  server: string;
  selector: string;
  unit: Unit;
  range: TimeRange;
  stepMs: number;
  series: number;
  samples: number;
  pulledAtMs: number;
}

/** Per unit (unitKey), the merged ranges the lake's records say are pulled for this server, selector and step. */
export async function pulledRanges(layout: LakeLayout, server: string, selector: string, stepMs: number): Promise<Map<string, TimeRange[]>> {
  if (!fs.existsSync(layout.pulledDir)) return new Map();
  // a killed commit is finished or undone first: a record may only be believed with its data
  await recoverBeforeRead(layout);
  const rows = await withDb(async (db) => {
    await createLakeViews(db, layout);
    return db.query<{ host_label: string | null; host: string | null; start_ms: number; end_ms: number }>('pulled ranges', PULLED_RANGES_SQL, {
      server,
      selector,
      step_ms: stepMs,
    });
  });
  const byUnit = new Map<string, TimeRange[]>();
  for (const r of rows) {
    const key = unitKey({ label: r.host_label, value: r.host });
    const ranges = byUnit.get(key) ?? [];
    ranges.push({ start: r.start_ms, end: r.end_ms });
    byUnit.set(key, ranges);
  }
  return new Map([...byUnit].map(([key, ranges]) => [key, mergeRanges(ranges)]));
}

/** Stages `records` as the run's pulled-chunk file, for its commit. Nothing when there are none. */
export async function stagePulledRecords(run: LakeRun, records: readonly PulledRecord[]): Promise<void> {
  if (records.length === 0) return;
  const { db, layout, runId, stage } = run;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const jsonl = path.join(stage, 'pulled.jsonl');
  const lines = records.map((r) =>
    JSON.stringify({
      run_id: runId,
      server: r.server,
      selector: r.selector,
      host_label: r.unit.label,
      host: r.unit.value,
      range_start: iso(r.range.start),
      range_end: iso(r.range.end),
      step_ms: r.stepMs,
      series: r.series,
      samples: r.samples,
      pulled_at: iso(r.pulledAtMs),
    }),
  );
  fs.writeFileSync(jsonl, `${lines.join('\n')}\n`);
  await loadJsonlTable(db, 'new_pulled', jsonl, Object.fromEntries(PULLED_COLUMNS.map((c) => [c.name, c.type])));
  const file = path.join(stage, 'pulled.parquet');
  await db.exec('write pulled', copyTableSql('new_pulled', quotePath(file)));
  run.add(file, path.join(layout.pulledDir, `part-${runId}.parquet`));
}
