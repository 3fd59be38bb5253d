// Drafts copied from the prompt (prompt lookup): code repeats itself (names, call shapes, whole lines),
// so the tokens that followed the last occurrence of the current n-gram are a good guess for what comes
// next. The model checks a draft of k tokens in one pass, which on this CPU costs little more than one
// step, and keeps the part it agrees with: greedy output is unchanged, only faster.

/**
 * Up to `max` tokens that followed the most recent earlier occurrence of the last `n` tokens of
 * context + generated (n tried from `longest` down to `shortest`); [] when there is none.
 */
export function lookupDraft(context: readonly number[], generated: readonly number[], max: number, longest = 4, shortest = 2): number[] {
  const total = context.length + generated.length;
  const at = (i: number) => (i < context.length ? context[i]! : generated[i - context.length]!);
  for (let n = Math.min(longest, total - 1); n >= shortest; n--) {
    // Search backwards for the tail's n tokens, not overlapping the tail itself.
    for (let start = total - n - 1; start >= 0; start--) {
      let k = 0;
      while (k < n && at(start + k) === at(total - n + k)) k++;
      if (k < n) continue;
      const out: number[] = [];
      for (let i = start + n; i < total && out.length < max; i++) out.push(at(i));
      if (out.length) return out;
    }
  }
  return [];
}
