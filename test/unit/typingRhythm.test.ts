// The wait before asking for a completion (extension/src/completion/typingRhythm.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingRhythm } from '../../extension/src/completion/typingRhythm';

test('too few keys to know a rhythm: the shortest wait', () => {
  const r = new TypingRhythm(15, 200);
  assert.equal(r.delay(0), 15);
  r.keystroke(1000);
  r.keystroke(1100);
  assert.equal(r.delay(1100), 15, 'one gap is no rhythm');
});

test('a steady typist: the median gap and a margin, less what has passed since the last key', () => {
  const r = new TypingRhythm(15, 200);
  for (let t = 10_000; t <= 10_000 + 10 * 100; t += 100) r.keystroke(t);
  assert.equal(r.delay(11_000), 130); // 100 ms gaps × 1.3
  assert.equal(r.delay(11_050), 80);
  assert.equal(r.delay(11_500), 0, 'a pause longer than the wait: ask at once');
});

test('the wait stays within its bounds; pauses over a second are not rhythm; only recent gaps count', () => {
  const slow = new TypingRhythm(15, 200);
  for (let t = 0; t <= 4 * 900; t += 900) slow.keystroke(t + 5000);
  assert.equal(slow.delay(5000 + 4 * 900), 200, 'capped at the longest wait');
  const fast = new TypingRhythm(15, 200);
  for (let t = 0; t <= 10 * 5; t += 5) fast.keystroke(t + 5000);
  assert.equal(fast.delay(5050), 15, 'at least the shortest wait');
  const paused = new TypingRhythm(15, 200, 12);
  for (let t = 0; t <= 5 * 100; t += 100) paused.keystroke(t + 5000);
  paused.keystroke(5000 + 500 + 5000); // a 5 s pause: not a gap
  assert.equal(paused.delay(10_500), 130);
  // After 12 fast gaps, the earlier slow ones are forgotten.
  const window = new TypingRhythm(15, 200, 12);
  const start = 20_000;
  for (let i = 1; i <= 12; i++) window.keystroke(start + i * 150);
  const fastStart = start + 12 * 150;
  for (let i = 1; i <= 12; i++) window.keystroke(fastStart + i * 50);
  assert.equal(window.delay(fastStart + 12 * 50), 65);
});
