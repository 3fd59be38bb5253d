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
  /**
   * Keeps the first `past` cached positions, runs `ids` after them, and returns the logits of the last
   * `rows` new positions, row-major [rows, vocab].
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

  constructor(readonly session: DecoderSession) {}

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
 * cache and keeps it if a run through it gives the same logits as one plain pass.
 */
export async function openDecoder(onnxPath: string, config: ModelConfig, options: { threads: number; engine?: Engine }): Promise<OpenedDecoder> {
  const session = await DecoderSession.open(onnxPath, config, { threads: options.threads });
  const ids = Array.from({ length: 6 }, (_, i) => (i * 7 + 3) % config.vocabSize);
  const reference = await session.run(ids);
  if (reference.logits.length !== ids.length * config.vocabSize) {
    await session.release();
    throw new Error(`the decoder gives ${reference.logits.length / ids.length} logits per token but config.json says vocab_size ${config.vocabSize}`);
  }
  if (options.engine === 'binding') return { decoder: new BindingDecoder(session), copiedBecause: 'the onnxruntime-node engine was asked for' };
  let native: NativeDecoder | undefined;
  try {
    native = NativeDecoder.open(onnxPath, config, session.layout, { threads: options.threads, capacity: Math.min(config.maxPositions, MAX_CAPACITY) });
    const diff = inPlaceDisagreement(native, ids, reference.logits, config.vocabSize);
    let scale = 1;
    for (const x of reference.logits) scale = Math.max(scale, Math.abs(x));
    const tolerance = (session.layout.cacheType === 'float16' ? 2e-2 : 1e-3) * scale;
    if (!(diff <= tolerance)) throw new Error(`its logits differ from a plain pass by ${diff.toPrecision(2)}`);
  } catch (err) {
    await native?.release();
    return { decoder: new BindingDecoder(session), copiedBecause: `no in-place cache: ${err instanceof Error ? err.message : String(err)}` };
  }
  await session.release();
  return { decoder: native };
}

/**
 * Largest logit difference between a plain pass over `ids` and the in-place cache fed the same tokens
 * in pieces, after stale positions were left behind (what a rejected draft or a new prompt leaves).
 */
function inPlaceDisagreement(native: NativeDecoder, ids: number[], reference: Float32Array, vocab: number): number {
  native.runSync([ids[5]!, ids[5]!, ids[5]!, ids[5]!, ids[5]!], 0, 1);
  const rows = [native.runSync(ids.slice(0, 4), 0, 4), native.runSync([ids[4]!], 4, 1), native.runSync([ids[5]!], 5, 1)];
  let diff = 0;
  let offset = 0;
  for (const r of rows) {
    for (let j = 0; j < r.length; j++) diff = Math.max(diff, Math.abs(r[j]! - reference[offset + j]!));
    offset += r.length;
  }
  return offset === ids.length * vocab ? diff : Infinity;
}
