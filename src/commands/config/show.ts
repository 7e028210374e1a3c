import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../../lib/cli/base-command.js';
import { renderJson, renderRows, type Cell } from '../../lib/cli/output.js';
import { configPath, configReport, loadConfig } from '../../lib/config.js';
import { GLOBAL_SOURCE } from '../../lib/economics/defaults.js';

/** A default's source as the table shows it: its date (a model's source is its own `.source` row; the globals' is a note). */
const sourceText = (v: Cell): string => String(v).replace(/^default \((\d{4}-\d{2}-\d{2}), .*\)$/s, 'default ($1)');

/** A value as the table shows it: numbers whole (0.015 stays 0.015), a removed model as such. */
function valueText(v: Cell): string {
  if (v === null || v === undefined) return '(removed)';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Every setting in force and where it came from: a default (with its date and source) or a file and key.';
  static override description =
    'The settings are the built-in defaults with, over them in this order, <lake>/gpuhealth.json (when it exists), the file $GPUHEALTH_CONFIG names and --config FILE; each later file overrides only the keys it sets. Lists every economic setting (the globals, then each model’s prices) and the Xid codes a file overrides (the built-in Xid table is in docs/scoring.md). With --json: {"files": [...], "settings": [{"key", "value", "source"}, ...], "xid": {"built_in", "overridden"}}. See docs/economics.md, "Settings".';
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --config ./prices.json', '<%= config.bin %> config show --json'];
  static override flags = {
    config: Flags.string({
      summary: 'Config file (JSON) applied last, over the defaults, <lake>/gpuhealth.json and $GPUHEALTH_CONFIG.',
    }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const r = configReport(loadConfig(configPath(this.flags.config, this.lakeDir)));
    if (this.outputFormat === 'json') {
      this.out(renderJson(r));
      return;
    }
    this.note(r.files.length === 0 ? 'config files: none (built-in defaults)' : `config files, applied in order: ${r.files.join(', ')}`);
    this.note(`defaults of the global settings: as of ${GLOBAL_SOURCE.as_of}, from ${GLOBAL_SOURCE.source}`);
    this.note(`Xid codes: ${r.xid.built_in} built in (docs/scoring.md, "Xid codes"), ${r.xid.overridden} set by the files`);
    this.out(
      renderRows(
        r.settings,
        [
          { key: 'key', header: 'setting', fit: 'wrap' },
          // the source before the value: a table gives spare width to wrapped columns left to right, and
          // a model's own source note (a value) is the one long cell
          { key: 'source', format: sourceText, fit: 'wrap' },
          { key: 'value', format: valueText, fit: 'wrap' },
        ],
        this.outputFormat,
        this.tableOptions,
      ),
    );
  }
}
