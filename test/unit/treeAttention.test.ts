// Tree verification (model/treeAttention.ts) over exports that take an attention bias (the default
// model; a random one through the same graph, in fp32 and fp16): a tree's rows are the rows its branches give run one by one, and keeping a branch leaves the
// cache as if only it had run. Runs again on an emulated older CPU (npm test's older-cpu stage).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../language-server/src/generation/generate';
import { AdjacencyTable, treeTemplate } from '../../language-server/src/generation/recycling';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import type { Decoder } from '../../language-server/src/model/decoder';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { depthsOf, treeBias } from '../../language-server/src/model/treeAttention';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');
const fixtures = join(repoRoot, 'test', 'fixtures', 'models');

test('tree bias: each node sees the cache, its ancestors and itself, nothing else', () => {
  const parents = [-1, 0, 0, 2, 1];
  assert.deepEqual([...depthsOf(parents)], [0, 1, 1, 2, 2]);
  const bias = treeBias(parents, 2);
  const sees = (i: number) => [...bias.subarray(i * 7, (i + 1) * 7)].map((x) => (x === 0 ? 1 : 0)).join('');
  assert.deepEqual([0, 1, 2, 3, 4].map(sees), ['1110000', '1111000', '1110100', '1110110', '1111001']);
  assert.throws(() => depthsOf([-1, 2, 0]), /does not precede/);
});

// The default model (fp32), and a random GQA export through the same graph in fp32 and fp16.
const models = [
  { name: 'tessera-tiny', dir: tiny, precision: 'fp32' },
  { name: 'tiny-gqa-tree', dir: join(fixtures, 'tiny-gqa-tree'), precision: 'fp32' },
  { name: 'tiny-gqa-tree fp16', dir: join(fixtures, 'tiny-gqa-tree'), precision: 'fp16' },
] as const;

for (const m of models)
  for (const engine of ['auto', 'binding'] as const) {
    test(`tree verification: each node's logits are its branch's run alone, and a kept branch leaves the cache as if only it ran (${m.name}, ${engine})`, async () => {
      const folder = openModelFolder(m.dir, m.precision);
      const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1, engine });
      assert.equal(decoder.trees, true, 'the export takes an attention bias');
      if (engine === 'auto') assert.equal(decoder.cacheMode, 'in-place');
      const v = folder.config.vocabSize;
      const prompt = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % v);
      const tree = { ids: [5, 17, 300, 17, 42, 99, 7], parents: [-1, 0, 0, 1, 1, 3, 2] };
      const rowsOf = async (d: Decoder, ids: number[]) => Float32Array.from(await d.run(ids, prompt.length, ids.length));
      await decoder.run(prompt, 0, 1);
      const treeRows = Float32Array.from(await decoder.runTree(tree, prompt.length));
      // Sums in another order: a few units in the last place of the largest logit, float32's (2^-23) or,
      // where activations and logits are half precision, float16's (2^-10).
      const scale = Math.max(...treeRows.map(Math.abs));
      const tolerance = 64 * 2 ** (decoder.layout.logitsType === 'float16' ? -10 : -23) * scale;
      for (let i = 0; i < tree.ids.length; i++) {
        const branch: number[] = [];
        for (let a = i; a >= 0; a = tree.parents[a]!) branch.unshift(tree.ids[a]!);
        const alone = await rowsOf(decoder, branch);
        const last = alone.subarray((branch.length - 1) * v);
        const diff = Math.max(...last.map((x, j) => Math.abs(x - treeRows[i * v + j]!)));
        assert.ok(diff <= tolerance, `node ${i}: ${diff} > ${tolerance}`);
      }
      // Keep the branch 0 → 1 → 3 → 5; then one more token must see exactly prompt + that branch.
      await decoder.runTree(tree, prompt.length);
      decoder.keepBranch(prompt.length, [0, 1, 3, 5]);
      const after = Float32Array.from(await decoder.run([64], prompt.length + 4, 1));
      await decoder.run(prompt, 0, 1);
      const reference = await decoder.run([5, 17, 17, 99, 64], prompt.length, 1);
      const diff = Math.max(...after.map((x, j) => Math.abs(x - reference[j]!)));
      assert.ok(diff <= tolerance, `after the kept branch: ${diff} > ${tolerance}`);
      await decoder.release();
    });
  }

test('an export without an attention bias keeps chain verification', async () => {
  const folder = openModelFolder(join(fixtures, 'tiny-gqa-qwen2'));
  const tok = Tokenizer.fromFile(folder.tokenizerPath);
  const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
  assert.equal(decoder.trees, false);
  await assert.rejects(decoder.runTree({ ids: [1, 2], parents: [-1, 0] }, 0), /attention bias/);
  const session = new CachedSession(decoder);
  const prompt = tok.encodeIds('def add(a, b):\n    return a + b\n\ndef add(');
  const opts = { maxTokens: 12, stopIds: new Set<number>(), processors: [] };
  const plain = await generate(session, tok, prompt, opts);
  const recycling = { table: new AdjacencyTable(folder.config.vocabSize), template: treeTemplate(8) };
  const chained = await generate(session, tok, prompt, { ...opts, maxDraft: 8, recycling });
  assert.deepEqual(chained.tokens, plain.tokens);
  await decoder.release();
});
