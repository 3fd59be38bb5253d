// The decoding chain's parts one by one, then together over a real (fixture) model: processors, token
// healing, the completion's shape and stop rules, the prompt context's stable start, the KV cache reuse.
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { completionShape, indentUnit, matchIndentation } from '../../language-server/src/completion/shape';
import { PrefixAnchors } from '../../language-server/src/completion/context';
import { generate, type SequenceModel } from '../../language-server/src/generation/generate';
import { lookupDraft } from '../../language-server/src/generation/drafts';
import { applyHealing, planHealing, VocabIndex } from '../../language-server/src/generation/healing';
import { argmaxOf, expNonPositive, logProb, sampleOf, seededRandom, suppress, topP } from '../../language-server/src/generation/processors';
import { shapeStop, trimSuffixOverlap } from '../../language-server/src/generation/stops';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

const tiny = join(repoRoot, 'models', 'tessera-tiny');

test('processors: suppress forbids, top-p keeps the smallest set reaching p, sampling stays inside it', () => {
  const logits = Float32Array.from([2, 1, 0, -1, 3]);
  suppress([4])(logits, { generated: [] });
  assert.equal(argmaxOf(logits), 0);
  topP(0.7)(logits, { generated: [] }); // softmax(2,1,0,-1) = .64 .24 .09 .03: {0, 1} reach 0.7
  assert.deepEqual(Array.from(logits).map((x) => x > -Infinity), [true, true, false, false, false]);
  for (let i = 0; i < 50; i++) assert.ok([0, 1].includes(sampleOf(logits, Math.random)));
});

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

test('shape: mid-line is one line; an empty line or an opener at the line end is a block, one level in', () => {
  const ts = 'function f(x: number) {\n  if (x > 1) {\n    \n  }\n}\n';
  const inBody = completionShape(ts, ts.indexOf('    \n') + 4);
  assert.equal(inBody.multiline, true);
  assert.equal(inBody.blockIndent, '    ');
  assert.equal(inBody.nextLine, '}');
  const afterOpener = 'def f(x):\n    if x:\n';
  const s = completionShape(afterOpener, afterOpener.indexOf('if x:') + 5);
  assert.equal(s.multiline, true);
  assert.equal(s.blockIndent, '        ');
  const mid = 'const x = foo(a, );\n';
  const m = completionShape(mid, mid.indexOf(', )') + 2);
  assert.equal(m.multiline, false);
  assert.equal(m.lineSuffix, ');');
  assert.equal(indentUnit('a\n\tb\n\t\tc\n'), '\t');
  assert.equal(indentUnit('a:\n  b\n  c:\n    d\n'), '  ');
  assert.equal(matchIndentation('if x {\n    y()\n        z()\n', '\t'), 'if x {\n\ty()\n\t\tz()\n');
  assert.equal(matchIndentation('a\n    b', '  '), 'a\n    b');
});

test('stop rules: one line stops at its end, a closer it did not open, a dedent, the next line repeated, two blank lines', () => {
  const line = shapeStop({ multiline: false, maxLines: 8, blockIndent: '', lineSuffix: ')', nextLine: '' });
  assert.equal(line('a, b'), null);
  assert.equal(line('a, b)'), 4);
  assert.equal(line('f(a))'), 4);
  assert.equal(line('x\ny'), 1);
  const block = shapeStop({ multiline: true, maxLines: 8, blockIndent: '    ', lineSuffix: '', nextLine: 'return result' });
  assert.equal(block('x = 1\n    y = 2\n'), null);
  assert.equal(block('x = 1\n    y = 2\n  z\n'), 15);
  assert.equal(block('x = 1\n    return result\n'), 5);
  assert.equal(block('x = 1\n\n\n    y\n'), 6);
  assert.equal(block('x = 1\n    value = value\n    value = value\n'), 23);
  const capped = shapeStop({ multiline: true, maxLines: 2, blockIndent: '', lineSuffix: '', nextLine: '' });
  assert.equal(capped('a\nb\nc\nd\n'), 3);
  assert.equal(trimSuffixOverlap('a, b);', ');'), 'a, b');
  assert.equal(trimSuffixOverlap('a, b', ');'), 'a, b');
  assert.equal(trimSuffixOverlap('x = 1  \n', ''), 'x = 1');
});

test('the prompt prefix starts at a stable line while typing, moves only on overflow', () => {
  const tok = Tokenizer.fromFile(join(tiny, 'tokenizer.json'));
  const lines = Array.from({ length: 400 }, (_, i) => `const value${i} = compute(${i}, "text ${i}");`).join('\n');
  const anchors = new PrefixAnchors();
  const budget = { prefixTokens: 200, suffixTokens: 40 };
  let text = `${lines}\n`;
  const first = anchors.context('u', text, text.length, tok, budget);
  assert.ok(tok.countTokens(first.prefix) <= 200 && tok.countTokens(first.prefix) > 100);
  assert.equal(text[first.prefixStart - 1], '\n');
  const starts = new Set<number>();
  for (const ch of 'let typed = 1;') {
    text += ch;
    starts.add(anchors.context('u', text, text.length, tok, budget).prefixStart);
  }
  assert.equal(starts.size, 1, 'the prefix start did not move while typing one line');
  text += `\n${lines}`;
  const moved = anchors.context('u', text, text.length, tok, budget);
  assert.ok(moved.prefixStart > first.prefixStart && tok.countTokens(moved.prefix) <= 150);
});

// The shipped model's GroupQueryAttention takes the in-place cache; the fixture's Concat attention (as
// torch's exporter writes it) cannot, and keeps the copying one.
for (const [dir, mode] of [[tiny, 'in-place'], [join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), 'copied']] as const) {
  test(`the KV cache is reused up to the common prefix and gives the same completion as a fresh run (${basename(dir)}, ${mode})`, async () => {
    const folder = openModelFolder(dir);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    assert.equal(decoder.cacheMode, mode);
    const cached = new CachedSession(decoder);
    const fresh = cached.withoutReuse();
    const opts = { maxTokens: 12, stopIds: new Set([0]), processors: [] };
    const a = tok.encodeIds('function add(a, b) {\n  return a');
    const first = await generate(cached, tok, a, opts);
    assert.equal(first.reusedTokens, 0);
    const b = tok.encodeIds('function add(a, b) {\n  return a +');
    const second = await generate(cached, tok, b, opts);
    const common = a.findIndex((id, i) => b[i] !== id);
    assert.ok(second.reusedTokens >= (common < 0 ? a.length : common) && second.prefillTokens === b.length - second.reusedTokens);
    const again = await generate(fresh, tok, b, opts);
    assert.deepEqual(second.tokens, again.tokens);
    assert.equal(again.reusedTokens, 0);
    // The same prompt again: only its last token runs.
    const repeat = await generate(cached, tok, b, opts);
    assert.equal(repeat.prefillTokens, 1);
    assert.deepEqual(repeat.tokens, again.tokens);
    await decoder.release();
  });
}

test('prompt lookup: the tokens after the latest earlier occurrence of the tail', () => {
  assert.deepEqual(lookupDraft([1, 2, 3, 9, 1, 2, 3, 7, 8], [1, 2], 3), [3, 7, 8]);
  assert.deepEqual(lookupDraft([5, 6, 7, 8], [5, 6], 8), [7, 8, 5, 6]);
  assert.deepEqual(lookupDraft([1, 2, 3], [4, 5], 4), []);
  assert.deepEqual(lookupDraft([1, 2, 3, 1, 2], [], 1), [3]);
});

for (const engine of ['auto', 'binding'] as const) {
  test(`drafts verified in one pass leave greedy output unchanged, and are accepted on repetitive code (${engine})`, async () => {
    const folder = openModelFolder(tiny);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1, engine });
    const model = new CachedSession(decoder).withoutReuse();
    const body = Array.from({ length: 6 }, (_, i) => `  readonly field${i}: number = compute(${i}, this.options);\n`).join('');
    const prompt = [4, ...tok.encodeIds(`src/fields.ts\nexport class Fields {\n${body}  readonly field6: number = compute(`)];
    const opts = { maxTokens: 40, stopIds: new Set([0]), processors: [] };
    const plain = await generate(model, tok, prompt, opts);
    const drafted = await generate(model, tok, prompt, { ...opts, maxDraft: 8 });
    assert.deepEqual(drafted.tokens, plain.tokens);
    assert.equal(drafted.text, plain.text);
    assert.equal(plain.drafted, 0);
    assert.ok(drafted.accepted > 0 && drafted.passes < plain.passes, `${drafted.accepted} of ${drafted.drafted} accepted, ${drafted.passes} passes vs ${plain.passes}`);
    assert.ok(drafted.accepted < drafted.drafted, 'no draft was rejected: the rewind path went untested');
    // The default model's rows are log-probabilities: read directly, they give the confidence the
    // sum over the vocabulary gives.
    assert.equal(model.logProbs, true);
    const summed: SequenceModel = { prefill: (p) => model.prefill(p), step: (id) => model.step(id), extend: (ids) => model.extend(ids),
      rewind: (n) => model.rewind(n), get length() { return model.length; }, logProbs: false };
    const viaSum = await generate(summed, tok, prompt, opts);
    // The rows sum to one only as well as the export's float32 log-softmax summed them: at most
    // vocab × 2^-24 relative error in the denominator, whichever kernel the CPU runs. Our sum adds the
    // fast exponential's 3e-6. So each log-probability, and the mean of them, differs by at most that.
    const bound = folder.config.vocabSize * 2 ** -24 + 3e-6;
    assert.deepEqual(viaSum.tokens, plain.tokens);
    assert.ok(Math.abs(Math.log(viaSum.confidence / plain.confidence)) <= bound, `confidence ${viaSum.confidence} vs ${plain.confidence}`);
    assert.ok(Math.abs(Math.log(viaSum.minProbability / plain.minProbability)) <= bound, `min ${viaSum.minProbability} vs ${plain.minProbability}`);
    await decoder.release();
  });
}

test('log-probabilities agree with the exact softmax; the fast exponential stays within 3e-6', () => {
  let worstExp = 0;
  for (let x = -39.999; x <= 0; x += 0.0137) worstExp = Math.max(worstExp, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
  assert.ok(worstExp < 3e-6, `relative error ${worstExp}`);
  const random = seededRandom(7);
  for (const spread of [0.5, 8, 60]) {
    const logits = Float32Array.from({ length: 8192 }, () => (random() - 0.5) * spread);
    let max = -Infinity;
    for (const x of logits) max = Math.max(max, x);
    let sum = 0;
    for (const x of logits) sum += Math.exp(x - max);
    for (const id of [0, 17, 8191]) {
      const exact = logits[id]! - max - Math.log(sum);
      assert.ok(Math.abs(logProb(logits, id) - exact) < 1e-5, `spread ${spread}, id ${id}: ${logProb(logits, id)} vs ${exact}`);
    }
  }
});
