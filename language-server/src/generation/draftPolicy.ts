// Chains or trees: which drafts a request verifies, when the model can take both. A tree pass runs more
// tokens, so it pays only where the extra accepted tokens outweigh the wider pass, and that depends on the
// model's size and the CPU (bench/speculative.ts: on the default model a pass of 8 tokens costs 1.9 steps
// and trees lose; on a 0.5B model a pass is bound by reading the weights, and they win). So 'auto'
// measures as requests run and keeps whichever has decoded faster per token lately, trying the other now
// and then. Greedy output is the same either way: only speed is at stake.

import type { DraftTreesSetting } from '../settings';

export type DraftMode = 'chain' | 'tree';

/** Nodes of a draft tree, root and lookup chain included: the fastest size on bench/speculative. */
export const TREE_NODES = 6;

/** Generations shorter than this say little about speed per token: not recorded. */
const MIN_TOKENS = 8;
/** Tokens each mode decodes before the comparison counts. */
const WARM_TOKENS = 256;
/** One request in this many goes to the mode that is behind, in case things changed. */
const EXPLORE_EVERY = 16;
/** Weight of the past at each new record: the rates follow the last few dozen requests. */
const DECAY = 0.95;

export class DraftPolicy {
  private readonly seen: Record<DraftMode, { tokens: number; ms: number }> = {
    chain: { tokens: 0, ms: 0 },
    tree: { tokens: 0, ms: 0 },
  };
  private requests = 0;

  constructor(readonly setting: DraftTreesSetting = 'auto') {}

  /** The mode for the next request. */
  choose(): DraftMode {
    if (this.setting !== 'auto') return this.setting === 'on' ? 'tree' : 'chain';
    this.requests++;
    const { chain, tree } = this.seen;
    if (chain.tokens < WARM_TOKENS || tree.tokens < WARM_TOKENS) return chain.tokens <= tree.tokens ? 'chain' : 'tree';
    const ahead: DraftMode = tree.ms / tree.tokens < chain.ms / chain.tokens ? 'tree' : 'chain';
    if (this.requests % EXPLORE_EVERY === 0) return ahead === 'tree' ? 'chain' : 'tree';
    return ahead;
  }

  /** What a request in `mode` did: `tokens` decoded in `ms` (after the prompt). */
  record(mode: DraftMode, tokens: number, ms: number): void {
    if (this.setting !== 'auto' || tokens < MIN_TOKENS || !(ms > 0)) return;
    const s = this.seen[mode];
    const warm = s.tokens >= WARM_TOKENS;
    s.tokens = (warm ? s.tokens * DECAY : s.tokens) + tokens;
    s.ms = (warm ? s.ms * DECAY : s.ms) + ms;
  }

  /** Milliseconds per token of each mode so far (NaN: not measured). */
  rates(): Record<DraftMode, number> {
    return { chain: this.seen.chain.ms / this.seen.chain.tokens, tree: this.seen.tree.ms / this.seen.tree.tokens };
  }
}
