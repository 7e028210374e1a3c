/** One renderer per report format: each a pure function of the report's data (the JSON is the data itself). */
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderProm } from './prom.js';
import type { ReportData, ReportFormat } from './types.js';

export const REPORT_RENDERERS: Record<ReportFormat, (r: ReportData) => string> = {
  html: renderHtml,
  md: renderMarkdown,
  json: (r) => `${JSON.stringify(r, null, 2)}\n`,
  prom: renderProm,
};
