/**
 * The config file (JSON): settings a fleet keeps beside its lake. Parsed from `unknown` field by field
 * into a typed, defaulted object (STYLE 11). Where it comes from: `--config FILE`, else the env
 * `GPUHEALTH_CONFIG`, else `gpuhealth.json` in the lake folder when it exists; none is fine.
 *
 * Keys: `xid` — overrides of the Xid classification (docs/scoring.md, "Xid codes").
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';
import { mergeXidOverrides, XID_CLASSES, type XidTable } from './dcgm/xid.js';

export const CONFIG_FILE_NAME = 'gpuhealth.json';
export const CONFIG_KEYS = ['xid'] as const;

export interface GpuhealthConfig {
  /** Where the settings came from, or null for the defaults. */
  file: string | null;
  xid: XidTable;
}

/** The config file to read: the flag, else the env, else the lake's own file if present. */
export function configPath(flag: string | undefined, lake: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (flag) return flag;
  if (env['GPUHEALTH_CONFIG']) return env['GPUHEALTH_CONFIG'];
  const own = path.join(lake, CONFIG_FILE_NAME);
  return fs.existsSync(own) ? own : null;
}

export function parseConfig(raw: unknown, file: string | null): GpuhealthConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(`${file ?? 'config'}: expected a JSON object with the keys ${CONFIG_KEYS.join(', ')}`);
  }
  for (const k of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) {
      throw new InputError(`${file ?? 'config'}: unknown key "${k}"; known keys: ${CONFIG_KEYS.join(', ')}`);
    }
  }
  return { file, xid: mergeXidOverrides(XID_CLASSES, (raw as Record<string, unknown>)['xid']) };
}

export function loadConfig(file: string | null): GpuhealthConfig {
  if (file === null) return { file: null, xid: XID_CLASSES };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseConfig(raw, file);
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file)) throw new InputError(`${file}: ${e.message}`, e.suggestions);
    throw e;
  }
}
