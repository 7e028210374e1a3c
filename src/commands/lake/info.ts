import { BaseCommand, tableFlags } from '../../lib/cli/base-command.js';
import { renderJson, renderRecord, renderRows } from '../../lib/cli/output.js';
import { lakeInfo } from '../../lib/maintenance/info.js';

export default class LakeInfo extends BaseCommand<typeof LakeInfo> {
  static override summary = 'What the lake holds, and which health signals it is missing.';
  static override description =
    "Date range, GPUs, hosts, rows, sources, and coverage per health signal. For signals dcgm-exporter leaves off by default (ECC, retired pages, violations), it prints the lines to add to the exporter's counters CSV.";
  static override examples = ['<%= config.bin %> lake info', '<%= config.bin %> lake info --lake /data/gpu-lake --json'];
  static override flags = { ...tableFlags };

  public async run(): Promise<void> {
    const info = await lakeInfo(this.lakeDir);
    if (this.outputFormat === 'json') {
      this.out(renderJson(info));
      return;
    }
    const { coverage, missing_signals, ...totals } = info;
    if (this.outputFormat === 'csv') {
      this.out(
        renderRows(
          coverage.map((c) => ({ ...c, columns: c.columns.join(';'), enable: c.enable.join(' | ') })),
          [{ key: 'signal' }, { key: 'status' }, { key: 'coverage' }, { key: 'columns' }],
          'csv',
        ),
      );
      return;
    }
    this.out(renderRecord({ ...totals, missing_signals: missing_signals.join(', ') || 'none' }, 'table', 'lake', this.tableOptions));
    this.out(
      renderRows(
        coverage.map((c) => ({ signal: c.signal, status: c.status, coverage: `${(c.coverage * 100).toFixed(1)} %` })),
        [{ key: 'signal' }, { key: 'status' }, { key: 'coverage' }],
        'table',
        this.tableOptions,
      ),
    );
    const off = coverage.filter((c) => c.status !== 'present');
    if (off.length) {
      // the lines are data to paste; what to do with them is a note
      this.note("\nTo collect the missing signals, add these lines to dcgm-exporter's counters CSV\n(-f / DCGM_EXPORTER_COLLECTORS) and restart it:");
      for (const c of off) for (const line of c.enable) this.out(`  ${line}`);
    }
  }
}
