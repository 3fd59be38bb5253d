// Is a token sequence the one the tokenizer itself would produce for its text? Models can emit
// other segmentations of the same bytes (` function` as [686] or [315, 550]); such output is not
// what the model saw in training and can make an edit look different from what it is.
import type { Tokenizer } from './tokenizer';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface CanonicalReport {
  canonical: boolean;
  /** The tokenizer's own encoding of the same text. */
  canonicalIds: number[];
  /** First index where the sequences differ, or -1. */
  firstDifference: number;
}

/** Definitive check: decode, re-encode, compare. Undefined when the bytes are not valid UTF-8. */
export function checkCanonical(tok: Tokenizer, ids: ArrayLike<number>): CanonicalReport | undefined {
  const text = textOf(tok, ids, 0, ids.length);
  if (text === undefined) return undefined;
  const canonicalIds = tok.encodeFragment(text);
  let first = -1;
  const n = Math.max(ids.length, canonicalIds.length);
  for (let i = 0; i < n; i++) {
    if (ids[i] !== canonicalIds[i]) {
      first = i;
      break;
    }
  }
  return { canonical: first === -1, canonicalIds, firstDifference: first };
}

/**
 * Cheap check: every adjacent pair re-encodes to itself. O(n) with the tokenizer's cache; it can
 * miss longer non-canonical runs, so a clean result is a hint, and a flagged pair a finding
 * to confirm with checkCanonical.
 */
export function nonCanonicalPairs(tok: Tokenizer, ids: ArrayLike<number>): number[] {
  const flagged: number[] = [];
  for (let i = 0; i + 1 < ids.length; i++) {
    if (tok.isControl(ids[i]!) || tok.isControl(ids[i + 1]!)) continue;
    const text = textOf(tok, ids, i, i + 2);
    if (text === undefined) continue;
    const again = tok.encodeFragment(text);
    if (again.length !== 2 || again[0] !== ids[i] || again[1] !== ids[i + 1]) flagged.push(i);
  }
  return flagged;
}

function textOf(tok: Tokenizer, ids: ArrayLike<number>, from: number, to: number): string | undefined {
  let size = 0;
  for (let i = from; i < to; i++) size += tok.tokenBytes(ids[i]!).length;
  const bytes = new Uint8Array(size);
  let k = 0;
  for (let i = from; i < to; i++) {
    const b = tok.tokenBytes(ids[i]!);
    bytes.set(b, k);
    k += b.length;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
