/** The fleet's asset registry and failure log as the CSVs `assets import` and `failures import` read. */
import type { FleetPlan } from './fleet.js';
import { MODELS } from './hardware.js';

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const isoTime = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export const ASSETS_HEADER = 'gpu_uuid,serial,model,host,datacenter,rack,deployed_date,warranty_expiry,purchase_price';
export const FAILURES_HEADER = 'gpu_uuid,serial,failed_at,failure_type,xid,description';

/** assets.csv: every GPU that was in the fleet during the window, replacements included. */
export function assetsCsv(plan: FleetPlan): string {
  const rows = [...plan.gpus].sort((a, b) => a.host - b.host || a.index - b.index || a.installedMs - b.installedMs);
  let out = `${ASSETS_HEADER}\n`;
  for (const g of rows) {
    const h = plan.hosts[g.host]!;
    out += `${g.uuid},${g.serial},${MODELS[g.model].modelName},${h.name},${h.datacenter},${h.rack},${isoDate(g.deployedMs)},${isoDate(g.warrantyExpiryMs)},${g.purchasePriceUsd}\n`;
  }
  return out;
}

/** failures.csv: the failures inside the window, in time order. */
export function failuresCsv(plan: FleetPlan): string {
  let out = `${FAILURES_HEADER}\n`;
  for (const f of plan.failures) {
    out += `${f.uuid},${f.serial},${isoTime(f.atMs)},${f.type},${f.xid ?? ''},${csvField(f.description)}\n`;
  }
  return out;
}
