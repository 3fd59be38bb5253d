// Typing through ghost text (completion/typedThrough.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedThrough } from '../../language-server/src/completion/typedThrough';

test('typing what the completion says leaves its rest; anything else ends it', () => {
  const t = new TypedThrough();
  const doc = 'const x = ;\nlet y;\n';
  const at = doc.indexOf(';');
  t.remember('u', doc, at, 'compute(1)');
  const typed = (s: string) => doc.slice(0, at) + s + doc.slice(at);
  assert.equal(t.rest('u', typed('com'), at + 3), 'pute(1)');
  assert.equal(t.rest('u', typed('cox'), at + 3), undefined, 'typed something else');
  assert.equal(t.rest('u', typed('compute(1)'), at + 10), undefined, 'all of it typed: a new completion');
  assert.equal(t.rest('u', typed('com').replace('let', 'var'), at + 3), undefined, 'the rest of the document changed');
  assert.equal(t.rest('v', typed('com'), at + 3), undefined, 'another document');
  t.forget('u');
  assert.equal(t.rest('u', typed('com'), at + 3), undefined);
  t.remember('u', doc, at, '');
  assert.equal(t.rest('u', typed('c'), at + 1), undefined, 'nothing shown, nothing to type through');
});
