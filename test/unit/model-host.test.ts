// The inference worker's host: a worker that dies is reported with its exit code and every waiting
// request fails with that reason (no hang); a real worker loads the fixture model and serves requests,
// and the newest request supersedes the older one.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelHost } from '../../language-server/src/inference/host';
import type { GenerateRequest } from '../../language-server/src/inference/protocol';
import { repoRoot } from '../../scripts/lib/repoRoot';

const request = (prompt: number[], maxTokens = 8): GenerateRequest => ({
  prompt, stopIds: [0], suppressIds: [], maxTokens, temperature: 0, topP: 1, reuseCache: true, maxDraft: 0,
  shape: { multiline: true, maxLines: 100, blockIndent: '', lineSuffix: '', nextLine: '' },
});

test('a worker that exits: load fails with the exit code, the crash is reported once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-worker-'));
  try {
    const file = join(dir, 'dies.js');
    writeFileSync(file, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const crashes: string[] = [];
    const host = new ModelHost(file, (m) => crashes.push(m));
    await assert.rejects(host.load('/nowhere', 'fp32', 1), /the inference worker exited \(code 3\)/);
    assert.deepEqual(crashes, ['the inference worker exited (code 3)']);
    assert.equal(host.ready, false);
    await assert.rejects(host.generate(request([1, 2])).result, /no model loaded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real worker: a folder that is no model fails to load with the reason; a fixture loads and completes', async () => {
  const host = new ModelHost(join(repoRoot, 'dist', 'worker.js'));
  await assert.rejects(host.load(join(repoRoot, 'test'), 'fp32', 1), /is not a usable model: no tokenizer\.json/);
  const info = await host.load(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-mqa-bigcode'), 'fp32', 1);
  assert.equal(info.cache, 'fused');
  assert.equal(info.config.kvHeads, 1);
  const older = host.generate(request([4, 300, 301], 200));
  const newer = host.generate(request([4, 300, 301, 302]));
  assert.equal(await older.result, null, 'superseded');
  const r = (await newer.result)!;
  assert.equal(r.generation.tokens.length, 8);
  assert.equal(r.generation.prefillTokens + r.generation.reusedTokens, 4);
  await host.dispose();
});

test('a config that does not fit the decoder or the tokenizer is refused at load, with both numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mismatch-'));
  const host = new ModelHost(join(repoRoot, 'dist', 'worker.js'));
  try {
    cpSync(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, vocab_size: 9000 }));
    await assert.rejects(host.load(dir, 'fp32', 1), /the decoder gives 8192 logits per token but config\.json says vocab_size 9000/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, vocab_size: 4096 }));
    await assert.rejects(host.load(dir, 'fp32', 1), /tokenizer\.json has 8192 tokens but config\.json says vocab_size 4096/);
  } finally {
    await host.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
