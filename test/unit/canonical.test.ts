// Canonical encodings (tokenizer/canonical.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkCanonical, nonCanonicalPairs } from '../../language-server/src/tokenizer/canonical';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

const load = (name: string) => Tokenizer.fromFile(tokenizerPath(name));

describe('canonicality', () => {
  const tok = load('starcoder2-style');
  test("the tokenizer's own output is canonical", () => {
    const ids = tok.encodeFragment(' function greet(name) { return name; }');
    assert.equal(checkCanonical(tok, ids)?.canonical, true);
    assert.deepEqual(nonCanonicalPairs(tok, ids), []);
  });

  test('another segmentation of the same text is caught, definitively and pairwise', () => {
    const whole = tok.encodeFragment(' function');
    assert.equal(whole.length, 1);
    // Split the token's bytes in two tokens that exist: same text, different ids.
    const text = tok.token(whole[0]!)!;
    let split: number[] | undefined;
    for (let i = 1; i < text.length && !split; i++) {
      const a = tok.id(text.slice(0, i));
      const b = tok.id(text.slice(i));
      if (a !== undefined && b !== undefined) split = [a, b];
    }
    assert.ok(split, 'some split exists');
    const report = checkCanonical(tok, split)!;
    assert.equal(report.canonical, false);
    assert.deepEqual(report.canonicalIds, whole);
    assert.equal(report.firstDifference, 0);
    assert.deepEqual(nonCanonicalPairs(tok, split), [0]);
  });
});
