import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TextBuffer } from '../../language-server/src/documents/textBuffer';
import { checkCanonical, nonCanonicalPairs } from '../../language-server/src/tokenizer/canonical';
import { TokenizedText } from '../../language-server/src/tokenizer/incremental';
import { splitStage } from '../../language-server/src/tokenizer/preTokenizer';
import { TokenizerError } from '../../language-server/src/tokenizer/spec';
import { ENDS_MID_CHAR, STARTS_MID_CHAR, Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { TOKENIZER_NAMES, tokenizerPath } from '../../scripts/lib/testTokenizers';

const load = (name: string) => Tokenizer.fromFile(tokenizerPath(name));

describe('incremental re-tokenizing equals a full encode', () => {
  const base = readFileSync(join(repoRoot, 'language-server', 'src', 'tokenizer', 'tokenizer.ts'), 'utf8').slice(0, 12_000);
  const inserts = ['a', ' ', '\n', '  ', '\t', '1', '12', '😀', 'é', 'e\u0301', '()', ');', '"', "'s", 'foo', ' bar', '\r\n', '\n\n', '    return x;\n', '{', '}', '<|endoftext|>', 'ü', '\u00a0', '\u3000x', '123456', '\uFEFF'];
  for (const name of TOKENIZER_NAMES) {
    test(`${name}: 500 random edits`, () => {
      const tok = load(name);
      const doc = new TokenizedText(tok, base);
      let seed = 7;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
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
      assert.equal(doc.tokensBefore(part.starts[0]!), full.starts.findIndex((s) => s >= part.starts[0]!));
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

describe('canonicality', () => {
  const tok = load('starcoder2-style');
  test("the tokenizer's own output is canonical", () => {
    const ids = tok.encodeFragment(' function greet(name) { return name; }');
    assert.equal(checkCanonical(tok, ids)?.canonical, true);
    assert.deepEqual(nonCanonicalPairs(tok, ids), []);
  });

  test('another segmentation of the same text is caught, definitively and pairwise', () => {
    const whole = tok.encodeFragment(' function');
    assert.equal(whole.length, 1);
    // Split the token's bytes in two tokens that exist: same text, different ids.
    const text = tok.token(whole[0]!)!;
    let split: number[] | undefined;
    for (let i = 1; i < text.length && !split; i++) {
      const a = tok.id(text.slice(0, i));
      const b = tok.id(text.slice(i));
      if (a !== undefined && b !== undefined) split = [a, b];
    }
    assert.ok(split, 'some split exists');
    const report = checkCanonical(tok, split)!;
    assert.equal(report.canonical, false);
    assert.deepEqual(report.canonicalIds, whole);
    assert.equal(report.firstDifference, 0);
    assert.deepEqual(nonCanonicalPairs(tok, split), [0]);
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
    ['badmerge.json', JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] }, added_tokens: [] }), /merge 0 .* not in the vocabulary/],
    ['badpre.json', JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] }, pre_tokenizer: { type: 'Whitespace' } }), /pre-tokenizer "Whitespace" is not supported/],
  ];
  for (const [file, content, message] of cases) {
    test(file, () => {
      const path = file === 'missing' ? join(dir, 'nope.json') : write(file, content);
      assert.throws(() => Tokenizer.fromFile(path), (err: Error) => err instanceof TokenizerError && message.test(err.message) && err.message.includes(path));
    });
  }
  test('a folder holding tokenizer.json loads, and names the tokenizer after the folder', () => {
    const tok = Tokenizer.fromFile(join(tokenizerPath('qwen2.5-coder'), '..'));
    assert.equal(tok.name, 'qwen2.5-coder');
    assert.equal(tok.vocabSize, 151669);
  });
});

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

describe('tokens over a shared text source (the server document)', () => {
  test('followEdit after the source changed equals a full encode; a wrong report is refused', () => {
    const tok = load('starcoder2-style');
    const doc = new TextBuffer('file:///x.ts', 'typescript', 1, 'export const a = 1;\nfunction f(x) {\n  return x * 2;\n}\n');
    const tokens = new TokenizedText(tok, doc);
    let seed = 3;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
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
