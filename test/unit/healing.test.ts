// Token healing (generation/healing.ts): which tokens are backed off, and the constraint that follows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyHealing, healPrompt, planHealing, VocabIndex } from '../../language-server/src/generation/healing';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

test('token healing backs off a word the vocabulary would continue, and constrains the next token to it', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('starcoder2-style'));
  const index = new VocabIndex(tok);
  const ids = tok.encodeIds('    console.lo');
  const plan = planHealing(tok, ids, 1, index)!;
  assert.equal(plan.keep, ids.length - 1);
  assert.equal(new TextDecoder().decode(plan.bytes), 'lo');
  const logits = new Float32Array(tok.vocabSize);
  applyHealing(plan.bytes, index)(logits, { generated: [] });
  const allowed = [...logits.keys()].filter((i) => logits[i] === 0).map((i) => tok.decode([i]));
  assert.ok(allowed.includes('log') && allowed.includes('lo') && allowed.includes('l'), allowed.slice(0, 20).join('|'));
  assert.ok(allowed.every((t) => t.startsWith('lo') || 'lo'.startsWith(t)));
  // Once the healed bytes are covered, the constraint lifts.
  const after = new Float32Array(tok.vocabSize);
  applyHealing(plan.bytes, index)(after, { generated: [tok.id('log')!] });
  assert.ok(after.every((x) => x === 0));
  // A line break or a control token is never backed off.
  assert.equal(planHealing(tok, tok.encodeIds('x = 1\n'), 1, index), null);
});

test('the prompt is healed at the end of its prefix, wherever the template put the prefix', () => {
  const tok = Tokenizer.fromFile(tokenizerPath('starcoder2-style'));
  const index = new VocabIndex(tok);
  const prefix = tok.encodeIds('    console.lo');
  const suffix = tok.encodeIds(');\n');
  const [pre, suf, mid] = ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'].map((s) => tok.id(s)!) as [number, number, number];
  // SPM: the prefix is last; healing shortens the prompt (the cache keeps all before it).
  const spm = [pre, suf, ...suffix, mid, ...prefix];
  const a = healPrompt(tok, index, spm, spm.length - prefix.length, spm.length)!;
  assert.deepEqual(a.prompt, spm.slice(0, -1));
  assert.equal(new TextDecoder().decode(a.bytes), 'lo');
  // PSM: the prefix's last token leaves the middle of the prompt; the suffix and <fim_middle> stay.
  const psm = [pre, ...prefix, suf, ...suffix, mid];
  const b = healPrompt(tok, index, psm, 1, 1 + prefix.length)!;
  assert.deepEqual(b.prompt, [pre, ...prefix.slice(0, -1), suf, ...suffix, mid]);
  assert.deepEqual(b.bytes, a.bytes);
  // A prefix of one token is left whole; so is one ending in a line break.
  assert.equal(healPrompt(tok, index, [pre, ...tok.encodeIds('lo'), mid], 1, 2), null);
  const nl = tok.encodeIds('x = 1\n');
  assert.equal(healPrompt(tok, index, [pre, ...nl, mid], 1, 1 + nl.length), null);
});
