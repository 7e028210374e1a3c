/**
 * Merges the values a parser reads for one GPU and instant into one row before they reach the sink.
 * Prometheus's HTTP API holds one series per field, so a GPU's 33 fields at one evaluation time
 * arrive in 33 series; sent on as they come, each value is a row of its own: an object, a line of the
 * wide staging file and a row for DuckDB's merge to fold together again, which was most of the time
 * `pull` and `ingest` of Prometheus JSON took. A parser asks for a GPU's rows once per series
 * (`rowsOf`) and adds each value to them (`add`): one map lookup by time, no key strings.
 *
 * Merging changes nothing the lake ends up with:
 * - a value for a column the held row already has (a repeated or conflicting sample) first sends
 *   the held row on, so the two reach the sink in the order they came, and the merge's rules for
 *   duplicates and conflicts see them as before;
 * - a value the sink would refuse (a time outside the sample bounds, a value too large for its
 *   column; `takes` says) is not added: the parser sends it alone, so its reject names that sample;
 * - series of one GPU whose identity differs (host, index, model, PCI, driver) stay apart.
 */
import { type GpuIdentity, type MetricRow, VALUE_COLUMNS, type ValueColumn } from '../schema.js';
import { outOfRange, timeProblem, type TimeBounds, VALUE_LIMIT_BY_INDEX } from './limits.js';
import type { IngestSink, SourceLine } from './types.js';

/** Rows held at most before all are sent on: memory stays bounded on a file of any size. */
export const MAX_HELD_ROWS = 200_000;

const COLUMN_INDEX: ReadonlyMap<string, number> = new Map(VALUE_COLUMNS.map((c, i) => [c.name, i]));

interface Held {
  row: MetricRow;
  from: SourceLine | undefined;
}

/** The rows held for one GPU identity, by time. */
export interface GpuRows {
  readonly id: GpuIdentity;
  readonly rows: Map<number, Held>;
}

function sameIdentity(a: GpuIdentity, b: GpuIdentity): boolean {
  return (
    a === b ||
    (a.gpu_uuid === b.gpu_uuid &&
      a.host === b.host &&
      a.gpu_index === b.gpu_index &&
      a.model === b.model &&
      a.pci_bus_id === b.pci_bus_id &&
      a.driver_version === b.driver_version)
  );
}

export class RowMerger {
  private readonly byGpu = new Map<string, GpuRows>();
  private held = 0;

  /**
   * `bounds`: the sample times the sink takes (limits.ts sampleTimeBounds). `maxHeld`: rows held
   * before all are sent on (tests lower it).
   */
  constructor(
    private readonly sink: Pick<IngestSink, 'row'>,
    private readonly bounds: TimeBounds,
    private readonly maxHeld = MAX_HELD_ROWS,
  ) {}

  /** Whether the sink takes this value at this time; one it refuses is sent alone, not added. */
  takes(timeMs: number, column: ValueColumn, value: number | null): boolean {
    if (timeProblem(timeMs, this.bounds) !== null) return false;
    const i = COLUMN_INDEX.get(column);
    return i !== undefined && !(value !== null && outOfRange(value, VALUE_LIMIT_BY_INDEX[i]!));
  }

  /** The rows of GPU `id`; ask once per series. A series of the same GPU under another identity sends the held rows on. */
  rowsOf(id: GpuIdentity): GpuRows {
    const g = this.byGpu.get(id.gpu_uuid);
    if (g !== undefined && sameIdentity(g.id, id)) return g;
    if (g !== undefined) this.send(g);
    const fresh: GpuRows = { id, rows: new Map() };
    this.byGpu.set(id.gpu_uuid, fresh);
    return fresh;
  }

  /** Adds one value (one `takes` accepts) to the GPU's row at `timeMs`. `from`: the source line of the row's first value. */
  add(g: GpuRows, timeMs: number, column: ValueColumn, value: number | null, from?: SourceLine): void {
    const held = g.rows.get(timeMs);
    if (held !== undefined) {
      if (!(column in held.row.values)) {
        held.row.values[column] = value;
        return;
      }
      this.sink.row(held.row, held.from);
      g.rows.delete(timeMs);
      this.held--;
    } else if (this.held >= this.maxHeld) {
      this.flush();
    }
    g.rows.set(timeMs, { row: { ...g.id, time_ms: timeMs, values: { [column]: value } }, from });
    this.held++;
  }

  /** Sends every held row on: GPU by GPU, each in the order its times were first seen. */
  flush(): void {
    for (const g of this.byGpu.values()) this.send(g);
  }

  private send(g: GpuRows): void {
    for (const h of g.rows.values()) this.sink.row(h.row, h.from);
    this.held -= g.rows.size;
    g.rows.clear();
  }
}
