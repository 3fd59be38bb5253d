// The default model's tokenizer (models/tessera-tiny, trained by `npm run tokenizer:train`) reads the
// same in our engine, in Hugging Face's Rust library and in transformers.js' tokenizer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as TransformersJs } from '@huggingface/tokenizers';
import { Tokenizer as Reference } from 'tokenizers';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { loadCorpus, namesControlToken, STRESS_TEXTS, wellFormed } from '../../scripts/lib/corpus';
import { repoRoot } from '../../scripts/lib/repoRoot';

const dir = join(repoRoot, 'models', 'tessera-tiny');
const file = join(dir, 'tokenizer.json');

test('special tokens: end of text, FIM prefix/middle/suffix and file separator, never made from text', () => {
  const tok = Tokenizer.fromFile(file);
  assert.deepEqual(
    ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<file_sep>'].map((t) => tok.id(t)),
    [0, 1, 2, 3, 4],
  );
  const ids = tok.encodeIds('x = "<fim_prefix><|endoftext|>";');
  assert.ok(!ids.some((id) => tok.isControl(id)));
  assert.equal(tok.vocabSize, 8192);
});

test('identical ids in Tessera, Hugging Face tokenizers and transformers.js', async () => {
  const ours = Tokenizer.fromFile(file);
  const reference = Reference.fromFile(file);
  const js = new TransformersJs(
    JSON.parse(readFileSync(file, 'utf8')),
    JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  );
  // Files that name a control token literally (prompt code does) are tested apart: file content is text to us.
  const texts = [...Object.values(STRESS_TEXTS), ...loadCorpus(0.1).map((f) => f.text)].filter((t) => !namesControlToken(ours, t));
  for (const text of texts) {
    const mine = ours.encodeIds(text);
    const clean = wellFormed(text);
    assert.deepEqual(mine, (await reference.encode(clean, null, { addSpecialTokens: false })).getIds());
    assert.deepEqual(mine, js.encode(clean, { add_special_tokens: false }).ids);
  }
});
