// The part of a document a completion reads (completion/window.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionWindow, documentOf, WHOLE_FILE } from '../../language-server/src/completion/window';

test('a file up to the limit is read whole', () => {
  const text = 'x'.repeat(WHOLE_FILE);
  const w = completionWindow(documentOf(text), 100);
  assert.deepEqual([w.text.length, w.offset, w.whole], [WHOLE_FILE, 100, true]);
});

test('a large file: a window around the cursor, starting at a line start that stays put while typing', () => {
  const line = 'const value = compute(1, 2, 3);\n';
  let text = line.repeat(40_000); // 1.28 M characters
  const cursor = Math.floor(text.length / 2);
  const w = completionWindow(documentOf(text), cursor);
  assert.equal(w.whole, false);
  assert.ok(w.text.length < 300_000, `${w.text.length} characters`);
  const start = cursor - w.offset;
  assert.equal(text[start - 1], '\n', 'starts at a line');
  assert.equal(w.text, text.slice(start, start + w.text.length));
  assert.ok(w.offset >= 192 * 1024 - 64 * 1024, 'enough text before the cursor');
  // Typing at the cursor moves nothing: the same start, the cursor one further.
  text = `${text.slice(0, cursor)}abc${text.slice(cursor)}`;
  const typed = completionWindow(documentOf(text), cursor + 3);
  assert.equal(cursor + 3 - typed.offset, start);
});
