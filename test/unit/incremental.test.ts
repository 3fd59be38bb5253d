// Edit-by-edit re-tokenizing (tokenizer/incremental.ts) equals a full encode.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TextBuffer } from '../../language-server/src/documents/textBuffer';
import { TokenizedText } from '../../language-server/src/tokenizer/incremental';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { TOKENIZER_NAMES, tokenizerPath } from '../../scripts/lib/testTokenizers';
import { seededRandom } from '../../language-server/src/generation/processors';

const load = (name: string) => Tokenizer.fromFile(tokenizerPath(name));

describe('incremental re-tokenizing equals a full encode', () => {
  const base = readFileSync(join(repoRoot, 'language-server', 'src', 'tokenizer', 'tokenizer.ts'), 'utf8').slice(0, 12_000);
  const inserts = [
    'a',
    ' ',
    '\n',
    '  ',
    '\t',
    '1',
    '12',
    '😀',
    'é',
    'e\u0301',
    '()',
    ');',
    '"',
    "'s",
    'foo',
    ' bar',
    '\r\n',
    '\n\n',
    '    return x;\n',
    '{',
    '}',
    '<|endoftext|>',
    'ü',
    '\u00a0',
    '\u3000x',
    '123456',
    '\uFEFF',
  ];
  for (const name of TOKENIZER_NAMES) {
    test(`${name}: 500 random edits`, () => {
      const tok = load(name);
      const doc = new TokenizedText(tok, base);
      const next = seededRandom(7);
      const rand = (n: number) => Math.floor(next() * n);
      for (let e = 0; e < 500; e++) {
        const len = doc.length;
        const start = rand(len + 1);
        const end = rand(4) === 0 ? Math.min(len, start + rand(30)) : start;
        const insert = rand(4) === 0 ? '' : inserts[rand(inserts.length)]!;
        doc.edit(start, end, insert);
        const full = tok.encodeIds(doc.text);
        const inc = doc.allIds();
        assert.equal(doc.count, full.length, `edit ${e}: count`);
        assert.deepEqual(Array.from(inc), full, `edit ${e}: ${JSON.stringify(insert)} at ${start}, deleting ${end - start}`);
      }
      // Spans of a range equal the full encoding's spans there.
      const full = tok.encode(doc.text);
      const from = Math.floor(doc.length / 3);
      const part = doc.tokensIn(from, from + 400);
      const first = full.ends.findIndex((e) => e > from);
      assert.deepEqual(Array.from(part.ids), Array.from(full.ids.slice(first, first + part.ids.length)));
      assert.deepEqual(Array.from(part.starts), Array.from(full.starts.slice(first, first + part.ids.length)));
      assert.deepEqual(Array.from(part.ends), Array.from(full.ends.slice(first, first + part.ids.length)));
      assert.equal(
        doc.tokensBefore(part.starts[0]!),
        full.starts.findIndex((s) => s >= part.starts[0]!),
      );
    });
  }

  test('edits at the very start and end, and deleting everything', () => {
    const tok = load('llama2');
    const doc = new TokenizedText(tok, 'hello world\n');
    doc.edit(0, 0, 'say ');
    assert.deepEqual(Array.from(doc.allIds()), tok.encodeIds('say hello world\n'));
    doc.edit(doc.length, doc.length, 'bye');
    assert.deepEqual(Array.from(doc.allIds()), tok.encodeIds('say hello world\nbye'));
    doc.edit(0, doc.length, '');
    assert.equal(doc.count, 0);
    doc.edit(0, 0, 'x');
    assert.deepEqual(Array.from(doc.allIds()), tok.encodeIds('x'));
  });
});

describe('tokens over a shared text source (the server document)', () => {
  test('followEdit after the source changed equals a full encode; a wrong report is refused', () => {
    const tok = load('starcoder2-style');
    const doc = new TextBuffer('file:///x.ts', 'typescript', 1, 'export const a = 1;\nfunction f(x) {\n  return x * 2;\n}\n');
    const tokens = new TokenizedText(tok, doc);
    const next = seededRandom(3);
    const rand = (n: number) => Math.floor(next() * n);
    for (let e = 0; e < 300; e++) {
      const start = rand(doc.length + 1);
      const end = Math.min(doc.length, start + rand(4));
      const insert = ['x', ' ', '\n', '😀', '()', ''][rand(6)]!;
      doc.replace(start, end, insert);
      tokens.followEdit(start, end, insert.length);
      assert.deepEqual(Array.from(tokens.allIds()), tok.encodeIds(doc.getText()), `edit ${e}`);
    }
    doc.replace(0, 0, 'xy');
    assert.throws(() => tokens.followEdit(0, 0, 1), /the source is \d+ long/);
    assert.throws(() => tokens.edit(0, 0, 'z'), /shared text source/);
  });
});
