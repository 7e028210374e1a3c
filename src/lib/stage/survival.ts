/**
 * `gpuhealth survival`: how long GPUs last, from the asset registry and the failure history alone (many
 * fleets have years of install and RMA records and little telemetry).
 *
 * A GPU's lifetime starts at its deployed_date and ends at its first failure (a failure / RMA record
 * matched by gpu_uuid, or by serial through the assets), at its removal (removed_date: it left service
 * without failing) or at the observation end `at`, whichever comes first. Removals and GPUs still in
 * service are right-censored, never failures. Per group: Kaplan–Meier with 95 % bands, the median
 * lifetime where the curve reaches ½, and a Weibull fit whose shape says whether failures are early
 * (infant mortality), random or late (wear-out). Over the whole fleet: a Cox model of the hazard by
 * deployment cohort, model, lot and position (rack, slot). docs/survival.md has the rules and the
 * check against R.
 *
 * Read-only: it takes no lock (beyond a crashed commit's recovery, as every reader) and writes nothing
 * into the lake.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { withDb } from '../db/duckdb.js';
import { lakeLayout } from '../lake/layout.js';
import { checkLakePath } from '../lake/run.js';
import { recoverBeforeRead } from '../lake/txn.js';
import { createLakeViews } from '../sql/lake-views.js';
import { SURVIVAL_ASSETS_SQL, SURVIVAL_FACTS_SQL, SURVIVAL_FAILURES_VIEW_SQL } from '../sql/survival.js';
import { CoxConvergenceError, coxPH } from '../survival/cox.js';
import { buildDesign, type Covariate, UNKNOWN_LEVEL } from '../survival/design.js';
import { kaplanMeier, type Lifetime } from '../survival/kaplan-meier.js';
import { renderKmSvg } from '../survival/svg.js';
import { hazardPattern, type HazardPattern, weibullFit } from '../survival/weibull.js';

/** What `--by` groups GPUs by: columns of the asset registry. */
export const SURVIVAL_GROUPINGS = ['model', 'lot', 'rack', 'datacenter', 'host'] as const;
export type SurvivalGrouping = (typeof SURVIVAL_GROUPINGS)[number];

const DAY_MS = 86_400_000;
const YEAR_DAYS = 365.25;
/** A group gets a Weibull fit from this many failures: with one or two, any shape fits about as well. */
export const MIN_WEIBULL_FAILURES = 3;
/** The Cox model needs this many failures: with fewer, every interval spans orders of magnitude. */
export const MIN_COX_FAILURES = 5;
/**
 * The Weibull density has ln t in it, so a lifetime of 0 (a failure on the day of deployment, dated
 * at midnight) counts as one hour there. Kaplan–Meier and Cox take it as it is.
 */
export const MIN_WEIBULL_DAYS = 1 / 24;
/** The SVG chart shows the largest groups only: more curves than this are unreadable. */
export const MAX_SVG_CURVES = 12;
/**
 * The human table shows the largest groups only (--by host on a big fleet makes thousands, and
 * cli-table3 takes minutes over them); CSV and JSON carry every group.
 */
export const MAX_TABLE_GROUPS = 100;
/** The Cox covariate for the deployment cohort (see docs/survival.md, "Age"). */
export const COHORT_COVARIATE = 'deployed (per year later)';

export interface SurvivalOptions {
  lake: string;
  by?: SurvivalGrouping;
  /** Observation end (ms); default the newest date in the registry, the failures or the telemetry. */
  atMs?: number;
}

/** One asset row as SURVIVAL_ASSETS_SQL returns it. */
export interface AssetLifetimeRow {
  gpu_uuid: string;
  model: string | null;
  lot: string | null;
  rack: string | null;
  datacenter: string | null;
  host: string | null;
  slot: number | null;
  deployed_ms: number | null;
  removed_ms: number | null;
  failed_ms: number | null;
  failures_before: number;
}

/** A GPU's observed lifetime. */
export interface GpuLifetime extends Lifetime {
  row: AssetLifetimeRow;
  /** How it ended: failed, removed (censored), or still in service at the observation end (censored). */
  end: 'failed' | 'removed' | 'in_service';
}

/** What the lifetimes leave out, and why (each a count; printed as notes). */
export interface LeftOut {
  /** Assets without a deployed_date: their lifetime has no start. */
  no_deployed_date: number;
  /** Deployed after the observation end. */
  deployed_after_at: number;
  /** A removed_date before the deployed_date. */
  removed_before_deployed: number;
  /** Failure records dated before their GPU's deployment (ignored; the GPU's lifetime is kept). */
  failures_before_deployment: number;
  /** Failure records after their GPU's removal day (ignored: the GPU counts as removed). */
  failures_after_removal: number;
  /** Failure records that match no asset, by gpu_uuid or serial. */
  failures_unmatched: number;
}

/**
 * Lifetimes from asset rows at observation end `atMs` (see the header). A failure counts when it is
 * on or before `atMs` and no later than its GPU's removal day (an RMA is often entered as a removal on
 * the same day).
 */
export function buildLifetimes(rows: readonly AssetLifetimeRow[], atMs: number): { lifetimes: GpuLifetime[]; leftOut: Omit<LeftOut, 'failures_unmatched'> } {
  const leftOut = { no_deployed_date: 0, deployed_after_at: 0, removed_before_deployed: 0, failures_before_deployment: 0, failures_after_removal: 0 };
  const lifetimes: GpuLifetime[] = [];
  for (const row of rows) {
    const start = row.deployed_ms;
    if (start === null) {
      leftOut.no_deployed_date++;
      continue;
    }
    if (start > atMs) {
      leftOut.deployed_after_at++;
      continue;
    }
    if (row.removed_ms !== null && row.removed_ms < start) {
      leftOut.removed_before_deployed++;
      continue;
    }
    leftOut.failures_before_deployment += row.failures_before;
    const removedBy = row.removed_ms === null ? Number.POSITIVE_INFINITY : row.removed_ms + DAY_MS;
    const failed = row.failed_ms !== null && row.failed_ms <= atMs && row.failed_ms < removedBy;
    if (row.failed_ms !== null && row.failed_ms <= atMs && !failed) leftOut.failures_after_removal++;
    let endMs: number;
    let end: GpuLifetime['end'];
    if (failed) [endMs, end] = [row.failed_ms!, 'failed'];
    else if (row.removed_ms !== null && row.removed_ms <= atMs) [endMs, end] = [row.removed_ms, 'removed'];
    else [endMs, end] = [atMs, 'in_service'];
    lifetimes.push({ time: (endMs - start) / DAY_MS, event: failed, row, end });
  }
  return { lifetimes, leftOut };
}

export interface WeibullSummary {
  shape: number;
  scale_days: number;
  shape_ci: [number, number];
  scale_ci: [number, number];
  /** infant_mortality (shape's interval below 1), random (it holds 1) or wear_out (above 1). */
  hazard_pattern: HazardPattern;
}

export interface KmStep {
  t_days: number;
  survival: number;
  /** Null where undefined (survival 0). */
  lower: number | null;
  upper: number | null;
}

export interface SurvivalGroup {
  group: string;
  n: number;
  failures: number;
  /** Removed plus still in service. */
  censored: number;
  removed: number;
  /** The longest observed lifetime: how far the curve is known. */
  followup_days: number;
  /** Null: too few failures (MIN_WEIBULL_FAILURES), or the likelihood has no maximum. */
  weibull: WeibullSummary | null;
  /** Null while survival stays above ½. */
  median_days: number | null;
  /** From (0, 1), then one step per failure time. */
  km: KmStep[];
}

export interface CoxCovariate {
  name: string;
  hazard_ratio: number;
  ci: [number, number];
  p: number;
}

export interface SurvivalCox {
  covariates: CoxCovariate[];
  /** The level each categorical covariate's hazard ratios are against. */
  references: Record<string, string>;
  n: number;
  failures: number;
  ties: 'efron';
}

export interface SurvivalResult {
  /** Observation end, ISO. */
  at: string;
  by: SurvivalGrouping | null;
  gpus: number;
  failures: number;
  groups: SurvivalGroup[];
  /** Null when there are too few failures or the model does not converge (a note says which). */
  cox: SurvivalCox | null;
  left_out: LeftOut;
  notes: string[];
}

function groupOf(row: AssetLifetimeRow, by: SurvivalGrouping | undefined): string {
  if (!by) return 'all';
  return row[by] ?? UNKNOWN_LEVEL;
}

function fitGroup(group: string, lifetimes: readonly GpuLifetime[]): SurvivalGroup {
  const km = kaplanMeier(lifetimes);
  const failures = km.failures;
  const fit = failures >= MIN_WEIBULL_FAILURES ? weibullFit(lifetimes.map((l) => ({ time: Math.max(l.time, MIN_WEIBULL_DAYS), event: l.event }))) : null;
  return {
    group,
    n: lifetimes.length,
    failures,
    censored: lifetimes.length - failures,
    removed: lifetimes.filter((l) => l.end === 'removed').length,
    followup_days: km.end,
    weibull: fit && {
      shape: fit.shape,
      scale_days: fit.scale,
      shape_ci: fit.shapeCi,
      scale_ci: fit.scaleCi,
      hazard_pattern: hazardPattern(fit.shapeCi),
    },
    median_days: km.median,
    km: [{ t_days: 0, survival: 1, lower: 1, upper: 1 }, ...km.points.map((p) => ({ t_days: p.time, survival: p.survival, lower: p.lower, upper: p.upper }))],
  };
}

/** The Cox model over the fleet: deployment cohort, model, lot, rack and slot (see the header). */
function fitCox(lifetimes: readonly GpuLifetime[], notes: string[]): SurvivalCox | null {
  const failures = lifetimes.filter((l) => l.event).length;
  if (failures < MIN_COX_FAILURES) {
    notes.push(`Cox model: left out, ${failures} failure${failures === 1 ? '' : 's'} (it needs ${MIN_COX_FAILURES})`);
    return null;
  }
  const firstDeployed = lifetimes.reduce((m, l) => Math.min(m, l.row.deployed_ms!), Number.POSITIVE_INFINITY);
  const categorical = (name: 'model' | 'lot' | 'rack', pick: (r: AssetLifetimeRow) => string | null): Covariate => ({
    kind: 'categorical',
    name,
    values: lifetimes.map((l) => pick(l.row)),
  });
  const covariates: Covariate[] = [
    { kind: 'numeric', name: COHORT_COVARIATE, values: lifetimes.map((l) => (l.row.deployed_ms! - firstDeployed) / DAY_MS / YEAR_DAYS) },
    categorical('model', (r) => r.model),
    categorical('lot', (r) => r.lot),
    categorical('rack', (r) => r.rack),
    { kind: 'categorical', name: 'slot', values: lifetimes.map((l) => (l.row.slot === null ? null : String(l.row.slot))) },
  ];
  const event = lifetimes.map((l) => l.event);
  const design = buildDesign(covariates, event);
  notes.push(...design.notes.map((n) => `Cox model: ${n}`));
  try {
    const fit = coxPH({ time: lifetimes.map((l) => l.time), event, columns: design.columns, names: design.names });
    return {
      covariates: fit.coefficients.map((c) => ({ name: c.name, hazard_ratio: c.hazardRatio, ci: c.ci, p: c.p })),
      references: design.references,
      n: fit.n,
      failures: fit.events,
      ties: 'efron',
    };
  } catch (e) {
    if (!(e instanceof CoxConvergenceError)) throw e;
    notes.push(`Cox model: no fit (${e.message})`);
    return null;
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Group names for a note: the first few, then how many more. */
function listGroups(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more groups` : shown;
}

/** The notes that explain what was left out. */
function leftOutNotes(l: LeftOut): string[] {
  const notes: string[] = [];
  if (l.no_deployed_date) notes.push(`${plural(l.no_deployed_date, 'GPU')} without a deployed_date left out (a lifetime needs a start)`);
  if (l.deployed_after_at) notes.push(`${plural(l.deployed_after_at, 'GPU')} deployed after the observation end left out`);
  if (l.removed_before_deployed) notes.push(`${plural(l.removed_before_deployed, 'GPU')} whose removed_date is before its deployed_date left out`);
  if (l.failures_before_deployment) notes.push(`${plural(l.failures_before_deployment, 'failure record')} dated before the GPU's deployment ignored`);
  if (l.failures_after_removal)
    notes.push(`${plural(l.failures_after_removal, 'failure record')} after the GPU's removal day ignored (the GPU counts as removed)`);
  if (l.failures_unmatched) notes.push(`${plural(l.failures_unmatched, 'failure record')} matching no asset (by gpu_uuid or serial) ignored`);
  return notes;
}

/** Survival analysis of the lake's registry (see the header). */
export async function survivalAnalysis(opts: SurvivalOptions): Promise<SurvivalResult> {
  const layout = lakeLayout(opts.lake);
  checkLakePath(layout);
  await recoverBeforeRead(layout);
  const { rows, facts } = await withDb(
    async (db) => {
      await createLakeViews(db, layout);
      await db.exec('survival failures view', SURVIVAL_FAILURES_VIEW_SQL);
      const rows = await db.query<AssetLifetimeRow & Record<string, unknown>>('survival assets', SURVIVAL_ASSETS_SQL);
      const [facts] = await db.query<{ newest_ms: number | null; unmatched: number }>('survival facts', SURVIVAL_FACTS_SQL);
      return { rows, facts: facts! };
    },
    { threads: 2 },
  );
  if (rows.length === 0) throw new InputError(`the lake at ${layout.root} has no asset registry`, ['gpuhealth assets import assets.csv']);
  if (rows.every((r) => r.deployed_ms === null)) {
    throw new InputError('no asset in the registry has a deployed_date: a lifetime starts there', [
      'add deployed_date (YYYY-MM-DD) to assets.csv and run gpuhealth assets import again',
    ]);
  }
  const by = opts.by;
  if (by && rows.every((r) => r[by] === null)) {
    throw new InputError(`no asset in the registry has a ${by}, so there is nothing to group by`, [
      `add a ${by} column to assets.csv and run gpuhealth assets import again`,
      `--by ${SURVIVAL_GROUPINGS.filter((g) => g !== by && rows.some((r) => r[g] !== null)).join('|') || 'model'}`,
    ]);
  }
  const atMs = opts.atMs ?? facts.newest_ms!;
  const { lifetimes, leftOut: partial } = buildLifetimes(rows, atMs);
  const leftOut: LeftOut = { ...partial, failures_unmatched: facts.unmatched };
  if (lifetimes.length === 0) {
    throw new InputError(`no GPU was deployed by the observation end ${new Date(atMs).toISOString().slice(0, 10)}`, [
      'a later --at, or none (the newest date the lake knows)',
    ]);
  }
  const notes = leftOutNotes(leftOut);
  const byGroup = new Map<string, GpuLifetime[]>();
  for (const l of lifetimes) {
    const g = groupOf(l.row, by);
    const list = byGroup.get(g);
    if (list) list.push(l);
    else byGroup.set(g, [l]);
  }
  // by name (r2 before r10), the unknown group last
  const collator = new Intl.Collator('en', { numeric: true });
  const names = [...byGroup.keys()].sort((a, b) => (a === UNKNOWN_LEVEL ? 1 : b === UNKNOWN_LEVEL ? -1 : collator.compare(a, b)));
  const groups = names.map((g) => fitGroup(g, byGroup.get(g)!));
  const few = groups.filter((g) => g.failures < MIN_WEIBULL_FAILURES).map((g) => g.group);
  if (few.length > 0) notes.push(`no Weibull fit for ${listGroups(few)}: fewer than ${MIN_WEIBULL_FAILURES} failures`);
  const flat = groups.filter((g) => g.failures >= MIN_WEIBULL_FAILURES && !g.weibull).map((g) => g.group);
  if (flat.length > 0) notes.push(`no Weibull fit for ${listGroups(flat)}: the likelihood has no maximum (failures all at one age?)`);
  const cox = fitCox(lifetimes, notes);
  return {
    at: new Date(atMs).toISOString(),
    by: by ?? null,
    gpus: lifetimes.length,
    failures: lifetimes.filter((l) => l.event).length,
    groups,
    cox,
    left_out: leftOut,
    notes,
  };
}

/** The `limit` largest groups (most GPUs; ties by name), in the result's order. */
export function largestGroups(r: SurvivalResult, limit: number): SurvivalGroup[] {
  if (r.groups.length <= limit) return r.groups;
  const keep = new Set([...r.groups].sort((a, b) => b.n - a.n).slice(0, limit));
  return r.groups.filter((g) => keep.has(g));
}

/** The Kaplan–Meier chart of a result's largest groups (MAX_SVG_CURVES) as SVG text, and how many groups it leaves out. */
export function survivalSvg(r: SurvivalResult): { svg: string; omitted: number } {
  const shown = largestGroups(r, MAX_SVG_CURVES);
  const curves = shown.map((g) => ({
    label: `${g.group} (n ${g.n}, ${plural(g.failures, 'failure')}${g.median_days === null ? '' : `, median ${Math.round(g.median_days)} d`})`,
    end: g.followup_days,
    points: g.km.slice(1).map((p) => ({ t: p.t_days, survival: p.survival, lower: p.lower, upper: p.upper })),
  }));
  const title = `Kaplan–Meier survival${r.by ? ` by ${r.by}` : ''}, observed to ${r.at.slice(0, 10)}`;
  return { svg: renderKmSvg(curves, { title, xLabel: 'days since deployment' }), omitted: r.groups.length - shown.length };
}

/** Writes `text` to `file` atomically (a temp file beside it, then rename): a killed run leaves no half chart. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new InputError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
