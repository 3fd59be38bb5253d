/**
 * AST-aware subtoken merging: which tokens of a prompt share one model position. An identifier leaf cut
 * into several tokens (get|Elements|By|TagName) is pooled into one position by exports that merge
 * (models/recipe/merge.py); every other token keeps its own. Pure: offsets in, groups out.
 */
import { groupTokensByLeaf, isWhitespace, type Span, type TokenSpans } from './subtokens';

/** The most tokens one position pools: the export's rank table (merge.py SLOTS). Longer names stay unmerged. */
export const MAX_MERGED = 8;

/** A run of tokens pooled into one position: indices first..last inclusive. */
export interface MergedRun {
  first: number;
  last: number;
}

/**
 * The identifiers among `leaves` whose tokens can pool: 2..MAX_MERGED tokens, none reaching outside the
 * leaf except the first token's leading whitespace (` foo|Bar` merges; `foo|Bar(` does not: its last
 * token belongs to the parenthesis too). `text` is what the offsets point into.
 */
export function mergedRuns(tokens: TokenSpans, identifiers: ArrayLike<Span>, text: string): MergedRun[] {
  const runs: MergedRun[] = [];
  const groups = groupTokensByLeaf(tokens, identifiers);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g.count < 2 || g.count > MAX_MERGED) continue;
    const leaf = identifiers[i]!;
    // The whole identifier, and nothing after it: a leaf cut by the text's edges stays unmerged.
    if (tokens.ends[g.last]! !== leaf.end || tokens.starts[g.first]! > leaf.start) continue;
    let clean = true;
    for (let c = tokens.starts[g.first]!; c < leaf.start && clean; c++) clean = isWhitespace(text.charCodeAt(c));
    if (clean) runs.push({ first: g.first, last: g.last });
  }
  return runs;
}

/**
 * Per token, the position it takes among `count` tokens when `runs` are merged (0 first, no gaps): what
 * a merging export's token_group input and CachedSession.prefill take. Runs are sorted, disjoint.
 */
export function groupsOf(count: number, runs: readonly MergedRun[]): Int32Array {
  const groups = new Int32Array(count);
  let position = -1;
  let r = 0;
  for (let t = 0; t < count; t++) {
    const run = runs[r];
    if (run && t > run.first && t <= run.last) {
      groups[t] = position;
      if (t === run.last) r++;
    } else groups[t] = ++position;
    while (runs[r] && runs[r]!.last < t) r++;
  }
  return groups;
}
