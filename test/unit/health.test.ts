import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessHealth } from '../../language-server/src/health';
import { probeOnnxRuntime } from '../../language-server/src/model/onnxProbe';

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

test('the completion model: loading and ready are ok (ready names it), a broken folder is a warning with its reason', () => {
  const rt = { available: true, version: '1.30.0' };
  assert.equal(assessHealth(rt, { state: 'loading', name: 'm' }).state, 'ok');
  const ready = assessHealth(rt, { state: 'ready', name: 'tessera-tiny', description: 'llama, 6 layers', fimTemplate: 'tessera (SPM)' });
  assert.equal(ready.message, 'Ready: tessera-tiny (ONNX Runtime 1.30.0)');
  assert.match(ready.detail ?? '', /llama, 6 layers; FIM: tessera \(SPM\)/);
  const broken = assessHealth(rt, { state: 'error', dir: '/models/x', error: '/models/x is not a usable model: no config.json' });
  assert.equal(broken.state, 'warning');
  assert.equal(broken.message, 'Completions off: /models/x is not a usable model: no config.json');
  assert.match(broken.detail ?? '', /The Token Lens keeps working/);
});
