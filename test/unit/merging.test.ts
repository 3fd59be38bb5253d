// AST-aware subtoken merging: which tokens pool (syntax/merging.ts, over real tree-sitter leaves and the
// default tokenizer), and exports that take token_group (models/recipe/merge.py through graph.py): a
// random one beside its plain export, and the default model's fine-tuned one. Unmerged runs give the
// plain export's logits exactly; merged runs give torch's, finite; the cache treats merged positions as
// positions, on both engines. Runs again on an emulated older CPU (npm test's older-cpu stage).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import type { Decoder } from '../../language-server/src/model/decoder';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { positionsOf } from '../../language-server/src/model/session';
import { groupsOf, MAX_MERGED, mergedRuns } from '../../language-server/src/syntax/merging';
import { SyntaxDocument, SyntaxService } from '../../language-server/src/syntax/parser';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');
const fixture = join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-merging');

test('groups: a merged run shares its first token position; every other token has its own', () => {
  assert.deepEqual([...groupsOf(7, [])], [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    [
      ...groupsOf(8, [
        { first: 1, last: 3 },
        { first: 5, last: 6 },
      ]),
    ],
    [0, 1, 1, 1, 2, 3, 3, 4],
  );
  assert.deepEqual([...groupsOf(3, [{ first: 0, last: 2 }])], [0, 0, 0]);
  assert.equal(positionsOf(8, [0, 1, 1, 1, 2, 3, 3, 4]), 5);
  assert.throws(() => positionsOf(3, [0, 2, 2]), /without gaps/);
  assert.throws(() => positionsOf(3, [0, 1]), /2 token groups for 3 tokens/);
});

test('runs: an identifier of 2-8 tokens merges unless a token reaches past it', () => {
  // Text "a fooBar(x)": tokens "a" " foo" "Bar(" "x" ")"; then " fooBar" as " foo" "Bar".
  const text = 'a fooBar(x) fooBar';
  const tokens = { starts: [0, 1, 5, 9, 10, 11, 15], ends: [1, 5, 9, 10, 11, 15, 18] };
  const identifiers = [
    { start: 2, end: 8 },
    { start: 9, end: 10 },
    { start: 12, end: 18 },
  ];
  // The first fooBar's last token holds "(": not merged. The second merges, its leading space included.
  assert.deepEqual(mergedRuns(tokens, identifiers, text), [{ first: 5, last: 6 }]);
  const long = 'x'.repeat(MAX_MERGED + 1);
  const each = Array.from({ length: long.length }, (_, i) => i);
  assert.deepEqual(mergedRuns({ starts: each, ends: each.map((i) => i + 1) }, [{ start: 0, end: long.length }], long), []);
});

test('runs over real syntax: the identifiers the default tokenizer cuts, and nothing else', async () => {
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const tok = Tokenizer.fromFile(join(tiny, 'tokenizer.json'));
  const text = 'const elementsByTagName = document.getElementsByTagName("querySelectorAll");\nfoo(x);\n';
  const doc = SyntaxDocument.parse(await syntax.parser('typescript'), 'typescript', { length: text.length, getText: () => text });
  const identifiers = doc.leaves().filter((l) => l.kind === 'identifier');
  doc.dispose();
  const enc = tok.encode(text);
  const runs = mergedRuns(enc, identifiers, text);
  const words = runs.map((r) => text.slice(enc.starts[r.first]!, enc.ends[r.last]!).trim());
  assert.ok(words.includes('getElementsByTagName'), words.join(' | '));
  assert.ok(words.includes('elementsByTagName'), words.join(' | '));
  // The string's content is no identifier; every run is one whole identifier of several tokens.
  assert.ok(!words.some((w) => w.includes('querySelector')), words.join(' | '));
  for (const r of runs) assert.ok(r.last > r.first && r.last - r.first < MAX_MERGED);
  const groups = groupsOf(enc.ids.length, runs);
  assert.equal(groups[groups.length - 1]! + 1, enc.ids.length - runs.reduce((s, r) => s + r.last - r.first, 0));
});

interface MergeReference {
  prompt: number[];
  group: number[];
  probe_ids: number[];
  positions: Array<{ argmax: number; logsumexp: number; probe: number[] }>;
}

/** Largest difference, as log-probabilities, between decoder rows and torch's reference rows. */
function worstAgainst(ref: MergeReference, rows: Float32Array, vocab: number): number {
  let worst = 0;
  ref.positions.forEach((row, pos) => {
    const r = rows.subarray(pos * vocab, (pos + 1) * vocab);
    let max = -Infinity;
    for (const x of r) max = Math.max(max, x);
    let sum = 0;
    for (const x of r) sum += Math.exp(x - max);
    const lse = max + Math.log(sum);
    ref.probe_ids.forEach((id, k) => {
      worst = Math.max(worst, Math.abs(r[id]! - lse - (row.probe[k]! - row.logsumexp)));
    });
  });
  return worst;
}

const copy = (x: Float32Array) => Float32Array.from(x);

for (const engine of ['auto', 'binding'] as const) {
  test(`token_group export: identity groups give the plain export's logits exactly; merged ones torch's (random weights, ${engine})`, async () => {
    const folder = openModelFolder(fixture, 'fp32');
    assert.ok(folder.mergingOnnxPath?.endsWith('model_merging.onnx'));
    const plain = (await openDecoder(folder.onnxPath, folder.config, { threads: 1, engine })).decoder;
    const merging = (await openDecoder(folder.mergingOnnxPath!, folder.config, { threads: 1, engine })).decoder;
    try {
      assert.equal(plain.merges, false);
      assert.equal(merging.merges, true);
      if (engine === 'auto') assert.equal(merging.cacheMode, 'in-place');
      const v = folder.config.vocabSize;
      const ids = Array.from({ length: 30 }, (_, i) => (i * 53 + 9) % v);
      const a = copy(await plain.run(ids, 0, 30));
      const b = copy(await merging.run(ids, 0, 30));
      assert.deepEqual(b, a, 'unmerged: bit for bit');
      const sa = copy(await plain.run([7, 8], 30, 2));
      const sb = copy(await merging.run([7, 8], 30, 2));
      assert.deepEqual(sb, sa, 'steps after the cache: bit for bit');
      const ref = JSON.parse(readFileSync(join(fixture, 'merge_reference.json'), 'utf8')) as MergeReference;
      const rows = copy(await merging.run(ref.prompt, 0, ref.positions.length, ref.group));
      assert.equal(rows.length, ref.positions.length * v);
      assert.ok(rows.every(Number.isFinite));
      // Float32 sums in another order over a 2-layer model of logits near 10: well under 1e-3.
      assert.ok(worstAgainst(ref, rows, v) < 1e-3, `largest log-probability difference from torch ${worstAgainst(ref, rows, v)}`);
      await assert.rejects(plain.run(ref.prompt, 0, 1, ref.group), /takes no token groups/);
    } finally {
      await plain.release();
      await merging.release();
    }
  });
}

/** A long prompt with merged runs every few tokens: more positions than one native run holds (64). */
function longPrompt(v: number): { ids: number[]; groups: Int32Array } {
  const ids = Array.from({ length: 300 }, (_, i) => (i * 97 + 5) % v);
  const runs = [];
  for (let t = 3; t + 3 < ids.length; t += 9) runs.push({ first: t, last: t + 1 + (t % 3) });
  return { ids, groups: groupsOf(ids.length, runs) };
}

async function mergedThenSteps(d: Decoder, ids: number[], groups: Int32Array, steps: number[]): Promise<Float32Array[]> {
  const s = new CachedSession(d);
  const out = [copy((await s.prefill(ids, true, groups)).logits)];
  for (const t of steps) out.push(copy(await s.step(t)));
  return out;
}

test('merged prompts through the cache: in-place runs (chunked by positions) agree with the copying path, and reuse gives what a fresh prefill gives', async () => {
  const folder = openModelFolder(tiny, 'fp32');
  assert.ok(folder.mergingOnnxPath, 'the default model ships its merging export');
  const native = (await openDecoder(folder.mergingOnnxPath!, folder.config, { threads: 1 })).decoder;
  const binding = (await openDecoder(folder.mergingOnnxPath!, folder.config, { threads: 1, engine: 'binding' })).decoder;
  try {
    assert.equal(native.cacheMode, 'in-place');
    const v = folder.config.vocabSize;
    const { ids, groups } = longPrompt(v);
    assert.ok(groups[groups.length - 1]! + 1 > 200 && groups[groups.length - 1]! + 1 < ids.length);
    const steps = [11, 12, 13];
    const a = await mergedThenSteps(native, ids, groups, steps);
    const b = await mergedThenSteps(binding, ids, groups, steps);
    for (let k = 0; k < a.length; k++) {
      assert.ok(a[k]!.every(Number.isFinite));
      const diff = Math.max(...a[k]!.map((x, j) => Math.abs(x - b[k]![j]!)));
      // The same sums cut into different runs: float32 rounding, well under 1e-3 of logits near 10.
      assert.ok(diff < 1e-3, `row ${k}: ${diff}`);
    }
    // Reuse: a prompt sharing the merged prefix re-runs only what follows; its logits are a fresh run's.
    const s = new CachedSession(native);
    await s.prefill(ids.slice(0, 200), true, groups.subarray(0, 200));
    const cut = 250;
    const reused = await s.prefill(ids.slice(0, cut), true, groups.subarray(0, cut));
    const warm = copy(reused.logits);
    const positions = groups[cut - 1]! + 1;
    assert.equal(reused.ran + reused.reused, positions);
    assert.ok(reused.reused >= groups[199]! - 1 && reused.ran < positions / 2, `reused ${reused.reused} of ${positions}`);
    const cold = copy((await s.prefill(ids.slice(0, cut), false, groups.subarray(0, cut))).logits);
    assert.ok(Math.max(...warm.map((x, j) => Math.abs(x - cold[j]!))) < 1e-3);
    // The same tokens unmerged are other positions: nothing of the merged cache is taken for them.
    const unmerged = await s.prefill(ids.slice(0, cut));
    assert.ok(unmerged.reused <= 3, `reused ${unmerged.reused}`);
  } finally {
    await native.release();
    await binding.release();
  }
});

test("the default model's merging export: torch's logits for a merged prompt, finite, on both engines", async () => {
  const folder = openModelFolder(tiny, 'fp32');
  const ref = JSON.parse(readFileSync(join(tiny, 'merge_reference.json'), 'utf8')) as MergeReference;
  assert.ok(ref.group[ref.group.length - 1]! + 1 < ref.prompt.length, 'the reference prompt has merged identifiers');
  for (const engine of ['auto', 'binding'] as const) {
    const { decoder } = await openDecoder(folder.mergingOnnxPath!, folder.config, { threads: 1, engine });
    try {
      const n = ref.positions.length;
      // Rows come at most 64 at a time from the in-place engine: the last ones are compared.
      const rows = Math.min(n, 64);
      const out = copy(await decoder.run(ref.prompt, 0, rows, ref.group));
      assert.ok(out.every(Number.isFinite));
      const tail = { ...ref, positions: ref.positions.slice(n - rows) };
      const worst = worstAgainst(tail, out, folder.config.vocabSize);
      assert.ok(worst < 2e-3, `${engine}: largest log-probability difference from torch ${worst}`);
    } finally {
      await decoder.release();
    }
  }
});
