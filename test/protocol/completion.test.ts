// textDocument/inlineCompletion over real JSON-RPC with the embedded default model: completions come
// back with their cost and confidence, typing reuses the KV cache, a newer request supersedes an older
// one, and a broken model folder turns completions off with a reason while the rest keeps working.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { CompletionInfo, FimReport, Health } from '../../language-server/src/lsp_ext';
import { initialize, modelHealth, type ServerUnderTest, spawnServer } from './lspClient';

const servers: ServerUnderTest[] = [];
after(() => {
  for (const s of servers) {
    s.connection.dispose();
    s.proc.kill('SIGKILL');
  }
});

async function start(
  settings: Record<string, unknown>,
): Promise<{ server: ServerUnderTest; ready: Promise<Health>; infos: CompletionInfo[] }> {
  const server = spawnServer();
  servers.push(server);
  const infos: CompletionInfo[] = [];
  server.connection.onNotification('tessera/completionInfo', (i: CompletionInfo) => {
    infos.push(i);
  });
  const ready = modelHealth(server);
  await initialize(server, settings);
  return { server, ready, infos };
}

type Items = Array<{ insertText: string; range: { start: { line: number; character: number } } }> | null;

const ask = (s: ServerUnderTest, uri: string, line: number, character: number) =>
  s.connection.sendRequest('textDocument/inlineCompletion', {
    textDocument: { uri },
    position: { line, character },
    context: { triggerKind: 2 },
  }) as Promise<Items>;

test('the default model completes at the cursor; typing on reuses the cache', async () => {
  const { server, ready, infos } = await start({ completion: { minHeadProbability: 0 } });
  const health = await ready;
  assert.equal(health.state, 'ok', health.message);
  assert.match(health.message, /^Ready: tessera-tiny/);
  assert.match(health.detail ?? '', /llama, 6 layers.*FIM: tessera \(SPM\)/);
  const uri = 'file:///work/src/fields.ts';
  // Code that repeats itself: the model has something to say here (a head threshold of 0 shows all it writes).
  const body = Array.from({ length: 6 }, (_, i) => `  readonly field${i}: number = compute(${i}, this.options);\n`).join('');
  const text = `export class Fields {\n${body}  readonly field6: number = compute(\n}\n`;
  const line = 7;
  const column = '  readonly field6: number = compute('.length;
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const first = await ask(server, uri, line, column);
  assert.ok(Array.isArray(first), 'an answer, not a cancellation');
  assert.equal(infos.length, 1);
  const i1 = infos[0]!;
  assert.ok(i1.tokens > 0 && i1.prefillTokens > 10 && i1.reusedTokens === 0 && i1.latencyMs > 0, JSON.stringify(i1));
  assert.ok(i1.confidence > 0 && i1.confidence <= 1);
  assert.equal(first.length, 1, `one item: ${JSON.stringify(i1)}`);
  assert.deepEqual(first[0]!.range.start, { line, character: column });
  assert.ok(
    first[0]!.insertText.trim().length > 0 && !first[0]!.insertText.includes('\n'),
    `mid-line: one line, ${JSON.stringify(first[0]!.insertText)}`,
  );
  // Type one character at the cursor: the prompt (suffix first, prefix last) extends the last one.
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line, character: column }, end: { line, character: column } }, text: '6' }],
  });
  await ask(server, uri, line, column + 1);
  const i2 = infos[1]!;
  assert.ok(i2.reusedTokens >= i1.prefillTokens - 2, `reused ${i2.reusedTokens} of the first prompt's ${i1.prefillTokens}`);
  assert.ok(i2.prefillTokens <= 4, `ran ${i2.prefillTokens} tokens`);
});

test('a newer request supersedes the one in flight (null), and $/cancelRequest is honoured', async () => {
  const { server, ready } = await start({ completion: { minHeadProbability: 0, maxTokens: 200 } });
  await ready;
  const uri = 'file:///work/tools/files.py';
  const text =
    'import os\n\n\ndef list_files(root):\n    result = []\n    for dirpath, dirnames, filenames in os.walk(root):\n        \n    return result\n';
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const older = ask(server, uri, 6, 8);
  const newer = ask(server, uri, 6, 8);
  assert.equal(await older, null);
  assert.ok(Array.isArray(await newer));
  const source = new CancellationTokenSource();
  const cancelled = server.connection.sendRequest(
    'textDocument/inlineCompletion',
    {
      textDocument: { uri },
      position: { line: 6, character: 8 },
      context: { triggerKind: 2 },
    },
    source.token,
  );
  source.cancel();
  await assert.rejects(cancelled, (e: { code?: number }) => e.code === -32800); // RequestCancelled
  assert.ok(Array.isArray(await ask(server, uri, 6, 8)), 'the server answers the next request');
});

test('a folder that is not a model: completions off with the reason, the lens still answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-not-a-model-'));
  try {
    const { server, ready } = await start({ model: { path: dir } });
    const health = await ready;
    assert.equal(health.state, 'warning');
    assert.match(health.message, /^Completions off: .* is not a usable model: no tokenizer\.json; no config\.json; no decoder \.onnx/);
    const uri = 'file:///work/a.ts';
    await server.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'typescript', version: 1, text: 'let x = 1;\n' },
    });
    assert.equal(await ask(server, uri, 0, 9), null);
    const count = (await server.connection.sendRequest('tessera/count', { uri })) as { tokens: number };
    assert.ok(count.tokens > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 3 MB file: completions come from a window around the cursor, and typing still reuses the cache', async () => {
  const { server, ready, infos } = await start({ completion: { minHeadProbability: 0 } });
  await ready;
  const uri = 'file:///work/big.py';
  const body = Array.from({ length: 60_000 }, (_, i) => `value_${i} = compute(${i}, "text")`).join('\n');
  const text = `${body}\n\ndef main():\n    return \n`;
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const line = text.split('\n').length - 2;
  assert.ok(Array.isArray(await ask(server, uri, line, 11)));
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line, character: 11 }, end: { line, character: 11 } }, text: 'x' }],
  });
  assert.ok(Array.isArray(await ask(server, uri, line, 12)));
  const [a, b] = infos;
  assert.ok(a!.prefillTokens < 600, `the prompt is a window: ${a!.prefillTokens} tokens`);
  assert.ok(b!.reusedTokens >= a!.prefillTokens - 2, `reused ${b!.reusedTokens}`);
});

test('tessera/fimCheck runs on an open document with progress, inside a range, and can be cancelled', async () => {
  const { server, ready } = await start({});
  await ready;
  const uri = 'file:///work/src/shapes.ts';
  const text = Array.from(
    { length: 8 },
    (_, i) => `export function area${i}(w: number, h: number): number {\n  const a = w * h * ${i};\n  return a;\n}\n`,
  ).join('\n');
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const progress: Array<{ uri: string; done: number; total: number }> = [];
  server.connection.onNotification('tessera/fimCheckProgress', (p: (typeof progress)[number]) => {
    progress.push(p);
  });
  const range: [number, number] = [text.indexOf('export function area2'), text.indexOf('export function area5')];
  const report = (await server.connection.sendRequest('tessera/fimCheck', { uri, n: 2, modes: ['off', 'exact'], range })) as FimReport;
  assert.equal(report.model, 'tessera-tiny');
  assert.deepEqual(report.modes, ['off', 'exact']);
  assert.ok(report.samples.length >= 4, `${report.samples.length} samples`);
  for (const s of report.samples) {
    assert.ok(s.start >= range[0] && s.end <= range[1]);
    assert.equal(s.expected, text.slice(s.start, s.end));
    assert.ok(s.fills.off && s.fills.exact);
    assert.ok(s.fills.off.tokens.every((t) => t.p > 0 && t.p <= 1 && t.alternatives.length === 5));
  }
  assert.deepEqual(progress.at(-1), { uri, done: report.samples.length * 2, total: report.samples.length * 2 });
  // Completions go on while a check runs (it has a model of its own).
  const source = new CancellationTokenSource();
  const running = server.connection.sendRequest('tessera/fimCheck', { uri, n: 20 }, source.token);
  assert.ok(Array.isArray(await ask(server, uri, 2, 4)), 'a completion answered during the check');
  source.cancel();
  await assert.rejects(running, (e: { code?: number }) => e.code === -32800);
  await assert.rejects(server.connection.sendRequest('tessera/fimCheck', { uri: 'file:///not/open.ts' }), /is not open/);
});
