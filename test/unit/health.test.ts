import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessHealth } from '../../language-server/src/health';
import { probeOnnxRuntime } from '../../language-server/src/runtime/onnxProbe';

test('the real onnxruntime-node loads here and has a CPU backend', () => {
  const info = probeOnnxRuntime();
  assert.equal(info.available, true, info.error);
  assert.match(info.version ?? '', /^\d+\.\d+\.\d+/);
  assert.equal(assessHealth(info).state, 'ok');
});

test('a runtime that fails to load gives a warning naming the loader error', () => {
  const info = probeOnnxRuntime(() => {
    throw new Error('libonnxruntime.so.1: cannot open shared object file\nRequire stack: ...');
  });
  assert.deepEqual(info, { available: false, error: 'libonnxruntime.so.1: cannot open shared object file' });
  const health = assessHealth(info);
  assert.equal(health.state, 'warning');
  assert.match(health.message, /completions are off \(libonnxruntime\.so\.1: cannot open/);
});

test('a runtime without a CPU backend is not available', () => {
  const info = probeOnnxRuntime(() => ({ env: { versions: { common: '9.9.9' } }, listSupportedBackends: () => [{ name: 'webgpu' }] }));
  assert.equal(info.available, false);
  assert.match(info.error ?? '', /no CPU backend \(backends: webgpu\)/);
});
