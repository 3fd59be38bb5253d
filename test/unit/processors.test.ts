// The logits processors (generation/processors.ts) and the chain one request builds of them (chain.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildChain } from '../../language-server/src/generation/chain';
import {
  applyChain,
  argmaxOf,
  expNonPositive,
  logProb,
  sampleOf,
  seededRandom,
  suppress,
  topP,
} from '../../language-server/src/generation/processors';

test('processors: suppress forbids, top-p keeps the smallest set reaching p, sampling stays inside it', () => {
  const logits = Float32Array.from([2, 1, 0, -1, 3]);
  suppress([4])(logits, { generated: [] });
  assert.equal(argmaxOf(logits), 0);
  topP(0.7)(logits, { generated: [] }); // softmax(2,1,0,-1) = .64 .24 .09 .03: {0, 1} reach 0.7
  assert.deepEqual(
    Array.from(logits).map((x) => x > -Infinity),
    [true, true, false, false, false],
  );
  for (let i = 0; i < 50; i++) assert.ok([0, 1].includes(sampleOf(logits, Math.random)));
});

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

test('the chain of a request: control tokens forbidden, then the healing constraint, then sampling', () => {
  const bytes = ['ab', 'a', 'b', '<x>'].map((t) => new TextEncoder().encode(t));
  const table = { vocabSize: 4, tokenBytes: (id: number) => bytes[id]!, isControl: (id: number) => id === 3 };
  const logits = () => Float32Array.from([1, 2, 3, 4]);
  const greedy = buildChain({ suppressIds: [3], temperature: 0, topP: 1 });
  assert.equal(greedy.length, 1);
  const l1 = logits();
  applyChain(greedy, l1, { generated: [] });
  assert.equal(argmaxOf(l1), 2);
  // Healing 'a': tokens 0 ('ab') and 1 ('a') agree with it.
  const healed = buildChain({ suppressIds: [3], healing: { length: 1, allowed: [Int32Array.of(0, 1)], table }, temperature: 0, topP: 1 });
  const l2 = logits();
  applyChain(healed, l2, { generated: [] });
  assert.deepEqual(
    Array.from(l2).map((x) => x > -Infinity),
    [true, true, false, false],
    'only tokens agreeing with "a"',
  );
  assert.equal(buildChain({ suppressIds: [], temperature: 0.7, topP: 0.9 }).length, 3);
});
