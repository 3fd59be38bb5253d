// Local memory (generation/ngramCache.ts): an n-gram cache mixed into the model's distribution.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SequenceModel } from '../../language-server/src/generation/generate';
import { mixRow, NgramIndex, withNgramCache } from '../../language-server/src/generation/ngramCache';

test('the longest context seen predicts what followed it, with how often', () => {
  const index = new NgramIndex([1, 2, 3, 1, 2, 4, 1, 2, 3]);
  const p = index.predict([9, 1, 2])!;
  assert.equal(p.order, 2);
  assert.equal(p.total, 3);
  assert.deepEqual(
    [...p.next],
    [
      [3, 2],
      [4, 1],
    ],
  );
  // Taking the last token back out undoes its counts.
  index.pop();
  assert.deepEqual(
    [...index.predict([1, 2])!.next],
    [
      [3, 1],
      [4, 1],
    ],
  );
  index.add(3);
  assert.deepEqual(index.predict([2, 3])!.next, new Map([[1, 1]]));
  assert.equal(index.predict([7]), undefined);
});

test('the mixture is a distribution: it sums to one, and moves mass to what the cache saw', () => {
  const vocab = 50;
  const row = Float32Array.from({ length: vocab }, () => Math.log(1 / vocab));
  const prediction = {
    order: 2,
    total: 3,
    next: new Map([
      [7, 2],
      [8, 1],
    ]),
  };
  mixRow(row, prediction, 8);
  const sum = row.reduce((s, x) => s + Math.exp(x), 0);
  assert.ok(Math.abs(sum - 1) < 1e-6, `sum ${sum}`);
  const lambda = 3 / 11;
  assert.ok(Math.abs(Math.exp(row[7]!) - ((1 - lambda) / vocab + (lambda * 2) / 3)) < 1e-6);
  assert.ok(Math.exp(row[0]!) < 1 / vocab);
});

test('a model with memory: rows are log-probabilities, the cache learns the sequence, rewinds are followed', async () => {
  const vocab = 8;
  let length = 0;
  const uniform = (n: number) => new Float32Array(n * vocab).fill(Math.log(1 / vocab));
  const base: SequenceModel = {
    logProbs: true,
    get length() {
      return length;
    },
    prefill: async (prompt) => {
      length = prompt.length;
      return { logits: uniform(1), ran: prompt.length, reused: 0 };
    },
    step: async () => {
      length++;
      return uniform(1);
    },
    extend: async (ids) => {
      length += ids.length;
      return uniform(ids.length);
    },
    rewind: (n) => {
      length = Math.min(length, n);
    },
  };
  const model = withNgramCache(base, [], 8);
  // After "1 2 3 1 2" the cache says 3 comes next.
  const first = await model.prefill([1, 2, 3, 1, 2]);
  assert.ok(first.logits[3]! > first.logits[4]!);
  const rows = await model.extend([3, 5]);
  assert.equal(rows.length, 2 * vocab);
  // Row 0 follows "…1 2 3": the cache saw "2 3 → 1".
  assert.ok(rows[1]! > rows[2]!);
  model.rewind(6);
  assert.equal(model.length, 6);
  const next = await model.step(1);
  assert.ok(Math.abs(next.reduce((s, x) => s + Math.exp(x), 0) - 1) < 1e-6);
});
