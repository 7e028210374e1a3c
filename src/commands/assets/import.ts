import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../../lib/cli/output.js';
import { importTable } from '../../lib/registry/import.js';
import { ASSETS_SPEC } from '../../lib/registry/specs.js';

export default class AssetsImport extends BaseCommand<typeof AssetsImport> {
  static override summary = 'Import the asset registry (CSV) into the lake.';
  static override description = `Header (any order; gpu_uuid required):
  ${ASSETS_SPEC.fields.map((f) => `${f.name}: ${f.doc}`).join('\n  ')}
A GPU already in the registry is replaced by its new row. Bad rows are reported with their line number and skipped.`;
  static override examples = ['<%= config.bin %> assets import assets.csv', '<%= config.bin %> assets import demo-fleet/assets.csv --json'];
  static override args = { file: Args.string({ description: 'CSV file', required: true }) };

  public async run(): Promise<void> {
    const s = await importTable(this.lakeDir, this.args.file, ASSETS_SPEC);
    for (const r of s.rejects.slice(0, 10)) this.note(`rejected ${s.file}:${r.line}: ${r.reason}`);
    if (s.rejected > 10) this.note(`… ${s.rejected - 10} more rejected rows`);
    const { rejects, ...totals } = s;
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (this.outputFormat === 'csv') this.out(renderRecord(totals, 'csv'));
    else this.note(`imported ${s.imported} assets (${s.replaced} replaced), registry now ${s.total}; ${s.rejected} rows rejected`);
  }
}
