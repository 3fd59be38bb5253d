// No network: the server, traced by strace through every system call of every thread, opens no internet
// socket while it loads models (the default and another), completes, tokenizes, compares tokenizers and
// runs a FIM check; nor does the command line. (Pipes and local sockets are not the network.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tokenizerDir } from '../../scripts/lib/testTokenizers';
import { cliJs, initialize, modelHealth, root, spawnServer } from './lspClient';

const STRACE = '/usr/bin/strace';
const dir = mkdtempSync(join(tmpdir(), 'tessera-network-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Network system calls in an strace log that reach beyond this machine's local sockets. */
function internetCalls(log: string): string[] {
  return log.split('\n').filter((l) => /\b(socket|connect|sendto|sendmsg|bind)\(/.test(l) && /AF_INET6?\b|AF_PACKET|AF_NETLINK/.test(l));
}

test('the language server opens no network socket while loading models, completing, tokenizing and checking FIM', async () => {
  assert.ok(existsSync(STRACE), 'strace is installed by npm test (scripts/test.mjs)');
  const trace = join(dir, 'server.strace');
  const server = spawnServer([STRACE, '-f', '-qq', '-e', 'trace=network', '-o', trace]);
  try {
    const loaded = modelHealth(server);
    await initialize(server, { tokenizerDirectories: [tokenizerDir()], compareTokenizers: ['qwen2.5-coder', 'cl100k'] });
    assert.equal((await loaded).state, 'ok');
    const uri = 'file:///net/app.py';
    const text = 'import os\n\ndef walk(root):\n    for dirpath, dirnames, filenames in os.walk(root):\n        \n';
    await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
    const complete = () =>
      server.connection.sendRequest('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: { line: 4, character: 8 },
        context: { triggerKind: 2 },
      });
    assert.ok(Array.isArray(await complete()));
    await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[0, text.length]] });
    await server.connection.sendRequest('tessera/compareTokenizers', { uri });
    await server.connection.sendRequest('tessera/fimCheck', { uri, n: 2, modes: ['off', 'exact'] });
    // Another model folder, loaded on a settings change.
    const reloaded = modelHealth(server);
    await server.connection.sendNotification('workspace/didChangeConfiguration', {
      settings: { tessera: { model: { path: join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2') } } },
    });
    assert.equal((await reloaded).state, 'ok');
    assert.ok(Array.isArray(await complete()));
    // A clean exit: strace ends with the server and its log is complete.
    await server.connection.sendRequest('shutdown');
    await server.connection.sendNotification('exit');
    assert.equal((await server.exited).code, 0);
  } finally {
    server.connection.dispose();
    server.proc.kill('SIGKILL');
  }
  const log = readFileSync(trace, 'utf8');
  assert.deepEqual(internetCalls(log), [], 'no internet socket');
});

test('the command line opens no network socket while completing and counting', () => {
  const file = join(dir, 'a.ts');
  writeFileSync(file, 'export function add(a: number, b: number) {\n  return a\n}\n');
  for (const args of [
    ['complete', file, '--at', '2:11', '--json'],
    ['tokens', file, '--json'],
  ]) {
    const trace = join(dir, `cli-${args[0]}.strace`);
    const r = spawnSync(STRACE, ['-f', '-qq', '-e', 'trace=network', '-o', trace, process.execPath, cliJs, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(internetCalls(readFileSync(trace, 'utf8')), [], args[0]);
  }
});

test('offline (HF_HUB_OFFLINE=1): listing models, a pull and completing with a downloaded model open no socket', () => {
  const cache = join(dir, 'hub-cache');
  // A snapshot as a pull leaves it, made here by copying: the trace must not depend on a download.
  const snapshot = join(cache, 'models--tessera--tiny-copy', 'snapshots', 'a'.repeat(40));
  mkdirSync(join(cache, 'models--tessera--tiny-copy', 'refs'), { recursive: true });
  cpSync(join(root, 'models', 'tessera-tiny'), snapshot, { recursive: true });
  writeFileSync(join(cache, 'models--tessera--tiny-copy', 'refs', 'main'), 'a'.repeat(40));
  const file = join(dir, 'b.ts');
  writeFileSync(file, 'export function add(a: number, b: number) {\n  return a\n}\n');
  const env = { ...process.env, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache, HF_ENDPOINT: 'https://huggingface.co' };
  for (const args of [
    ['models', 'list', '--json'],
    ['models', 'pull', 'onnx-community/Qwen2.5-Coder-1.5B'],
    ['complete', file, '--at', '2:11', '--model', 'tessera/tiny-copy', '--json'],
  ]) {
    const trace = join(dir, `cli-offline-${args[0]}-${args[0] === 'models' ? args[1] : 'complete'}.strace`);
    const r = spawnSync(STRACE, ['-f', '-qq', '-e', 'trace=network', '-o', trace, process.execPath, cliJs, ...args], {
      encoding: 'utf8',
      env,
    });
    if (args[0] === 'models' && args[1] === 'pull') assert.match(r.stderr, /HF_HUB_OFFLINE is set/);
    else assert.equal(r.status, 0, r.stderr);
    if (args[0] === 'models' && args[1] === 'list')
      assert.deepEqual(
        JSON.parse(r.stdout).installed.map((m: { name: string }) => m.name),
        ['tessera-tiny', 'tessera/tiny-copy'],
      );
    if (args[0] === 'complete') assert.equal(JSON.parse(r.stdout).model, 'tessera/tiny-copy');
    assert.deepEqual(internetCalls(readFileSync(trace, 'utf8')), [], args.join(' '));
  }
});

test('the check itself sees an internet socket when one is opened', () => {
  const trace = join(dir, 'control.strace');
  const script = "require('node:net').connect(9, '127.0.0.1').on('error', () => {});";
  spawnSync(STRACE, ['-f', '-qq', '-e', 'trace=network', '-o', trace, process.execPath, '-e', script]);
  assert.ok(internetCalls(readFileSync(trace, 'utf8')).length > 0);
});

test('two modules of the server open connections (downloads the user asks for, the completion server the user set); no other module imports a network API', () => {
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mts|js)$/.test(e.name) ? [join(dir, e.name)] : [],
    );
  const files = [...sources('extension/src'), ...sources('language-server/src')];
  assert.ok(files.length > 50);
  const network =
    /from ['"](node:)?(net|http|https|http2|tls|dgram|dns|undici)['"]|require\(['"](node:)?(net|http|https|http2|tls|dgram|dns)['"]\)|\bfetch\(|\bWebSocket\b|XMLHttpRequest/;
  const users = files.filter((f) => network.test(readFileSync(join(root, f), 'utf8')));
  assert.deepEqual(users.sort(), [
    join('language-server', 'src', 'engines', 'serverHttp.ts'),
    join('language-server', 'src', 'hub', 'http.ts'),
  ]);
  // The Hub's refuses every request while HF_HUB_OFFLINE is set, before a socket exists (the trace below).
  assert.match(readFileSync(join(root, users[1]!), 'utf8'), /if \(offline\(\)\) throw new OfflineError\(\);/);
  // The engines' reaches only tessera.engine.url (the local engine, the default, never calls it: the traces below).
  assert.match(readFileSync(join(root, users[0]!), 'utf8'), /const url = `\$\{baseUrl\(server\.url\)\}\$\{path\}`;/);
});
