// The tokenizer pipeline (tokenizer/tokenizer.ts): UTF-16 spans, partial characters, file content as plain
// text, and clear errors for bad tokenizer files.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TokenizerError } from '../../language-server/src/tokenizer/spec';
import { ENDS_MID_CHAR, STARTS_MID_CHAR, Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

const load = (name: string) => Tokenizer.fromFile(tokenizerPath(name));

describe('offsets and partial characters', () => {
  test('an emoji split over byte tokens: both tokens span it and are flagged', () => {
    const tok = load('starcoder2-style');
    const text = 'a😀b';
    const enc = tok.encode(text);
    const emoji = [...enc.ids.keys()].filter((i) => enc.starts[i] === 1 && enc.ends[i] === 3);
    assert.ok(emoji.length >= 2, 'the emoji takes several byte tokens');
    assert.equal(enc.flags[emoji[0]!]! & ENDS_MID_CHAR, ENDS_MID_CHAR);
    assert.equal(enc.flags[emoji[emoji.length - 1]!]! & STARTS_MID_CHAR, STARTS_MID_CHAR);
    assert.equal(tok.decode([enc.ids[emoji[0]!]!]), '\uFFFD', 'alone, part of a character decodes to U+FFFD');
  });

  test('streaming decode holds back an incomplete character', () => {
    const tok = load('cl100k');
    const ids = tok.encodeIds('x = "日本😀"');
    const stream = tok.streamDetokenizer();
    const parts = ids.map((id) => stream.push(id));
    assert.ok(!parts.some((p) => p.includes('\uFFFD')), `no replacement characters: ${JSON.stringify(parts)}`);
    assert.equal(parts.join('') + stream.flush(), 'x = "日本😀"');
  });
});

describe('file content is plain text', () => {
  test('a literal <|endoftext|> or FIM marker in code never becomes the control id', () => {
    for (const name of ['starcoder2-style', 'qwen2.5-coder', 'deepseek-style', 'cl100k', 'codellama-style']) {
      const tok = load(name);
      const text = 'const s = "<|endoftext|><fim_prefix><|fim_middle|><｜fim▁hole｜><think>";';
      const ids = tok.encodeIds(text);
      assert.ok(!ids.some((id) => tok.isControl(id)), `${name}: ${ids.filter((id) => tok.isControl(id)).map((id) => tok.token(id))}`);
      // SentencePiece writes spaces as ▁: a ▁ in the text reads back as a space.
      assert.equal(tok.decode(ids), tok.kind === 'sentencepiece' ? text.replaceAll('▁', ' ') : text, name);
    }
  });

  test("DeepSeek's added Latin-1 letters are vocabulary, as in the model's training", () => {
    const tok = load('deepseek-style');
    const u = tok.addedTokens.find((t) => t.content === 'ü')!.id;
    const ids = tok.encodeIds('Führer');
    assert.ok(ids.includes(u), `ü is its added token ${u}: ${ids}`);
    assert.equal(tok.decode(ids), 'Führer', 'it reads back as the letter typed');
  });
});

describe('bad tokenizer files give clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tok-'));
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const cases: Array<[string, string, RegExp]> = [
    ['missing', '', /no such file/],
    ['notjson.json', '{"model": ', /not valid JSON/],
    ['array.json', '[1,2]', /top level is not an object/],
    ['wordpiece.json', JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }), /model type "WordPiece" is not supported/],
    [
      'badmerge.json',
      JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] }, added_tokens: [] }),
      /merge 0 .* not in the vocabulary/,
    ],
    [
      'badpre.json',
      JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] }, pre_tokenizer: { type: 'Whitespace' } }),
      /pre-tokenizer "Whitespace" is not supported/,
    ],
  ];
  for (const [file, content, message] of cases) {
    test(file, () => {
      const path = file === 'missing' ? join(dir, 'nope.json') : write(file, content);
      assert.throws(
        () => Tokenizer.fromFile(path),
        (err: Error) => err instanceof TokenizerError && message.test(err.message) && err.message.includes(path),
      );
    });
  }
  test('a folder holding tokenizer.json loads, and names the tokenizer after the folder', () => {
    const tok = Tokenizer.fromFile(join(tokenizerPath('qwen2.5-coder'), '..'));
    assert.equal(tok.name, 'qwen2.5-coder');
    assert.equal(tok.vocabSize, 151669);
  });
});
