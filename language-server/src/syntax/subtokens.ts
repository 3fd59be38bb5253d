/**
 * How a model's tokens line up with syntax leaves: how many tokens a leaf is cut into, and which tokens
 * run across a leaf boundary. Pure functions over offset spans (no tree-sitter), each one linear sweep
 * of two sorted lists.
 *
 * All offsets are UTF-16 code units, ends exclusive. Tokens are sorted and do not overlap (they may
 * touch), as a tokenizer's offsets are; leaves are sorted and do not overlap, as syntax leaves are.
 */

/** Token spans as a tokenizer gives them: token i covers [starts[i], ends[i]). */
export interface TokenSpans {
  readonly starts: ArrayLike<number>;
  readonly ends: ArrayLike<number>;
}

export interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * The tokens overlapping one leaf: indices first..last inclusive, count = last - first + 1. With no
 * overlapping token, count is 0 and last = first - 1, first being where such a token would be.
 */
export interface TokenGroup {
  first: number;
  last: number;
  count: number;
}

/** A token whose non-whitespace text overlaps two or more leaves (indices into the leaves, ascending). */
export interface Straddle {
  token: number;
  leaves: number[];
}

/**
 * For every leaf, the tokens overlapping it (sharing at least one code unit): `getElementsByTagName`
 * cut into get|Elements|By|TagName gives count 4; a token ` foo` counts for the leaf `foo`.
 * O(tokens + leaves): overlapping (token, leaf) pairs of two sorted disjoint lists number fewer than
 * tokens + leaves, and each is visited once or twice.
 */
export function groupTokensByLeaf(tokens: TokenSpans, leaves: ArrayLike<Span>): TokenGroup[] {
  const { starts, ends } = tokens;
  const count = starts.length;
  const groups: TokenGroup[] = new Array(leaves.length);
  let t = 0;
  for (let i = 0; i < leaves.length; i++) {
    const { start, end } = leaves[i]!;
    // Tokens ending at or before this leaf's start end before every later leaf too.
    while (t < count && ends[t]! <= start) t++;
    let u = t;
    while (u < count && starts[u]! < end) u++;
    groups[i] = { first: t, last: u - 1, count: u - t };
  }
  return groups;
}

/**
 * The tokens that straddle leaves: a token straddles when its text, less whitespace, overlaps two or
 * more distinct leaves. So `);` straddles `)` and `;`, while ` foo` (a space then the leaf `foo`) and
 * `"\n` (a closing quote then a line break) do not: whitespace between leaves belongs to no leaf, and
 * whitespace inside one (a string's or comment's) does not count either. `text` is the document the
 * offsets point into.
 */
export function straddlingTokens(tokens: TokenSpans, leaves: ArrayLike<Span>, text: string): Straddle[] {
  const { starts, ends } = tokens;
  const count = starts.length;
  const out: Straddle[] = [];
  let j = 0;
  for (let t = 0; t < count; t++) {
    const start = starts[t]!;
    const end = ends[t]!;
    while (j < leaves.length && leaves[j]!.end <= start) j++;
    let touched: number[] | undefined;
    for (let k = j; k < leaves.length && leaves[k]!.start < end; k++) {
      const leaf = leaves[k]!;
      if (hasNonWhitespace(text, Math.max(start, leaf.start), Math.min(end, leaf.end))) {
        touched ??= [];
        touched.push(k);
      }
    }
    if (touched !== undefined && touched.length >= 2) out.push({ token: t, leaves: touched });
  }
  return out;
}

function hasNonWhitespace(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWhitespace(text.charCodeAt(i))) return true;
  return false;
}

/** The characters JavaScript's \s matches: ASCII space and controls \t\n\v\f\r, and Unicode spaces. */
export function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
