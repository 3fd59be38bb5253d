// The decoder files onnx-community publishes beside model.onnx, chosen by tessera.model.precision
// (model/folder.ts): a variant asked for by name is that file or a refusal naming what the folder has;
// int8 (MatMulInteger), q4 (MatMulNBits, 4-bit blocks), fp16 (half-precision weights, cache and logits)
// and q4f16 variants of a real export load, run through the product's decoder, and agree with the fp32
// export (models/recipe/variants.py wrote them).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { argmaxOf } from '../../language-server/src/generation/processors';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { DecoderSession } from '../../language-server/src/model/session';
import { readSettings } from '../../language-server/src/settings';
import { fixtures, readReference } from '../support/models';

const fp32Dir = join(fixtures, 'tiny-gqa-qwen2');
const variantsDir = join(fixtures, 'tiny-gqa-qwen2-variants');

test('a precision named by its variant selects that file, or refuses naming what the folder has', () => {
  assert.match(openModelFolder(variantsDir, 'q4').onnxPath, /onnx\/model_q4\.onnx$/);
  assert.match(openModelFolder(variantsDir, 'int8').onnxPath, /onnx\/model_int8\.onnx$/);
  // fp32 falls back on a quantized file when there is no other; quantized takes the first it finds.
  assert.match(openModelFolder(variantsDir, 'fp32').onnxPath, /onnx\/model_int8\.onnx$/);
  assert.match(openModelFolder(variantsDir, 'quantized').onnxPath, /onnx\/model_int8\.onnx$/);
  assert.match(openModelFolder(variantsDir, 'fp16').onnxPath, /onnx\/model_fp16\.onnx$/);
  assert.throws(
    () => openModelFolder(variantsDir, 'bnb4'),
    /no decoder for precision bnb4 \(looked for onnx\/model_bnb4\.onnx, decoder_model_merged_bnb4\.onnx\); it has onnx\/model_fp16\.onnx, onnx\/model_int8\.onnx, onnx\/model_q4\.onnx, onnx\/model_q4f16\.onnx/,
  );
  assert.equal(readSettings({ model: { precision: 'q4' } }).model.precision, 'q4');
  assert.equal(readSettings({ model: { precision: 'q3' } }).model.precision, 'fp32');
});

for (const precision of ['int8', 'q4', 'fp16', 'q4f16'] as const) {
  test(`the ${precision} variant runs through the product's decoder and agrees with fp32`, async (t) => {
    const ref = readReference(fp32Dir);
    const folder = openModelFolder(variantsDir, precision);
    const vocab = folder.config.vocabSize;
    const session = await DecoderSession.open(folder.onnxPath, folder.config);
    const { logits } = await session.run(ref.prompt);
    await session.release();
    assert.ok(logits.every(Number.isFinite), 'finite logits');
    // Quantized weights move the logits a little: each position's logits stay correlated with fp32's.
    const fp32 = await DecoderSession.open(openModelFolder(fp32Dir).onnxPath, folder.config);
    const exact = (await fp32.run(ref.prompt)).logits;
    await fp32.release();
    const correlations = ref.positions.map((_, pos) =>
      correlation(logits.subarray(pos * vocab, (pos + 1) * vocab), exact.subarray(pos * vocab, (pos + 1) * vocab)),
    );
    t.diagnostic(
      `${precision}: correlation with fp32's logits ${Math.min(...correlations).toFixed(3)} (lowest of ${correlations.length} positions)`,
    );
    // The bound follows from the rounding: ~14 quantized matrix products, each adding relative noise of
    // about step/√12 over the weights' spread — ≈ 0.3% for int8 (255 levels per tensor), ≈ 10% for q4
    // (15 levels per block of 16) — so √14 × that: correlation ≈ 0.9999 and ≈ 0.94. int8 weights against
    // uint8 activations (onnx-community's int8) also saturate in 16-bit sums on AVX2 without VNNI: 0.997
    // here with VNNI, 0.978 under an emulated Haswell. fp16 rounds every weight and activation to 11
    // significant bits (relative 2^-12 ≈ 0.02% each): correlation ≈ 0.99999. The bounds hold on both, with a margin.
    const bound = { int8: 0.95, q4: 0.8, fp16: 0.99, q4f16: 0.8 }[precision];
    assert.ok(Math.min(...correlations) >= bound, `${precision}: ${correlations.map((c) => c.toFixed(3)).join(', ')}`);
    // Through the decoder completions use: greedy with the cache equals greedy over whole windows.
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    const cached: number[] = [];
    let row = await decoder.run(ref.prompt, 0, 1);
    for (let i = 0; i < 8; i++) {
      cached.push(argmaxOf(row));
      row = await decoder.run([cached[i]!], ref.prompt.length + i, 1);
    }
    await decoder.release();
    const whole = await DecoderSession.open(folder.onnxPath, folder.config);
    const seq = [...ref.prompt];
    for (let i = 0; i < 8; i++) {
      const out = (await whole.run(seq)).logits;
      seq.push(argmaxOf(out.subarray(out.length - vocab)));
    }
    await whole.release();
    assert.deepEqual(cached, seq.slice(ref.prompt.length));
  });
}

/** Pearson correlation of two rows. */
function correlation(a: Float32Array, b: Float32Array): number {
  const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(a), mean(b)];
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
