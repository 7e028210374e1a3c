/**
 * The `economics` section of a config file, laid over the settings in force (the built-in defaults, or
 * the defaults with earlier files already applied) key by key: a file may set one global, or one field
 * of one model (`economics.models["H100 SXM"].rental_rate_per_hour`), and leave the rest as they were.
 * Every setting keeps its provenance, the default's date and source or the file and key that set it,
 * so `gpuhealth config show` can say where each number came from.
 *
 * Parsed from `unknown` field by field (STYLE 11); a bad value is an `InputError` (exit 2) naming the
 * file and the key path. A model missing from the settings in force is a new one and needs every
 * price; `null` removes a model.
 */
import { InputError } from '../errors.js';
import { GRADES, type HealthGrade } from '../health/score.js';
import { DEFAULT_ECONOMICS, GLOBAL_SOURCE } from './defaults.js';
import type { EconomicsSettings, ModelPrices } from './types.js';

/** Where each setting in force came from, by key path: `default (<as_of>, <source>)` or `<file>:<key path>`. */
export type SettingSources = Record<string, string>;

type GlobalKey = Exclude<keyof EconomicsSettings, 'models'>;

interface NumberRule {
  min: number;
  max?: number;
  integer?: boolean;
}

const NON_NEGATIVE: NumberRule = { min: 0 };
const SHARE: NumberRule = { min: 0, max: 1 };

/** The range of every global setting (the Record makes a new setting in types.ts fail to compile until it has one). */
const GLOBAL_RULES: Readonly<Record<GlobalKey, NumberRule>> = {
  horizon_months: { min: 1, max: 120, integer: true },
  discount_rate_annual: SHARE,
  // a month has at most 31 × 24 hours
  hours_per_month: { min: 1, max: 744 },
  power_price_per_kwh: NON_NEGATIVE,
  // PUE is total facility power over IT power: never below 1
  pue: { min: 1 },
  maintenance_per_month: NON_NEGATIVE,
  downtime_months_per_failure: NON_NEGATIVE,
  marketplace_fee: SHARE,
  deinstall_cost: NON_NEGATIVE,
  repurpose_rate_share: SHARE,
  repurpose_utilization: SHARE,
  repurpose_power_share: SHARE,
  salvage_share: SHARE,
};

/** The global settings, in the order `config show` and the starter file list them. */
export const ECONOMICS_GLOBAL_KEYS = Object.keys(GLOBAL_RULES) as readonly GlobalKey[];
export const ECONOMICS_KEYS = [...ECONOMICS_GLOBAL_KEYS, 'models'] as const;

export const MODEL_KEYS = ['match', 'sale_price', 'rental_rate_per_hour', 'repair_cost', 'price_decline_per_month', 'as_of', 'source'] as const;
type ModelKey = (typeof MODEL_KEYS)[number];
/** What a new model must give; as_of and source default to the file's date and name. */
export const REQUIRED_MODEL_KEYS: readonly ModelKey[] = ['match', 'sale_price', 'rental_rate_per_hour', 'repair_cost', 'price_decline_per_month'];

const MODEL_RULES: Readonly<Record<'rental_rate_per_hour' | 'repair_cost' | 'price_decline_per_month', NumberRule>> = {
  rental_rate_per_hour: NON_NEGATIVE,
  repair_cost: NON_NEGATIVE,
  price_decline_per_month: SHARE,
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The provenance of a built-in value. */
export const defaultSource = (as_of: string, source: string): string => `default (${as_of}, ${source})`;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as a message quotes it. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function expected(rule: NumberRule): string {
  if (rule.integer) return `a whole number from ${rule.min} to ${rule.max}`;
  if (rule.min === 0 && rule.max === 1) return 'a share from 0 to 1';
  if (rule.max !== undefined) return `a number from ${rule.min} to ${rule.max}`;
  return `a number ≥ ${rule.min}`;
}

function numberIn(v: unknown, rule: NumberRule, where: string): number {
  const ok =
    typeof v === 'number' && Number.isFinite(v) && v >= rule.min && (rule.max === undefined || v <= rule.max) && (!rule.integer || Number.isInteger(v));
  if (!ok) throw new InputError(`${where}: expected ${expected(rule)}, got ${shown(v)}`);
  return v as number;
}

function unknownKey(where: string, known: readonly string[]): InputError {
  return new InputError(`${where}: unknown key; known keys: ${known.join(', ')}`);
}

/** One setting in force: its key path, value, and the model it belongs to (null for a global). */
export interface EconomicsLeaf {
  key: string;
  value: unknown;
  model: string | null;
}

/** Every setting in force, in a stable order: the globals, then each model's fields. */
export function economicsLeaves(settings: EconomicsSettings): EconomicsLeaf[] {
  const out: EconomicsLeaf[] = ECONOMICS_GLOBAL_KEYS.map((k) => ({ key: `economics.${k}`, value: settings[k], model: null }));
  for (const [model, m] of Object.entries(settings.models)) {
    const p = `economics.models.${model}`;
    out.push({ key: `${p}.match`, value: m.match, model });
    for (const g of GRADES) out.push({ key: `${p}.sale_price.${g}`, value: m.sale_price[g], model });
    for (const k of ['rental_rate_per_hour', 'repair_cost', 'price_decline_per_month', 'as_of', 'source'] as const)
      out.push({ key: `${p}.${k}`, value: m[k], model });
  }
  return out;
}

/** The provenance of every built-in setting: the globals cite GLOBAL_SOURCE, a model its own as_of and source. */
export function defaultEconomicsSources(settings: EconomicsSettings = DEFAULT_ECONOMICS): SettingSources {
  const global = defaultSource(GLOBAL_SOURCE.as_of, GLOBAL_SOURCE.source);
  const sources: SettingSources = {};
  for (const { key, model } of economicsLeaves(settings)) {
    const m = model === null ? undefined : settings.models[model];
    sources[key] = m ? defaultSource(m.as_of, m.source) : global;
  }
  return sources;
}

export interface EconomicsLayer {
  settings: EconomicsSettings;
  sources: SettingSources;
}

export interface LayerFile {
  /** The file as the user named it (messages and provenance cite it). */
  name: string;
  /** The as_of of a new model that gives none: the day the file was last changed (YYYY-MM-DD). */
  date: string;
}

/** A model's `match`: case-insensitive regular expressions, at least one, each of which compiles. */
function parseMatch(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new InputError(`${where}: expected a list of regular expressions (matched case-insensitively against the GPU's model name), got ${shown(v)}`);
  }
  return v.map((p, i) => {
    if (typeof p !== 'string' || p.trim() === '') throw new InputError(`${where}[${i}]: expected a regular expression, got ${shown(p)}`);
    try {
      new RegExp(p, 'i');
    } catch (e) {
      throw new InputError(`${where}[${i}]: not a regular expression: ${(e as Error).message}`);
    }
    return p;
  });
}

/** Lays one model's entry over its previous prices (undefined: a new model, which needs every required field). */
function mergeModel(prev: ModelPrices | undefined, raw: Record<string, unknown>, p: string, file: LayerFile, sources: SettingSources): ModelPrices {
  const where = (k: string): string => `${file.name}: ${p}.${k}`;
  const set = (k: string): void => {
    sources[`${p}.${k}`] = `${file.name}:${p}.${k}`;
  };
  for (const k of Object.keys(raw)) if (!(MODEL_KEYS as readonly string[]).includes(k)) throw unknownKey(where(k), MODEL_KEYS);
  if (prev === undefined) {
    for (const k of REQUIRED_MODEL_KEYS) {
      if (raw[k] === undefined) {
        throw new InputError(`${where(k)}: missing; a model that is not in the settings already needs ${REQUIRED_MODEL_KEYS.join(', ')}`);
      }
    }
  }
  const next: ModelPrices = prev
    ? { ...prev, match: [...prev.match], sale_price: { ...prev.sale_price } }
    : {
        match: [],
        sale_price: {} as Record<HealthGrade, number>,
        rental_rate_per_hour: 0,
        repair_cost: 0,
        price_decline_per_month: 0,
        as_of: file.date,
        source: file.name,
      };
  if (prev === undefined) {
    sources[`${p}.as_of`] = `${file.name}:${p} (the file's date)`;
    sources[`${p}.source`] = `${file.name}:${p} (the file's name)`;
  }
  if (raw['match'] !== undefined) {
    next.match = parseMatch(raw['match'], where('match'));
    set('match');
  }
  if (raw['sale_price'] !== undefined) {
    const sp = raw['sale_price'];
    if (!isPlainObject(sp)) throw new InputError(`${where('sale_price')}: expected an object of grade → USD (${GRADES.join(', ')}), got ${shown(sp)}`);
    for (const g of Object.keys(sp)) if (!(GRADES as readonly string[]).includes(g)) throw unknownKey(where(`sale_price.${g}`), GRADES);
    for (const g of GRADES) {
      if (sp[g] === undefined) {
        if (prev === undefined) throw new InputError(`${where(`sale_price.${g}`)}: missing; a new model needs a price for every grade: ${GRADES.join(', ')}`);
        continue;
      }
      next.sale_price[g] = numberIn(sp[g], NON_NEGATIVE, where(`sale_price.${g}`));
      set(`sale_price.${g}`);
    }
  }
  for (const k of Object.keys(MODEL_RULES) as (keyof typeof MODEL_RULES)[]) {
    if (raw[k] === undefined) continue;
    next[k] = numberIn(raw[k], MODEL_RULES[k], where(k));
    set(k);
  }
  if (raw['as_of'] !== undefined) {
    const d = raw['as_of'];
    if (typeof d !== 'string' || !ISO_DATE.test(d) || Number.isNaN(Date.parse(d)))
      throw new InputError(`${where('as_of')}: expected a date YYYY-MM-DD, got ${shown(d)}`);
    next.as_of = d;
    set('as_of');
  }
  if (raw['source'] !== undefined) {
    const s = raw['source'];
    if (typeof s !== 'string' || s.trim() === '')
      throw new InputError(`${where('source')}: expected a short note of where the figures come from, got ${shown(s)}`);
    next.source = s.trim();
    set('source');
  }
  return next;
}

/**
 * Lays a file's `economics` section over `base`, key by key; `base` is not modified. A model set to
 * null is removed (its provenance keeps a `economics.models.<name>` entry for `config show`).
 */
export function mergeEconomics(base: EconomicsLayer, raw: unknown, file: LayerFile): EconomicsLayer {
  if (raw === undefined) return base;
  if (!isPlainObject(raw)) throw new InputError(`${file.name}: economics: expected an object with the keys ${ECONOMICS_KEYS.join(', ')}, got ${shown(raw)}`);
  const settings: EconomicsSettings = { ...base.settings, models: { ...base.settings.models } };
  const sources: SettingSources = { ...base.sources };
  for (const k of Object.keys(raw)) if (!(ECONOMICS_KEYS as readonly string[]).includes(k)) throw unknownKey(`${file.name}: economics.${k}`, ECONOMICS_KEYS);
  for (const k of ECONOMICS_GLOBAL_KEYS) {
    if (raw[k] === undefined) continue;
    settings[k] = numberIn(raw[k], GLOBAL_RULES[k], `${file.name}: economics.${k}`);
    sources[`economics.${k}`] = `${file.name}:economics.${k}`;
  }
  const models = raw['models'];
  if (models === undefined) return { settings, sources };
  if (!isPlainObject(models)) throw new InputError(`${file.name}: economics.models: expected an object of model name → prices, got ${shown(models)}`);
  for (const [name, entry] of Object.entries(models)) {
    const p = `economics.models.${name}`;
    if (name.trim() === '') throw new InputError(`${file.name}: ${p}: a model needs a name`);
    const prev = settings.models[name];
    if (entry === null) {
      if (prev === undefined && sources[p] === undefined) {
        throw new InputError(`${file.name}: ${p}: no such model to remove; models: ${Object.keys(settings.models).join(', ')}`);
      }
      delete settings.models[name];
      for (const k of Object.keys(sources)) if (k.startsWith(`${p}.`)) delete sources[k];
      sources[p] = `${file.name}:${p}`;
      continue;
    }
    if (!isPlainObject(entry))
      throw new InputError(`${file.name}: ${p}: expected an object (${MODEL_KEYS.join(', ')}) or null to remove the model, got ${shown(entry)}`);
    settings.models[name] = mergeModel(prev, entry, p, file, sources);
    delete sources[p];
  }
  return { settings, sources };
}
