// The load step between a model folder and its session: the decoder optimized for this CPU
// (tessera.model.optimize), made once in a worker thread and reused, or the file as it is, with why.
import { isEmbedded } from '../defaultModel';
import { optimizeOffThread, optimizeWorkerBeside } from '../inference/optimizer';
import { describeOptimization } from '../model/optimize/optimizeFolder';
import type { ModelSettings } from '../settings';

/** A progress report the editor shows while a model is optimized, with its cancel. */
export interface OptimizeProgress {
  report(done: number, total: number): void;
  done(): void;
  signal: AbortSignal;
}

export interface DecoderChoice {
  onnxPath: string;
  /** What was done to it, or why nothing was: for Show Server Info. */
  note: string;
}

/**
 * The decoder to load for `onnxPath` of `dir`: an optimized copy where the setting asks for one. The
 * embedded model runs as shipped: it is measured and tuned as it is (bench/llamacpp).
 */
export async function chooseDecoder(
  dir: string,
  onnxPath: string,
  m: ModelSettings,
  workerFile: string,
  progress?: (name: string) => Promise<OptimizeProgress | undefined>,
  name = dir,
): Promise<DecoderChoice> {
  if (!m.optimize || isEmbedded(dir)) return { onnxPath, note: '' };
  const p = await progress?.(name);
  try {
    const r = await optimizeOffThread(
      { source: dir, from: m.precision },
      { ...(p ? { onProgress: (d: number, t: number) => p.report(d, t), signal: p.signal } : {}) },
      optimizeWorkerBeside(workerFile),
    );
    return { onnxPath: r.onnxPath, note: `; ${r.reused ? 'reused: ' : ''}${describeOptimization(r.report)}` };
  } catch (err) {
    return { onnxPath, note: `; not optimized (${err instanceof Error ? err.message : String(err)}): the file runs as it is` };
  } finally {
    p?.done();
  }
}
