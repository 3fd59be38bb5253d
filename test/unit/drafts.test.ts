// Prompt-lookup drafts (generation/drafts.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookupDraft } from '../../language-server/src/generation/drafts';

test('prompt lookup: the tokens after the latest earlier occurrence of the tail', () => {
  assert.deepEqual(lookupDraft([1, 2, 3, 9, 1, 2, 3, 7, 8], [1, 2], 3), [3, 7, 8]);
  assert.deepEqual(lookupDraft([5, 6, 7, 8], [5, 6], 8), [7, 8, 5, 6]);
  assert.deepEqual(lookupDraft([1, 2, 3], [4, 5], 4), []);
  assert.deepEqual(lookupDraft([1, 2, 3, 1, 2], [], 1), [3]);
});
