/**
 * Imports go one way (STYLE.md, "Layers"): a module imports only from its own layer or lower ones.
 * Tests may import anything. The README's code map describes the same layers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Layers, lowest first; each entry is a path under src/ (a folder, or one file). */
const LAYERS: readonly { name: string; paths: readonly string[] }[] = [
  { name: 'base', paths: ['lib/schema.ts', 'lib/time.ts', 'lib/errors.ts', 'lib/progress.ts', 'lib/csv.ts'] },
  { name: 'definitions', paths: ['lib/dcgm', 'lib/features'] },
  { name: 'storage', paths: ['lib/db', 'lib/lake', 'lib/net'] },
  { name: 'sql', paths: ['lib/sql'] },
  { name: 'rules', paths: ['lib/health', 'lib/config.ts', 'lib/economics', 'lib/report', 'lib/maintenance', 'lib/model', 'lib/survival'] },
  { name: 'stages', paths: ['lib/stage', 'lib/ingest', 'lib/simulate', 'lib/registry', 'lib/collect', 'lib/pull'] },
  { name: 'cli', paths: ['lib/cli', 'lib/demo.ts'] },
  { name: 'commands', paths: ['commands', 'index.ts'] },
];

function layerOf(file: string): number {
  const rel = path.relative(SRC, file).split(path.sep).join('/');
  const i = LAYERS.findIndex((l) => l.paths.some((p) => rel === p || rel.startsWith(`${p}/`)));
  return i;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a module: static imports, re-exports and dynamic imports. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\s)(?:import|export)\s[^;'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

describe('layering', () => {
  it('finds the imports of a module', () => {
    expect(
      importsOf(
        `import a from './a.js';\nimport { b,\n  c } from '../b.js';\nexport { d } from './d.js';\nimport type { E } from 'e';\nconst f = await import('./f.js');\nimport './g.js';`,
      ),
    ).toEqual(['./a.js', '../b.js', './d.js', './f.js', './g.js']);
  });

  it('places every module in a layer', () => {
    const unplaced = sources(SRC)
      .filter((f) => layerOf(f) < 0)
      .map((f) => path.relative(SRC, f));
    expect(unplaced, 'add these to LAYERS (and to the README code map)').toEqual([]);
  });

  it('has no import that goes up a layer', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
        const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        const to = layerOf(target);
        if (to > from) upward.push(`${path.relative(SRC, file)} (${LAYERS[from]!.name}) imports ${path.relative(SRC, target)} (${LAYERS[to]!.name})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
