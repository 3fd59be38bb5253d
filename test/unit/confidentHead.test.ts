// The confident head of a completion (completion/confidentHead.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confidentHead } from '../../language-server/src/completion/confidentHead';

const trace = (pieces: Array<[string, number]>) => {
  let end = 0;
  return {
    text: pieces.map(([t]) => t).join(''),
    trace: pieces.map(([t, p]) => {
      end += t.length;
      return { logProb: Math.log(p), end };
    }),
  };
};

test('the longest head whose probability stays at or above the threshold, cut where a token ends', () => {
  const { text, trace: t } = trace([
    ['foo', 0.9],
    ['(', 0.9],
    ['bar', 0.5],
    [')', 0.9],
  ]);
  const head = confidentHead(text, t, 0.45, false);
  assert.equal(head.text, 'foo(');
  assert.ok(Math.abs(head.probability - 0.81) < 1e-9);
  assert.equal(confidentHead(text, t, 0.4, false).text, 'foo(bar', '0.9 · 0.9 · 0.5 = 0.405; with ")" 0.3645');
  assert.equal(confidentHead(text, t, 0.35, false).text, 'foo(bar)');
  assert.deepEqual(confidentHead(text, t, 0.95, false), { text: '', probability: 1 });
});

test('a block: anywhere in its first line, then whole lines only', () => {
  const { text, trace: t } = trace([
    ['if (x) {', 0.95],
    ['\n  ', 0.95],
    ['return', 0.9],
    [' y', 0.9],
    ['\n}', 0.9],
    ['\nfoo', 0.2],
  ]);
  // Through "\n}" the product is 0.95²·0.9³ ≈ 0.66: the head ends at the last line end it wrote.
  assert.equal(confidentHead(text, t, 0.5, true).text, 'if (x) {\n  return y');
  // At 0.85 only the first line is sure: it is cut inside the first line's tokens.
  assert.equal(confidentHead(text, t, 0.85, true).text, 'if (x) {');
  // The text cut short by the stop rules: the head stays inside it.
  assert.equal(confidentHead('if (x)', t, 0.1, false).text, 'if (x)');
});
