// Added tokens found in file content. Code is encoded as plain text: special tokens and control
// markers (`<|endoftext|>`, `<fim_prefix>`, `<｜fim▁hole｜>`, `<think>`) written in a file are text,
// never the control id. Other non-special added tokens are real vocabulary (DeepSeek-Coder adds
// Latin-1 letters this way) and are matched as Hugging Face matches them.
import { escapeRegExp } from './regex';
import { type AddedTokenSpec, TokenizerError } from './spec';

/** Whether an added token is a control marker that file content must never produce. */
export function isControlToken(t: AddedTokenSpec): boolean {
  return t.special || /^<.*>$/s.test(t.content) || t.content.length === 0;
}

export interface AddedTokenMatcher {
  /** Next match at or after `from`: [start, end, id], or null. */
  next(text: string, from: number): [number, number, number] | null;
}

export function buildAddedTokenMatcher(tokens: AddedTokenSpec[]): AddedTokenMatcher | null {
  const content = tokens.filter((t) => !isControlToken(t));
  if (content.length === 0) return null;
  if (content.some((t) => t.lstrip || t.rstrip || t.single_word)) {
    // None of the supported families use these on content tokens; refuse rather than differ.
    throw new TokenizerError('added tokens with lstrip/rstrip/single_word are not supported');
  }
  // Longest first, like Hugging Face's leftmost-longest automaton.
  const sorted = [...content].sort((a, b) => b.content.length - a.content.length);
  const ids = new Map(sorted.map((t) => [t.content, t.id]));
  const re = new RegExp(sorted.map((t) => escapeRegExp(t.content)).join('|'), 'gu');
  return {
    next(text, from) {
      re.lastIndex = from;
      const m = re.exec(text);
      return m ? [m.index, m.index + m[0].length, ids.get(m[0])!] : null;
    },
  };
}
