// The server's handle on the inference worker: loads a model there, sends requests, and keeps only the
// newest one alive (a request superseded or cancelled resolves to null at once, and the worker stops
// it between two decoding steps). A crashed worker is reported and replaced on the next load.
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Generation } from '../generation/generate';
import type { InferenceLoad } from '../lsp_ext';
import type { ModelConfig } from '../model/config';
import type { Engine } from '../model/decoder';
import type { PackedTokenTable } from '../tokenizer/tokenTable';
import type { FromWorker, GenerateRequest, ModelInfo, ToWorker } from './protocol';

export interface HostResult {
  generation: Generation;
  /** The prompt as it ran (after token healing's back-off). */
  prompt: number[];
  /** Time in the worker, from receiving the request to its result. */
  workerMs: number;
}

/** What the worker runs: the decoder file, its config, the tokenizer's vocabulary bytes. */
export interface WorkerModel {
  onnxPath: string;
  config: ModelConfig;
  vocabulary: PackedTokenTable;
}

interface Pending {
  resolve: (r: HostResult | null) => void;
  reject: (e: Error) => void;
  /** Fires when the worker has said nothing about this request far past its time limit. */
  watchdog: NodeJS.Timeout;
}

/**
 * How long a request may go unanswered before its worker counts as hung: decoding stops itself at
 * the time limit, so only one model pass that never returns (or a native deadlock) gets this far.
 */
export const hungAfterMs = (timeLimitMs: number): number => Math.max(10_000, 5 * timeLimitMs);

export class ModelHost {
  private worker: Worker | undefined;
  private readonly latest = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private loading: { resolve: (i: ModelInfo) => void; reject: (e: Error) => void } | undefined;
  info: ModelInfo | undefined;

  constructor(
    private readonly workerFile = join(__dirname, 'worker.js'),
    private readonly onCrash: (message: string) => void = () => undefined,
  ) {}

  async load(model: WorkerModel, threads: number, engine: Engine = 'auto'): Promise<ModelInfo> {
    await this.dispose();
    const worker = new Worker(this.workerFile);
    this.worker = worker;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(worker, `the inference worker failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(worker, `the inference worker exited (code ${code})`));
    const info = await new Promise<ModelInfo>((resolve, reject) => {
      this.loading = { resolve, reject };
      this.post({ type: 'load', ...model, threads, engine, latest: this.latest.buffer as SharedArrayBuffer });
    });
    this.info = info;
    return info;
  }

  /** What the host holds now: whether a worker runs, and requests not yet answered by it. */
  get inFlight(): InferenceLoad {
    return { workers: this.worker ? 1 : 0, pendingRequests: this.pending.size };
  }

  get ready(): boolean {
    return this.worker !== undefined && this.info !== undefined;
  }

  /** Runs `request`, superseding any earlier one; null if it was superseded or cancelled itself. */
  generate(request: GenerateRequest): { id: number; result: Promise<HostResult | null> } {
    const id = this.nextId++;
    Atomics.store(this.latest, 0, id);
    for (const [old, p] of this.pending) {
      if (old !== id) p.resolve(null);
    }
    const result = new Promise<HostResult | null>((resolve, reject) => {
      if (!this.ready) {
        reject(new Error('no model loaded'));
        return;
      }
      const watchdog = setTimeout(() => this.hung(id, request.timeLimitMs), hungAfterMs(request.timeLimitMs)).unref();
      this.pending.set(id, { resolve, reject, watchdog });
      this.post({ type: 'generate', id, request });
    });
    return { id, result };
  }

  /** Stops request `id` if it is the one running or waiting. */
  cancel(id: number): void {
    if (Atomics.load(this.latest, 0) === id) Atomics.store(this.latest, 0, 0);
    this.pending.get(id)?.resolve(null);
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'loaded':
        this.loading?.resolve(m.info);
        this.loading = undefined;
        return;
      case 'load-error':
        this.loading?.reject(new Error(m.message));
        this.loading = undefined;
        void this.dispose();
        return;
      case 'result':
      case 'error': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        clearTimeout(p.watchdog);
        if (m.type === 'error') p.reject(new Error(m.message));
        else p.resolve(m.generation.stoppedBy === 'cancelled' ? null : { generation: m.generation, prompt: m.prompt, workerMs: m.ms });
      }
    }
  }

  /** Request `id` got no answer long past its time limit: the worker is stopped (it reloads on the next load). */
  private hung(id: number, timeLimitMs: number): void {
    const worker = this.worker;
    if (!worker || !this.pending.has(id)) return;
    this.fail(
      worker,
      `a model pass ran over ${hungAfterMs(timeLimitMs) / 1000} s (the completion time limit is ${timeLimitMs} ms): the model was stopped`,
    );
    void worker.terminate();
  }

  private fail(worker: Worker, message: string): void {
    if (this.worker !== worker) return; // an old worker, already replaced
    this.worker = undefined;
    this.info = undefined;
    const err = new Error(message);
    this.loading?.reject(err);
    this.loading = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.watchdog);
      p.reject(err);
    }
    this.pending.clear();
    this.onCrash(message);
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.info = undefined;
    this.loading?.reject(new Error('the model load was superseded'));
    this.loading = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.watchdog);
      p.resolve(null);
    }
    this.pending.clear();
    if (!worker) return;
    // The worker frees the model's native memory itself (terminating it would leak that), after the
    // running request stops between two steps; a worker that does not exit in time is terminated.
    Atomics.store(this.latest, 0, 0);
    worker.postMessage({ type: 'dispose' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([once(worker, 'exit'), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }
}
