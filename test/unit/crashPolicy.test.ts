import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashPolicy } from '../../extension/src/crashPolicy';

const limits = { limit: 2, windowMs: 60_000 };

test('restarts up to the limit, then gives up', () => {
  const policy = new CrashPolicy();
  assert.deepEqual(policy.record(0, limits), { restart: true, crashes: 1, limit: 2, windowMs: 60_000 });
  assert.equal(policy.record(1000, limits).restart, true);
  const third = policy.record(2000, limits);
  assert.equal(third.restart, false);
  assert.equal(third.crashes, 3);
});

test('crashes older than the window are forgotten', () => {
  const policy = new CrashPolicy();
  policy.record(0, limits);
  policy.record(1000, limits);
  const later = policy.record(61_500, limits);
  assert.equal(later.crashes, 1);
  assert.equal(later.restart, true);
});

test('a limit of zero never restarts; reset clears the count', () => {
  const policy = new CrashPolicy();
  assert.equal(policy.record(0, { limit: 0, windowMs: 1000 }).restart, false);
  policy.reset();
  assert.equal(policy.record(10, limits).crashes, 1);
});
