// Ids identical to Hugging Face's own library (the Rust `tokenizers`, used only here) on every
// tokenizer the repository brings (test/support/tokenizers.ts), over ~5 MB of real code and a stress
// set; offsets consistent with its offsets (which are code points: converted to UTF-16 units here).
// The tokenizer folders of $TESSERA_TOKENIZERS are checked too when it is set.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tokenizer as Reference } from 'tokenizers';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { loadCorpus, namesControlToken, STRESS_TEXTS, wellFormed } from '../../scripts/lib/corpus';
import { join } from 'node:path';
import { extraTokenizers, TOKENIZER_NAMES, tokenizerPath } from '../../scripts/lib/testTokenizers';

const corpus = loadCorpus();
const stress = Object.entries(STRESS_TEXTS);

test('the corpus is real code in several languages, at least 5 MB', () => {
  const bytes = corpus.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  const languages = new Set(corpus.map((f) => f.language));
  assert.ok(bytes >= 5_000_000, `corpus has ${bytes} bytes`);
  assert.ok(languages.size >= 4, `languages: ${[...languages].join(', ')}`);
});

/** UTF-16 offset of each code point index of `text` (and of its end). */
function codePointToUnit(text: string): Uint32Array {
  const map: number[] = [];
  let unit = 0;
  for (const ch of text) {
    map.push(unit);
    unit += ch.length;
  }
  map.push(unit);
  return Uint32Array.from(map);
}

const extra = extraTokenizers();
const cases = [
  ...TOKENIZER_NAMES.map((name) => ({ label: name, path: tokenizerPath(name) })),
  ...extra.names.map((name) => ({ label: `${name} (extra)`, path: join(extra.dir!, name, 'tokenizer.json') })),
];
if (extra.skip) test('the tokenizers of $TESSERA_TOKENIZERS', { skip: extra.skip }, () => undefined);

for (const { label: name, path } of cases) {
  describe(`${name} matches Hugging Face tokenizers`, () => {
    const ours = Tokenizer.fromFile(path);
    const reference = Reference.fromFile(path);

    async function compare(label: string, text: string): Promise<number> {
      const enc = ours.encode(text);
      const ref = await reference.encode(wellFormed(text), null, { addSpecialTokens: false });
      const ids = ref.getIds();
      const mine = Array.from(enc.ids);
      if (mine.length !== ids.length || mine.some((id, i) => id !== ids[i])) {
        let i = 0;
        while (mine[i] === ids[i]) i++;
        assert.fail(
          `${label}: ids differ at token ${i}: ours ${JSON.stringify(mine.slice(i, i + 4).map((t) => ours.token(t)))}, reference ${JSON.stringify(ids.slice(i, i + 4).map((t) => ours.token(t)))}`,
        );
      }
      const units = codePointToUnit(text);
      const offsets = ref.getOffsets();
      for (let i = 0; i < offsets.length; i++) {
        const [s, e] = offsets[i]!;
        if (units[s!] !== enc.starts[i] || units[e!] !== enc.ends[i]) {
          // Where NFC composed characters, the reference drops the combining marks from every
          // span; ours keep covering them. Any other difference is a bug.
          const a = Math.min(units[s!]!, enc.starts[i]!);
          const b = Math.max(units[e!]!, enc.ends[i]!) + 1;
          if (ours.normalizesNfc && text.slice(a, b).normalize('NFC') !== text.slice(a, b)) continue;
          assert.fail(
            `${label}: token ${i} (${JSON.stringify(ours.token(ids[i]!))}) spans [${enc.starts[i]}, ${enc.ends[i]}), reference [${units[s!]}, ${units[e!]})`,
          );
        }
      }
      return ids.length;
    }

    test(`real code (${corpus.length} files)`, async () => {
      let tokens = 0;
      let skipped = 0;
      for (const file of corpus) {
        if (namesControlToken(ours, file.text)) {
          skipped++;
          continue;
        }
        tokens += await compare(file.path, file.text);
      }
      assert.ok(skipped < corpus.length / 50, `${skipped} files skipped for naming control tokens`);
      assert.ok(tokens > 1_000_000, `only ${tokens} tokens compared`);
    });

    test('stress set', async () => {
      for (const [label, text] of stress) await compare(label, text);
    });

    test('decode(encode(text)) is the text', () => {
      for (const [label, text] of [...stress, ...corpus.slice(0, 40).map((f) => [f.path, f.text] as const)]) {
        const expected = ours.normalizesNfc ? wellFormed(text).normalize('NFC') : wellFormed(text);
        assert.equal(ours.decode(ours.encode(text).ids), expected, label);
      }
    });
  });
}
