// What the decoding loop runs a model through: a decoder holding its own KV cache. Two kinds:
//   NativeDecoder   the cache stays in onnxruntime's memory and grows in place (C API, nativeDecoder.ts)
//   BindingDecoder  onnxruntime-node; the cache is a set of tensors that cross the binding on each run
// openDecoder.ts picks one for a model.
import type { ModelConfig } from './config';
import type { SessionLayout } from './session';
import type { TokenTree } from './treeAttention';

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
   * `rows` new positions, row-major [rows, vocab], valid until the next run. With `groups` (exports that
   * merge) token i pools into new position groups[i] (session.ts positionsOf): fewer positions than ids.
   */
  run(ids: readonly number[], past: number, rows: number, groups?: ArrayLike<number>): Promise<Float32Array>;
  /** The export takes token groups: an identifier's subtokens can share one position (run's `groups`). */
  readonly merges: boolean;
  /** The export takes an attention bias: runTree verifies a draft tree in one pass. */
  readonly trees: boolean;
  /**
   * Keeps the first `past` cached positions and runs `tree` after them, each node attending to its
   * ancestors only; returns every node's logits [nodes, vocab], valid until the next run.
   */
  runTree(tree: TokenTree, past: number): Promise<Float32Array>;
  /**
   * After runTree at `past`: keeps the first `past` positions and then the nodes `nodes` (a branch, root
   * first), as if only they had run; the other nodes are gone.
   */
  keepBranch(past: number, nodes: readonly number[]): void;
  release(): Promise<void>;
}

export type Engine = 'auto' | 'binding';
