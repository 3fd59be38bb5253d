import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DocumentStats, Health, ServerInfo } from '../../language-server/src/lsp_ext';
import { type ServerUnderTest, spawnServer } from './lspClient';

// One server for the whole conversation, as an editor would have.
let server: ServerUnderTest;
let health: Promise<Health>;
const uri = 'file:///work/sample.ts';
const text = 'const greeting = "héllo 😀";\r\nexport default greeting;\n';

before(() => {
  server = spawnServer();
  health = new Promise((resolve) => server.connection.onNotification('tessera/health', resolve));
});

after(async () => {
  server.connection.dispose();
  server.proc.kill('SIGKILL');
});

test('initialize announces incremental sync and the server name', async () => {
  const result = (await server.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    initializationOptions: { logLevel: 'debug' },
  })) as { capabilities: { textDocumentSync: { change: number; openClose: boolean } }; serverInfo: { name: string; version: string } };
  assert.equal(result.capabilities.textDocumentSync.change, 2);
  assert.equal(result.capabilities.textDocumentSync.openClose, true);
  assert.equal(result.serverInfo.name, 'tessera-lsp');
  assert.match(result.serverInfo.version, /^\d+\.\d+\.\d+/);
});

test('after initialized the server pushes its health: ok, with ONNX Runtime loaded', async () => {
  await server.connection.sendNotification('initialized', {});
  const h = await health;
  assert.equal(h.state, 'ok', h.message);
  assert.match(h.message, /ONNX Runtime \d+\.\d+/);
});

test('tessera/serverInfo reports the real process', async () => {
  const info = (await server.connection.sendRequest('tessera/serverInfo')) as ServerInfo;
  assert.equal(info.pid, server.proc.pid);
  assert.equal(info.node, process.version);
  assert.equal(info.onnxruntime.available, true);
  assert.equal(info.health.state, 'ok');
  assert.equal(info.openDocuments, 0);
});

test('didOpen then tessera/documentStats: the server holds the exact text', async () => {
  await server.connection.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'typescript', version: 1, text },
  });
  const stats = (await server.connection.sendRequest('tessera/documentStats', { uri })) as DocumentStats;
  assert.deepEqual(stats, { uri, version: 1, lines: 3, utf16Length: text.length, utf8Bytes: Buffer.byteLength(text) });
});

test('incremental didChange with UTF-16 positions after an emoji', async () => {
  // Insert after the emoji (line 0, UTF-16 column 25 is just past the closing quote's predecessor).
  const col = text.indexOf('😀') + 2;
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: col }, end: { line: 0, character: col } }, text: '🎉\n' }],
  });
  const expected = `${text.slice(0, col)}🎉\n${text.slice(col)}`;
  const stats = (await server.connection.sendRequest('tessera/documentStats', { uri })) as DocumentStats;
  assert.deepEqual(stats, { uri, version: 2, lines: 4, utf16Length: expected.length, utf8Bytes: Buffer.byteLength(expected) });
});

test('unknown documents give null; unknown methods give MethodNotFound; the server stays up', async () => {
  assert.equal(await server.connection.sendRequest('tessera/documentStats', { uri: 'file:///nope.ts' }), null);
  await assert.rejects(server.connection.sendRequest('tessera/noSuchRequest', {}), (err: { code: number }) => err.code === -32601);
  const info = (await server.connection.sendRequest('tessera/serverInfo')) as ServerInfo;
  assert.equal(info.openDocuments, 1);
});

test('didClose forgets the document', async () => {
  await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  assert.equal(await server.connection.sendRequest('tessera/documentStats', { uri }), null);
});

test('workspace/didChangeConfiguration changes the log level without a restart', async () => {
  const before = server.logs.length;
  await server.connection.sendNotification('workspace/didChangeConfiguration', {
    settings: { tessera: { server: { logLevel: 'error' } } },
  });
  await server.connection.sendRequest('tessera/serverInfo');
  // Set to error: even the debug confirmation of the change is not logged.
  assert.deepEqual(server.logs.slice(before), []);
  await server.connection.sendNotification('workspace/didChangeConfiguration', {
    settings: { tessera: { server: { logLevel: 'debug' } } },
  });
  await server.connection.sendRequest('tessera/serverInfo');
  assert.deepEqual(server.logs.slice(before), ['log level: debug']);
});

test('shutdown then exit ends the process with code 0', async () => {
  assert.equal(await server.connection.sendRequest('shutdown'), null);
  await server.connection.sendNotification('exit');
  const { code } = await server.exited;
  assert.equal(code, 0, server.stderr());
  assert.ok(
    server.logs.some((l) => /Tessera language server \d/.test(l)),
    'the server logged its start',
  );
});
