// Opening a model's decoder: the logits checked against config.json, then the in-place cache tried
// and kept only if it gives the logits the copying path gives for the same runs.
import { BindingDecoder } from './bindingDecoder';
import type { ModelConfig } from './config';
import type { Decoder, Engine } from './decoder';
import { NativeDecoder } from './nativeDecoder';
import { DecoderSession } from './session';

/** The most positions an in-place cache preallocates (the service fits its prompts to the capacity). */
const MAX_CAPACITY = 4096;

export interface OpenedDecoder {
  decoder: Decoder;
  /** Why the cache is copied, when it is. */
  copiedBecause?: string;
}

/**
 * Opens the decoder at `onnxPath`: checks its logits against config.json, then tries the in-place
 * cache and keeps it if it gives the logits the copying path gives for the same runs.
 */
export async function openDecoder(
  onnxPath: string,
  config: ModelConfig,
  options: { threads: number; engine?: Engine; spinning?: boolean },
): Promise<OpenedDecoder> {
  const session = await DecoderSession.open(onnxPath, config, { threads: options.threads });
  // The check's sequence, cut into the pieces the in-place cache will be fed (4 + 1 + 1): int8 exports
  // quantize activations per run, so only the same cut gives the same logits.
  const ids = Array.from({ length: 6 }, (_, i) => (i * 7 + 3) % config.vocabSize);
  const first = await session.run(ids.slice(0, 4));
  if (first.logits.length !== 4 * config.vocabSize) {
    await session.release();
    throw new Error(`the decoder gives ${first.logits.length / 4} logits per token but config.json says vocab_size ${config.vocabSize}`);
  }
  const logProbs = normalized(first.logits, config.vocabSize);
  const binding = new BindingDecoder(session, logProbs);
  if (options.engine === 'binding') return { decoder: binding, copiedBecause: 'the onnxruntime-node engine was asked for' };
  const second = await session.run(ids.slice(4, 5), first.cache);
  const third = await session.run(ids.slice(5), second.cache);
  const reference = [first.logits, second.logits, third.logits];
  let native: NativeDecoder | undefined;
  try {
    native = NativeDecoder.open(onnxPath, config, session.layout, {
      threads: options.threads,
      ...(options.spinning === false ? { spinning: false } : {}),
      capacity: Math.min(config.maxPositions, MAX_CAPACITY),
      logProbs,
    });
    const diff = inPlaceDisagreement(native, ids, reference);
    let scale = 1;
    for (const row of reference) for (const x of row) scale = Math.max(scale, Math.abs(x));
    const tolerance = (session.layout.cacheType === 'float16' ? 2e-2 : 1e-3) * scale;
    if (!(diff <= tolerance)) throw new Error(`its logits differ from the copying path's by ${diff.toPrecision(2)}`);
  } catch (err) {
    await native?.release();
    return { decoder: binding, copiedBecause: `no in-place cache: ${err instanceof Error ? err.message : String(err)}` };
  }
  await session.release();
  return { decoder: native };
}

/** Whether every row of `logits` already sums to one under exp (log-softmax outputs). */
function normalized(logits: Float32Array, vocab: number): boolean {
  for (let r = 0; r < logits.length / vocab; r++) {
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    let sum = 0;
    for (const x of row) sum += Math.exp(x);
    if (!(Math.abs(Math.log(sum)) < 1e-4)) return false;
  }
  return true;
}

/**
 * Largest logit difference between the copying path and the in-place cache fed the same pieces of
 * `ids`, after stale positions were left behind (what a rejected draft or a new prompt leaves).
 */
function inPlaceDisagreement(native: NativeDecoder, ids: number[], reference: Float32Array[]): number {
  native.runSync([ids[5]!, ids[5]!, ids[5]!, ids[5]!, ids[5]!], 0, 1);
  let diff = 0;
  const pieces: Array<[number[], number]> = [
    [ids.slice(0, 4), 0],
    [ids.slice(4, 5), 4],
    [ids.slice(5), 5],
  ];
  pieces.forEach(([piece, past], k) => {
    const r = native.runSync(piece, past, piece.length); // valid until the next run: compared now
    const ref = reference[k]!;
    if (r.length !== ref.length) diff = Infinity;
    for (let j = 0; j < r.length; j++) diff = Math.max(diff, Math.abs(r[j]! - ref[j]!));
  });
  return diff;
}
