// Pre-tokenizer stages (tokenizer/preTokenizer.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitStage } from '../../language-server/src/tokenizer/preTokenizer';

describe('Split behaviours (Hugging Face semantics)', () => {
  const pieces = (behavior: 'Isolated' | 'Removed' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous', invert = false) => {
    const out: number[] = [];
    const text = 'the-final--countdown';
    splitStage(/-/gu, behavior, invert)(text, 0, out);
    const parts: string[] = [];
    for (let i = 0; i < out.length; i += 2) parts.push(text.slice(out[i], out[i + 1]));
    return parts;
  };
  test('on "the-final--countdown" split at "-"', () => {
    assert.deepEqual(pieces('Removed'), ['the', 'final', 'countdown']);
    assert.deepEqual(pieces('Isolated'), ['the', '-', 'final', '-', '-', 'countdown']);
    assert.deepEqual(pieces('MergedWithPrevious'), ['the-', 'final-', '-', 'countdown']);
    assert.deepEqual(pieces('MergedWithNext'), ['the', '-final', '-', '-countdown']);
    assert.deepEqual(pieces('Contiguous'), ['the', '-', 'final', '--', 'countdown']);
    assert.deepEqual(pieces('Removed', true), ['-', '-', '-']);
  });
});
