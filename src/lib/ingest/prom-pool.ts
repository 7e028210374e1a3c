/**
 * Runs exposition-text tasks on worker threads (one per core) or, for small inputs and when running
 * from TypeScript sources (tests), in this thread. Both paths run the same parser.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Batch, BatchSink } from './batches.js';
import { closeStaging, openStaging } from './staging.js';
import { parsePromTask, type PromResult, type PromTask } from './prom-text.js';

const WORKER_URL = new URL('./prom-worker.js', import.meta.url);
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

export interface PoolOptions {
  stagingDir: string;
  threads: number;
  /** Receives the row batches, in this thread, in the order each task produced them. */
  onBatch: BatchSink;
  onResult?: (index: number, result: PromResult) => void;
}

export function defaultParseThreads(): number {
  const env = Number(process.env.GPUHEALTH_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/** Results in task order. */
export async function runPromTasks(tasks: readonly PromTask[], opts: PoolOptions): Promise<PromResult[]> {
  const results: PromResult[] = new Array(tasks.length);
  const threads = RUNNING_FROM_SOURCE ? 1 : Math.min(opts.threads, tasks.length);
  if (threads <= 1) {
    const staging = openStaging(opts.stagingDir, 'main-prom');
    try {
      for (let i = 0; i < tasks.length; i++) {
        results[i] = await parsePromTask(tasks[i]!, staging, opts.onBatch);
        opts.onResult?.(i, results[i]!);
      }
    } finally {
      closeStaging(staging);
    }
    return results;
  }
  let next = 0;
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_URL));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const dispatch = (): void => {
              if (next >= tasks.length) {
                w.postMessage({ type: 'close' });
                return;
              }
              const id = next++;
              w.postMessage({ type: 'task', id, task: tasks[id], stagingDir: opts.stagingDir });
            };
            w.on('message', (msg: { type: string; id: number; result?: PromResult; message?: string; batch?: Batch }) => {
              if (msg.type === 'batch') {
                // a failure here (DuckDB refusing the rows) fails the run, not the process
                try {
                  opts.onBatch(msg.batch!);
                } catch (e) {
                  reject(e as Error);
                }
              } else if (msg.type === 'result') {
                results[msg.id] = msg.result!;
                opts.onResult?.(msg.id, msg.result!);
                dispatch();
              } else if (msg.type === 'error') reject(new Error(`${tasks[msg.id]!.displayName}: ${msg.message}`));
              else if (msg.type === 'closed') resolve();
            });
            w.on('error', reject);
            w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`parser worker exited with code ${code}`))));
            dispatch();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
