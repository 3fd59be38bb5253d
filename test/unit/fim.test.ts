// FIM prompts in each family's own format, detected from the tokenizers the repository brings (and from
// the real ones of $TESSERA_TOKENIZERS when it is set).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFimPrompt, detectFimTemplate, FIM_TEMPLATES } from '../../language-server/src/prompt/fim';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { EXPECTED_FAMILY, EXTRA_FAMILY, extraTokenizers, tokenizerPath } from '../../scripts/lib/testTokenizers';

const parts = { path: 'src/app.ts', prefix: 'function add(a, b) {\n  return ', suffix: ';\n}\n' };

test("each tokenizer gets its family's template, or none where it has no FIM tokens", () => {
  for (const [name, family] of Object.entries(EXPECTED_FAMILY)) {
    assert.equal(detectFimTemplate(Tokenizer.fromFile(tokenizerPath(name)))?.family, family, name);
  }
});

const extra = extraTokenizers();
test("each tokenizer of $TESSERA_TOKENIZERS gets its family's template", { skip: extra.skip }, () => {
  for (const name of extra.names.filter((n) => n in EXTRA_FAMILY)) {
    assert.equal(detectFimTemplate(Tokenizer.fromFile(join(extra.dir!, name)))?.family, EXTRA_FAMILY[name], name);
  }
});

test('StarCoder2 PSM and SPM prompts: markers by id, path header, prefix and suffix tokenized apart', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('starcoder2-style'));
  const t = detectFimTemplate(tok)!;
  const psm = buildFimPrompt(t, tok, parts, 'psm');
  const header = [6, ...tok.encodeIds('src/app.ts\n')]; // <file_sep>=6, as in StarCoder2
  assert.deepEqual(psm.ids, [...header, 1, ...tok.encodeIds(parts.prefix), 3, ...tok.encodeIds(parts.suffix), 2]);
  assert.equal(psm.prefixStart, header.length + 1);
  const spm = buildFimPrompt(t, tok, parts, 'spm');
  assert.deepEqual(spm.ids, [...header, 1, 3, ...tok.encodeIds(parts.suffix), 2, ...tok.encodeIds(parts.prefix)]);
  // SPM ends with the prefix: typing at the cursor extends the prompt, the cache covers the rest.
  assert.deepEqual(spm.ids.slice(spm.prefixStart), tok.encodeIds(parts.prefix));
  assert.ok(spm.stopIds.has(0) && spm.stopIds.has(6) && spm.stopIds.has(4)); // <|endoftext|>, <file_sep>, <fim_pad>
  assert.equal(tok.decode(psm.ids), '<file_sep>src/app.ts\n<fim_prefix>function add(a, b) {\n  return <fim_suffix>;\n}\n<fim_middle>');
});

test('DeepSeek-Coder: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜> after the BOS token', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('deepseek-style'));
  const p = buildFimPrompt(detectFimTemplate(tok)!, tok, parts);
  const text = tok.decode(p.ids);
  assert.equal(text, '<｜begin▁of▁sentence｜><｜fim▁begin｜>function add(a, b) {\n  return <｜fim▁hole｜>;\n}\n<｜fim▁end｜>');
  const [begin, hole, end] = ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'].map((s) => tok.id(s)!);
  assert.ok(p.ids.includes(begin!) && p.ids.includes(hole!) && p.ids.at(-1) === end);
});

test('Qwen2.5-Coder: <|file_sep|> header and <|fim_*|> markers; stops include <|fim_pad|> and <|file_sep|>', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('qwen2.5-coder'));
  const p = buildFimPrompt(detectFimTemplate(tok)!, tok, parts);
  assert.equal(
    tok.decode(p.ids),
    '<|file_sep|>src/app.ts\n<|fim_prefix|>function add(a, b) {\n  return <|fim_suffix|>;\n}\n<|fim_middle|>',
  );
  assert.ok([151662, 151664, 151643].every((id) => p.stopIds.has(id)));
});

test('CodeLlama: <s>▁<PRE>prefix▁<SUF>suffix▁<MID>, the suffix encoded as a fragment (no leading ▁)', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('codellama-style'));
  const t = detectFimTemplate(tok)!;
  const p = buildFimPrompt(t, tok, parts);
  const [bos, pre, suf, mid] = ['<s>', '▁<PRE>', '▁<SUF>', '▁<MID>'].map((s) => tok.id(s)!);
  assert.deepEqual(p.ids, [bos, pre, ...tok.encodeIds(parts.prefix), suf, ...tok.encodeFragment(parts.suffix), mid]);
  assert.notDeepEqual(tok.encodeFragment(parts.suffix), tok.encodeIds(parts.suffix));
  assert.ok(p.stopIds.has(tok.id('▁<EOT>')!) && p.stopIds.has(tok.id('</s>')!));
});

test('the default model: SPM by default, its own markers', () => {
  const tok = Tokenizer.fromFile(join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json'));
  const t = detectFimTemplate(tok)!;
  assert.deepEqual(t.orders, ['spm', 'psm']);
  const p = buildFimPrompt(t, tok, parts);
  assert.equal(tok.decode(p.ids), '<file_sep>src/app.ts\n<fim_prefix><fim_suffix>;\n}\n<fim_middle>function add(a, b) {\n  return ');
});

test('a template the tokenizer lacks markers for fails with a clear message; names are unique', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('gpt2-style'));
  const codellama = FIM_TEMPLATES.find((t) => t.family === 'codellama')!;
  assert.throws(() => buildFimPrompt(codellama, tok, parts), /no ▁<PRE> token for the codellama FIM template/);
  assert.equal(new Set(FIM_TEMPLATES.map((t) => t.family)).size, FIM_TEMPLATES.length);
  assert.equal(detectFimTemplate(tok, 'codestral')?.family, 'codestral');
});
