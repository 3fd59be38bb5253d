// A decoder that remembers the sequence its KV cache holds, so each request re-runs only the tokens
// after the longest prefix it shares with that sequence (prompt and last completion included).
import type { SequenceModel } from '../generation/generate';
import type { Decoder } from '../model/decoder';
import { commonPrefix } from '../model/kvCache';
import type { TokenTree } from '../model/treeAttention';
import { groupsOf, type MergedRun } from '../syntax/merging';

export interface Prefill {
  /** Logits of the prompt's last position. */
  logits: Float32Array;
  /** Tokens actually run (the rest came from the cache). */
  ran: number;
  reused: number;
}

export class CachedSession implements SequenceModel {
  /** What each cached position holds: a token id, or a merged group's key (GroupKeys). */
  private ids: number[] = [];
  private readonly groupKeys = new GroupKeys();
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

  /** The export pools token groups: prefill takes `groups`. */
  get merges(): boolean {
    return this.decoder.merges;
  }

  /**
   * Runs the prompt after the prefix the cache already holds (none with `reuse` off, to measure it).
   * With `groups` (merging exports) prompt token i pools into position groups[i]; ran and reused then
   * count positions.
   */
  async prefill(prompt: readonly number[], reuse = true, groups?: ArrayLike<number>): Promise<Prefill> {
    const keys = groups ? this.groupKeys.of(prompt, groups) : prompt;
    // At least the last position runs: its logits are the first prediction.
    const keep = reuse ? Math.min(commonPrefix(this.ids, keys), keys.length - 1) : 0;
    this.invalidate(); // if the run throws, nothing stale is left behind
    let logits: Float32Array;
    if (groups) {
      let from = 0;
      while (groups[from]! < keep) from++;
      const local = Array.from({ length: prompt.length - from }, (_, i) => groups[from + i]! - keep);
      logits = await this.decoder.run(prompt.slice(from), keep, 1, local);
    } else logits = await this.decoder.run(prompt.slice(keep), keep, 1);
    this.ids = keys.slice();
    return { logits, ran: keys.length - keep, reused: keep };
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
    return this.forRequest({ reuse: false });
  }

  /**
   * The same session as one request sees it: prompts prefilled from nothing unless `reuse`, and, on a
   * merging export, `runs` (prompt token indices) each pooled into one position; runs a prompt does not
   * hold whole (healing took its last tokens) stay unmerged.
   */
  forRequest(o: { reuse: boolean; runs?: readonly MergedRun[] }): SequenceModel {
    const runs = this.merges && o.runs?.length ? o.runs : undefined;
    if (o.reuse && !runs) return this;
    const session = this;
    const groups = (prompt: readonly number[]) =>
      runs &&
      groupsOf(
        prompt.length,
        runs.filter((r) => r.last < prompt.length),
      );
    return {
      prefill: (prompt) => this.prefill(prompt, o.reuse, groups(prompt)),
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

/**
 * Keys for positions: a single token's is its id; a merged group's is a negative number naming its ids,
 * so a cached merged identifier matches only the same identifier merged the same way.
 */
class GroupKeys {
  private readonly names = new Map<string, number>();
  /** Keys are never reused, not even after the map is cleared: a stale cached key then matches nothing. */
  private next = 0;

  of(ids: readonly number[], groups: ArrayLike<number>): number[] {
    const keys: number[] = [];
    let i = 0;
    while (i < ids.length) {
      let j = i + 1;
      while (j < ids.length && groups[j] === groups[i]) j++;
      keys.push(j - i === 1 ? ids[i]! : this.key(ids.slice(i, j).join(',')));
      i = j;
    }
    return keys;
  }

  private key(name: string): number {
    let k = this.names.get(name);
    if (k === undefined) {
      if (this.names.size >= 1 << 16) this.names.clear(); // bounded: a cleared name only costs a re-run
      k = -1 - this.next++;
      this.names.set(name, k);
    }
    return k;
  }
}
