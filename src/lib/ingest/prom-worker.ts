/**
 * Worker thread: parses exposition-text tasks into its own staging files (see prom-text.ts) and
 * sends the row batches to the main thread, transferring their buffers (no copy).
 */
import { parentPort, threadId } from 'node:worker_threads';
import type { Batch } from './batches.js';
import { openStaging, closeStaging, type StagingFiles } from './staging.js';
import { parsePromTask, type PromTask } from './prom-text.js';

const sendBatch = (batch: Batch): void => parentPort!.postMessage({ type: 'batch', batch }, [batch.data.buffer as ArrayBuffer]);

export type WorkerRequest = { type: 'task'; id: number; task: PromTask; stagingDir: string } | { type: 'close' };

let staging: StagingFiles | null = null;

parentPort!.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'close') {
    if (staging) closeStaging(staging);
    staging = null;
    parentPort!.postMessage({ type: 'closed' });
    return;
  }
  staging ??= openStaging(msg.stagingDir, `w${threadId}`);
  parsePromTask(msg.task, staging, sendBatch).then(
    (result) => parentPort!.postMessage({ type: 'result', id: msg.id, result }),
    (e: unknown) => parentPort!.postMessage({ type: 'error', id: msg.id, message: (e as Error).message }),
  );
});
