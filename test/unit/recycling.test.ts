// Token Recycling (generation/recycling.ts): the template, the draft tree read from the adjacency table,
// and greedy decoding with trees over the default model giving the tokens it gives without them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../language-server/src/generation/generate';
import { AdjacencyTable, draftTree, treeTemplate } from '../../language-server/src/generation/recycling';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { depthsOf } from '../../language-server/src/model/treeAttention';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');

test('tree template: every parent first, rank 0 deepest, the size asked for', () => {
  const t = treeTemplate(20);
  assert.equal(t.parents.length, 21);
  t.parents.forEach((p, j) => {
    assert.ok(j === 0 ? p === -1 : p >= 0 && p < j);
  });
  const depths = depthsOf(t.parents);
  const deepest = depths.indexOf(Math.max(...depths));
  for (let j = deepest; j > 0; j = t.parents[j]!) assert.equal(t.ranks[j], 0, 'the deepest branch follows rank 0');
  assert.ok(
    t.ranks.slice(1).some((r) => r > 0),
    'the template branches',
  );
});

test('draft tree: the lookup chain is one branch, siblings never repeat a token, limits hold', () => {
  const table = new AdjacencyTable(10, 2);
  const rows = (tops: number[][]) => {
    const r = new Float32Array(tops.length * 10).fill(-10);
    tops.forEach((t, i) => {
      t.forEach((id, k) => {
        r[i * 10 + id] = -k;
      });
    });
    return r;
  };
  table.update(
    [1, 2, 3],
    rows([
      [2, 3],
      [4, 5],
      [6, 2],
    ]),
  );
  const template = treeTemplate(6, [0.5, 0.3]);
  const tree = draftTree(1, [2, 9], table, template, 64, 8);
  assert.deepEqual(tree.ids.slice(0, 3), [1, 2, 9]);
  const seen = new Set<string>();
  tree.ids.forEach((id, i) => {
    const key = `${tree.parents[i]}:${id}`;
    assert.ok(!seen.has(key), `node ${i} repeats token ${id} under ${tree.parents[i]}`);
    seen.add(key);
    if (i > 0) assert.equal(tree.child(tree.parents[i]!, id), i);
  });
  assert.ok(tree.ids.includes(3), 'rank 1 after the root is drafted');
  const small = draftTree(1, [2, 9], table, template, 3, 1);
  assert.ok(small.ids.length <= 3 && Math.max(...small.depths) <= 1);
});

for (const engine of ['auto', 'binding'] as const) {
  test(`Token Recycling leaves greedy output unchanged over many files, with fewer passes (${engine})`, async () => {
    const folder = openModelFolder(tiny);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1, engine });
    const session = new CachedSession(decoder);
    const dir = join(repoRoot, 'language-server', 'src', 'completion');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    const recycling = { table: new AdjacencyTable(folder.config.vocabSize), template: treeTemplate(24) };
    const opts = { maxTokens: 32, stopIds: new Set([0]), processors: [] };
    let passes = { plain: 0, trees: 0 };
    let accepted = 0;
    let rejected = 0;
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const at of [0.3, 0.6]) {
        const cut = text.lastIndexOf('\n', Math.floor(text.length * at)) + 1;
        const prompt = [4, ...tok.encodeIds(`${f}\n${text.slice(Math.max(0, cut - 1200), cut)}`)];
        const plain = await generate(session, tok, prompt, opts);
        const trees = await generate(session, tok, prompt, { ...opts, maxDraft: 8, recycling });
        assert.deepEqual(trees.tokens, plain.tokens, `${f} at ${at}`);
        passes = { plain: passes.plain + plain.passes, trees: passes.trees + trees.passes };
        accepted += trees.accepted;
        rejected += trees.drafted - trees.accepted;
      }
    }
    assert.ok(accepted > 0 && rejected > 0, `${accepted} accepted, ${rejected} rejected`);
    assert.ok(passes.trees < passes.plain, `${passes.trees} passes with trees vs ${passes.plain}`);
    await decoder.release();
  });
}
