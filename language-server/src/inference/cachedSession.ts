// A decoder that remembers the sequence its KV cache holds, so each request re-runs only the tokens
// after the longest prefix it shares with that sequence (prompt and last completion included).
import type { SequenceModel } from '../generation/generate';
import type { Decoder } from '../model/decoder';
import { commonPrefix } from '../model/kvCache';
import type { TokenTree } from '../model/treeAttention';

export interface Prefill {
  /** Logits of the prompt's last position. */
  logits: Float32Array;
  /** Tokens actually run (the rest came from the cache). */
  ran: number;
  reused: number;
}

export class CachedSession implements SequenceModel {
  private ids: number[] = [];
  /** The tree the last extendTree ran, until keepBranch takes its accepted branch. */
  private tree: readonly number[] | null = null;

  constructor(readonly decoder: Decoder) {}

  get vocabSize(): number {
    return this.decoder.config.vocabSize;
  }

  get logProbs(): boolean {
    return this.decoder.logProbs;
  }

  get capacity(): number {
    return this.decoder.capacity;
  }

  /** Runs the prompt after the prefix the cache already holds (none with `reuse` off, to measure it). */
  async prefill(prompt: readonly number[], reuse = true): Promise<Prefill> {
    // At least the last prompt token runs: its logits are the first prediction.
    const keep = reuse ? Math.min(commonPrefix(this.ids, prompt), prompt.length - 1) : 0;
    this.invalidate(); // if the run throws, nothing stale is left behind
    const logits = await this.decoder.run(prompt.slice(keep), keep, 1);
    this.ids = prompt.slice();
    return { logits, ran: prompt.length - keep, reused: keep };
  }

  /** Appends one token, returns the next position's logits. */
  step(id: number): Promise<Float32Array> {
    return this.extend([id]);
  }

  /** Runs several tokens at once (drafts to verify); returns the logits of each new position. */
  async extend(ids: readonly number[]): Promise<Float32Array> {
    if (!this.ids.length) throw new Error('extend before prefill');
    const before = this.ids;
    this.invalidate();
    const logits = await this.decoder.run(ids, before.length, ids.length);
    before.push(...ids);
    this.ids = before;
    return logits;
  }

  /** The decoder verifies draft trees in one pass (extendTree). */
  get trees(): boolean {
    return this.decoder.trees;
  }

  /**
   * Runs a draft tree after the sequence (node 0 is the next token), each node seeing its ancestors
   * only; returns every node's logits. The sequence is unchanged until keepBranch.
   */
  async extendTree(tree: TokenTree): Promise<Float32Array> {
    if (!this.ids.length) throw new Error('extendTree before prefill');
    const before = this.ids;
    this.invalidate();
    const logits = await this.decoder.runTree(tree, before.length);
    this.ids = before;
    this.tree = tree.ids;
    return logits;
  }

  /** After extendTree: the sequence goes on with the nodes `branch` (root first), the others dropped. */
  keepBranch(branch: readonly number[]): void {
    const tree = this.tree;
    if (!tree) throw new Error('keepBranch without a tree');
    this.tree = null;
    this.decoder.keepBranch(this.ids.length, branch);
    for (const node of branch) this.ids.push(tree[node]!);
  }

  /** Keeps the first `length` tokens (drops rejected drafts); the decoder cuts its cache on the next run. */
  rewind(length: number): void {
    if (length < this.ids.length) this.ids.length = length;
  }

  /** The same session, each prompt prefilled from nothing (the cache is one: requests take turns). */
  withoutReuse(): SequenceModel {
    const session = this;
    return {
      prefill: (prompt) => this.prefill(prompt, false),
      step: (id) => this.step(id),
      extend: (ids) => this.extend(ids),
      rewind: (length) => this.rewind(length),
      extendTree: (tree) => this.extendTree(tree),
      keepBranch: (branch) => this.keepBranch(branch),
      trees: this.trees,
      logProbs: this.logProbs,
      capacity: this.capacity,
      get length() {
        return session.length;
      },
    };
  }

  get length(): number {
    return this.ids.length;
  }

  invalidate(): void {
    this.ids = [];
    this.tree = null;
  }
}
