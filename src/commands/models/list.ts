import { BaseCommand } from '../../lib/cli/base-command.js';
import { renderJson, renderRows } from '../../lib/cli/output.js';
import { listModels } from '../../lib/stage/models.js';

export default class ModelsList extends BaseCommand<typeof ModelsList> {
  static override summary = 'The failure models predict can use: the lake’s own (newest first) and the shipped default.';
  static override description =
    'Per model: name, where it lives, when it was trained and on what, its horizon and its headline validation metrics (PR-AUC against the base rate, precision in the top 1 % of GPU-days, recall of failures 7 days ahead). predict uses the first lake model, else default.';
  static override examples = ['<%= config.bin %> models list', '<%= config.bin %> models list --json'];

  public async run(): Promise<void> {
    const models = listModels(this.lakeDir);
    const rows = models.map((m) => {
      const v = m.card.validation.metrics.model;
      return {
        name: m.name,
        where: m.where,
        dir: m.dir,
        version: m.card.version,
        created_at: m.card.created_at,
        trained_on: m.card.trained_on,
        training: `${m.card.training.from.slice(0, 10)} → ${m.card.training.to.slice(0, 10)}`,
        horizon_days: m.card.horizon_days,
        pr_auc: Number(v.pr_auc.toFixed(4)),
        base_rate: Number(v.base_rate.toFixed(5)),
        precision_top_1pct: Number(v.top_1pct.precision.toFixed(3)),
        recall_7d_ahead: v.failures ? Number((v.caught_7d_ahead / v.failures).toFixed(3)) : null,
      };
    });
    if (this.outputFormat === 'json') this.out(renderJson(rows));
    else
      this.out(
        renderRows(
          rows,
          [
            { key: 'name' },
            { key: 'where' },
            { key: 'version' },
            { key: 'created_at', header: 'trained', format: (v) => String(v).slice(0, 10) },
            { key: 'training', dropRank: 2 },
            { key: 'horizon_days', header: 'horizon' },
            { key: 'pr_auc', header: 'PR-AUC' },
            { key: 'base_rate', header: 'base', dropRank: 1 },
            { key: 'precision_top_1pct', header: 'prec@1%', dropRank: 1 },
            { key: 'recall_7d_ahead', header: 'recall 7d', dropRank: 1 },
            { key: 'trained_on', header: 'trained on', fit: 'wrap', dropRank: 3 },
          ],
          this.outputFormat,
          this.tableOptions,
        ),
      );
  }
}
