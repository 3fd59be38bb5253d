// The text around the cursor that goes into the prompt, within token budgets. The prefix starts at a
// line that stays put while the user types (moved only when the budget overflows, then by a good step),
// so consecutive prompts share their beginning and the model's cache is reused.
import type { Tokenizer } from '../tokenizer/tokenizer';

export interface Budget {
  prefixTokens: number;
  suffixTokens: number;
}

export interface CursorContext {
  prefix: string;
  /** The prefix's tokens (encoded once here; the prompt uses them as they are). */
  prefixIds: number[];
  suffix: string;
  /** Document offset where the prefix starts. */
  prefixStart: number;
}

/** Remembers, per document, the line the prefix starts at. */
export class PrefixAnchors {
  private readonly anchors = new Map<string, number>();

  forget(uri: string): void {
    this.anchors.delete(uri);
  }

  /** `remember` false: the anchor is read, not moved (a completion computed ahead must not shift the user's). */
  context(uri: string, text: string, offset: number, tok: Tokenizer, budget: Budget, remember = true): CursorContext {
    let start = this.anchors.get(uri) ?? 0;
    if (start > offset || (start > 0 && text[start - 1] !== '\n')) start = 0;
    // Rough first cut by characters (code averages 3-4 characters a token), then exact by tokens.
    const roughChars = budget.prefixTokens * 6;
    if (offset - start > roughChars) start = lineStartAtOrAfter(text, offset - roughChars);
    let prefixIds = tok.encodeIds(text.slice(start, offset));
    if (prefixIds.length > budget.prefixTokens) {
      // Overflow: move to where 3/4 of the budget is left, so the next moves are many keystrokes away.
      start = fitFromEnd(text, start, offset, tok, Math.floor(budget.prefixTokens * 0.75));
      prefixIds = tok.encodeIds(text.slice(start, offset));
    } else if (start > 0 && !this.anchors.has(uri)) {
      start = fitFromEnd(text, 0, offset, tok, budget.prefixTokens);
      prefixIds = tok.encodeIds(text.slice(start, offset));
    }
    if (remember) this.anchors.set(uri, start);
    const suffixEnd = fitSuffix(text, offset, tok, budget.suffixTokens);
    return { prefix: text.slice(start, offset), prefixIds, suffix: text.slice(offset, suffixEnd), prefixStart: start };
  }
}

function lineStartAtOrAfter(text: string, pos: number): number {
  if (pos <= 0) return 0;
  const nl = text.indexOf('\n', pos - 1);
  return nl < 0 ? text.length : nl + 1;
}

/** The earliest line start in [from, end) whose text up to `end` has at most `tokens` tokens. */
function fitFromEnd(text: string, from: number, end: number, tok: Tokenizer, tokens: number): number {
  let start = end;
  let used = 0;
  while (start > from) {
    const prevStart = Math.max(from, text.lastIndexOf('\n', start - 2) + 1);
    const n = tok.countTokens(text.slice(prevStart, start));
    if (used + n > tokens) break;
    used += n;
    start = prevStart;
  }
  return start;
}

/** End of the suffix: whole lines after the cursor while they fit `tokens`. */
function fitSuffix(text: string, offset: number, tok: Tokenizer, tokens: number): number {
  let end = offset;
  let used = 0;
  while (end < text.length) {
    let next = text.indexOf('\n', end);
    next = next < 0 ? text.length : next + 1;
    const n = tok.countTokens(text.slice(end, next));
    if (used + n > tokens) break;
    used += n;
    end = next;
  }
  return end;
}
