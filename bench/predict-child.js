// Times the model half of `predict` (onnxruntime for the three models, the survival curve and the
// per-feature attributions) on N synthetic GPUs, apart from the feature query. Prints one JSON line.
import path from 'node:path';
import { listModels } from '../dist/lib/stage/models.js';
import { loadModel, predictRows } from '../dist/lib/stage/predict.js';
import { mulberry32 } from '../dist/lib/model/random.js';

const n = Number(process.argv[2] ?? 10_000);
const stored = listModels(null).find((m) => m.name === 'default');
const F = stored.card.features.length;
const rnd = mulberry32(1);
// mostly quiet GPUs, some with errors: each value 0 (60 %), missing (5 %) or a draw up to 4
const X = new Float64Array(n * F).map(() => {
  const u = rnd();
  return u < 0.6 ? 0 : u < 0.65 ? Number.NaN : 4 * rnd();
});
const m = { gpu: Array.from({ length: n }, (_, i) => `GPU-${i}`), host: new Array(n).fill(null), model: new Array(n).fill(null), X };
const t0 = process.hrtime.bigint();
const model = await loadModel(stored);
const t1 = process.hrtime.bigint();
const rows = await predictRows(model, m, new Date().toISOString());
const t2 = process.hrtime.bigint();
await model.close();
console.log(
  JSON.stringify({
    gpus: rows.length,
    load_s: Number(t1 - t0) / 1e9,
    predict_s: Number(t2 - t1) / 1e9,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    model: path.basename(stored.dir),
  }),
);
