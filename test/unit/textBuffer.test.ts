import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TextBuffer } from '../../language-server/src/documents/textBuffer';
import { seededRandom } from '../../language-server/src/generation/processors';

test('TextBuffer agrees with TextDocument on text, lines, offsets and positions over random edits', () => {
  const next = seededRandom(11);
  const rand = (n: number) => Math.floor(next() * n);
  const pieces = ['a', 'bc', '\n', '\r\n', '\r', '😀', '  ', 'line\nline', '\r\r\n\n', 'é', ''];
  let doc = TextDocument.create('file:///a.txt', 'plaintext', 1, 'first\r\nsecond\rthird\n\nlast');
  const buf = new TextBuffer('file:///a.txt', 'plaintext', 1, doc.getText());
  for (let e = 0; e < 3000; e++) {
    const len = doc.getText().length;
    const start = rand(len + 1);
    const end = Math.min(len, start + (rand(3) === 0 ? rand(8) : 0));
    const insert = pieces[rand(pieces.length)]! + (rand(2) ? pieces[rand(pieces.length)]! : '');
    // As the server gets them: a range, turned into offsets by the buffer itself.
    const range = { start: doc.positionAt(start), end: doc.positionAt(end) };
    assert.deepEqual([buf.offsetAt(range.start), buf.offsetAt(range.end)], [doc.offsetAt(range.start), doc.offsetAt(range.end)]);
    buf.replace(buf.offsetAt(range.start), buf.offsetAt(range.end), insert);
    doc = TextDocument.update(doc, [{ range, text: insert }], e + 2);
    assert.equal(buf.getText(), doc.getText(), `edit ${e}`);
    assert.equal(buf.lineCount, doc.lineCount, `edit ${e}: lines`);
    for (let k = 0; k < 5; k++) {
      const off = rand(doc.getText().length + 3) - 1;
      assert.deepEqual(buf.positionAt(off), doc.positionAt(off), `edit ${e}: positionAt(${off})`);
      const pos = { line: rand(doc.lineCount + 1), character: rand(12) };
      assert.equal(buf.offsetAt(pos), doc.offsetAt(pos), `edit ${e}: offsetAt(${JSON.stringify(pos)})`);
    }
  }
});
