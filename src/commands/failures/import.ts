import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../../lib/cli/output.js';
import { EARLIEST_REGISTRY_DATE, importNotes, importSummaryLine, importTable } from '../../lib/registry/import.js';
import { FAILURES_SPEC } from '../../lib/registry/specs.js';

export default class FailuresImport extends BaseCommand<typeof FailuresImport> {
  static override summary = 'Import failure / RMA history (CSV) into the lake.';
  static override description = `Header (any order; failed_at and failure_type required, and gpu_uuid or serial):
  ${FAILURES_SPEC.fields.map((f) => `${f.name}: ${f.doc}`).join('\n  ')}
These are the labels the failure models train on. A failure already in the history (same gpu_uuid, serial and failed_at) gets the file's values in the columns the header has, and keeps its other columns (a file without xid leaves the stored xids as they are); an empty cell of a column the header has sets it empty (NULL). A header without serial (or gpu_uuid) has that part of the key empty, so it matches only failures stored with it empty. One on several lines of the file is warned about, and its last line kept. Bad rows are reported with their line number and skipped: among them a failed_at before ${EARLIEST_REGISTRY_DATE} or more than a day in the future. A header column the history does not know is ignored with a warning naming the closest known one. Failures named by a serial that no asset in the lake has are stored and warned about: they count once assets import brings that serial.`;
  static override examples = ['<%= config.bin %> failures import rma.csv', '<%= config.bin %> failures import demo-fleet/failures.csv --json'];
  static override args = { file: Args.string({ description: 'CSV file', required: true }) };

  public async run(): Promise<void> {
    const s = await importTable(this.lakeDir, this.args.file, FAILURES_SPEC);
    for (const n of importNotes(s)) this.note(n);
    const { rejects, warnings, ...totals } = s;
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (this.outputFormat === 'csv') this.out(renderRecord(totals, 'csv'));
    else this.note(importSummaryLine(s, FAILURES_SPEC, { rows: 'failures', table: 'history' }));
  }
}
