// Finding the parts of a model folder (model/folder.ts), and saying what is missing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelFolderError, openModelFolder } from '../../language-server/src/model/folder';
import { DecoderSession } from '../../language-server/src/model/session';
import { repoRoot } from '../../scripts/lib/repoRoot';

const fixtures = join(repoRoot, 'test', 'fixtures', 'models');

test('a folder that is not a usable model says what is wrong', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-model-'));
  try {
    assert.throws(() => openModelFolder(join(dir, 'nope')), /is not a folder/);
    assert.throws(
      () => openModelFolder(dir),
      (e: Error) =>
        e instanceof ModelFolderError &&
        /no tokenizer\.json/.test(e.message) &&
        /no config\.json/.test(e.message) &&
        /no decoder \.onnx/.test(e.message),
    );
    cpSync(join(fixtures, 'tiny-gqa-qwen2'), dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama"}');
    assert.throws(() => openModelFolder(dir), /missing vocab_size, num_hidden_layers/);
    writeFileSync(join(dir, 'config.json'), '{not json');
    assert.throws(() => openModelFolder(dir), /config\.json: .*JSON/);
    cpSync(join(fixtures, 'tiny-gqa-qwen2', 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), 'this is not a protobuf');
    const folder = openModelFolder(dir);
    await assert.rejects(DecoderSession.open(folder.onnxPath, folder.config), /.+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The decoder the worker runs: on the default model (GroupQueryAttention) the KV cache stays in
// onnxruntime and grows in place; exports whose attention cannot share past and present buffers keep
// the copying onnxruntime-node path, and say why.
