// A worker thread that runs the optimizer (model/optimize): seconds to minutes of CPU on a real model,
// kept off the language server's thread. Posts progress, then the result or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { makeOptimized, type OptimizePlace } from '../model/optimize/optimizeFolder';

const port = parentPort;
if (port) {
  try {
    // The place the server worked out (its key, the source it read): the work is not done twice.
    const place = workerData as OptimizePlace;
    const result = makeOptimized(place, { onProgress: (done, total) => port.postMessage({ kind: 'progress', done, total }) });
    port.postMessage({ kind: 'done', result });
  } catch (err) {
    port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}
