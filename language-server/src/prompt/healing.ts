// Completing from inside a word. When the cursor sits inside what the tokenizer would make one token
// (`console.lo|`), the prompt's last tokens are a split the model rarely saw. Both remedies rewrite the
// prompt's last word: its tokens leave the prompt, and the completion must start with their bytes.
//   heal   the first generated tokens are constrained to agree with those bytes (several tokens when
//          one cannot cover them), as guidance and transformers' token_healing do;
//   exact  Phan et al. 2024: the probability of the text starting with those bytes is the sum over
//          their cover encodings (byte-token representation lemma); the worker chooses bytes by that
//          distribution until one cover is left on a token boundary (generation/exact.ts).
// Planned here, where the tokenizer is; what the worker needs travels in the request.
import type { HealingMode } from '../settings';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { VocabIndex } from '../tokenizer/vocabIndex';

/** A cover's first part (the canonical tokens of the word's first bytes) and the tokens that complete it. */
export interface CoverGroup {
  left: number[];
  tokens: number[];
}

export interface HealingPlan {
  mode: 'heal' | 'exact';
  /** How many of the prefix's last tokens leave the prompt. */
  backOff: number;
  /** Their bytes: what the completion starts with (and does not show). */
  bytes: Uint8Array;
  /** heal: allowed[j] holds the tokens that may come once j of the bytes are covered. */
  allowed?: Int32Array[];
  /** exact: every canonical cover of the bytes, grouped by left part. */
  covers?: CoverGroup[];
}

export interface HealingLimits {
  /** A last word longer than this is left as it is (the cost of exact grows with it). */
  maxBytes: number;
  maxTokens: number;
}

const LIMITS: HealingLimits = { maxBytes: 32, maxTokens: 8 };
const utf8 = new TextEncoder();

/**
 * The prefix's last word: the text from its last pre-token boundary (for SentencePiece, its last space)
 * and how many of `prefixIds`' last tokens spell it. Undefined when it holds a line break, when tokens
 * do not start at that boundary, or when it is longer than the limits.
 */
export function lastWord(
  tok: Tokenizer,
  prefix: string,
  prefixIds: readonly number[],
  limits = LIMITS,
): { text: string; tokens: number } | undefined {
  if (!prefix || prefixIds.length < 2) return undefined;
  let text: string;
  if (tok.kind === 'sentencepiece') {
    const lineStart = Math.max(prefix.lastIndexOf('\n'), prefix.lastIndexOf('\r')) + 1;
    text = prefix.slice(Math.max(lineStart, prefix.lastIndexOf(' ')));
  } else {
    // The last pre-token piece (its normalized text where the tokenizer normalizes).
    const last = tok.pieces(prefix).at(-1);
    if (!last) return undefined;
    text = last.normalized ?? prefix.slice(last.start);
  }
  if (!text || /[\r\n]/.test(text)) return undefined;
  const bytes = utf8.encode(text).length;
  if (bytes > limits.maxBytes) return undefined;
  // The tokens that spell exactly those bytes, from the end.
  let n = 0;
  let spelled = 0;
  while (spelled < bytes && n < prefixIds.length - 1) spelled += tok.tokenBytes(prefixIds[prefixIds.length - 1 - n++]!).length;
  if (spelled !== bytes || n > limits.maxTokens) return undefined;
  for (let i = prefixIds.length - n; i < prefixIds.length; i++) if (tok.isControl(prefixIds[i]!)) return undefined;
  return { text, tokens: n };
}

/**
 * How to complete from inside the prefix's last word, or undefined (mode off, or no word to rewrite).
 * `wordOnly`: the engine constrains the first tokens itself (a server's grammar), so only the word is
 * planned, not the tokens that may follow it.
 */
export function planHealing(
  mode: HealingMode,
  tok: Tokenizer,
  index: VocabIndex,
  prefix: string,
  prefixIds: readonly number[],
  limits = LIMITS,
  wordOnly = false,
): HealingPlan | undefined {
  if (mode === 'off') return undefined;
  const word = lastWord(tok, prefix, prefixIds, limits);
  if (!word) return undefined;
  const bytes = utf8.encode(word.text);
  if (wordOnly) return { mode, backOff: word.tokens, bytes };
  if (mode === 'heal') return { mode, backOff: word.tokens, bytes, allowed: allowedTokens(index, bytes) };
  return { mode, backOff: word.tokens, bytes, covers: coversOf(tok, index, word.text) };
}

/** For each count j of bytes covered, the tokens that agree with the rest: they start with it or are a prefix of it. */
export function allowedTokens(index: VocabIndex, bytes: Uint8Array): Int32Array[] {
  const out: Int32Array[] = [];
  for (let j = 0; j < bytes.length; j++) {
    const rest = bytes.subarray(j);
    out.push(Int32Array.from([...index.startingWith(rest), ...index.prefixesOf(rest)]));
  }
  return out;
}

/**
 * Every cover encoding of `word` the tokenizer could produce: for each character boundary i, the
 * canonical tokens of word[0..i) followed by one token that starts with the rest, kept when the whole
 * is itself canonical (then it is a prefix of the canonical encoding of some text starting with `word`).
 */
export function coversOf(tok: Tokenizer, index: VocabIndex, word: string): CoverGroup[] {
  const groups: CoverGroup[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i > 0 && isLowSurrogate(word.charCodeAt(i))) continue; // never cut a character in two
    const head = word.slice(0, i);
    const left = head ? tok.encodeFragment(head) : [];
    const tokens: number[] = [];
    for (const t of index.startingWith(utf8.encode(word.slice(i)))) {
      const ids = [...left, t];
      const text = textOf(tok, ids);
      if (text === undefined) continue; // part of a character: not a whole text
      const again = tok.encodeFragment(text);
      if (again.length === ids.length && again.every((id, k) => id === ids[k])) tokens.push(t);
    }
    if (tokens.length) groups.push({ left, tokens });
  }
  return groups;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text tokens spell, as their bytes say (no detokenizer stripping); undefined if not whole UTF-8. */
function textOf(tok: Tokenizer, ids: readonly number[]): string | undefined {
  try {
    return strictUtf8.decode(Uint8Array.from(ids.flatMap((id) => [...tok.tokenBytes(id)])));
  } catch {
    return undefined;
  }
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
