import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickRows, precisionRows, progressLine } from '../../extension/src/models/pickItems';
import type { CatalogueEntry, ModelsList } from '../../language-server/src/lsp_ext';

const entry = (repo: string, over: Partial<CatalogueEntry> = {}): CatalogueEntry => ({
  repo,
  label: repo.split('/')[1]!,
  params: '1.5B',
  licence: 'Apache-2.0',
  kind: 'base',
  fim: 'qwen2.5-coder',
  note: 'A note',
  precisions: { int8: 1.58e9, q4: 1.79e9 },
  recommended: 'int8',
  memoryBytes: 2.1e9,
  installed: [],
  ...over,
});
const list = (over: Partial<ModelsList> = {}): ModelsList => ({
  cache: '/c',
  offline: false,
  endpoint: 'https://huggingface.co',
  installed: [
    { name: 'tessera-tiny', dir: '/ext/models/tessera-tiny', precisions: ['fp32', 'quantized'], bytes: 27e6, source: 'embedded' },
    { name: 'org/a', dir: '/c/models--org--a/snapshots/x', repo: 'org/a', precisions: ['int8'], bytes: 6.4e8, source: 'hub-cache' },
  ],
  catalogue: [entry('org/a', { installed: ['int8'] }), entry('org/b'), entry('org/huge', { memoryBytes: 40e9, kind: 'instruct' })],
  memoryBytes: 16e9,
  ...over,
});
const labels = (rows: ReturnType<typeof pickRows>) => rows.map((r) => (r.separator ? `-- ${r.label}` : r.label));

test('installed first (the active one checked), then what is not yet downloaded, then the other ways', () => {
  const rows = pickRows(list(), { dir: '/c/models--org--a/snapshots/x' }, true);
  assert.deepEqual(labels(rows), [
    '-- On this machine',
    'tessera-tiny',
    '$(check) org/a',
    '-- Download from huggingface.co',
    '$(cloud-download) b',
    '$(cloud-download) huge',
    '-- Other',
    '$(folder-opened) Use a folder on disk…',
    '$(repo) Enter a Hugging Face repo id…',
    '$(key) Set Hugging Face token…',
  ]);
  const b = rows.find((r) => r.label.endsWith(' b'))!;
  assert.equal(b.description, 'int8 · ~1.6 GB · base');
  assert.match(b.detail!, /needs ~2\.1 GB of memory\. org\/b$/);
  const huge = rows.find((r) => r.label.endsWith('huge'))!;
  assert.match(huge.description!, /instruct \(FIM weaker\)/);
  assert.match(huge.detail!, /this machine has 16\.0 GB: too little/);
  assert.equal(pickRows(list(), { dir: '' }, true)[1]!.label, '$(check) tessera-tiny');
});

test('offline: nothing to download, no repo id; untrusted: installed models only', () => {
  const offline = labels(pickRows(list({ offline: true }), { dir: '' }, true));
  assert.ok(offline.includes('-- Download (off: HF_HUB_OFFLINE is set)'));
  assert.ok(!offline.some((l) => l.includes('cloud-download') || l.includes('repo id')));
  const untrusted = labels(pickRows(list(), { dir: '' }, false));
  assert.deepEqual(untrusted.slice(-1), ['-- Downloads and model folders are off in an untrusted workspace']);
  assert.ok(!untrusted.some((l) => l.includes('folder on disk')));
});

test('precisions: the recommended first; progress: bytes, rate, time left', () => {
  assert.deepEqual(
    precisionRows(['fp32', 'int8', 'q4'], { int8: 6.39e8 }, 'int8').map((r) => [r.label, r.description]),
    [
      ['int8', 'recommended · ~639 MB'],
      ['fp32', ''],
      ['q4', ''],
    ],
  );
  assert.equal(
    progressLine({ file: 'onnx/model_int8.onnx', bytes: 2e8, total: 6.39e8, bytesPerSecond: 1.2e7, secondsLeft: 36.6 }),
    '200 MB of 639 MB at 12 MB/s, 37 s left (onnx/model_int8.onnx)',
  );
  assert.match(progressLine({ file: 'f', bytes: 1, total: 2e9, bytesPerSecond: 1e6, secondsLeft: 2000 }), /33 min left/);
});
