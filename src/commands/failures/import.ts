import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../../lib/cli/output.js';
import { importTable } from '../../lib/registry/import.js';
import { FAILURES_SPEC } from '../../lib/registry/specs.js';

export default class FailuresImport extends BaseCommand<typeof FailuresImport> {
  static override summary = 'Import failure / RMA history (CSV) into the lake.';
  static override description = `Header (any order; failed_at and failure_type required, and gpu_uuid or serial):
  ${FAILURES_SPEC.fields.map((f) => `${f.name}: ${f.doc}`).join('\n  ')}
These are the labels the failure models train on. Bad rows are reported with their line number and skipped.`;
  static override examples = ['<%= config.bin %> failures import rma.csv', '<%= config.bin %> failures import demo-fleet/failures.csv --json'];
  static override args = { file: Args.string({ description: 'CSV file', required: true }) };

  public async run(): Promise<void> {
    const s = await importTable(this.lakeDir, this.args.file, FAILURES_SPEC);
    for (const r of s.rejects.slice(0, 10)) this.note(`rejected ${s.file}:${r.line}: ${r.reason}`);
    if (s.rejected > 10) this.note(`… ${s.rejected - 10} more rejected rows`);
    const { rejects, ...totals } = s;
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (this.outputFormat === 'csv') this.out(renderRecord(totals, 'csv'));
    else this.note(`imported ${s.imported} failures (${s.replaced} replaced), history now ${s.total}; ${s.rejected} rows rejected`);
  }
}
