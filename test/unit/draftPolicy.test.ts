// Chains or trees (generation/draftPolicy.ts): 'auto' measures both and keeps the faster, still trying
// the other now and then; 'on' and 'off' never measure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DraftPolicy } from '../../language-server/src/generation/draftPolicy';

/** Runs `requests` requests of 32 tokens, each mode at its ms per token; the modes chosen, in order. */
function run(policy: DraftPolicy, msPerToken: { chain: number; tree: number }, requests: number) {
  const chosen: string[] = [];
  for (let i = 0; i < requests; i++) {
    const mode = policy.choose();
    chosen.push(mode);
    policy.record(mode, 32, 32 * msPerToken[mode]);
  }
  return chosen;
}

test('auto: both modes are measured, then the faster one runs, the other one request in 16', () => {
  for (const [fast, slow] of [
    ['tree', 'chain'],
    ['chain', 'tree'],
  ] as const) {
    const policy = new DraftPolicy('auto');
    const chosen = run(policy, { [fast]: 0.2, [slow]: 0.3 } as { chain: number; tree: number }, 120);
    const warm = chosen.slice(0, 16);
    assert.equal(warm.filter((m) => m === fast).length, 8, 'the warm-up alternates');
    const later = chosen.slice(40);
    const share = later.filter((m) => m === fast).length / later.length;
    assert.ok(share > 0.9 && share < 1, `${fast} ran ${share} of the later requests`);
  }
});

test('auto follows a change: the mode that became faster takes over', () => {
  const policy = new DraftPolicy('auto');
  run(policy, { chain: 0.2, tree: 0.3 }, 60);
  const after = run(policy, { chain: 0.4, tree: 0.3 }, 200);
  assert.equal(after.slice(-20).filter((m) => m === 'tree').length >= 18, true, after.slice(-20).join(' '));
});

test('on and off never measure; short generations are not recorded', () => {
  assert.deepEqual(run(new DraftPolicy('on'), { chain: 0.1, tree: 1 }, 5), ['tree', 'tree', 'tree', 'tree', 'tree']);
  assert.deepEqual(run(new DraftPolicy('off'), { chain: 1, tree: 0.1 }, 3), ['chain', 'chain', 'chain']);
  const policy = new DraftPolicy('auto');
  policy.record('tree', 3, 100);
  assert.ok(Number.isNaN(policy.rates().tree));
});
