import path from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { InputError } from '../lib/errors.js';
import { renderJson, renderRows } from '../lib/cli/output.js';
import fs from 'node:fs';
import { REPORT_RENDERERS } from '../lib/report/render.js';
import { REPORT_FORMATS, type ReportFormat } from '../lib/report/types.js';
import { configFlag } from '../lib/cli/window-flags.js';
import { configPath, loadConfig } from '../lib/config.js';
import { buildReportData } from '../lib/stage/report.js';
import { writeFileAtomic } from '../lib/stage/survival.js';
import { parseInstant } from '../lib/time.js';

/** The format a file name asks for: .html, .md, .json or .prom. */
function formatOf(file: string): ReportFormat {
  const ext = path.extname(file).slice(1).toLowerCase();
  const format = ext === 'htm' ? 'html' : ext === 'markdown' ? 'md' : ext;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new InputError(`--out ${file}: the extension says which format to write: .html, .md, .json or .prom`);
  }
  return format as ReportFormat;
}

export default class Report extends BaseCommand<typeof Report> {
  static override summary = 'The fleet report from the results in the lake: HTML, Markdown, JSON or a Prometheus textfile.';
  static override description =
    "Reads the scores, predictions and recommendations the lake holds for --at (default the newest scores), the earlier nightly reports (the 30-day trend, the grade changes since the last one), the last day's Xid events, ECC errors and remapped rows, and the data coverage; recomputes nothing. Each --out FILE is written atomically in the format its extension names: .html (one self-contained page with charts, printable, no network), .md (the headlines, under 100 lines), .json (everything; docs/report.md), .prom (per-GPU gauges for node_exporter's textfile collector, labelled UUID, Hostname and modelName like dcgm-exporter's). gpuhealth nightly writes the dated report into the lake every night. With --json or --csv, stdout lists the files written (path, format, bytes).";
  static override examples = [
    '<%= config.bin %> report --out fleet.html',
    '<%= config.bin %> report --at 2026-12-04T06:00:00Z --out fleet.md --out fleet.json',
    '<%= config.bin %> report --out /var/lib/node_exporter/textfile/gpuhealth.prom',
  ];
  static override flags = {
    at: Flags.string({ summary: 'The results to report: ISO-8601 (UTC unless it has an offset), epoch seconds; default the newest scores in the lake.' }),
    out: Flags.string({ summary: 'File to write (.html, .md, .json or .prom); repeat for several.', multiple: true, required: true }),
    config: configFlag,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const outs = f.out.map((file) => ({ file, format: formatOf(file) }));
    const config = loadConfig(configPath(f.config, this.lakeDir));
    const atMs = f.at === undefined ? undefined : parseInstant(f.at);
    const data = await buildReportData({ lake: this.lakeDir, atMs, xidClasses: config.xid });
    for (const o of outs) writeFileAtomic(o.file, REPORT_RENDERERS[o.format](data));
    // stdout carries data only: with --json or --csv, what was written (for a script that publishes it)
    const files = outs.map((o) => ({ file: path.resolve(o.file), format: o.format, bytes: fs.statSync(o.file).size }));
    if (this.outputFormat === 'json') this.out(renderJson({ at: data.at, gpus: data.fleet.gpus, files }));
    else if (this.outputFormat === 'csv') this.out(renderRows(files, [{ key: 'file' }, { key: 'format' }, { key: 'bytes' }], 'csv'));
    this.note(`report at ${data.at.slice(0, 16)} UTC: ${data.fleet.gpus} GPUs → ${outs.map((o) => o.file).join(', ')}`);
  }
}
