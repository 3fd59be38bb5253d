// The inference worker's host (inference/host.ts): a worker that dies is reported with its exit code and
// every waiting request fails with that reason (no hang); a real worker loads a fixture model and serves
// requests, and the newest request supersedes the older one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hungAfterMs, ModelHost, type WorkerModel } from '../../language-server/src/inference/host';
import type { GenerateRequest } from '../../language-server/src/inference/protocol';
import { openModelFolder } from '../../language-server/src/model/folder';
import { packTokenTable } from '../../language-server/src/tokenizer/tokenTable';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const request = (prompt: number[], maxTokens = 8): GenerateRequest => ({
  prompt,
  prefixEnd: prompt.length,
  stopIds: [0],
  suppressIds: [],
  draftTrees: 'auto',
  maxTokens,
  temperature: 0,
  topP: 1,
  reuseCache: true,
  timeLimitMs: 2000,
  maxDraft: 0,
  stop: { multiline: true, maxLines: 100, blockIndent: '', nextLine: '' },
});

function workerModel(dir: string): WorkerModel {
  const folder = openModelFolder(dir);
  return { onnxPath: folder.onnxPath, config: folder.config, vocabulary: packTokenTable(Tokenizer.fromFile(folder.tokenizerPath)) };
}

const fixture = (name: string) => join(repoRoot, 'test', 'fixtures', 'models', name);

test('a worker that exits: load fails with the exit code, the crash is reported once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-worker-'));
  try {
    const file = join(dir, 'dies.js');
    writeFileSync(file, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const crashes: string[] = [];
    const host = new ModelHost(file, (m) => crashes.push(m));
    await assert.rejects(host.load(workerModel(fixture('tiny-mqa-bigcode')), 1), /the inference worker exited \(code 3\)/);
    assert.deepEqual(crashes, ['the inference worker exited (code 3)']);
    assert.equal(host.ready, false);
    await assert.rejects(host.generate(request([1, 2])).result, /no model loaded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real worker: a decoder that cannot load fails with the reason; a fixture loads and completes', async () => {
  const host = new ModelHost(join(repoRoot, 'dist', 'worker.js'));
  const model = workerModel(fixture('tiny-mqa-bigcode'));
  await assert.rejects(host.load({ ...model, onnxPath: join(repoRoot, 'package.json') }, 1), /.+/);
  const info = await host.load(model, 1);
  assert.equal(info.cache, 'fused');
  assert.equal(info.config.kvHeads, 1);
  const older = host.generate(request([4, 300, 301], 200));
  const newer = host.generate(request([4, 300, 301, 302]));
  assert.equal(await older.result, null, 'superseded');
  const r = (await newer.result)!;
  assert.equal(r.generation.tokens.length, 8);
  assert.equal(r.generation.prefillTokens + r.generation.reusedTokens, 4);
  assert.deepEqual(r.prompt, [4, 300, 301, 302]);
  await host.dispose();
});

test('a config whose vocabulary does not fit the decoder is refused at load, with both numbers', async () => {
  const host = new ModelHost(join(repoRoot, 'dist', 'worker.js'));
  try {
    const model = workerModel(fixture('tiny-gqa-qwen2'));
    await assert.rejects(
      host.load({ ...model, config: { ...model.config, vocabSize: 9000 } }, 1),
      /the decoder gives 8192 logits per token but config\.json says vocab_size 9000/,
    );
  } finally {
    await host.dispose();
  }
});

test('decoding stops at its time limit with what it has; a worker hung in a pass is stopped, and the next load serves again', async () => {
  const host = new ModelHost(join(repoRoot, 'dist', 'worker.js'));
  try {
    await host.load(workerModel(fixture('tiny-gqa-qwen2')), 1);
    const cut = (await host.generate({ ...request([4, 300, 301], 200), timeLimitMs: 0 }).result)!;
    assert.equal(cut.generation.stoppedBy, 'time');
    assert.equal(cut.generation.tokens.length, 1, 'the first token is kept: its logits were computed');
    const whole = (await host.generate(request([4, 300, 301], 20)).result)!;
    assert.equal(whole.generation.stoppedBy, 'max-tokens');
  } finally {
    await host.dispose();
  }
  const dir = mkdtempSync(join(tmpdir(), 'tessera-worker-'));
  try {
    // A worker whose model pass never returns (a native deadlock, a model far too large for the machine).
    const file = join(dir, 'hangs.js');
    writeFileSync(
      file,
      "const { parentPort } = require('node:worker_threads');\n" +
        "parentPort.on('message', (m) => { if (m.type === 'load') parentPort.postMessage({ type: 'loaded', info: { config: m.config } }); else for (;;); });\n",
    );
    const crashes: string[] = [];
    const hung = new ModelHost(file, (m) => crashes.push(m));
    await hung.load(workerModel(fixture('tiny-gqa-qwen2')), 1);
    const started = Date.now();
    await assert.rejects(
      hung.generate({ ...request([1, 2]), timeLimitMs: 100 }).result,
      /a model pass ran over 10 s \(the completion time limit is 100 ms\): the model was stopped/,
    );
    assert.ok(Date.now() - started >= hungAfterMs(100) - 50);
    assert.equal(crashes.length, 1);
    assert.equal(hung.ready, false);
    // The next load replaces the stopped worker (the service loads again on the next completion).
    await hung.load(workerModel(fixture('tiny-gqa-qwen2')), 1);
    assert.equal(hung.ready, true);
    await hung.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
