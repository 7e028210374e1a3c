import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { renderJson, renderRecord } from '../lib/cli/output.js';
import { compactLake } from '../lib/maintenance/compact.js';

export default class Compact extends BaseCommand<typeof Compact> {
  static override summary = 'Merge small files per partition and drop duplicate rows.';
  static override description =
    'Rewrites every date partition that holds several files as one sorted, de-duplicated file (duplicates are rows with the same gpu_uuid and time), and merges the ingest manifest. Atomic: a killed compaction leaves the lake as it was. Run it weekly from cron after ingest.';
  static override examples = ['<%= config.bin %> compact', '<%= config.bin %> compact --lake /data/gpu-lake --json'];
  static override flags = {
    'min-files': Flags.integer({ summary: 'Compact partitions holding at least this many files.', default: 2, min: 2 }),
  };

  public async run(): Promise<void> {
    const progress = this.makeProgress();
    const s = await compactLake(this.lakeDir, { progress, minFiles: this.flags['min-files'] });
    progress.done();
    if (this.outputFormat === 'json') this.out(renderJson(s));
    else if (this.outputFormat === 'csv') this.out(renderRecord({ ...s }, 'csv'));
    // the human summary is a note, as ingest's is: stdout carries data only (--json, --csv)
    else
      this.note(`compacted ${s.partitions_compacted} partitions: ${s.files_before} → ${s.files_after} files, ${s.duplicates_dropped} duplicate rows dropped`);
  }
}
