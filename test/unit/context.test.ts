// The prompt's context around the cursor (completion/context.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrefixAnchors } from '../../language-server/src/completion/context';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');

test('the prompt prefix starts at a stable line while typing, moves only on overflow', () => {
  const tok = Tokenizer.fromFile(join(tiny, 'tokenizer.json'));
  const lines = Array.from({ length: 400 }, (_, i) => `const value${i} = compute(${i}, "text ${i}");`).join('\n');
  const anchors = new PrefixAnchors();
  const budget = { prefixTokens: 200, suffixTokens: 40 };
  let text = `${lines}\n`;
  const first = anchors.context('u', text, text.length, tok, budget);
  assert.ok(tok.countTokens(first.prefix) <= 200 && tok.countTokens(first.prefix) > 100);
  assert.equal(text[first.prefixStart - 1], '\n');
  assert.deepEqual(first.prefixIds, tok.encodeIds(first.prefix), 'the prompt gets the prefix tokenized once, here');
  const starts = new Set<number>();
  for (const ch of 'let typed = 1;') {
    text += ch;
    starts.add(anchors.context('u', text, text.length, tok, budget).prefixStart);
  }
  assert.equal(starts.size, 1, 'the prefix start did not move while typing one line');
  text += `\n${lines}`;
  const moved = anchors.context('u', text, text.length, tok, budget);
  assert.ok(moved.prefixStart > first.prefixStart && tok.countTokens(moved.prefix) <= 150);
});

// The shipped model's GroupQueryAttention takes the in-place cache; the fixture's Concat attention (as
// torch's exporter writes it) cannot, and keeps the copying one.
