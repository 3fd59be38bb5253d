// Completions end to end in the server's process (completion/service.ts): a real worker, the default
// model, each named step (window, context, prompt, generate, post-process, gate) in one request.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CompletionService } from '../../language-server/src/completion/service';
import { documentOf } from '../../language-server/src/completion/window';
import { DEFAULT_SETTINGS } from '../../language-server/src/settings';
import { TokenizerRegistry } from '../../language-server/src/tokenizer/registry';
import { repoRoot } from '../../scripts/lib/repoRoot';

const workerFile = join(repoRoot, 'dist', 'worker.js');
const tiny = join(repoRoot, 'models', 'tessera-tiny');
const settings = (path = tiny, completion: Partial<typeof DEFAULT_SETTINGS.completion> = {}) => ({
  model: { ...DEFAULT_SETTINGS.model, path },
  completion: { ...DEFAULT_SETTINGS.completion, minConfidence: 0, minHeadProbability: 0, ...completion },
});
const registry = new TokenizerRegistry({ name: 'tessera-tiny', path: join(tiny, 'tokenizer.json') });
const services: CompletionService[] = [];
const service = (s = settings()) => {
  const created = new CompletionService(s, registry, undefined, workerFile);
  services.push(created);
  return created;
};
after(async () => {
  for (const s of services) await s.dispose();
});

const text = 'export function greet(name: string): string {\n  console.lo\n}\n';
const offset = text.indexOf('console.lo') + 'console.lo'.length;
const input = { uri: 'file:///greet.ts', path: 'src/greet.ts', document: documentOf(text), offset };

test('a completion on the default model: the prefix tokenized once, as the prompt shows it', async () => {
  const s = service(settings(tiny, { healing: 'off' }));
  await s.configure(settings(tiny, { healing: 'off' }));
  assert.equal(s.status.state, 'ready', s.status.error);
  assert.match(s.status.fimTemplate ?? '', /tessera \(SPM\)/);
  const r = (await s.complete(input))!;
  const tok = registry.load({ name: 'tessera-tiny', path: join(tiny, 'tokenizer.json') });
  // SPM: the prompt ends with the prefix's own tokens.
  const prefixIds = tok.encodeIds(text.slice(0, offset));
  assert.deepEqual(r.prompt.slice(-prefixIds.length), prefixIds);
  assert.ok(r.tokens > 0 && r.raw.length > 0);
  assert.equal(r.multiline, false);
  assert.ok(!r.text.includes('\n'), 'the rest of one line');
});

test("token healing: the prompt loses the word's last token and the completion does not repeat it", async () => {
  const plain = service(settings(tiny, { healing: 'off' }));
  const healed = service(settings(tiny, { healing: 'heal' }));
  await plain.configure(settings(tiny, { healing: 'off' }));
  await healed.configure(settings(tiny, { healing: 'heal' }));
  const a = (await plain.complete(input))!;
  const b = (await healed.complete(input))!;
  assert.deepEqual(b.prompt, a.prompt.slice(0, -1));
  const tok = registry.load({ name: 'tessera-tiny', path: join(tiny, 'tokenizer.json') });
  const backedOff = tok.decode(a.prompt.slice(-1));
  assert.ok('console.lo'.endsWith(backedOff), backedOff);
  // What is shown continues from the cursor: the backed-off bytes are the text already typed.
  assert.ok(!b.raw.startsWith(backedOff) || backedOff === '', b.raw);
});

test('a large file is completed from a window around the cursor, as the editor does', async () => {
  const s = service();
  await s.configure(settings());
  const filler = '// filler line\n'.repeat(50_000);
  const big = `${filler}${text}`;
  const r = (await s.complete({ ...input, uri: 'file:///big.ts', document: documentOf(big), offset: filler.length + offset }))!;
  assert.ok(r.prefillTokens + r.reusedTokens < 1000, `prompt of ${r.prefillTokens + r.reusedTokens} tokens`);
});

test('a folder that is no model, or whose tokenizer does not fit its config, turns completions off with the reason', async () => {
  const s = service();
  await s.configure(settings(join(repoRoot, 'test')));
  assert.equal(s.status.state, 'error');
  assert.match(s.status.error ?? '', /is not a usable model: no tokenizer\.json/);
  assert.equal(await s.complete(input), null);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mismatch-'));
  try {
    cpSync(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, vocab_size: 4096 }));
    await s.configure(settings(dir));
    assert.match(s.status.error ?? '', /tokenizer\.json has 8192 tokens but config\.json says vocab_size 4096/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exact byte-level prompting completes from inside the word, and says how the completion started', async () => {
  const s = service(settings(tiny, { healing: 'exact' }));
  await s.configure(settings(tiny, { healing: 'exact' }));
  const plain = service(settings(tiny, { healing: 'off' }));
  await plain.configure(settings(tiny, { healing: 'off' }));
  const r = (await s.complete(input))!;
  const a = (await plain.complete(input))!;
  assert.equal(r.healing, 'exact');
  assert.equal(a.healing, 'off');
  // The word's tokens left the prompt; the model's first tokens spell it again (not shown).
  assert.ok(r.prompt.length < a.prompt.length);
  const tok = registry.load({ name: 'tessera-tiny', path: join(tiny, 'tokenizer.json') });
  const spelled = tok.decode(r.ids);
  const word = tok.decode(a.prompt.slice(r.prompt.length - a.prompt.length));
  assert.ok(spelled.startsWith(word), `${JSON.stringify(spelled)} starts with ${JSON.stringify(word)}`);
  // What is shown continues from the cursor (up to where the line ends it).
  assert.ok(r.raw.length > 0 && spelled.slice(word.length).startsWith(r.raw), JSON.stringify(r.raw));
  assert.equal(typeof r.canonical, 'boolean');
});

test('typing through a shown completion: its rest comes back with no model run', async () => {
  const s = service(settings(tiny, { healing: 'off' }));
  await s.configure(settings(tiny, { healing: 'off' }));
  const doc = 'export class Fields {\n  readonly a: number = compute(1, this.options);\n  readonly b: number = compute(\n}\n';
  const at = doc.indexOf('compute(\n') + 'compute('.length;
  const first = (await s.complete({ ...input, uri: 'file:///fields.ts', document: documentOf(doc), offset: at }))!;
  assert.ok(first.shown && first.text.length >= 2, JSON.stringify(first.text));
  const typed = first.text.slice(0, 1);
  const next = (await s.complete({
    ...input,
    uri: 'file:///fields.ts',
    document: documentOf(doc.slice(0, at) + typed + doc.slice(at)),
    offset: at + 1,
  }))!;
  assert.equal(next.typedThrough, true);
  assert.equal(next.text, first.text.slice(1));
  assert.equal(next.prefillTokens + next.tokens, 0, 'no model run');
  const other = (await s.complete({
    ...input,
    uri: 'file:///fields.ts',
    document: documentOf(`${doc.slice(0, at)}@${doc.slice(at)}`),
    offset: at + 1,
  }))!;
  assert.notEqual(other.typedThrough, true);
});

test('accepting a completion: the next one was computed ahead while it was shown', async () => {
  const s = service(settings(tiny, { healing: 'off' }));
  await s.configure(settings(tiny, { healing: 'off' }));
  const doc = 'export class Fields {\n  readonly a: number = compute(1, this.options);\n  readonly b: number = compute(\n}\n';
  const at = doc.indexOf('compute(\n') + 'compute('.length;
  const first = (await s.complete({ ...input, uri: 'file:///ahead.ts', document: documentOf(doc), offset: at }))!;
  assert.ok(first.shown && first.text, JSON.stringify(first));
  // The user presses Tab: the document now holds the completion, the cursor after it.
  const accepted = doc.slice(0, at) + first.text + doc.slice(at);
  const next = (await s.complete({ ...input, uri: 'file:///ahead.ts', document: documentOf(accepted), offset: at + first.text.length }))!;
  assert.equal(next.computedAhead, true);
  // The same as computing it now.
  const fresh = service(settings(tiny, { healing: 'off', completeAhead: false }));
  await fresh.configure(settings(tiny, { healing: 'off', completeAhead: false }));
  const again = (await fresh.complete({
    ...input,
    uri: 'file:///ahead.ts',
    document: documentOf(accepted),
    offset: at + first.text.length,
  }))!;
  assert.equal(next.text, again.text);
  assert.notEqual(again.computedAhead, true);
});

test('subtoken merging: the merging export runs, the prefix identifiers take one position each; a folder without one, or with one that does not load, completes plainly and says why', async () => {
  const { SyntaxService } = await import('../../language-server/src/syntax/parser');
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const parser = await syntax.parser('typescript');
  const on = settings(tiny, { subtokenMerging: true, healing: 'off' });
  const s = service(on);
  await s.configure(on);
  assert.equal(s.status.state, 'ready', s.status.error);
  assert.match(s.status.description ?? '', /subtoken merging/);
  assert.match(s.status.onnxFile ?? '', /model_merging\.onnx$/);
  const code =
    'const elementsByTagName = document.getElementsByTagName("div");\nfor (const element of elementsByTagName) {\n  element.addEventListener("click", handleClickEvent);\n}\nfunction handleClickEvent(event: MouseEvent) {\n  const targetElement = event.currentTarget;\n  ';
  const at = { uri: 'file:///merge.ts', path: 'src/merge.ts', document: documentOf(code), offset: code.length };
  const merged = (await s.complete({ ...at, syntax: { parser } }, { reuseCache: false, ungated: true }))!;
  assert.ok(merged.tokens > 0);
  assert.ok(merged.prefillTokens < merged.prompt.length - 4, `${merged.prefillTokens} positions for ${merged.prompt.length} tokens`);
  // No syntax tree: nothing is known to be an identifier, nothing merges.
  const unmerged = (await s.complete(at, { reuseCache: false, ungated: true }))!;
  assert.equal(unmerged.prefillTokens, unmerged.prompt.length);
  const none = settings(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-tree'), { subtokenMerging: true });
  const plain = service(none);
  await plain.configure(none);
  assert.equal(plain.status.state, 'ready', plain.status.error);
  assert.match(plain.status.description ?? '', /no subtoken merging \(the folder has no onnx\/model_merging\.onnx\)/);
  // A merging export that does not load: the plain decoder completes, and the status says why.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-merging-'));
  try {
    cpSync(join(repoRoot, 'test', 'fixtures', 'models', 'tiny-gqa-merging'), dir, { recursive: true });
    writeFileSync(join(dir, 'onnx', 'model_merging.onnx'), readFileSync(join(dir, 'onnx', 'model_merging.onnx')).subarray(0, 5000));
    const broken = settings(dir, { subtokenMerging: true, healing: 'off' });
    const s2 = service(broken);
    await s2.configure(broken);
    assert.equal(s2.status.state, 'ready', s2.status.error);
    assert.match(s2.status.onnxFile ?? '', /model\.onnx$/);
    assert.match(s2.status.description ?? '', /no subtoken merging \(model_merging\.onnx did not load: /);
    const r = (await s2.complete({ ...at, syntax: { parser } }, { reuseCache: false, ungated: true }))!;
    assert.equal(r.prefillTokens, r.prompt.length, 'the plain decoder: every token its own position');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
