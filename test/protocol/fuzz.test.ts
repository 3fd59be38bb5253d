// A seeded fuzz run over LSP against the built `tessera-lsp --stdio`: random documents (code mixed with
// NULs, lone surrogates, CR/CRLF, bidi controls, emoji), random incremental and full edits, and random
// requests at random (also out-of-range) positions, some cancelled while in flight. The server must
// answer every request (a result or a cancellation, never an internal error), stay alive, and hold
// tokens equal to a fresh encode of each final text. Reproduce a failure with the seed it prints:
//   TESSERA_FUZZ_SEED=… TESSERA_FUZZ_OPS=… node --test out/test/protocol/fuzz.test.js
// `npm run test:soak` runs it longer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { seededRandom } from '../../language-server/src/generation/processors';
import type { DocumentStats, TokensResult } from '../../language-server/src/lsp_ext';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { readyServer, stopAll } from './lspClient';

const seed = Number(process.env.TESSERA_FUZZ_SEED ?? 20261202);
const operations = Number(process.env.TESSERA_FUZZ_OPS ?? 600);
const next = seededRandom(seed);
const rand = (n: number) => Math.floor(next() * n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

const source = readFileSync(join(repoRoot, 'language-server', 'src', 'tokenizer', 'tokenizer.ts'), 'utf8');
const FRAGMENTS = [
  'function f(a, b) {\n  return a + b;\n}\n',
  'def g(x):\n    return [y for y in x if y]\n',
  '\0',
  '\0\0\0',
  '\r\n',
  '\r',
  '\n',
  '\t',
  '\u202e',
  '\u2066abc\u2069',
  '\u200b',
  '\ufeff',
  '\ud83d', // a lone high surrogate
  '\ude00', // a lone low surrogate
  '😀',
  'é',
  'e\u0301',
  '((((((((((',
  '}}}}}',
  '"unterminated',
  '/* open comment',
  '`${',
  '<|endoftext|>',
  '<fim_prefix>',
  '\u0000\u0001\u0002\u00ff\ufffd',
  'const x = 1;',
  ' '.repeat(40),
  'x'.repeat(300),
];
const LANGUAGES = ['typescript', 'javascript', 'python', 'plaintext', 'cobol', 'rust'];

function randomText(maxLength: number): string {
  let s = '';
  while (s.length < maxLength) {
    if (rand(3) === 0) {
      const at = rand(source.length);
      s += source.slice(at, at + rand(400));
    } else s += pick(FRAGMENTS);
  }
  return s.slice(0, maxLength);
}

after(stopAll);

test(`fuzz over LSP: ${operations} random edits and requests (seed ${seed}); every request answered, tokens exact`, async (t) => {
  t.diagnostic(`seed ${seed}, ${operations} operations`);
  const server = await readyServer({ completion: { minHeadProbability: 0 } });
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });

  const docs = new Map<string, TextDocument>();
  const open = (i: number) => {
    const uri = `file:///fuzz/doc${i}.${pick(['ts', 'js', 'py', 'txt', 'cob'])}`;
    const doc = TextDocument.create(uri, pick(LANGUAGES), 1, randomText(rand(3000)));
    docs.set(uri, doc);
    void server.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: doc.languageId, version: 1, text: doc.getText() },
    });
  };
  for (let i = 0; i < 4; i++) open(i);

  const counts = { requests: 0, answered: 0, cancelled: 0, edits: 0, completionsShown: 0 };
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const request = (method: string, params: unknown, cancelAfterMs?: number) => {
    counts.requests++;
    const tokenSource = new CancellationTokenSource();
    const p = server.connection
      .sendRequest(method, params, tokenSource.token)
      .then(
        (r: unknown) => {
          counts.answered++;
          if (method === 'textDocument/inlineCompletion' && Array.isArray(r) && r.length > 0) counts.completionsShown++;
        },
        (e: unknown) => {
          if (e instanceof ResponseError && (e.code === -32800 || e.code === -32801)) counts.cancelled++;
          else failures.push(`${method} ${JSON.stringify(params).slice(0, 200)}: ${(e as Error).message}`);
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (cancelAfterMs !== undefined) setTimeout(() => tokenSource.cancel(), cancelAfterMs);
  };
  const anyOffset = (doc: TextDocument) => (rand(10) === 0 ? pick([-5, doc.getText().length + 7, 1e9]) : rand(doc.getText().length + 1));
  const anyPosition = (doc: TextDocument) =>
    rand(10) === 0 ? { line: pick([doc.lineCount + 3, 1e6]), character: rand(50) } : doc.positionAt(rand(doc.getText().length + 1));

  let opened = 4;
  for (let op = 0; op < operations && !exited; op++) {
    const uri = pick([...docs.keys()]);
    const doc = docs.get(uri)!;
    const length = doc.getText().length;
    const kind = rand(21);
    if (kind < 8) {
      // An incremental edit at random UTF-16 offsets: it may split a surrogate pair or a CRLF.
      const start = rand(length + 1);
      const end = rand(4) === 0 ? Math.min(length, start + rand(200)) : start;
      const range = { start: doc.positionAt(start), end: doc.positionAt(end) };
      const text = rand(3) === 0 ? '' : randomText(1 + rand(rand(10) === 0 ? 2000 : 12));
      TextDocument.update(doc, [{ range, text }], doc.version + 1);
      counts.edits++;
      void server.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: doc.version },
        contentChanges: [{ range, text }],
      });
    } else if (kind === 8) {
      const text = randomText(rand(4000));
      TextDocument.update(doc, [{ text }], doc.version + 1);
      counts.edits++;
      void server.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: doc.version },
        contentChanges: [{ text }],
      });
    } else if (kind === 9) {
      docs.delete(uri);
      void server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
      open(opened++);
      // A request on the closed document: answered (null), not an error.
      request('tessera/documentStats', { uri });
    } else if (kind < 13) {
      request(
        'textDocument/inlineCompletion',
        { textDocument: { uri }, position: anyPosition(doc), context: { triggerKind: pick([1, 2]) } },
        rand(3) === 0 ? rand(20) : undefined,
      );
      // Half of them run alone, as after a pause in typing; the rest race newer requests.
      if (rand(2) === 0) await Promise.all(inFlight);
    } else if (kind < 15) {
      const a = anyOffset(doc);
      request('tessera/tokens', { uri, ranges: [[a, rand(2) === 0 ? a + rand(500) : anyOffset(doc)]] }, rand(5) === 0 ? 0 : undefined);
    } else if (kind < 17) {
      request('tessera/count', { uri, ranges: rand(2) === 0 ? [] : [[anyOffset(doc), anyOffset(doc)]] });
    } else if (kind < 19) {
      request('tessera/tokenAt', { uri, offset: anyOffset(doc) });
    } else if (kind === 19) {
      request('tessera/documentStats', { uri });
    } else {
      // Settings change under load: each completion reads the settings of its moment.
      const completion = {
        minHeadProbability: pick([0, 0.4]),
        show: pick(['head', 'whole']),
        healing: pick(['off', 'heal', 'exact']),
        filters: pick([true, false]),
        snippetTokens: pick([0, 128]),
        localMemory: pick([true, false]),
        maxTokens: pick([1, 16, 64]),
      };
      void server.connection.sendNotification('workspace/didChangeConfiguration', { settings: { tessera: { completion } } });
    }
    // Keep a bounded number in flight, as an editor does.
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  t.diagnostic(JSON.stringify(counts));
  assert.equal(exited, false, `the server exited: ${server.stderr().slice(-2000)}`);
  assert.deepEqual(failures, [], 'every request gets a result or a cancellation');
  assert.equal(counts.answered + counts.cancelled, counts.requests);
  assert.ok(counts.completionsShown > 0, 'the model completed somewhere: the fuzz reached generation');

  // Each final text: the server holds it exactly, and its tokens equal a fresh encode.
  const tokenizer = Tokenizer.fromFile(join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json'));
  for (const [uri, doc] of docs) {
    const stats = (await server.connection.sendRequest('tessera/documentStats', { uri })) as DocumentStats;
    assert.equal(stats.version, doc.version, uri);
    assert.equal(stats.utf16Length, doc.getText().length, uri);
    const tokens = (await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[0, doc.getText().length]] })) as TokensResult;
    assert.deepEqual(tokens.ids, tokenizer.encodeIds(doc.getText()), `${uri}: tokens equal a fresh encode`);
  }
});

test('hostile documents: deep nesting, binary, NULs, lone surrogates, CR only, bidi, no grammar; every request answered', async (t) => {
  const server = await readyServer();
  const binary = Array.from({ length: 200_000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
  const cases: Array<[string, string, string]> = [
    ['nested.ts', 'typescript', `const x = ${'('.repeat(50_000)}1${')'.repeat(50_000)};\n`],
    ['unclosed.ts', 'typescript', `function f() ${'{'.repeat(30_000)}\n`],
    ['nested.py', 'python', `x = ${'['.repeat(40_000)}\n`],
    ['deep.js', 'javascript', `${'if (a) '.repeat(20_000)}b();\n`],
    ['binary.bin', 'plaintext', binary],
    ['binary.ts', 'typescript', binary],
    ['nul.py', 'python', 'def f():\n\0\0\0    return 1\n'.repeat(500)],
    ['surrogates.ts', 'typescript', 'const s = "\ud83d\ude00\ud83d";\nconst t = "\ude00x";\n'.repeat(200)],
    ['cr.py', 'python', 'def f():\r    return 1\r\rdef g():\r\n    pass\r'.repeat(300)],
    ['bidi.ts', 'typescript', 'const isAdmin = false; /*\u202e } \u2066if (isAdmin)\u2069 \u2066 begin admins only */\n'.repeat(100)],
    ['notes.cob', 'cobol', '       IDENTIFICATION DIVISION.\n       PROGRAM-ID. HELLO.\n'.repeat(1000)],
    ['empty.ts', 'typescript', ''],
  ];
  for (const [name, languageId, text] of cases) {
    const uri = `file:///hostile/${name}`;
    const started = Date.now();
    await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    const doc = TextDocument.create(uri, languageId, 1, text);
    for (const offset of [0, text.length >> 1, text.length]) {
      const items = await server.connection.sendRequest('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: doc.positionAt(offset),
        context: { triggerKind: 2 },
      });
      assert.ok(items === null || Array.isArray(items), `${name}: a completion answer at ${offset}`);
    }
    const count = (await server.connection.sendRequest('tessera/count', { uri })) as { tokens: number; characters: number };
    assert.equal(count.characters, text.length, name);
    const stats = (await server.connection.sendRequest('tessera/documentStats', { uri })) as DocumentStats;
    assert.equal(stats.utf16Length, text.length, name);
    t.diagnostic(`${name}: ${text.length} characters, ${count.tokens} tokens, answered in ${Date.now() - started} ms`);
  }
  const info = (await server.connection.sendRequest('tessera/serverInfo')) as { openDocuments: number };
  assert.equal(info.openDocuments, cases.length, 'the server is alive and holds every document');
});
