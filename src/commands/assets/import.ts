import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../../lib/cli/output.js';
import { EARLIEST_REGISTRY_DATE, importNotes, importSummaryLine, importTable } from '../../lib/registry/import.js';
import { ASSETS_SPEC } from '../../lib/registry/specs.js';

export default class AssetsImport extends BaseCommand<typeof AssetsImport> {
  static override summary = 'Import the asset registry (CSV) into the lake.';
  static override description = `Header (any order; gpu_uuid required):
  ${ASSETS_SPEC.fields.map((f) => `${f.name}: ${f.doc}`).join('\n  ')}
A GPU already in the registry gets the file's values in the columns the header has, and keeps its other columns: a file of gpu_uuid,removed_date records removals without touching deployed_date, purchase_price or the rest. An empty cell of a column the header has sets it empty (NULL): that is how a removed_date is cleared. A GPU new to the registry has the columns the file lacks empty. A GPU on several lines of the file is warned about, and its last line kept. Bad rows are reported with their line number and skipped: among them dates before ${EARLIEST_REGISTRY_DATE}, a deployed_date or removed_date more than a day in the future, and a warranty_expiry or removed_date before deployed_date. A header column the registry does not know is ignored with a warning naming the closest known one. Files without lot or removed_date still import (a GPU new to the registry has both empty).`;
  static override examples = ['<%= config.bin %> assets import assets.csv', '<%= config.bin %> assets import demo-fleet/assets.csv --json'];
  static override args = { file: Args.string({ description: 'CSV file', required: true }) };

  public async run(): Promise<void> {
    const s = await importTable(this.lakeDir, this.args.file, ASSETS_SPEC);
    for (const n of importNotes(s)) this.note(n);
    const { rejects, warnings, ...totals } = s;
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (this.outputFormat === 'csv') this.out(renderRecord(totals, 'csv'));
    else this.note(importSummaryLine(s, ASSETS_SPEC, { rows: 'assets', table: 'registry' }));
  }
}
