// KV cache reuse across requests (inference/cachedSession.ts), on both cache paths.
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { generate } from '../../language-server/src/generation/generate';
import { CachedSession } from '../../language-server/src/inference/cachedSession';
import { openModelFolder } from '../../language-server/src/model/folder';
import { openDecoder } from '../../language-server/src/model/openDecoder';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const tiny = join(repoRoot, 'models', 'tessera-tiny');

for (const [dir, mode] of [
  [tiny, 'in-place'],
  [join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), 'copied'],
] as const) {
  test(`the KV cache is reused up to the common prefix and gives the same completion as a fresh run (${basename(dir)}, ${mode})`, async () => {
    const folder = openModelFolder(dir);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    assert.equal(decoder.cacheMode, mode);
    const cached = new CachedSession(decoder);
    const fresh = cached.withoutReuse();
    const opts = { maxTokens: 12, stopIds: new Set([0]), processors: [] };
    const a = tok.encodeIds('function add(a, b) {\n  return a');
    const first = await generate(cached, tok, a, opts);
    assert.equal(first.reusedTokens, 0);
    const b = tok.encodeIds('function add(a, b) {\n  return a +');
    const second = await generate(cached, tok, b, opts);
    const common = a.findIndex((id, i) => b[i] !== id);
    assert.ok(second.reusedTokens >= (common < 0 ? a.length : common) && second.prefillTokens === b.length - second.reusedTokens);
    const again = await generate(fresh, tok, b, opts);
    assert.deepEqual(second.tokens, again.tokens);
    assert.equal(again.reusedTokens, 0);
    // The same prompt again: only its last token runs.
    const repeat = await generate(cached, tok, b, opts);
    assert.equal(repeat.prefillTokens, 1);
    assert.deepEqual(repeat.tokens, again.tokens);
    await decoder.release();
  });
}
