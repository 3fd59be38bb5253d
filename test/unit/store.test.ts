// Open documents kept in sync from LSP notifications (documents/store.ts): every change reaches the
// listeners as an offset edit with the text it replaced, in order, after the buffer applied it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DocumentListener, DocumentStore, type Edit } from '../../language-server/src/documents/store';
import type { TextBuffer } from '../../language-server/src/documents/textBuffer';

function recorder(): DocumentListener & { log: string[]; edits: Array<Edit & { after: string }> } {
  const log: string[] = [];
  const edits: Array<Edit & { after: string }> = [];
  return {
    log,
    edits,
    opened: (doc: TextBuffer) => log.push(`open ${doc.uri} v${doc.version} ${JSON.stringify(doc.getText())}`),
    changed: (doc: TextBuffer, e: Edit) => edits.push({ ...e, after: doc.getText() }),
    closed: (uri: string) => log.push(`close ${uri}`),
  };
}

test('open, incremental and full changes, close: listeners see each as it happens', () => {
  const store = new DocumentStore();
  const a = recorder();
  const b = recorder();
  store.listen(a);
  store.listen(b);
  const uri = 'file:///x.ts';
  store.open({ textDocument: { uri, languageId: 'typescript', version: 1, text: 'let a = 1;\nlet b = 2;\n' } });
  assert.deepEqual(a.log, [`open ${uri} v1 "let a = 1;\\nlet b = 2;\\n"`]);
  assert.equal(store.size, 1);
  store.change({
    textDocument: { uri, version: 2 },
    contentChanges: [
      { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 5 } }, text: 'beta' },
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// x\n' },
    ],
  });
  assert.deepEqual(a.edits, [
    { start: 15, end: 16, text: 'beta', replaced: 'b', after: 'let a = 1;\nlet beta = 2;\n' },
    { start: 0, end: 0, text: '// x\n', replaced: '', after: '// x\nlet a = 1;\nlet beta = 2;\n' },
  ]);
  assert.deepEqual(b.edits, a.edits, 'every listener, in the same order');
  assert.equal(store.get(uri)!.version, 2);
  store.change({ textDocument: { uri, version: 3 }, contentChanges: [{ text: 'whole' }] });
  assert.deepEqual(a.edits.at(-1), { start: 0, end: 30, text: 'whole', replaced: '// x\nlet a = 1;\nlet beta = 2;\n', after: 'whole' });
  store.close({ textDocument: { uri } });
  assert.deepEqual(a.log.at(-1), `close ${uri}`);
  assert.equal(store.get(uri), undefined);
  assert.equal(store.size, 0);
});

test('a change to a document that is not open is ignored', () => {
  const store = new DocumentStore();
  const a = recorder();
  store.listen(a);
  store.change({ textDocument: { uri: 'file:///nope', version: 2 }, contentChanges: [{ text: 'x' }] });
  assert.deepEqual(a.edits, []);
});
