/** The documented CSV headers of `assets import` and `failures import`. */
import type { TableSpec } from './import.js';

export const FAILURE_TYPES = ['memory', 'thermal', 'power', 'interconnect', 'other'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export const ASSETS_SPEC: TableSpec = {
  table: 'assets',
  key: ['gpu_uuid'],
  fields: [
    { name: 'gpu_uuid', type: 'VARCHAR', required: true, doc: 'GPU UUID as DCGM reports it (GPU-xxxxxxxx-…)' },
    { name: 'serial', type: 'VARCHAR', doc: 'board serial number' },
    { name: 'model', type: 'VARCHAR', doc: 'e.g. NVIDIA H100 80GB HBM3' },
    { name: 'host', type: 'VARCHAR', doc: 'host the GPU is installed in' },
    { name: 'datacenter', type: 'VARCHAR', doc: 'site' },
    { name: 'rack', type: 'VARCHAR', doc: 'rack' },
    { name: 'deployed_date', type: 'DATE', doc: 'YYYY-MM-DD the GPU went into service' },
    { name: 'warranty_expiry', type: 'DATE', doc: 'YYYY-MM-DD' },
    {
      name: 'purchase_price',
      type: 'DOUBLE',
      doc: 'USD',
      parse: (t) => {
        const n = Number(t.replace(/^\$/, '').replace(/,/g, ''));
        return Number.isFinite(n) && n >= 0 ? n : { error: `purchase_price: "${t}" is not a non-negative number` };
      },
    },
  ],
  check: (r) =>
    r.deployed_date && r.warranty_expiry && String(r.warranty_expiry) < String(r.deployed_date) ? 'warranty_expiry is before deployed_date' : null,
};

export const FAILURES_SPEC: TableSpec = {
  table: 'failures',
  key: ['gpu_uuid', 'serial', 'failed_at'],
  fields: [
    { name: 'gpu_uuid', type: 'VARCHAR', doc: 'GPU UUID (gpu_uuid or serial is required)' },
    { name: 'serial', type: 'VARCHAR', doc: 'board serial (matched through assets when gpu_uuid is empty)' },
    { name: 'failed_at', type: 'TIMESTAMP', required: true, doc: 'ISO-8601; UTC unless it carries an offset' },
    {
      name: 'failure_type',
      type: 'VARCHAR',
      required: true,
      doc: `one of ${FAILURE_TYPES.join(', ')}`,
      parse: (t) => {
        const v = t.toLowerCase();
        return (FAILURE_TYPES as readonly string[]).includes(v) ? v : { error: `failure_type "${t}" is not one of ${FAILURE_TYPES.join(', ')}` };
      },
    },
    { name: 'xid', type: 'INTEGER', doc: 'the Xid seen at failure, if any' },
    { name: 'description', type: 'VARCHAR', doc: 'free text' },
  ],
  check: (r) => (r.gpu_uuid === null && r.serial === null ? 'gpu_uuid or serial is required' : null),
};
