import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupTokensByLeaf, isWhitespace, straddlingTokens, type Span, type TokenSpans } from '../../language-server/src/syntax/subtokens';
import { seededRandom } from '../../language-server/src/generation/processors';

/** Token spans from the pieces a tokenizer cut `text` into (they must concatenate to it). */
function tokenize(pieces: string[]): { text: string; tokens: TokenSpans } {
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const p of pieces) {
    starts.push(at);
    at += p.length;
    ends.push(at);
  }
  return { text: pieces.join(''), tokens: { starts: Int32Array.from(starts), ends: Int32Array.from(ends) } };
}

/** Leaf spans for the given substrings, found left to right in `text`. */
function leavesOf(text: string, parts: string[]): Span[] {
  let from = 0;
  return parts.map((p) => {
    const start = text.indexOf(p, from);
    assert.ok(start >= 0, p);
    from = start + p.length;
    return { start, end: from };
  });
}

test('an identifier cut into 4 tokens groups as 4; a token with a leading space counts for its leaf', () => {
  const { text, tokens } = tokenize(['document', '.get', 'Elements', 'By', 'TagName', '("', 'div', '");', '\n']);
  const leaves = leavesOf(text, ['document', '.', 'getElementsByTagName', '(', '"', 'div', '"', ')', ';']);
  const groups = groupTokensByLeaf(tokens, leaves);
  assert.deepEqual(
    groups.map((g) => g.count),
    [1, 1, 4, 1, 1, 1, 1, 1, 1],
  );
  assert.deepEqual(groups[2], { first: 1, last: 4, count: 4 });
  assert.deepEqual(groups[1], { first: 1, last: 1, count: 1 }); // `.` is inside token `.get`
  assert.deepEqual(groups.slice(6), [
    { first: 7, last: 7, count: 1 },
    { first: 7, last: 7, count: 1 },
    { first: 7, last: 7, count: 1 },
  ]);

  const spaced = tokenize(['let', ' foo', ' =', ' 1', ';']);
  const spacedLeaves = leavesOf(spaced.text, ['let', 'foo', '=', '1', ';']);
  assert.deepEqual(
    groupTokensByLeaf(spaced.tokens, spacedLeaves).map((g) => [g.first, g.last]),
    [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ],
  );
});

test('a leaf no token overlaps has count 0, placed where its tokens would be', () => {
  const tokens: TokenSpans = { starts: [0, 10], ends: [3, 12] };
  const groups = groupTokensByLeaf(tokens, [
    { start: 0, end: 3 },
    { start: 5, end: 7 },
    { start: 10, end: 12 },
    { start: 20, end: 21 },
  ]);
  assert.deepEqual(groups, [
    { first: 0, last: 0, count: 1 },
    { first: 1, last: 0, count: 0 },
    { first: 1, last: 1, count: 1 },
    { first: 2, last: 1, count: 0 },
  ]);
  assert.deepEqual(groupTokensByLeaf({ starts: [], ends: [] }, [{ start: 0, end: 1 }]), [{ first: 0, last: -1, count: 0 }]);
  assert.deepEqual(groupTokensByLeaf(tokens, []), []);
});

test('a token covering `);` straddles; ` foo` and `"\\n` do not', () => {
  const { text, tokens } = tokenize(['f', '(x', ' foo', ');', '\n', 'g', '("', 'a', '"\n', '}']);
  const leaves = leavesOf(text, ['f', '(', 'x', 'foo', ')', ';', 'g', '(', '"', 'a', '"', '}']);
  assert.deepEqual(straddlingTokens(tokens, leaves, text), [
    { token: 1, leaves: [1, 2] }, // `(x`
    { token: 3, leaves: [4, 5] }, // `);`
    { token: 6, leaves: [7, 8] }, // `("`
  ]);
});

test('whitespace inside a leaf does not make a token straddle; text inside it does', () => {
  // "hello " then `);`: the token ` ")` overlaps the string text only on its space.
  const { text, tokens } = tokenize(['("', 'hello', ' ")', ';']);
  const leaves = leavesOf(text, ['(', '"', 'hello ', '"', ')', ';']);
  assert.deepEqual(straddlingTokens(tokens, leaves, text), [
    { token: 0, leaves: [0, 1] },
    { token: 2, leaves: [3, 4] },
  ]);
  // One token over a whole comment and the code after it.
  const c = tokenize(['x', ' // a b\n', '\ty', '+\u00a0z']);
  const cLeaves = leavesOf(c.text, ['x', '// a b', 'y', '+', 'z']);
  assert.deepEqual(straddlingTokens(c.tokens, cLeaves, c.text), [{ token: 3, leaves: [3, 4] }]);
});

test('a token over three leaves lists all three; tokens and leaves need not cover the same text', () => {
  const { text, tokens } = tokenize(['  ', 'a.b', '()', '  ']);
  const leaves = leavesOf(text, ['a', '.', 'b', '(', ')']);
  assert.deepEqual(straddlingTokens(tokens, leaves, text), [
    { token: 1, leaves: [0, 1, 2] },
    { token: 2, leaves: [3, 4] },
  ]);
  // Tokens only over part of the text (a visible range).
  assert.deepEqual(straddlingTokens({ starts: [2], ends: [4] }, leaves, text), [{ token: 0, leaves: [0, 1] }]);
});

test('grouping and straddling agree with brute force on random spans', () => {
  const next = seededRandom(99);
  const rand = (n: number) => Math.floor(next() * n);
  const alphabet = 'ab (); \n\t';
  for (let round = 0; round < 300; round++) {
    let text = '';
    const len = rand(60);
    for (let i = 0; i < len; i++) text += alphabet[rand(alphabet.length)];
    // Tokens: a random partition of the text. Leaves: random disjoint spans.
    const starts: number[] = [];
    const ends: number[] = [];
    for (let at = 0; at < text.length; ) {
      const next = Math.min(text.length, at + 1 + rand(5));
      starts.push(at);
      ends.push(next);
      at = next;
    }
    const leaves: Span[] = [];
    for (let at = rand(3); at < text.length; ) {
      const end = Math.min(text.length, at + 1 + rand(6));
      leaves.push({ start: at, end });
      at = end + rand(3);
    }
    const tokens = { starts, ends };
    const overlaps = (t: number, l: Span) => starts[t]! < l.end && ends[t]! > l.start;
    const groups = groupTokensByLeaf(tokens, leaves);
    leaves.forEach((l, i) => {
      const hit = starts.map((_, t) => t).filter((t) => overlaps(t, l));
      assert.equal(groups[i]!.count, hit.length);
      if (hit.length) assert.deepEqual([groups[i]!.first, groups[i]!.last], [hit[0], hit.at(-1)]);
    });
    const expected = starts
      .map((_, t) => ({
        token: t,
        leaves: leaves
          .map((l, i) => ({ l, i }))
          .filter(({ l }) => {
            for (let c = Math.max(starts[t]!, l.start); c < Math.min(ends[t]!, l.end); c++) if (!/\s/.test(text[c]!)) return true;
            return false;
          })
          .map(({ i }) => i),
      }))
      .filter((s) => s.leaves.length >= 2);
    assert.deepEqual(straddlingTokens(tokens, leaves, text), expected, JSON.stringify({ text, starts, leaves }));
  }
});

test('isWhitespace matches JavaScript \\s on every BMP code unit', () => {
  for (let c = 0; c <= 0xffff; c++) assert.equal(isWhitespace(c), /\s/.test(String.fromCharCode(c)), c.toString(16));
});
