import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson } from '../../lib/cli/output.js';
import { lakeConfigFile, writeStarterConfig } from '../../lib/config.js';

export default class ConfigInit extends BaseCommand<typeof ConfigInit> {
  static override summary = 'Write a starter config file: every economic setting at its default, with comments.';
  static override description =
    'Writes FILE, by default <lake>/gpuhealth.json, into a folder that must exist. Every economics key is there at its default, with one model override and a new model (B200) as examples; comments are keys that start with //, which gpuhealth ignores at any level. The file as written changes nothing: delete the keys you do not mean to set, so that newer defaults reach you. An existing file is kept unless --force. See docs/economics.md, "Settings".';
  static override examples = [
    '<%= config.bin %> config init',
    '<%= config.bin %> config init --lake /data/gpuhealth-lake --force',
    '<%= config.bin %> config init ./prices.json',
  ];
  static override args = {
    file: Args.string({ description: 'Where to write the starter file (default <lake>/gpuhealth.json).' }),
  };
  static override flags = {
    force: Flags.boolean({ summary: 'Overwrite the file if it exists.' }),
  };

  public async run(): Promise<void> {
    const r = writeStarterConfig({ file: this.args.file ?? lakeConfigFile(this.lakeDir), force: this.flags.force });
    if (this.outputFormat === 'json') this.out(renderJson(r));
    else this.out(`${r.overwritten ? 'overwrote' : 'wrote'} ${r.file}`);
  }
}
