// The decoding loop (generation/generate.ts) over the default model: drafts verified in one pass.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, type SequenceModel } from '../../language-server/src/generation/generate';
import { withNgramCache } from '../../language-server/src/generation/ngramCache';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');

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
    assert.ok(
      drafted.accepted > 0 && drafted.passes < plain.passes,
      `${drafted.accepted} of ${drafted.drafted} accepted, ${drafted.passes} passes vs ${plain.passes}`,
    );
    assert.ok(drafted.accepted < drafted.drafted, 'no draft was rejected: the rewind path went untested');
    // The default model's rows are log-probabilities: read directly, they give the confidence the
    // sum over the vocabulary gives.
    assert.equal(model.logProbs, true);
    const summed: SequenceModel = {
      prefill: (p) => model.prefill(p),
      step: (id) => model.step(id),
      extend: (ids) => model.extend(ids),
      rewind: (n) => model.rewind(n),
      get length() {
        return model.length;
      },
      logProbs: false,
    };
    const viaSum = await generate(summed, tok, prompt, opts);
    // The rows sum to one only as well as the export's float32 log-softmax summed them: at most
    // vocab × 2^-24 relative error in the denominator, whichever kernel the CPU runs. Our sum adds the
    // fast exponential's 3e-6. So each log-probability, and the mean of them, differs by at most that.
    const bound = folder.config.vocabSize * 2 ** -24 + 3e-6;
    assert.deepEqual(viaSum.tokens, plain.tokens);
    assert.ok(Math.abs(Math.log(viaSum.confidence / plain.confidence)) <= bound, `confidence ${viaSum.confidence} vs ${plain.confidence}`);
    assert.ok(
      Math.abs(Math.log(viaSum.minProbability / plain.minProbability)) <= bound,
      `min ${viaSum.minProbability} vs ${plain.minProbability}`,
    );
    await decoder.release();
  });
}

test('with local memory mixed in, drafts still leave greedy output unchanged (the cache never sees what a row predicts)', async () => {
  const folder = openModelFolder(tiny);
  const tok = Tokenizer.fromFile(folder.tokenizerPath);
  const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
  const body = Array.from({ length: 6 }, (_, i) => `  readonly field${i}: number = compute(${i}, this.options);\n`).join('');
  const prompt = [4, ...tok.encodeIds(`src/fields.ts\nexport class Fields {\n${body}  readonly field6: number = compute(`)];
  const opts = { maxTokens: 40, stopIds: new Set([0]), processors: [] };
  const session = new CachedSession(decoder).withoutReuse();
  const plain = await generate(withNgramCache(session, [], 8), tok, prompt, opts);
  const drafted = await generate(withNgramCache(session, [], 8), tok, prompt, { ...opts, maxDraft: 8 });
  assert.deepEqual(drafted.tokens, plain.tokens);
  assert.ok(drafted.accepted > 0 && drafted.accepted < drafted.drafted, `${drafted.accepted} of ${drafted.drafted}`);
  const without = await generate(session, tok, prompt, opts);
  assert.ok(
    plain.confidence >= without.confidence,
    `memory makes the repeated pattern surer: ${plain.confidence} vs ${without.confidence}`,
  );
  await decoder.release();
});
