import assert from 'node:assert/strict';
import { test } from 'node:test';
import { physicalCores, threadsFor } from '../../language-server/src/model/threads';

test('auto threads: one for the embedded model, the physical cores for others; a number set is kept', () => {
  const smt = 'processor\t: 0\nsiblings\t: 16\ncpu cores\t: 8\n';
  assert.equal(physicalCores(smt, 16), 8, 'two hardware threads per core');
  assert.equal(physicalCores('siblings\t: 2\ncpu cores\t: 2\n', 2), 2);
  assert.equal(physicalCores('', 4), 4, 'no /proc/cpuinfo: the logical CPUs');
  assert.equal(physicalCores(smt, 64), 16, 'at most 16');
  assert.equal(threadsFor(0, true), 1);
  assert.ok(threadsFor(0, false) >= 1);
  assert.equal(threadsFor(3, true), 3);
});
