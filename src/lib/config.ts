/**
 * The config (JSON): settings a fleet keeps beside its lake. Layered, each over the last: the built-in
 * defaults, then `gpuhealth.json` in the lake folder when it exists, then the file `$GPUHEALTH_CONFIG`
 * names, then `--config FILE`. A later file overrides only the keys it sets (one price of one model, one
 * field of one Xid code). Each file is parsed from `unknown` field by field into the typed, defaulted
 * settings (STYLE 11), and every setting keeps where it came from, for `gpuhealth config show`.
 *
 * Keys: `economics` — prices and rates for `recommend` (economics/config.ts, docs/economics.md);
 * `xid` — overrides of the Xid classification (docs/scoring.md, "Xid codes"). JSON has no comments: a
 * key that starts with `//`, at any level, is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';
import { mergeXidOverrides, XID_CLASSES, type XidTable } from './dcgm/xid.js';
import { DEFAULT_ECONOMICS, GLOBAL_SOURCE } from './economics/defaults.js';
import { defaultEconomicsSources, ECONOMICS_GLOBAL_KEYS, economicsLeaves, mergeEconomics, type SettingSources } from './economics/config.js';
import type { EconomicsSettings } from './economics/types.js';
import { writeFileAtomic } from './lake/txn.js';

export const CONFIG_FILE_NAME = 'gpuhealth.json';
export const CONFIG_ENV = 'GPUHEALTH_CONFIG';
export const CONFIG_KEYS = ['economics', 'xid'] as const;
/** Keys that start with this are comments, at any level of a config file. */
export const COMMENT_PREFIX = '//';

export interface GpuhealthConfig {
  /** The config files applied, in order (each over the ones before); empty for the defaults alone. */
  files: string[];
  xid: XidTable;
  economics: EconomicsSettings;
  /**
   * Where each setting in force came from, by key path (`economics.pue`,
   * `economics.models.H100 SXM.sale_price.good`): `default (<as_of>, <source>)` or `<file>:<key path>`.
   * Xid codes appear only where a file set them (`xid.79`); a model a file removed keeps its
   * `economics.models.<name>` entry.
   */
  sources: SettingSources;
}

/** The built-in settings, before any file. */
export function defaultConfig(): GpuhealthConfig {
  return { files: [], xid: XID_CLASSES, economics: DEFAULT_ECONOMICS, sources: defaultEconomicsSources() };
}

/** The lake's own config file (it may not exist). */
export const lakeConfigFile = (lake: string): string => path.join(lake, CONFIG_FILE_NAME);

/**
 * The config files in force, in the order they apply: the lake's own file when it exists, then the one
 * `$GPUHEALTH_CONFIG` names, then the flag's (the name predates layering; it returns them all). A file
 * named by the env or the flag must exist; one named twice applies once, at its first place.
 */
export function configPath(flag: string | undefined, lake: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  const own = lakeConfigFile(lake);
  if (fs.existsSync(own)) files.push(own);
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) {
      throw new InputError(`${CONFIG_ENV} names ${fromEnv}, which does not exist`, [
        `unset ${CONFIG_ENV}, or write a starter file: gpuhealth config init ${fromEnv}`,
      ]);
    }
    files.push(fromEnv);
  }
  if (flag) {
    if (!fs.existsSync(flag)) throw new InputError(`--config ${flag}: no such file`, [`gpuhealth config init ${flag}`]);
    files.push(flag);
  }
  const seen = new Set<string>();
  return files.filter((f) => {
    const abs = path.resolve(f);
    if (seen.has(abs)) return false;
    seen.add(abs);
    return true;
  });
}

/** The value without its comment keys (those starting with `//`), at every level. */
export function stripComments(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw.map(stripComments);
  if (raw === null || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith(COMMENT_PREFIX)) out[k] = stripComments(v);
  return out;
}

/**
 * Lays one file's settings over `base` (the defaults, or earlier files applied). `fileDate` is the
 * as_of of a new model that names none (the day the file was last changed). `base` is not modified.
 */
export function parseConfig(raw: unknown, file: string, base: GpuhealthConfig = defaultConfig(), fileDate: string = GLOBAL_SOURCE.as_of): GpuhealthConfig {
  const data = stripComments(raw);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${file}: expected a JSON object with the keys ${CONFIG_KEYS.join(', ')}`);
  }
  const obj = data as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) throw new InputError(`${file}: ${k}: unknown key; known keys: ${CONFIG_KEYS.join(', ')}`);
  }
  const economics = mergeEconomics({ settings: base.economics, sources: base.sources }, obj['economics'], { name: file, date: fileDate });
  let xid: XidTable;
  try {
    xid = mergeXidOverrides(base.xid, obj['xid']);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${file}: ${e.message}`, e.suggestions);
    throw e;
  }
  const sources = { ...economics.sources };
  const xidSection = obj['xid'];
  if (xidSection !== null && typeof xidSection === 'object') for (const code of Object.keys(xidSection)) sources[`xid.${code}`] = `${file}:xid.${code}`;
  return { files: [...base.files, file], xid, economics: economics.settings, sources };
}

/** The settings in force: the defaults with `files` applied in order (configPath's list). */
export function loadConfig(files: readonly string[]): GpuhealthConfig {
  let config = defaultConfig();
  for (const file of files) {
    let text: string;
    let date: string;
    try {
      text = fs.readFileSync(file, 'utf8');
      date = fs.statSync(file).mtime.toISOString().slice(0, 10);
    } catch (e) {
      throw new InputError(`cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    config = parseConfig(raw, file, config, date);
  }
  return config;
}

// ─────────────────────────────── config show ───────────────────────────────

export interface ConfigSetting {
  /** Key path: `economics.pue`, `economics.models.H100 SXM.sale_price.good`, `xid.79`. */
  key: string;
  /** The value in force; null for a model a file removed. */
  value: unknown;
  /** `default (<as_of>, <source>)` or `<file>:<key path>`. */
  source: string;
}

export interface ConfigReport {
  /** The files applied, in order. */
  files: string[];
  settings: ConfigSetting[];
  /** Xid codes in the built-in table, and how many of those or new ones the files set (listed in settings). */
  xid: { built_in: number; overridden: number };
}

/** Every setting in force and where it came from: the economics in full, the Xid codes only where a file set them. */
export function configReport(config: GpuhealthConfig): ConfigReport {
  const settings: ConfigSetting[] = economicsLeaves(config.economics).map(({ key, value }) => ({ key, value, source: config.sources[key] ?? 'default' }));
  // a removed model's marker is the one economics key that is no leaf of the settings in force
  const leaves = new Set(settings.map((s) => s.key));
  const removed = Object.keys(config.sources).filter((k) => k.startsWith('economics.') && !leaves.has(k));
  for (const key of removed) settings.push({ key, value: null, source: config.sources[key]! });
  const xidKeys = Object.keys(config.sources)
    .filter((k) => k.startsWith('xid.'))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  for (const key of xidKeys) settings.push({ key, value: config.xid[Number(key.slice(4))] ?? null, source: config.sources[key]! });
  return { files: config.files, settings, xid: { built_in: Object.keys(XID_CLASSES).length, overridden: xidKeys.length } };
}

// ─────────────────────────────── config init ───────────────────────────────

/**
 * The starter file `config init` writes: every economics key at its default, one model override (the
 * H100 SXM's prices, at their defaults), a new model under a `//` key as an example, and an empty
 * `xid` section; comments as `//` keys. It parses back to exactly the defaults.
 */
export function starterConfig(): string {
  const e = DEFAULT_ECONOMICS;
  const h100 = e.models['H100 SXM']!;
  const globals = Object.fromEntries(ECONOMICS_GLOBAL_KEYS.map((k) => [k, e[k]]));
  const starter = {
    '//': [
      'gpuhealth settings (docs/economics.md, "Settings"). Keys that start with // are comments, at any level.',
      `Files apply in order, each over the one before: built-in defaults, <lake>/${CONFIG_FILE_NAME}, $${CONFIG_ENV}, --config FILE.`,
      'Every value here is the built-in default: delete the keys you do not change, so newer defaults reach you. gpuhealth config show lists all.',
    ],
    economics: {
      '//': `Money in USD, shares 0–1. Defaults as of ${GLOBAL_SOURCE.as_of} from typical published figures; they move fast: put in your fleet's own.`,
      ...globals,
      models: {
        '//': [
          `Prices per GPU model, tried in order; the first whose match (case-insensitive regular expressions against the model name telemetry reports) fits wins. Built in: ${Object.keys(e.models).join(', ')}.`,
          'Give only the fields you change; set a model to null to remove it. A new model needs match, sale_price (every grade), rental_rate_per_hour, repair_cost and price_decline_per_month.',
          '"//B200" is an example of a new model: delete its // to use it, with your own figures.',
        ],
        'H100 SXM': { rental_rate_per_hour: h100.rental_rate_per_hour, sale_price: { ...h100.sale_price } },
        '//B200': {
          match: ['\\bB200\\b'],
          sale_price: { excellent: 37000, good: 35000, fair: 30000, degraded: 23500, poor: 15500, critical: 5000 },
          rental_rate_per_hour: 4,
          repair_cost: 17500,
          price_decline_per_month: 0.02,
          as_of: '2026-05-01',
          source: 'your own quotes',
        },
      },
    },
    xid: {
      '//': 'Overrides of the Xid classification, field by field (docs/scoring.md, "Xid codes"), e.g. "13": { "severity": "watch" }',
    },
  };
  return `${JSON.stringify(starter, null, 2)}\n`;
}

/**
 * Writes the starter file (temp file, then rename). Its folder must exist; an existing file is kept
 * unless `force`.
 */
export function writeStarterConfig(opts: { file: string; force: boolean }): { file: string; overwritten: boolean } {
  const dir = path.dirname(opts.file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InputError(`no folder ${dir} to write ${path.basename(opts.file)} into`, [
      'create the lake first (gpuhealth ingest …), or name a FILE in an existing folder',
    ]);
  }
  const exists = fs.existsSync(opts.file);
  if (exists && !opts.force) throw new InputError(`${opts.file} exists; not overwritten`, [`gpuhealth config init --force ${opts.file}`]);
  if (exists && fs.statSync(opts.file).isDirectory()) throw new InputError(`${opts.file} is a folder`);
  writeFileAtomic(opts.file, starterConfig());
  return { file: opts.file, overwritten: exists };
}
