// The load step between a model folder and its session: the decoder optimized for this CPU
// (tessera.model.optimize), made once in a worker thread and reused, or the file as it is, with why.
import { isEmbedded } from '../defaultModel';
import { optimizeOffThread, optimizeWorkerBeside } from '../inference/optimizer';
import { describeOptimization, madeBefore, optimizedPlace } from '../model/optimize/optimizeFolder';
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
  let p: OptimizeProgress | undefined;
  try {
    const place = optimizedPlace({ source: dir, from: m.precision });
    const made = madeBefore(place);
    if (made) return { onnxPath: made.onnxPath, note: `; reused: ${describeOptimization(made.report)}` };
    // Only a copy still to be made shows progress in the editor: a reused one is there at once.
    p = await progress?.(name);
    const r = await optimizeOffThread(
      place,
      { ...(p ? { onProgress: (d: number, t: number) => p!.report(d, t), signal: p.signal } : {}) },
      optimizeWorkerBeside(workerFile),
    );
    return { onnxPath: r.onnxPath, note: `; ${describeOptimization(r.report)}` };
  } catch (err) {
    return { onnxPath, note: `; not optimized (${err instanceof Error ? err.message : String(err)}): the file runs as it is` };
  } finally {
    p?.done();
  }
}
