/**
 * The documented CSV headers of `assets import` and `failures import`. Every date is checked against
 * EARLIEST_REGISTRY_DATE; those marked `past` also against now (import.ts).
 */
import { ASSET_COLUMNS, FAILURE_COLUMNS, FAILURE_TYPES, type FailureType } from '../schema.js';
import type { FieldSpec, FieldType, TableSpec } from './import.js';

export { FAILURE_TYPES, type FailureType };

/**
 * The largest purchase price taken (USD). A GPU board costs tens of thousands, a whole 8-GPU server
 * well under a million; a larger figure is a typo or another currency's number, and 1e99 once broke
 * the whole import.
 */
export const MAX_PURCHASE_PRICE = 10_000_000;

type Columns = readonly { name: string; type: FieldType }[];

/** The fields of a registry table: its columns (schema.ts), in order, each with its doc and checks. */
function fieldsOf<C extends Columns>(columns: C, specs: { [K in C[number]['name']]: Omit<FieldSpec, 'name' | 'type'> }): FieldSpec[] {
  return columns.map((c) => ({ name: c.name, type: c.type, ...specs[c.name as C[number]['name']] }));
}

export const ASSETS_SPEC: TableSpec = {
  table: 'assets',
  key: ['gpu_uuid'],
  fields: fieldsOf(ASSET_COLUMNS, {
    gpu_uuid: { required: true, doc: 'GPU UUID as DCGM reports it (GPU-xxxxxxxx-…)' },
    serial: { doc: 'board serial number', aliases: ['sn', 'serial_no', 'board_serial'] },
    model: { doc: 'e.g. NVIDIA H100 80GB HBM3', aliases: ['gpu_model', 'name', 'product'] },
    host: { doc: 'host the GPU is installed in', aliases: ['hostname', 'node', 'server'] },
    datacenter: { doc: 'site', aliases: ['site', 'dc', 'data_center', 'location'] },
    rack: { doc: 'rack' },
    deployed_date: { doc: 'YYYY-MM-DD the GPU went into service', past: true, aliases: ['install_date', 'in_service_date', 'deployment_date'] },
    warranty_expiry: { doc: 'YYYY-MM-DD (may be in the future)', aliases: ['warranty_end', 'warranty_until', 'warranty_date'] },
    purchase_price: {
      doc: `USD (at most ${MAX_PURCHASE_PRICE.toLocaleString('en-US')})`,
      aliases: ['price', 'cost', 'unit_price'],
      parse: (t) => {
        const n = Number(t.replace(/^\$/, '').replace(/,/g, ''));
        if (!(Number.isFinite(n) && n >= 0)) return { error: `purchase_price: "${t}" is not a non-negative number` };
        return n <= MAX_PURCHASE_PRICE ? n : { error: `purchase_price: "${t}" is more than ${MAX_PURCHASE_PRICE.toLocaleString('en-US')} USD` };
      },
    },
    lot: { doc: 'purchase lot or batch the GPU came in', aliases: ['batch', 'purchase_lot', 'lot_id', 'po'] },
    removed_date: {
      doc: 'YYYY-MM-DD the GPU left service without failing (sold, moved, retired); empty while in service',
      past: true,
      aliases: ['decommissioned_date', 'retired_date', 'decommission_date', 'retirement_date'],
    },
  }),
  check: (r) => {
    for (const later of ['warranty_expiry', 'removed_date'] as const) {
      if (r.deployed_date && r[later] && String(r[later]) < String(r.deployed_date)) return `${later} is before deployed_date`;
    }
    return null;
  },
};

export const FAILURES_SPEC: TableSpec = {
  table: 'failures',
  key: ['gpu_uuid', 'serial', 'failed_at'],
  fields: fieldsOf(FAILURE_COLUMNS, {
    gpu_uuid: { doc: 'GPU UUID (gpu_uuid or serial is required)' },
    serial: { doc: 'board serial (matched through assets when gpu_uuid is empty)', aliases: ['sn', 'serial_no', 'board_serial'] },
    failed_at: {
      required: true,
      doc: 'ISO-8601; UTC unless it carries an offset',
      past: true,
      aliases: ['failure_date', 'failure_time', 'failed_date', 'date', 'time'],
    },
    failure_type: {
      required: true,
      doc: `one of ${FAILURE_TYPES.join(', ')}`,
      aliases: ['failure_mode', 'category', 'cause'],
      parse: (t) => {
        const v = t.toLowerCase();
        return (FAILURE_TYPES as readonly string[]).includes(v) ? v : { error: `failure_type "${t}" is not one of ${FAILURE_TYPES.join(', ')}` };
      },
    },
    xid: {
      doc: 'the Xid seen at failure, if any',
      parse: (t) => (/^\d{1,10}$/.test(t) && +t >= 1 && +t <= 2 ** 31 - 1 ? +t : { error: `xid: "${t}" is not an Xid code (a positive integer)` }),
    },
    description: { doc: 'free text', aliases: ['notes', 'note', 'comment', 'comments'] },
  }),
  check: (r) => (r.gpu_uuid === null && r.serial === null ? 'gpu_uuid or serial is required' : null),
};
