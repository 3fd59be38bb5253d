// The server's handle on the optimizer: runs it in its own worker thread (optimizeWorker.ts) with
// progress, and stops it on cancel, removing what it had half-written.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makeOptimized, type OptimizePlace, type OptimizeResult } from '../model/optimize/optimizeFolder';

export interface OptimizeRun {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Makes the optimized copy for `place` in a worker thread beside `workerFile` (dist/optimizeWorker.js),
 * or, where there is no worker bundle (tests), here. Reusing a copy made before is the caller's (madeBefore).
 */
export function optimizeOffThread(place: OptimizePlace, run: OptimizeRun, workerFile: string): Promise<OptimizeResult> {
  if (!existsSync(workerFile)) return Promise.resolve().then(() => makeOptimized(place, run));
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: place });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      run.signal?.removeEventListener('abort', abort);
      f();
    };
    const abort = () => {
      void worker.terminate().then(() => rmSync(place.partial, { recursive: true, force: true }));
      finish(() => reject(new Error('the optimization was cancelled')));
    };
    run.signal?.addEventListener('abort', abort);
    worker.on(
      'message',
      (
        m:
          | { kind: 'progress'; done: number; total: number }
          | { kind: 'done'; result: OptimizeResult }
          | { kind: 'error'; message: string },
      ) => {
        if (m.kind === 'progress') run.onProgress?.(m.done, m.total);
        else if (m.kind === 'done') finish(() => resolve(m.result));
        else finish(() => reject(new Error(m.message)));
      },
    );
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the optimizer stopped (exit code ${code})`))));
  });
}

/** dist/optimizeWorker.js beside the inference worker's bundle. */
export const optimizeWorkerBeside = (inferenceWorker: string): string => join(dirname(inferenceWorker), 'optimizeWorker.js');
