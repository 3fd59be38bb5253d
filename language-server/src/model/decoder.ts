// What the decoding loop runs a model through: a decoder holding its own KV cache. Two kinds:
//   NativeDecoder   the cache stays in onnxruntime's memory and grows in place (C API, nativeDecoder.ts)
//   BindingDecoder  onnxruntime-node; the cache is a set of tensors that cross the binding on each run
// openDecoder prefers the first and keeps it only if its logits agree with the second's.
import { truncateCache } from './kvCache';
import type { ModelConfig } from './config';
import { NativeDecoder } from './nativeDecoder';
import { DecoderSession, type KvCache, type SessionLayout } from './session';

export interface Decoder {
  readonly config: ModelConfig;
  /** Most positions the cache holds. */
  readonly capacity: number;
  readonly cacheMode: 'in-place' | 'copied';
  readonly layout: SessionLayout;
  /** The export's logits are log-softmax normalized: a row's entry is the token's log-probability. */
  readonly logProbs: boolean;
  /**
   * Keeps the first `past` cached positions, runs `ids` after them, and returns the logits of the last
   * `rows` new positions, row-major [rows, vocab], valid until the next run.
   */
  run(ids: readonly number[], past: number, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export type Engine = 'auto' | 'binding';

/** Beyond this many positions the in-place cache is not preallocated (the service fits prompts to it). */
export const MAX_CAPACITY = 4096;

export class BindingDecoder implements Decoder {
  readonly cacheMode = 'copied' as const;
  private cache: KvCache | null = null;

  constructor(readonly session: DecoderSession, readonly logProbs = false) {}

  get config(): ModelConfig {
    return this.session.config;
  }

  get capacity(): number {
    return this.session.config.maxPositions;
  }

  get layout(): SessionLayout {
    return this.session.layout;
  }

  async run(ids: readonly number[], past: number, rows: number): Promise<Float32Array> {
    let cache = past > 0 ? this.cache : null;
    if (past > 0 && (!cache || cache.length < past)) throw new Error(`the cache holds ${cache?.length ?? 0} positions, not ${past}`);
    if (cache && cache.length > past) cache = truncateCache(this.session.tensorClass, this.session.layout, cache, past);
    this.cache = null; // if the run throws, nothing stale is left behind
    const r = await this.session.run(ids, cache ?? undefined);
    this.cache = r.cache;
    return r.logits.subarray((r.positions - rows) * (r.logits.length / r.positions));
  }

  release(): Promise<void> {
    this.cache = null;
    return this.session.release();
  }
}

export interface OpenedDecoder {
  decoder: Decoder;
  /** Why the cache is copied, when it is. */
  copiedBecause?: string;
}

/**
 * Opens the decoder at `onnxPath`: checks its logits against config.json, then tries the in-place
 * cache and keeps it if it gives the logits the copying path gives for the same runs.
 */
export async function openDecoder(onnxPath: string, config: ModelConfig, options: { threads: number; engine?: Engine }): Promise<OpenedDecoder> {
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
    native = NativeDecoder.open(onnxPath, config, session.layout, { threads: options.threads, capacity: Math.min(config.maxPositions, MAX_CAPACITY), logProbs });
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
  const pieces: Array<[number[], number]> = [[ids.slice(0, 4), 0], [ids.slice(4, 5), 4], [ids.slice(5), 5]];
  pieces.forEach(([piece, past], k) => {
    const r = native.runSync(piece, past, piece.length); // valid until the next run: compared now
    const ref = reference[k]!;
    if (r.length !== ref.length) diff = Infinity;
    for (let j = 0; j < r.length; j++) diff = Math.max(diff, Math.abs(r[j]! - ref[j]!));
  });
  return diff;
}
