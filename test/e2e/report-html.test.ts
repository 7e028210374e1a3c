/**
 * The HTML report in a real browser: headless Chromium loads the sample fleet's page from a file, with
 * scripts on, and the DOM it ends with must hold every chart with all its marks, the sorting script
 * must have run over every table, and the page must log nothing to the console (an uncaught error is
 * logged there). A control run with a broken script shows that the console check catches errors.
 * A screenshot is left for a person to look at; its path is printed.
 *
 * Skipped when no Chromium is installed, except under CI, where a missing browser fails the test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TEMP_OUTLIERS } from '../../src/lib/report/charts.js';
import { sampleReport } from '../../src/lib/report/fixture.js';
import { renderHtml } from '../../src/lib/report/html.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
const CHROMIUM = [process.env.CHROMIUM_BIN, ...CANDIDATES].find((p): p is string => !!p && fs.existsSync(p)) ?? null;
const RUN = CHROMIUM !== null || !!process.env.CI;
if (!RUN) console.log(`report-html: skipped, no Chromium at ${CANDIDATES.join(', ')} (set CHROMIUM_BIN, or CI=1 to require it)`);

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'gpuhealth-report-html-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));
/** Kept after the run for the developer to look at. */
const SCREENSHOT = path.join(os.tmpdir(), 'gpuhealth-report', 'report.png');

const R = sampleReport({ gpus: 300, seed: 1 });

interface Browsed {
  dom: string;
  /** Console messages Chromium logged for the page (errors, uncaught exceptions, anything else). */
  console: string[];
}

function chromium(args: string[], html: string, name: string): { stdout: string; stderr: string } {
  if (CHROMIUM === null) throw new Error('CI is set but no Chromium binary was found: install chromium or set CHROMIUM_BIN');
  const file = path.join(TMP, `${name}.html`);
  fs.writeFileSync(file, html);
  const res = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      `--user-data-dir=${path.join(TMP, `profile-${name}`)}`,
      ...args,
      pathToFileURL(file).href,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 },
  );
  if (res.error) throw res.error;
  return { stdout: res.stdout, stderr: res.stderr };
}

function browse(html: string, name: string): Browsed {
  const { stdout, stderr } = chromium(['--enable-logging=stderr', '--v=0', '--dump-dom'], html, name);
  return { dom: stdout, console: stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l)) };
}

/** Marks per chart kind (`chart-<kind>` on each svg) in the DOM. */
function chartMarks(dom: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of dom.matchAll(/<svg[^>]*class="chart chart-([\w-]+)"[^>]*>([\s\S]*?)<\/svg>/g)) {
    out[m[1]!] = (m[2]!.match(/class="mark"/g) ?? []).length;
  }
  return out;
}

describe('the HTML report in headless Chromium', () => {
  it.skipIf(!RUN)('draws every chart with all its marks, sorts tables on a click and logs no error', () => {
    const html = renderHtml(R);
    // after the page's own script: click headers as a user would and write down the orders that result
    const clicks = `<script>
      function order(id, col) {
        return Array.prototype.map.call(document.getElementById(id).tBodies[0].rows, function (r) { return r.cells[col].getAttribute('data-v'); }).join(',');
      }
      var p30 = document.querySelector('#at-risk th:nth-child(5)');
      p30.click();
      document.body.setAttribute('data-p30-asc', order('at-risk', 4));
      var score = document.querySelector('#all-gpus th:nth-child(5)');
      score.click();
      score.click();
      document.body.setAttribute('data-score-desc', order('all-gpus', 4));
      document.body.setAttribute('data-score-sort', score.getAttribute('aria-sort'));
    </script>`;
    const { dom, console: logged } = browse(html.replace('</body>', `${clicks}</body>`), 'report');
    expect(logged).toEqual([]);
    const attr = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(dom)?.[1] ?? '';
    const p30 = attr('data-p30-asc').split(',').map(Number);
    expect(p30).toEqual(R.at_risk.map((g) => g.failure_prob_30d!).sort((a, b) => a - b));
    const scores = attr('data-score-desc').split(',');
    const known = R.gpus.filter((g) => g.overall_score !== null).map((g) => g.overall_score!);
    expect(scores.slice(0, known.length).map(Number)).toEqual([...known].sort((a, b) => b - a));
    expect(scores.slice(known.length).every((v) => v === '')).toBe(true); // unknown scores stay last
    expect(attr('data-score-sort')).toBe('descending');
    expect(dom).toContain('id="all-gpus"');
    const tables = (html.match(/<table /g) ?? []).length;
    expect(dom).toContain(`data-sortable-tables="${tables}"`);
    // the script gave every header a tab stop
    expect((dom.match(/<th scope="col" tabindex="0"[ >]/g) ?? []).length).toBe((html.match(/<th scope="col">/g) ?? []).length);
    expect(chartMarks(dom)).toEqual({
      grades: 7,
      trend: R.trend.filter((p) => p.health_index !== null).length,
      racks: R.racks.length,
      temp: TEMP_OUTLIERS,
      'risk-value': R.gpus.filter((g) => g.failure_prob_30d !== null && g.expected_value !== null && g.decision !== null).length,
    });
    for (const n of Object.values(chartMarks(dom))) expect(n).toBeGreaterThan(0);
  });

  it.skipIf(!RUN)('control: a page with a broken script fails the console check', () => {
    const broken = renderHtml(R).replace('</body>', '<script>notDefinedAnywhere();</script></body>');
    const { console: logged } = browse(broken, 'broken');
    expect(logged.join('\n')).toMatch(/Uncaught ReferenceError: notDefinedAnywhere is not defined/);
  });

  it.skipIf(!RUN)('leaves a screenshot of the page', () => {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    fs.rmSync(SCREENSHOT, { force: true });
    chromium(['--hide-scrollbars', `--screenshot=${SCREENSHOT}`, '--window-size=1400,3000'], renderHtml(R), 'screenshot');
    const png = fs.readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // width and height from the IHDR chunk
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1400, 3000]);
    console.log(`report-html: screenshot of the sample report at ${SCREENSHOT}`);
  });
});
