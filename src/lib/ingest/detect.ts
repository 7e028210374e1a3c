/** Format detection: every parser sniffs a source's head, and the most confident one reads it. */
import { csvExportParser } from './csv-export.js';
import { dmesgParser } from './dmesg.js';
import { dmonParser } from './dmon.js';
import { nvidiaSmiCsvParser } from './nvidia-smi-csv.js';
import { promJsonParser } from './prom-json.js';
import { sniffPromText } from './prom-text.js';
import type { ConcreteFormat, Parser } from './types.js';

/** The line-based parsers (exposition text has a worker-pool path of its own, parse-prom.ts); on a tie, the first wins. */
export const LINE_PARSERS: readonly Parser[] = [promJsonParser, nvidiaSmiCsvParser, csvExportParser, dmonParser, dmesgParser];

export function detectFormat(head: string): { format: ConcreteFormat | null; confidence: number } {
  let best: { format: ConcreteFormat | null; confidence: number } = { format: null, confidence: 0 };
  const prom = sniffPromText(head);
  if (prom > best.confidence) best = { format: 'prom', confidence: prom };
  for (const p of LINE_PARSERS) {
    const c = p.sniff(head);
    if (c > best.confidence) best = { format: p.format, confidence: c };
  }
  return best.confidence >= 0.5 ? best : { format: null, confidence: best.confidence };
}
