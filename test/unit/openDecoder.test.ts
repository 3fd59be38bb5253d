// Which decoder a model gets (model/openDecoder.ts): the in-place cache where the export allows it (checked
// against the copying path), else the copying onnxruntime-node path with the reason.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelFolder } from '../../language-server/src/model/folder';
import { argmaxOf, logProb } from '../../language-server/src/generation/processors';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { defaultModel, fixtures, openSession, readReference } from '../support/models';

test('in-place KV cache: pieces, stale positions and cut-backs give the logits of one pass, and torch greedy', async () => {
  const ref = readReference(defaultModel);
  const folder = openModelFolder(defaultModel);
  const { decoder, copiedBecause } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
  assert.equal(decoder.cacheMode, 'in-place', copiedBecause);
  assert.equal(decoder.capacity, folder.config.maxPositions);
  // Its export normalizes the logits: an entry is the token's log-probability, no sum needed.
  assert.equal(decoder.logProbs, true);
  const { session } = await openSession(defaultModel);
  const vocab = folder.config.vocabSize;
  const p = ref.prompt;
  const whole = (await session.run(p)).logits;
  const rows = (from: number, n: number) => whole.subarray(from * vocab, (from + n) * vocab);
  const worst = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
  // Stale positions first (what a rejected draft leaves), then the prompt in pieces, cut back once.
  await decoder.run([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], 0, 1);
  assert.ok(worst(await decoder.run(p.slice(0, 5), 0, 5), rows(0, 5)) < 1e-4);
  await decoder.run([7, 7, 7], 5, 3);
  assert.ok(worst(await decoder.run(p.slice(5, 6), 5, 1), rows(5, 1)) < 1e-4);
  assert.ok(worst(await decoder.run(p.slice(6), 6, 2), rows(p.length - 2, 2)) < 1e-4);
  // Greedy through the in-place cache equals torch's greedy.
  const greedy: number[] = [];
  let last = await decoder.run(p, 0, 1);
  for (let i = 0; i < ref.greedy.length; i++) {
    greedy.push(argmaxOf(last));
    last = await decoder.run([greedy[i]!], p.length + i, 1);
  }
  assert.deepEqual(greedy, ref.greedy);
  for (const id of [0, 5, greedy[0]!]) assert.ok(Math.abs(logProb(last, id) - last[id]!) < 1e-5);
  await assert.rejects(decoder.run([1, 2], decoder.capacity - 1, 1), /a sequence of 513 tokens does not fit the cache \(512 positions\)/);
  await decoder.release();
  await assert.rejects(decoder.run([1], 0, 1), /released/);
  await session.release();
  // int8 too: the check compares runs cut the same way, which is what per-run quantization needs.
  const int8 = openModelFolder(defaultModel, 'quantized');
  const quantized = await openDecoder(int8.onnxPath, int8.config, { threads: 1 });
  assert.equal(quantized.decoder.cacheMode, 'in-place', quantized.copiedBecause);
  await quantized.decoder.release();
});

test('exports that cannot update the cache in place keep the copying path and say why', async () => {
  const cases: Array<[string, RegExp]> = [
    ['tiny-gqa-qwen2', /no in-place cache: .*present\.0\.key.*shape/], // Concat attention
    ['tiny-mqa-bigcode', /no in-place cache: the cache is not a split key\/value cache/],
    ['tiny-merged-llama', /no in-place cache: the cache is not a split key\/value cache/],
  ];
  for (const [name, why] of cases) {
    const folder = openModelFolder(join(fixtures, name));
    const { decoder, copiedBecause } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    assert.equal(decoder.cacheMode, 'copied', name);
    assert.match(copiedBecause ?? '', why, name);
    assert.equal(decoder.logProbs, false, `${name} gives raw logits`);
    await decoder.release();
  }
});
