import { Flags } from '@oclif/core';
import { BaseCommand, tableFlags } from '../lib/cli/base-command.js';
import { type Cell, renderJson, renderRows } from '../lib/cli/output.js';
import { largestGroups, MAX_TABLE_GROUPS, SURVIVAL_GROUPINGS, survivalAnalysis, survivalSvg, writeFileAtomic } from '../lib/stage/survival.js';
import { parseInstant } from '../lib/time.js';

const num = (digits: number) => (v: Cell) => (typeof v === 'number' ? v.toFixed(digits) : '–');
const interval = (digits: number) => (v: Cell) => (Array.isArray(v) ? `${Number(v[0]).toFixed(digits)}–${Number(v[1]).toFixed(digits)}` : '–');
/** p-values: three decimals, small ones in exponent form (1.5e-9), never a bare 0. */
const pValue = (v: Cell) => (typeof v !== 'number' ? '–' : v >= 0.001 ? v.toFixed(3) : v === 0 ? '<1e-300' : v.toExponential(1));

export default class Survival extends BaseCommand<typeof Survival> {
  static override summary = 'How long GPUs last: Kaplan–Meier, Weibull and Cox from the asset registry and failure history.';
  static override description =
    'From assets and failures alone (no telemetry needed). A lifetime runs from deployed_date to the first failure, the removal (removed_date: left service without failing) or the observation end (--at), whichever is first; removals and GPUs still in service are censored, never failures. Per group: GPUs, failures, censored (of them removed), the Kaplan–Meier median lifetime where survival falls to ½, and a Weibull fit with 95 % intervals whose shape says infant mortality (interval below 1), random (it holds 1) or wear-out (above 1). Then a Cox model over the fleet: hazard ratios with 95 % intervals and p-values by deployment cohort (per year later), model, lot, rack and slot, each categorical one against its most common level that has failures. --json carries the Kaplan–Meier curves with their 95 % bands; --svg draws them. Reads the lake only. See docs/survival.md.';
  static override examples = [
    '<%= config.bin %> survival',
    '<%= config.bin %> survival --by lot',
    '<%= config.bin %> survival --by model --at 2026-06-30',
    '<%= config.bin %> survival --by lot --json > survival.json',
    '<%= config.bin %> survival --by rack --svg survival.svg',
  ];
  static override flags = {
    by: Flags.option({ summary: 'Group GPUs by this registry column.', options: SURVIVAL_GROUPINGS })(),
    at: Flags.string({
      summary: 'Observation end: ISO-8601 (UTC unless it has an offset), epoch seconds, or now.',
      description:
        'Lifetimes still running then are censored there; later failures, removals and deployments are not seen. Default: the newest date the registry, the failures or the telemetry know.',
    }),
    svg: Flags.string({ summary: 'Also write the Kaplan–Meier curves, with their bands, as a standalone SVG chart to this file.' }),
    ...tableFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const r = await survivalAnalysis({ lake: this.lakeDir, by: f.by, atMs: f.at === undefined ? undefined : parseInstant(f.at) });
    for (const n of r.notes) this.note(n);
    if (this.outputFormat === 'json') {
      this.out(renderJson(r));
    } else {
      const groups = this.outputFormat === 'csv' ? r.groups : largestGroups(r, MAX_TABLE_GROUPS);
      if (groups.length < r.groups.length)
        this.note(`the table shows the ${groups.length} largest of ${r.groups.length} groups; --csv and --json carry them all`);
      const rows = groups.map((g) => ({
        ...g,
        shape: g.weibull?.shape ?? null,
        shape_lo: g.weibull?.shape_ci[0] ?? null,
        shape_hi: g.weibull?.shape_ci[1] ?? null,
        shape_ci: g.weibull?.shape_ci ?? null,
        scale_days: g.weibull?.scale_days ?? null,
        scale_lo: g.weibull?.scale_ci[0] ?? null,
        scale_hi: g.weibull?.scale_ci[1] ?? null,
        scale_ci: g.weibull?.scale_ci ?? null,
        hazard_pattern: g.weibull?.hazard_pattern.replaceAll('_', ' ') ?? null,
      }));
      if (this.outputFormat === 'csv') {
        const keys = [
          'group',
          'n',
          'failures',
          'censored',
          'removed',
          'followup_days',
          'median_days',
          'shape',
          'shape_lo',
          'shape_hi',
          'scale_days',
          'scale_lo',
          'scale_hi',
          'hazard_pattern',
        ];
        this.out(
          renderRows(
            rows,
            keys.map((key) => ({ key })),
            'csv',
          ),
        );
      } else {
        this.out(
          renderRows(
            rows,
            [
              { key: 'group', header: r.by ?? 'group', fit: 'wrap' },
              { key: 'n', header: 'GPUs' },
              { key: 'failures', header: 'failed' },
              { key: 'censored', dropRank: 4 },
              { key: 'removed', dropRank: 1 },
              { key: 'median_days', header: 'median d', format: num(0) },
              { key: 'shape', header: 'shape', format: num(2) },
              { key: 'shape_ci', header: 'shape 95 %', format: interval(2), dropRank: 5 },
              { key: 'scale_days', header: 'scale d', format: num(0), dropRank: 3 },
              { key: 'scale_ci', header: 'scale 95 %', format: interval(0), dropRank: 2 },
              { key: 'hazard_pattern', header: 'hazard' },
            ],
            'table',
            this.tableOptions,
          ),
        );
        if (r.cox && r.cox.covariates.length > 0) {
          this.out(
            renderRows(
              r.cox.covariates,
              [
                { key: 'name', header: 'Cox covariate', fit: 'wrap' },
                { key: 'hazard_ratio', header: 'hazard ratio', format: num(2) },
                { key: 'ci', header: '95 %', format: interval(2) },
                { key: 'p', format: pValue },
              ],
              'table',
              this.tableOptions,
            ),
          );
        }
      }
    }
    if (f.svg) {
      const { svg, omitted } = survivalSvg(r);
      writeFileAtomic(f.svg, svg);
      this.note(
        `wrote the Kaplan–Meier chart to ${f.svg}${omitted > 0 ? ` (the ${r.groups.length - omitted} largest groups; ${omitted} more in --json)` : ''}`,
      );
    }
    const refs = r.cox ? Object.entries(r.cox.references).map(([k, v]) => `${k} ${v}`) : [];
    this.note(`${r.gpus} GPUs, ${r.failures} failed, observed to ${r.at.slice(0, 10)}${refs.length ? `; Cox hazard ratios against ${refs.join(', ')}` : ''}`);
  }
}
