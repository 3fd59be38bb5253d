import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { test } from 'node:test';
import { DEFAULT_SETTINGS, readSettings } from '../../language-server/src/settings';

test('completion and model settings: defaults for what is missing or malformed, ~ expanded', () => {
  assert.deepEqual(readSettings(undefined).completion, DEFAULT_SETTINGS.completion);
  assert.deepEqual(readSettings({}).model, { path: '', precision: 'fp32', threads: 1 });
  const s = readSettings({
    model: { path: ' ~/models/coder ', precision: 'quantized', threads: 99 },
    completion: { maxTokens: 10_000, minConfidence: 2, fimOrder: 'sideways', temperature: -1, topP: 0, tokenHealing: false, fimTemplate: 'starcoder2' },
  });
  assert.deepEqual(s.model, { path: `${homedir()}/models/coder`, precision: 'quantized', threads: 16 });
  assert.equal(s.completion.maxTokens, 512);
  assert.equal(s.completion.minConfidence, DEFAULT_SETTINGS.completion.minConfidence);
  assert.equal(s.completion.fimOrder, 'auto');
  assert.equal(s.completion.temperature, 0);
  assert.equal(s.completion.topP, DEFAULT_SETTINGS.completion.topP);
  assert.equal(s.completion.tokenHealing, false);
  assert.equal(s.completion.fimTemplate, 'starcoder2');
});
