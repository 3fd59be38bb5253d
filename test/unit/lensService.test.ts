// The Token Lens on the server (lens/lensService.ts), driven as the server drives it: documents opened
// and edited through the store, settings applied, requests answered; what it pushes is recorded.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Connection } from 'vscode-languageserver';
import { DocumentStore } from '../../language-server/src/documents/store';
import { LensService } from '../../language-server/src/lens/lensService';
import { Logger } from '../../language-server/src/logger';
import type { TokenizerStatus } from '../../language-server/src/lsp_ext';
import { DEFAULT_SETTINGS } from '../../language-server/src/settings';
import { SyntaxService } from '../../language-server/src/syntax/parser';
import { TokenizerRegistry } from '../../language-server/src/tokenizer/registry';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { tokenizerDir, tokenizerPath } from '../../scripts/lib/testTokenizers';

/** What the lens sends to the client, kept in order. */
function recordingConnection() {
  const statuses: TokenizerStatus[] = [];
  const diagnostics = new Map<string, Array<{ code?: string | number }>>();
  const connection = {
    sendNotification: async (_type: unknown, status: TokenizerStatus) => void statuses.push(status),
    sendDiagnostics: async (p: { uri: string; diagnostics: Array<{ code?: string | number }> }) =>
      void diagnostics.set(p.uri, p.diagnostics),
  } as unknown as Connection;
  return { connection, statuses, diagnostics };
}

function setup() {
  const store = new DocumentStore();
  const sink = { error: () => undefined, warn: () => undefined, info: () => undefined, log: () => undefined };
  const rec = recordingConnection();
  const registry = new TokenizerRegistry({ name: 'tessera-tiny', path: join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json') });
  const syntax = SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const lens = new LensService(rec.connection, store, new Logger(sink), registry, syntax);
  return { store, lens, registry, syntax, ...rec };
}

const uri = 'file:///app.ts';
const text = 'export const greet = (name: string) => `héllo ${name} 🦩`;\nconst ab = "\u200B";\n';

test('tokens and counts follow the document edit by edit, under the tokenizer the settings name', () => {
  const { store, lens, statuses } = setup();
  lens.configure({ ...DEFAULT_SETTINGS, tokenizer: 'qwen2.5-coder', tokenizerDirectories: [tokenizerDir()] });
  assert.deepEqual(statuses.at(-1), { name: 'qwen2.5-coder', path: tokenizerPath('qwen2.5-coder'), vocabSize: 151669 });
  store.open({ textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const qwen = Tokenizer.fromFile(tokenizerPath('qwen2.5-coder'));
  assert.equal(lens.count({ uri })!.tokens, qwen.encodeIds(text).length);
  store.change({
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: 13 }, end: { line: 0, character: 18 } }, text: 'welcomeEveryone' }],
  });
  const edited = text.replace('greet', 'welcomeEveryone');
  assert.equal(lens.count({ uri })!.tokens, qwen.encodeIds(edited).length);
  const r = lens.tokens({ uri, ranges: [[0, edited.length]] })!;
  assert.deepEqual(r.ids, qwen.encodeIds(edited));
  assert.equal(r.version, 2);
  // A selection's count; then the default tokenizer when none is set.
  assert.deepEqual([lens.count({ uri, ranges: [[0, 6]] })!.tokens, lens.count({ uri, ranges: [[0, 6]] })!.selection], [1, true]);
  lens.configure({ ...DEFAULT_SETTINGS, tokenizerDirectories: [tokenizerDir()] });
  assert.equal(statuses.at(-1)!.name, 'tessera-tiny');
  assert.equal(lens.count({ uri })!.tokenizer, 'tessera-tiny');
});

test('a file over the size limit: no whole count, the visible lines still tokenized and marked approximate', () => {
  const { store, lens } = setup();
  lens.configure({ ...DEFAULT_SETTINGS, tokens: { maxFileMB: 0.001 } });
  const big = 'const x = 1;\n'.repeat(200);
  store.open({ textDocument: { uri, languageId: 'typescript', version: 1, text: big } });
  assert.match(lens.count({ uri })!.unavailable ?? '', /over the 0\.001 MB limit/);
  const r = lens.tokens({ uri, ranges: [[130, 156]] })!;
  assert.match(r.note ?? '', /approximate/);
  assert.ok(r.ids.length > 0 && r.starts[0]! >= 126);
});

test('the syntax tree follows every edit; diagnostics come after a pause', async () => {
  const { store, lens, syntax, diagnostics } = setup();
  lens.configure(DEFAULT_SETTINGS);
  store.open({ textDocument: { uri, languageId: 'typescript', version: 1, text } });
  await (await syntax).parser('typescript');
  await new Promise((r) => setImmediate(r));
  const base = lens.syntaxTreeCopy(uri)!;
  assert.equal(base.rootNode.hasError, false);
  base.delete();
  const edit = (line: number, character: number, insert: string, version: number) =>
    store.change({
      textDocument: { uri, version },
      contentChanges: [{ range: { start: { line, character }, end: { line, character } }, text: insert }],
    });
  edit(2, 0, 'function f() {\n', 2);
  const broken = lens.syntaxTreeCopy(uri)!;
  assert.equal(broken.rootNode.hasError, true);
  assert.equal(broken.rootNode.endIndex, text.length + 15);
  broken.delete();
  edit(3, 0, '}\n', 3);
  const fixed = lens.syntaxTreeCopy(uri)!;
  assert.equal(fixed.rootNode.hasError, false);
  assert.equal(fixed.rootNode.text, `${text}function f() {\n}\n`);
  fixed.delete();
  await new Promise((r) => setTimeout(r, 700));
  const codes = (diagnostics.get(uri) ?? []).map((d) => d.code);
  assert.ok(codes.includes('invisible'), codes.join());
  store.close({ textDocument: { uri } });
  assert.deepEqual(diagnostics.get(uri), [], 'a closed document leaves no diagnostics');
  assert.equal(lens.syntaxTreeCopy(uri), undefined);
});
