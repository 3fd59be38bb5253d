// The Token Lens requests over real JSON-RPC, against the built server and real tokenizers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { CompareResult, CountResult, TokenAtResult, TokenizerStatus, TokensResult } from '../../language-server/src/lsp_ext';
import { TOKENIZER_NAMES, tokenizerDir } from '../../scripts/lib/testTokenizers';
import { cliJs, type ServerUnderTest, spawnServer } from './lspClient';

let server: ServerUnderTest;
const tokenizerDirectories = [tokenizerDir()];
const uri = 'file:///work/app.ts';
const text = 'export function greet(name: string) {\n  return `héllo ${name} 🦩`;\n}\nconst раss = "\u200b";\nconst url = `${base}/api`;\n';
const diagnostics: Array<{ uri: string; diagnostics: Array<{ code: string; message: string; severity: number }> }> = [];
let status: Promise<TokenizerStatus>;

before(async () => {
  server = spawnServer();
  server.connection.onNotification('textDocument/publishDiagnostics', (p: (typeof diagnostics)[number]) => {
    diagnostics.push(p);
  });
  status = new Promise((resolve) => server.connection.onNotification('tessera/tokenizerStatus', resolve));
  await server.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    initializationOptions: { settings: { tokenizer: 'qwen2.5-coder', tokenizerDirectories } },
  });
  await server.connection.sendNotification('initialized', {});
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
});

/** The token count the command line gives for `input` under the same tokenizer. */
function cliCount(input: string): number | undefined {
  const args = [cliJs, 'tokens', '-', '--json', '--tokenizer', 'qwen2.5-coder', '--tokenizer-dir', tokenizerDirectories[0]!];
  return (JSON.parse(spawnSync(process.execPath, args, { input, encoding: 'utf8' }).stdout || '{}') as { count?: number }).count;
}

after(() => {
  server.connection.dispose();
  server.proc.kill('SIGKILL');
});

test('the tokenizer named in the settings is loaded and announced', async () => {
  const s = await status;
  assert.equal(s.name, 'qwen2.5-coder');
  assert.equal(s.vocabSize, 151669);
});

test('tessera/count of the file and of a selection', async () => {
  const file = (await server.connection.sendRequest('tessera/count', { uri })) as CountResult;
  const reference = cliCount(text);
  assert.equal(file.tokenizer, 'qwen2.5-coder');
  assert.equal(file.selection, false);
  assert.equal(file.characters, text.length);
  assert.equal(file.tokens, reference);
  const sel = (await server.connection.sendRequest('tessera/count', { uri, ranges: [[0, 15]] })) as CountResult;
  assert.deepEqual([sel.selection, sel.characters, sel.tokens], [true, 15, 2]); // `export function`
});

test('tessera/tokens covers a range with exact UTF-16 spans, partial characters flagged', async () => {
  const r = (await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[0, text.length]] })) as TokensResult;
  assert.equal(r.version, 1);
  assert.equal(r.starts[0], 0);
  assert.deepEqual(
    r.indices,
    r.ids.map((_, i) => i),
    'each token carries its index in the file',
  );
  // A range further down starts at that token's index in the file (colours stay put on scroll).
  const later = (await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[r.starts[10]!, text.length]] })) as TokensResult;
  assert.equal(later.indices[0], 10);
  for (let i = 1; i < r.ids.length; i++) assert.ok(r.starts[i]! >= r.ends[i - 1]! - 2, 'in order');
  const emoji = text.indexOf('🦩');
  const onEmoji = r.ids.map((_, i) => i).filter((i) => r.starts[i]! < emoji + 2 && r.ends[i]! > emoji);
  assert.ok(onEmoji.length >= 2, 'the emoji takes several tokens');
  assert.ok(
    onEmoji.every((i) => r.flags[i]! > 0),
    'each shares the emoji with another token',
  );
  assert.deepEqual(
    onEmoji.map((i) => r.ends[i]),
    onEmoji.map(() => emoji + 2),
  );
});

test('tessera/tokenAt: id, span and a hover with the subtoken group', async () => {
  const at = text.indexOf('greet') + 2;
  const r = (await server.connection.sendRequest('tessera/tokenAt', { uri, offset: at })) as TokenAtResult;
  assert.ok(r.start <= at && at < r.end);
  assert.match(r.markdown, new RegExp(`^\\*\\*Token ${r.id}\\*\\*`));
  assert.match(r.markdown, /identifier `greet` = \d+ tokens?:/);
});

test('edits keep counts exact (incremental) and diagnostics follow', async () => {
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: 16 }, end: { line: 0, character: 21 } }, text: 'welcomeEveryone' }],
  });
  const count = (await server.connection.sendRequest('tessera/count', { uri })) as CountResult;
  assert.equal(count.version, 2);
  const edited = text.replace('greet', 'welcomeEveryone');
  const ref = cliCount(edited);
  assert.equal(count.tokens, ref);
  // Diagnostics come after a short delay, straddles once the grammar has loaded.
  for (let i = 0; i < 100 && !diagnostics.some((d) => d.uri === uri && d.diagnostics.some((x) => x.code === 'straddle')); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const last = diagnostics.filter((d) => d.uri === uri).pop()!;
  const codes = last.diagnostics.map((d) => d.code);
  assert.ok(codes.includes('invisible'), codes.join());
  assert.ok(codes.includes('confusable'), codes.join());
  assert.ok(codes.includes('straddle'), codes.join());
});

test('tessera/tokenAt: an identifier of several tokens says it would be merged into 1 position', async () => {
  const edited = text.replace('greet', 'welcomeEveryone');
  const at = edited.indexOf('welcomeEveryone') + 'welcome'.length + 1;
  const r = (await server.connection.sendRequest('tessera/tokenAt', { uri, offset: at })) as TokenAtResult;
  assert.match(r.markdown, /identifier `welcomeEveryone` = [2-8] tokens:/);
  assert.match(r.markdown, /merged into 1 position/);
  const single = (await server.connection.sendRequest('tessera/tokenAt', { uri, offset: edited.indexOf('return') + 1 })) as TokenAtResult;
  assert.doesNotMatch(single.markdown, /merged into 1 position/);
});

test('tessera/compareTokenizers counts under every tokenizer found', async () => {
  const r = (await server.connection.sendRequest('tessera/compareTokenizers', { uri })) as CompareResult;
  assert.deepEqual(r.rows.map((x) => x.tokenizer).sort(), [...TOKENIZER_NAMES].sort());
  assert.deepEqual(
    r.rows.filter((x) => x.active).map((x) => x.tokenizer),
    ['qwen2.5-coder'],
  );
  assert.ok(r.rows.every((x) => (x.tokens ?? 0) > 10));
});

test('a broken tokenizer setting is reported, and nothing is lost', async () => {
  const next = new Promise<TokenizerStatus>((resolve) => server.connection.onNotification('tessera/tokenizerStatus', resolve));
  await server.connection.sendNotification('workspace/didChangeConfiguration', {
    settings: { tessera: { tokenizer: '/nonexistent/tokenizer.json', tokenizerDirectories } },
  });
  const s = await next;
  assert.match(s.error ?? '', /\/nonexistent\/tokenizer\.json: no such file/);
  const count = (await server.connection.sendRequest('tessera/count', { uri })) as CountResult;
  assert.match(count.unavailable ?? '', /no such file/);
  assert.equal(((await server.connection.sendRequest('tessera/documentStats', { uri })) as { version: number }).version, 2);
});

test("with no tokenizer set, the default model's tokenizer is used", async () => {
  const next = new Promise<TokenizerStatus>((resolve) => server.connection.onNotification('tessera/tokenizerStatus', resolve));
  await server.connection.sendNotification('workspace/didChangeConfiguration', {
    settings: { tessera: { tokenizer: '', tokenizerDirectories } },
  });
  const s = await next;
  assert.equal(s.name, 'tessera-tiny');
  assert.equal(s.vocabSize, 8192);
  const count = (await server.connection.sendRequest('tessera/count', { uri })) as CountResult;
  assert.equal(count.tokenizer, 'tessera-tiny');
  assert.ok(count.tokens > 10);
});
