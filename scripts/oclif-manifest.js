// Writes oclif.manifest.json after a build: every command's id, flags and help, so that a run
// imports only the command it runs. Without the manifest, oclif imports every command at each start
// (and with them DuckDB and onnxruntime), which costs each run its start-up time and `collect`, a
// long-running scraper, about 80 MB of memory it never uses.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'oclif.manifest.json');
fs.rmSync(file, { force: true }); // never build the new manifest from a stale one
const config = await Config.load({ root });
const plugin = config.plugins.get(config.pjson.name);
if (!plugin) throw new Error(`no plugin ${config.pjson.name} in ${root}`);
const manifest = plugin.manifest;
if (Object.keys(manifest.commands).length === 0) throw new Error('the manifest lists no commands: was the build run?');
const tmp = `${file}.tmp`;
fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
fs.renameSync(tmp, file);
