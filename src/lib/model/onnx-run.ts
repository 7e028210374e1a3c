/**
 * Runs an ONNX model written by onnx-export.ts with onnxruntime-node (CPU). onnxruntime does not
 * expose a model's metadata_props, so the file is also decoded with the same protobufjs schema: that
 * gives the feature names, and checks the file is an ONNX model before onnxruntime sees it.
 */
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { META_KEYS } from './onnx-export.js';
import { ModelHeader } from './onnx-schema.js';

export interface OnnxModel {
  inputName: string;
  outputNames: string[];
  /** The input's columns, in order, as the exporter stored them. */
  featureNames: string[];
  metadata: Record<string, string>;
  /** Runs `n` rows of `featureNames.length` values each, row-major; returns each output, row-major. */
  run(X: Float32Array, n: number): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

/**
 * One intra-op thread. Measured on a 2-core machine, 10,000 rows through 300 depth-5 trees: about
 * 125 ms on one thread, 210-230 ms on two and 170-210 ms with onnxruntime's default pool; the trees
 * are too cheap per row for the pool's hand-offs to pay, and the CLI's DuckDB wants the cores too.
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // onnxruntime's own log would repeat on stderr what the thrown error already says
  logSeverityLevel: 4,
};

interface DecodedModel {
  graph?: { input?: { name?: string; type?: { tensor_type?: { shape?: { dim?: { dim_value?: unknown }[] } } } }[] };
  metadata_props?: { key?: string; value?: string }[];
}

function decode(bytes: Uint8Array, label: string): DecodedModel {
  let decoded: DecodedModel;
  try {
    decoded = ModelHeader.toObject(ModelHeader.decode(bytes), { longs: Number, defaults: false }) as DecodedModel;
  } catch (err) {
    throw new Error(`ONNX model ${label}: not an ONNX file (${(err as Error).message})`);
  }
  if (!decoded.graph?.input?.length) throw new Error(`ONNX model ${label}: not an ONNX file (no graph, or a graph without inputs)`);
  return decoded;
}

function featureNamesOf(metadata: Record<string, string>, label: string): string[] {
  const raw = metadata[META_KEYS.featureNames];
  if (raw === undefined) throw new Error(`ONNX model ${label}: no "${META_KEYS.featureNames}" in its metadata (not a model gpuhealth wrote?)`);
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    names = null;
  }
  if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) {
    throw new Error(`ONNX model ${label}: metadata "${META_KEYS.featureNames}" is not a JSON list of names`);
  }
  return names;
}

/** Loads a model from a file path or from its bytes; errors name the file and what is wrong with it. */
export async function loadOnnx(pathOrBytes: string | Uint8Array): Promise<OnnxModel> {
  const label = typeof pathOrBytes === 'string' ? pathOrBytes : '(in memory)';
  let bytes: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    try {
      bytes = await readFile(pathOrBytes);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new Error(`ONNX model ${label}: cannot read it (${why})`);
    }
  } else {
    bytes = pathOrBytes;
  }

  const decoded = decode(bytes, label);
  const metadata: Record<string, string> = {};
  for (const { key, value } of decoded.metadata_props ?? []) if (key !== undefined) metadata[key] = value ?? '';
  const featureNames = featureNamesOf(metadata, label);
  const input = decoded.graph!.input![0]!;
  const width = input.type?.tensor_type?.shape?.dim?.[1]?.dim_value;
  if (typeof width === 'number' && width !== featureNames.length) {
    throw new Error(`ONNX model ${label}: its input has ${width} columns but its metadata names ${featureNames.length} features`);
  }

  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (err) {
    throw new Error(`ONNX model ${label}: onnxruntime cannot load it (${(err as Error).message})`);
  }
  const inputName = session.inputNames[0]!;
  const outputNames = [...session.outputNames];
  const nFeatures = featureNames.length;

  return {
    inputName,
    outputNames,
    featureNames,
    metadata,
    async run(X, n) {
      if (!Number.isInteger(n) || n < 0 || X.length !== n * nFeatures) {
        throw new Error(`ONNX model ${label}: ${X.length} values are not ${n} rows of ${nFeatures} features`);
      }
      const results = await session.run({ [inputName]: new Tensor('float32', X, [n, nFeatures]) });
      const out: Record<string, Float32Array> = {};
      for (const name of outputNames) {
        const t = results[name];
        if (t?.type !== 'float32') throw new Error(`ONNX model ${label}: output ${name} is ${t?.type ?? 'missing'}, not float32`);
        out[name] = t.data as Float32Array;
      }
      return out;
    },
    async close() {
      await session.release();
    },
  };
}
