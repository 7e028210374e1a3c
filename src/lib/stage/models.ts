/**
 * Where failure models live and how `predict` finds one (DESIGN §7): a fleet's own models in
 * `lake/models/<name>/`, the shipped default in the package's `models/default/`. Each folder holds the
 * ONNX files and `card.json`. `predict` takes `--model NAME`, else the lake's newest, else the default.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import type { ModelCard } from '../model/card.js';

/** The package's models folder (beside dist/ and src/). */
export const PACKAGE_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
export const DEFAULT_MODEL_NAME = 'default';
/** Model names become folder names: letters, digits, dot, dash, underscore. */
export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const lakeModelsDir = (lakeRoot: string): string => path.join(lakeRoot, 'models');

export interface StoredModel {
  name: string;
  dir: string;
  where: 'lake' | 'package';
  card: ModelCard;
}

function readCard(dir: string): ModelCard | null {
  const file = path.join(dir, 'card.json');
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelCard;
  } catch (e) {
    throw new InputError(`${file} is not a readable model card: ${(e as Error).message}`);
  }
}

/** Every model: the lake's (newest first), then the package's. */
export function listModels(lakeRoot: string | null): StoredModel[] {
  const out: StoredModel[] = [];
  const scan = (root: string, where: StoredModel['where']): StoredModel[] => {
    if (!fs.existsSync(root)) return [];
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && MODEL_NAME_RE.test(e.name))
      .flatMap((e) => {
        const card = readCard(path.join(root, e.name));
        return card ? [{ name: e.name, dir: path.join(root, e.name), where, card }] : [];
      });
  };
  if (lakeRoot) out.push(...scan(lakeModelsDir(lakeRoot), 'lake').sort((a, b) => b.card.created_at.localeCompare(a.card.created_at)));
  out.push(...scan(PACKAGE_MODELS_DIR, 'package'));
  return out;
}

/** The model `predict` uses: `name` when given (the lake's first, then the package's), else the lake's newest, else the default. */
export function resolveModel(lakeRoot: string, name?: string): StoredModel {
  const all = listModels(lakeRoot);
  if (name !== undefined) {
    const m = all.find((x) => x.name === name);
    if (!m) {
      const names = all.map((x) => x.name);
      throw new InputError(`no model named "${name}"`, [names.length ? `one of: ${names.join(', ')}` : 'gpuhealth train --name NAME']);
    }
    return m;
  }
  const m = all.find((x) => x.where === 'lake') ?? all.find((x) => x.name === DEFAULT_MODEL_NAME);
  if (!m) throw new InputError(`no failure model: the lake has none and the package's models/${DEFAULT_MODEL_NAME}/ is missing`, ['gpuhealth train']);
  return m;
}
