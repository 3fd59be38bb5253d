// A worker thread that runs the optimizer (model/optimize): seconds to minutes of CPU on a real model,
// kept off the language server's thread. Posts progress, then the result or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { type OptimizeRequest, optimizeFolder } from '../model/optimize/optimizeFolder';

const port = parentPort;
if (port) {
  try {
    const req = workerData as Omit<OptimizeRequest, 'onProgress' | 'signal'>;
    const result = optimizeFolder({ ...req, onProgress: (done, total) => port.postMessage({ kind: 'progress', done, total }) });
    port.postMessage({ kind: 'done', result });
  } catch (err) {
    port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}
