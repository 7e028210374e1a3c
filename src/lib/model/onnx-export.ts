/**
 * Writes a tree ensemble (tree.ts) as an ONNX model that onnxruntime runs: one ai.onnx.ml
 * TreeEnsembleRegressor for the raw scores, then standard ops for the model's post transform, with its
 * constants as initializers. The protobuf is encoded by protobufjs from the official schema
 * (onnx-schema.ts).
 *
 * The input is float32, as the format defines, but the ensemble runs on it cast to float64, with its
 * thresholds, leaf values and bases as float64 tensors (the `*_as_tensor` attributes, which onnxruntime
 * reads only for a double input). So a row takes exactly the path `predictRaw()` gives it, a float64
 * threshold such as 0.7 needs no rounding to float32 (which would move the rows equal to float32(0.7)),
 * and 300 leaf values are summed in float64: `raw` is `predictRaw()` rounded once to float32.
 */
import { AttributeType, ModelProto, TensorDataType } from './onnx-schema.js';
import type { Ensemble, Tree } from './tree.js';

export type PostTransform =
  /** outputs: `raw` [N, nTargets] */
  | { kind: 'none' }
  /** outputs: `raw`, and `prob` = Softmax(raw) over the targets */
  | { kind: 'softmax' }
  /** one target, a log hazard ratio; outputs: `raw`, and `prob` [N, K] = 1 − exp(−cumHazard[k] · exp(raw)) */
  | { kind: 'survival'; cumHazard: number[] }
  /** one target, the mean path length; outputs: `raw`, and `score` [N, 1] = 2^(−raw / c) */
  | { kind: 'isolation'; c: number };

export interface OnnxExportOptions {
  post: PostTransform;
  /** One per input column, in order; stored in the model so a loader can check its input. */
  featureNames: string[];
  name: string;
  /** More metadata_props entries; the keys in META_KEYS are taken. */
  metadata?: Record<string, string>;
}

/** The metadata_props keys the exporter writes and the loader reads. */
export const META_KEYS = {
  featureNames: 'feature_names',
  name: 'name',
  postTransform: 'post_transform',
} as const;

const PRODUCER_NAME = 'gpuhealth';
/** IR 8, opset 17, ai.onnx.ml 3 (ONNX 1.12): ml opset 3 is the first whose TreeEnsembleRegressor takes `*_as_tensor` attributes. */
const IR_VERSION = 8;
const OPSET_ONNX = 17;
const OPSET_ML = 3;
const ML_DOMAIN = 'ai.onnx.ml';
const INPUT = 'X';
const INPUT_DOUBLE = 'X_double';
const ROWS = 'N';

interface EnsembleAttributes {
  nodes_treeids: number[];
  nodes_nodeids: number[];
  nodes_featureids: number[];
  nodes_modes: string[];
  nodes_values: number[];
  nodes_truenodeids: number[];
  nodes_falsenodeids: number[];
  nodes_missing_value_tracks_true: number[];
  target_treeids: number[];
  target_nodeids: number[];
  target_ids: number[];
  target_weights: number[];
}

/**
 * A tree that adds 0 to a target. onnxruntime leaves out the base value of a target that no leaf
 * scored, and rejects an ensemble without nodes, so every target without trees gets one of these.
 */
function zeroTree(target: number): Tree {
  return { target, feature: [-1], threshold: [0], missingLeft: [false], left: [-1], right: [-1], value: [0], cover: [0] };
}

function checkEnsemble(e: Ensemble, featureNames: string[]): void {
  if (!Number.isInteger(e.nTargets) || e.nTargets < 1) throw new Error(`ensemble: nTargets must be a positive integer, got ${e.nTargets}`);
  if (e.base.length !== e.nTargets) throw new Error(`ensemble: ${e.base.length} base values for ${e.nTargets} targets`);
  if (!e.base.every(Number.isFinite)) throw new Error('ensemble: a base value is not finite');
  if (featureNames.length !== e.nFeatures) throw new Error(`ensemble: ${featureNames.length} feature names for ${e.nFeatures} features`);
}

/** Appends one tree's reachable nodes; throws on a malformed tree rather than writing a model onnxruntime rejects or misreads. */
function addTree(a: EnsembleAttributes, t: Tree, treeId: number, e: Ensemble): void {
  const n = t.feature.length;
  for (const [field, arr] of Object.entries({ threshold: t.threshold, missingLeft: t.missingLeft, left: t.left, right: t.right, value: t.value })) {
    if (arr.length !== n) throw new Error(`tree ${treeId}: ${field} has ${arr.length} entries for ${n} nodes`);
  }
  if (n === 0) throw new Error(`tree ${treeId}: no nodes`);
  if (!Number.isInteger(t.target) || t.target < 0 || t.target >= e.nTargets)
    throw new Error(`tree ${treeId}: target ${t.target} is not in 0..${e.nTargets - 1}`);
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen[id]) throw new Error(`tree ${treeId}: node ${id} is reached twice`);
    seen[id] = 1;
    const f = t.feature[id]!;
    a.nodes_treeids.push(treeId);
    a.nodes_nodeids.push(id);
    if (f < 0) {
      const v = t.value[id]!;
      if (!Number.isFinite(v)) throw new Error(`tree ${treeId}: leaf ${id} has value ${v}`);
      a.nodes_featureids.push(0);
      a.nodes_modes.push('LEAF');
      a.nodes_values.push(0);
      a.nodes_truenodeids.push(0);
      a.nodes_falsenodeids.push(0);
      a.nodes_missing_value_tracks_true.push(0);
      a.target_treeids.push(treeId);
      a.target_nodeids.push(id);
      a.target_ids.push(t.target);
      a.target_weights.push(v);
      continue;
    }
    const l = t.left[id]!;
    const r = t.right[id]!;
    const thr = t.threshold[id]!;
    if (f >= e.nFeatures || !Number.isInteger(f)) throw new Error(`tree ${treeId}: node ${id} splits on feature ${f} of ${e.nFeatures}`);
    if (!(l >= 0 && l < n && r >= 0 && r < n)) throw new Error(`tree ${treeId}: node ${id} has children ${l}, ${r} outside 0..${n - 1}`);
    if (Number.isNaN(thr)) throw new Error(`tree ${treeId}: node ${id} has a NaN threshold`);
    a.nodes_featureids.push(f);
    a.nodes_modes.push('BRANCH_LT');
    a.nodes_values.push(thr);
    a.nodes_truenodeids.push(l);
    a.nodes_falsenodeids.push(r);
    a.nodes_missing_value_tracks_true.push(t.missingLeft[id] ? 1 : 0);
    stack.push(r, l);
  }
}

const utf8 = new TextEncoder();

const attr = {
  int: (name: string, i: number) => ({ name, type: AttributeType.INT, i }),
  string: (name: string, s: string) => ({ name, type: AttributeType.STRING, s: utf8.encode(s) }),
  ints: (name: string, ints: number[]) => ({ name, type: AttributeType.INTS, ints }),
  /** A float64 tensor, for the `*_as_tensor` attributes a double-input tree ensemble reads. */
  doubles: (name: string, values: number[]) => ({
    name,
    type: AttributeType.TENSOR,
    t: { name, dims: [values.length], data_type: TensorDataType.DOUBLE, double_data: values },
  }),
  strings: (name: string, strings: string[]) => ({ name, type: AttributeType.STRINGS, strings: strings.map((x) => utf8.encode(x)) }),
};

function floatTensor(name: string, dims: number[], values: number[]): Record<string, unknown> {
  return { name, dims, data_type: TensorDataType.FLOAT, float_data: values };
}

function floatValueInfo(name: string, dims: (number | string)[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: TensorDataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, unknown>[] = [], domain = ''): Record<string, unknown> {
  return { op_type: op, domain, input: inputs, output: outputs, name: outputs[0], attribute: attrs };
}

/** The post-transform nodes, their constants, and the outputs after `raw`. */
function postTransform(
  post: PostTransform,
  e: Ensemble,
): { nodes: Record<string, unknown>[]; init: Record<string, unknown>[]; outputs: Record<string, unknown>[] } {
  const oneTarget = (kind: string) => {
    if (e.nTargets !== 1) throw new Error(`post transform ${kind} needs one target, the ensemble has ${e.nTargets}`);
  };
  switch (post.kind) {
    case 'none':
      return { nodes: [], init: [], outputs: [] };
    case 'softmax':
      return {
        nodes: [node('Softmax', ['raw'], ['prob'], [attr.int('axis', 1)])],
        init: [],
        outputs: [floatValueInfo('prob', [ROWS, e.nTargets])],
      };
    case 'survival': {
      oneTarget('survival');
      const h = post.cumHazard;
      if (h.length === 0 || !h.every((v) => Number.isFinite(v) && v >= 0)) throw new Error('survival: cumHazard must be non-empty, finite and >= 0');
      // 1 − exp(−x) = 2·tanh(x/2) / (1 + tanh(x/2)): float32 Exp then Sub would leave only an absolute
      // error of ~6e-8, which is most of a small probability (a 7-day failure chance of 1e-5); this form
      // keeps float32 relative precision at every size.
      return {
        nodes: [
          node('Exp', ['raw'], ['hazard_ratio']),
          node('Mul', ['hazard_ratio', 'half_cum_hazard'], ['half_hazard']),
          node('Tanh', ['half_hazard'], ['tanh_half']),
          node('Add', ['tanh_half', 'tanh_half'], ['prob_num']),
          node('Add', ['tanh_half', 'one'], ['prob_den']),
          node('Div', ['prob_num', 'prob_den'], ['prob']),
        ],
        init: [
          floatTensor(
            'half_cum_hazard',
            [1, h.length],
            h.map((v) => v / 2),
          ),
          floatTensor('one', [], [1]),
        ],
        outputs: [floatValueInfo('prob', [ROWS, h.length])],
      };
    }
    case 'isolation': {
      oneTarget('isolation');
      if (!(Number.isFinite(post.c) && post.c > 0)) throw new Error(`isolation: c must be finite and > 0, got ${post.c}`);
      // 2^(−raw/c) = exp(raw · (−ln 2 / c)): one Mul and one Exp.
      return {
        nodes: [node('Mul', ['raw', 'neg_ln2_over_c'], ['log_score']), node('Exp', ['log_score'], ['score'])],
        init: [floatTensor('neg_ln2_over_c', [], [-Math.LN2 / post.c])],
        outputs: [floatValueInfo('score', [ROWS, 1])],
      };
    }
  }
}

/** The model as ONNX protobuf bytes. */
export function ensembleToOnnx(e: Ensemble, opts: OnnxExportOptions): Uint8Array {
  checkEnsemble(e, opts.featureNames);
  const reserved = new Set<string>(Object.values(META_KEYS));
  for (const k of Object.keys(opts.metadata ?? {})) {
    if (reserved.has(k)) throw new Error(`metadata key "${k}" is written by the exporter`);
  }

  const a: EnsembleAttributes = {
    nodes_treeids: [],
    nodes_nodeids: [],
    nodes_featureids: [],
    nodes_modes: [],
    nodes_values: [],
    nodes_truenodeids: [],
    nodes_falsenodeids: [],
    nodes_missing_value_tracks_true: [],
    target_treeids: [],
    target_nodeids: [],
    target_ids: [],
    target_weights: [],
  };
  const scored = new Set(e.trees.map((t) => t.target));
  const trees = [...e.trees];
  for (let k = 0; k < e.nTargets; k++) if (!scored.has(k)) trees.push(zeroTree(k));
  for (const [i, t] of trees.entries()) addTree(a, t, i, e);

  const ensembleNode = node(
    'TreeEnsembleRegressor',
    [INPUT_DOUBLE],
    ['raw'],
    [
      attr.int('n_targets', e.nTargets),
      attr.string('aggregate_function', 'SUM'),
      attr.string('post_transform', 'NONE'),
      attr.doubles('base_values_as_tensor', e.base),
      attr.ints('nodes_treeids', a.nodes_treeids),
      attr.ints('nodes_nodeids', a.nodes_nodeids),
      attr.ints('nodes_featureids', a.nodes_featureids),
      attr.strings('nodes_modes', a.nodes_modes),
      attr.doubles('nodes_values_as_tensor', a.nodes_values),
      attr.ints('nodes_truenodeids', a.nodes_truenodeids),
      attr.ints('nodes_falsenodeids', a.nodes_falsenodeids),
      attr.ints('nodes_missing_value_tracks_true', a.nodes_missing_value_tracks_true),
      attr.ints('target_treeids', a.target_treeids),
      attr.ints('target_nodeids', a.target_nodeids),
      attr.ints('target_ids', a.target_ids),
      attr.doubles('target_weights_as_tensor', a.target_weights),
    ],
    ML_DOMAIN,
  );
  const post = postTransform(opts.post, e);

  const metadata: Record<string, string> = {
    [META_KEYS.featureNames]: JSON.stringify(opts.featureNames),
    [META_KEYS.name]: opts.name,
    [META_KEYS.postTransform]: JSON.stringify(opts.post),
    ...opts.metadata,
  };
  const model = {
    ir_version: IR_VERSION,
    opset_import: [
      { domain: '', version: OPSET_ONNX },
      { domain: ML_DOMAIN, version: OPSET_ML },
    ],
    producer_name: PRODUCER_NAME,
    graph: {
      name: opts.name,
      node: [node('Cast', [INPUT], [INPUT_DOUBLE], [attr.int('to', TensorDataType.DOUBLE)]), ensembleNode, ...post.nodes],
      initializer: post.init,
      input: [floatValueInfo(INPUT, [ROWS, e.nFeatures])],
      output: [floatValueInfo('raw', [ROWS, e.nTargets]), ...post.outputs],
    },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
