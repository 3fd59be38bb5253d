// Token Recycling (Luo et al., "Turning Trash into Treasure", ACL 2025): every forward pass computes a
// distribution at each position it runs, and decoding keeps only one token of it. The k likeliest tokens
// after each token are kept in an adjacency table instead, and the next draft is a tree read out of that
// table from the last token down a fixed template (the likeliest ranks get the deepest branches). The
// model verifies the whole tree in one pass (tree attention) and keeps the longest branch it agrees with:
// greedy output is unchanged, more of it comes per pass. Train-free, and it learns as it decodes.
import type { TokenTree } from '../model/treeAttention';
import { topK } from './processors';

/** For each token, the `k` likeliest tokens seen to follow it (-1: none yet), refreshed by every pass. */
export class AdjacencyTable {
  private readonly next: Int32Array;

  constructor(
    readonly vocab: number,
    readonly k = 8,
  ) {
    this.next = new Int32Array(vocab * k).fill(-1);
  }

  /** Row i of `rows` ([tokens.length, vocab]) is the distribution after tokens[i]. */
  update(tokens: ArrayLike<number>, rows: Float32Array): void {
    const { vocab, k } = this;
    for (let i = 0; i < tokens.length; i++) {
      const best = topK(rows.subarray(i * vocab, (i + 1) * vocab), k);
      this.next.set(best, tokens[i]! * k);
    }
  }

  /** The `rank`-th likeliest token after `token`, or -1. */
  follower(token: number, rank: number): number {
    return rank < this.k ? this.next[token * this.k + rank]! : -1;
  }
}

/** A draft tree's shape: node j > 0 is the `rank`-th follower of node parent[j] (node 0: the root). */
export interface TreeTemplate {
  parents: readonly number[];
  ranks: readonly number[];
}

/**
 * The `nodes`-node template (root excluded) that maximizes the expected accepted length when the
 * follower of rank r is the right one with probability `hit[r]` independently at each depth: nodes are
 * taken best path-probability first, which puts every parent before its children.
 */
export function treeTemplate(nodes: number, hit: readonly number[] = RANK_HIT): TreeTemplate {
  const parents = [-1];
  const ranks = [-1];
  const score = [1];
  // Candidates: each taken node's next unused rank of child, and its own first child.
  const frontier: Array<{ parent: number; rank: number; p: number }> = [{ parent: 0, rank: 0, p: hit[0]! }];
  while (parents.length <= nodes && frontier.length) {
    let best = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i]!.p > frontier[best]!.p) best = i;
    const c = frontier.splice(best, 1)[0]!;
    const j = parents.length;
    parents.push(c.parent);
    ranks.push(c.rank);
    score.push(c.p);
    if (c.rank + 1 < hit.length) frontier.push({ parent: c.parent, rank: c.rank + 1, p: score[c.parent]! * hit[c.rank + 1]! });
    frontier.push({ parent: j, rank: 0, p: c.p * hit[0]! });
  }
  return { parents, ranks };
}

/**
 * The chance that the follower of each rank is greedy's next token, as the template assumes it: a prior
 * falling with rank, not fitted. bench/speculative.ts prints the rates it measures with the table as it
 * stands before each prompt (0.14 for rank 0 on the default model, then 0.03 and below), which
 * understate what a table warmed by the prompt's own passes gets.
 */
export const RANK_HIT: readonly number[] = [0.45, 0.15, 0.08, 0.05, 0.035, 0.025, 0.02, 0.015];

/** A draft tree with a lookup of each node's child by token, for walking it against the model. */
export interface DraftTree extends TokenTree {
  depths: readonly number[];
  /** The child of `node` holding `token`, or -1. */
  child(node: number, token: number): number;
}

/**
 * The tree to verify after `root` (the token just chosen): the prompt-lookup `chain` as one branch, and
 * the template filled from the adjacency table; a token already under the same parent is not repeated.
 * At most `maxNodes` nodes (root included) and branches at most `maxDepth` deep.
 */
export function draftTree(
  root: number,
  chain: readonly number[],
  table: AdjacencyTable,
  template: TreeTemplate,
  maxNodes: number,
  maxDepth: number,
): DraftTree {
  const ids = [root];
  const parents = [-1];
  const depths = [0];
  const children = new Map<number, number>();
  const key = (node: number, token: number) => node * table.vocab + token;
  /** The child of `node` holding `token`, added if there is room; -1 if not. */
  const childOf = (node: number, token: number): number => {
    const had = children.get(key(node, token));
    if (had !== undefined) return had;
    if (ids.length >= maxNodes || depths[node]! >= maxDepth) return -1;
    ids.push(token);
    parents.push(node);
    depths.push(depths[node]! + 1);
    children.set(key(node, token), ids.length - 1);
    return ids.length - 1;
  };
  let at = 0;
  for (const token of chain) {
    at = childOf(at, token);
    if (at < 0) break;
  }
  const placed = [0]; // template node → tree node (-1: not placed, nor its subtree)
  for (let j = 1; j < template.parents.length; j++) {
    const parent = placed[template.parents[j]!]!;
    const token = parent < 0 ? -1 : table.follower(ids[parent]!, template.ranks[j]!);
    placed.push(token < 0 ? -1 : childOf(parent, token));
  }
  return { ids, parents, depths, child: (node, token) => children.get(key(node, token)) ?? -1 };
}
