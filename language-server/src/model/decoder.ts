// What the decoding loop runs a model through: a decoder holding its own KV cache. Two kinds:
//   NativeDecoder   the cache stays in onnxruntime's memory and grows in place (C API, nativeDecoder.ts)
//   BindingDecoder  onnxruntime-node; the cache is a set of tensors that cross the binding on each run
// openDecoder.ts picks one for a model.
import type { ModelConfig } from './config';
import type { SessionLayout } from './session';

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
