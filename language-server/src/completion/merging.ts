// The identifiers of a prompt that a merging export pools into one position each (syntax/merging.ts),
// found in the document's syntax tree: those of the prefix, except near the cursor. The last tokens stay
// unmerged: healing may take them out of the prompt, and they change keystroke by keystroke (a merged
// position is cached only while its whole identifier stays the same).
import type { Tree } from 'web-tree-sitter';
import type { FimPrompt } from '../prompt/fim';
import { type MergedRun, mergedRuns } from '../syntax/merging';
import { leavesOf } from '../syntax/parser';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { CursorContext } from './context';

/** Prefix tokens before the cursor never merged. */
export const UNMERGED_TAIL = 16;

/**
 * Runs of prompt token indices to pool. `text` is the document the tree is of; `ctx.prefixStart` an
 * offset into it. None when the prompt's prefix is not the prefix's own tokens (a template that changes them).
 */
export function promptMergeRuns(tok: Tokenizer, tree: Tree, text: string, ctx: CursorContext, prompt: FimPrompt): MergedRun[] {
  const enc = tok.encode(ctx.prefix);
  const n = enc.ids.length;
  if (n !== ctx.prefixIds.length || prompt.prefixEnd - prompt.prefixStart !== n) return [];
  for (let i = 0; i < n; i++) if (enc.ids[i] !== ctx.prefixIds[i] || prompt.ids[prompt.prefixStart + i] !== enc.ids[i]) return [];
  const start = ctx.prefixStart;
  const identifiers = leavesOf(tree, text, start, start + ctx.prefix.length)
    .filter((l) => l.kind === 'identifier')
    .map((l) => ({ start: l.start - start, end: l.end - start }));
  return mergedRuns(enc, identifiers, ctx.prefix)
    .filter((r) => r.last < n - UNMERGED_TAIL)
    .map((r) => ({ first: r.first + prompt.prefixStart, last: r.last + prompt.prefixStart }));
}

/** Positions `runs` save: each pools its tokens into one. */
export function pooledAway(runs: readonly MergedRun[]): number {
  return runs.reduce((sum, r) => sum + r.last - r.first, 0);
}
