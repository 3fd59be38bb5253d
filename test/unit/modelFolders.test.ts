// Broken model folders, each made from a real export and damaged the way downloads and hand edits
// damage them: the completion service turns completions off with a reason a user can act on, and the
// next good model loads and completes in the same service (nothing is lost, nothing stays stuck).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CompletionService } from '../../language-server/src/completion/service';
import { documentOf } from '../../language-server/src/completion/window';
import { checkSize } from '../../language-server/src/model/folder';
import { explainLoadError } from '../../language-server/src/model/loadError';
import { DEFAULT_SETTINGS } from '../../language-server/src/settings';
import { TokenizerRegistry } from '../../language-server/src/tokenizer/registry';
import { repoRoot } from '../../scripts/lib/repoRoot';

const fixtures = join(repoRoot, 'test', 'fixtures', 'models');
const fixture = join(fixtures, 'tiny-gqa-qwen2');
const tiny = join(repoRoot, 'models', 'tessera-tiny');
const workDir = mkdtempSync(join(tmpdir(), 'tessera-broken-models-'));
const settings = (path: string) => ({
  model: { ...DEFAULT_SETTINGS.model, path },
  completion: { ...DEFAULT_SETTINGS.completion, minHeadProbability: 0 },
});
const registry = new TokenizerRegistry({ name: 'tessera-tiny', path: join(tiny, 'tokenizer.json') });
const service = new CompletionService(settings(tiny), registry, undefined, join(repoRoot, 'dist', 'worker.js'));
after(async () => {
  await service.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

const text = 'export function greet(name: string): string {\n  return name\n}\n';
const input = { uri: 'file:///greet.ts', path: 'src/greet.ts', document: documentOf(text), offset: text.indexOf('name\n') + 4 };

let copies = 0;
/** A copy of the fixture export, damaged by `damage`. */
function broken(damage: (dir: string, onnx: string) => void): string {
  const dir = join(workDir, `m${copies++}`);
  cpSync(fixture, dir, { recursive: true });
  damage(dir, join(dir, 'onnx', 'model.onnx'));
  return dir;
}
const editConfig = (dir: string, edit: Record<string, unknown>) => {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), ...edit }));
};
/** The export's bytes with every `from` replaced by `to` (same length: the protobuf stays valid). */
const replaceBytes = (onnx: string, from: string, to: string) => {
  assert.equal(from.length, to.length);
  const bytes = readFileSync(onnx);
  let n = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1), n++) bytes.write(to, at, 'latin1');
  assert.ok(n > 0, `${from} occurs in the export`);
  writeFileSync(onnx, bytes);
};

const cases: Array<[string, (dir: string, onnx: string) => void, RegExp]> = [
  [
    'a truncated .onnx',
    (_, onnx) => truncateSync(onnx, statSync(onnx).size >> 1),
    /onnx\/model\.onnx is not a readable ONNX model: the file is truncated or damaged/,
  ],
  [
    'a .onnx whose first bytes are garbage',
    (_, onnx) => {
      const bytes = readFileSync(onnx);
      for (let i = 0; i < 4096; i++) bytes[i] = (i * 7919 + 13) & 0xff;
      writeFileSync(onnx, bytes);
    },
    /is not a readable ONNX model/,
  ],
  [
    'an operator onnxruntime lacks (a custom op)',
    (_, onnx) => replaceBytes(onnx, 'Sigmoid', 'Sigmoix'),
    /uses the operator Sigmoix, which this onnxruntime does not have; custom operator libraries are never loaded/,
  ],
  [
    'inputs under other names',
    (_, onnx) => replaceBytes(onnx, 'input_ids', 'input_idz'),
    /the decoder has no input_ids input \(inputs: input_idz/,
  ],
  [
    "a .onnx over protobuf's 2 GB (sparse)",
    (_, onnx) => truncateSync(onnx, 3 * 2 ** 30),
    /model\.onnx is 3\.2 GB: one ONNX file cannot hold over 2 GB/,
  ],
  [
    'external weights larger than memory (sparse)',
    (_, onnx) => {
      writeFileSync(`${onnx}_data`, '');
      truncateSync(`${onnx}_data`, 2 * totalmem());
    },
    /model\.onnx and its weights take \d+\.\d GB, more than this machine's memory allows/,
  ],
  [
    'a config with a billion layers',
    (dir) => editConfig(dir, { num_hidden_layers: 1e9 }),
    /num_hidden_layers is 1000000000, not a whole number from 1 to 1024/,
  ],
  ['a config with zero heads', (dir) => editConfig(dir, { num_attention_heads: 0 }), /num_attention_heads is 0, not a whole number/],
  ['a config with a fractional vocabulary', (dir) => editConfig(dir, { vocab_size: 8191.5 }), /vocab_size is 8191\.5, not a whole number/],
  [
    'a config whose layers disagree with the export',
    (dir) => editConfig(dir, { num_hidden_layers: 3 }),
    /config\.json says 3 layers but the decoder has a cache for 2 \(4 past inputs\)/,
  ],
  [
    'a config whose key/value heads disagree with the export',
    (dir) => editConfig(dir, { num_key_value_heads: 4 }),
    /config\.json gives key\/value heads 4 but the decoder's cache \(past_key_values\.0\.key\) has 2/,
  ],
  ['a config that is not JSON', (dir) => writeFileSync(join(dir, 'config.json'), '{"vocab_size": '), /config\.json: .*JSON/],
  [
    'a tokenizer.json that is not JSON',
    (dir) => writeFileSync(join(dir, 'tokenizer.json'), '{"model": {'),
    /tokenizer\.json: not valid JSON/,
  ],
  [
    'a tokenizer that does not fit the model',
    (dir) => cpSync(join(repoRoot, 'node_modules', '@lenml', 'tokenizer-llama2', 'models', 'tokenizer.json'), join(dir, 'tokenizer.json')),
    /tokenizer\.json has 32000 tokens but config\.json says vocab_size 8192/,
  ],
  [
    'external weights missing beside the .onnx',
    (dir) => {
      cpSync(join(fixtures, 'tiny-gqa-qwen2-external', 'onnx', 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
    },
    /onnx\/model\.onnx: its external weights could not be read; keep the \.onnx_data file beside it/,
  ],
  ['no decoder at all', (_, onnx) => rmSync(onnx), /is not a usable model: no decoder \.onnx/],
];

for (const [name, damage, why] of cases) {
  test(`a model folder with ${name}: completions off with the reason, then a good model completes`, async () => {
    await service.configure(settings(broken(damage)));
    assert.equal(service.status.state, 'error');
    assert.match(service.status.error ?? '', why);
    assert.equal(await service.complete(input), null, 'no completion from a broken model');
    await service.configure(settings(fixture));
    assert.equal(service.status.state, 'ready', service.status.error);
    assert.ok((await service.complete(input)) !== null, 'the same service completes with a good model');
  });
}

test('a model folder that changes while loaded: the loaded model keeps completing; reloading says what is gone', async () => {
  const dir = broken(() => undefined);
  await service.configure(settings(dir));
  assert.equal(service.status.state, 'ready', service.status.error);
  rmSync(dir, { recursive: true, force: true });
  assert.ok((await service.complete(input)) !== null, 'onnxruntime holds the weights it loaded');
  await service.configure(settings(fixture));
  await service.configure(settings(dir));
  assert.match(service.status.error ?? '', /m\d+ is not a folder/);
});

test("load errors name the file and keep onnxruntime's words", () => {
  const e = explainLoadError('/m/onnx/model.onnx', new Error('Load model from /m/onnx/model.onnx failed:Protobuf parsing failed.'));
  assert.match(e.message, /^onnx\/model\.onnx is not a readable ONNX model: .*\(Load model from .* failed:Protobuf parsing failed\.\)$/);
  assert.match(
    explainLoadError('/m/model.onnx', new Error('something new')).message,
    /^m\/model\.onnx could not be loaded: something new$/,
  );
  // The memory bound is the machine's: a model that fits one machine is refused on a smaller one.
  assert.doesNotThrow(() => checkSize(join(fixture, 'onnx', 'model.onnx')));
  assert.throws(() => checkSize(join(fixture, 'onnx', 'model.onnx'), 1000), /more than this machine's memory allows \(0\.0 GB in all\)/);
});
