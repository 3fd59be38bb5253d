// Models over the protocol and the command line: the list, a download with progress and cancellation,
// and the switch to the downloaded model, against the Hub's stand-in on 127.0.0.1 (scripts/lib/hubStandIn.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { ModelsList, PullProgressInfo, PullResultInfo } from '../../language-server/src/lsp_ext';
import { HubStandIn } from '../../scripts/lib/hubStandIn';
import { cliJs, initialize, modelHealth, root, spawnServer, stopAll } from './lspClient';

const tiny = join(root, 'models', 'tessera-tiny');
const files = Object.fromEntries(
  [
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'README.md',
    'onnx/model.onnx',
    'onnx/model_quantized.onnx',
  ].map((f) => [f, join(tiny, f)]),
);
const hub = new HubStandIn([{ id: 'tessera/tessera-tiny', files }]);
const cache = mkdtempSync(join(tmpdir(), 'tessera-models-'));
let env: NodeJS.ProcessEnv = {};
before(async () => {
  const endpoint = await hub.start();
  env = { ...process.env, HF_HUB_CACHE: cache, HF_ENDPOINT: endpoint };
  delete env.HF_TOKEN;
  delete env.HF_HUB_OFFLINE;
  Object.assign(process.env, { HF_HUB_CACHE: cache, HF_ENDPOINT: endpoint }); // the spawned server inherits them
});
after(async () => {
  stopAll();
  await hub.close();
  rmSync(cache, { recursive: true, force: true });
});

test('the server lists models, downloads one with progress, cancels one, and switches to what it downloaded', async () => {
  const server = spawnServer();
  try {
    const loaded = modelHealth(server);
    await initialize(server);
    assert.equal((await loaded).model, 'tessera-tiny');
    const list = (await server.connection.sendRequest('tessera/models', {})) as ModelsList;
    assert.deepEqual(
      list.installed.map((m) => [m.name, m.source]),
      [['tessera-tiny', 'embedded']],
    );
    assert.equal(list.cache, cache);
    assert.ok(list.catalogue.some((c) => c.repo === 'onnx-community/Qwen2.5-Coder-1.5B' && c.kind === 'base' && c.precisions.int8! > 1e9));
    assert.equal(hub.log.length, 0, 'listing models sends nothing');

    // A cancelled download: the request fails as cancelled, its part stays, nothing enters snapshots/.
    hub.dropOnce('onnx/model.onnx', 1 << 20);
    const source = new CancellationTokenSource();
    const progress: PullProgressInfo[] = [];
    server.connection.onNotification('tessera/models/pullProgress', (p: PullProgressInfo) => {
      progress.push(p);
      if (p.bytes >= 1 << 20) source.cancel();
    });
    await assert.rejects(
      server.connection.sendRequest('tessera/models/pull', { repo: 'tessera/tessera-tiny', precision: 'fp32' }, source.token),
      /cancelled/,
    );
    const folder = join(cache, 'models--tessera--tessera-tiny');
    assert.ok(readdirSync(join(folder, 'blobs')).some((b) => b.endsWith('.incomplete')));
    assert.ok(!existsSync(join(folder, 'snapshots')));

    const n = hub.log.length;
    const pulled = (await server.connection.sendRequest('tessera/models/pull', {
      repo: 'tessera/tessera-tiny',
      precision: 'fp32',
    })) as PullResultInfo;
    assert.ok(
      hub.log.slice(n).some((e) => e.range?.startsWith('bytes=')),
      'resumed with Range',
    );
    const last = progress.at(-1)!;
    assert.equal(last.bytes, last.total);
    assert.ok(progress.every((p) => p.bytesPerSecond >= 0 && p.total > 0));
    assert.equal(pulled.dir, join(folder, 'snapshots', hub.commitOf('tessera/tessera-tiny')));
    const again = (await server.connection.sendRequest('tessera/models', {})) as ModelsList;
    assert.deepEqual(
      again.installed.map((m) => m.name),
      ['tessera-tiny', 'tessera/tessera-tiny'],
    );

    // Switched through the settings, as Select Model does: the health names the repo.
    const switched = modelHealth(server);
    await server.connection.sendNotification('workspace/didChangeConfiguration', {
      settings: { tessera: { model: { path: pulled.dir } } },
    });
    const h = await switched;
    assert.equal(h.state, 'ok');
    assert.equal(h.model, 'tessera/tessera-tiny');
    const uri = 'file:///m/app.py';
    await server.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text: 'import os\n\ndef main():\n    ' },
    });
    const items = await server.connection.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri },
      position: { line: 3, character: 4 },
      context: { triggerKind: 2 },
    });
    assert.ok(Array.isArray(items));

    // A missing repo: the error says so.
    await assert.rejects(
      server.connection.sendRequest('tessera/models/pull', { repo: 'nobody/nothing', precision: 'int8' }),
      /nobody\/nothing was not found/,
    );
  } finally {
    server.connection.dispose();
    server.proc.kill('SIGKILL');
  }
});

/** The CLI, run asynchronously: the stand-in answers from this process's event loop. */
const run = (args: string[], environment: NodeJS.ProcessEnv) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [cliJs, ...args], { env: environment }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

test('tessera models pull | list | rm, and --model with a repo id', async () => {
  const cli = (...args: string[]) => run(args, env);
  const pulled = await cli('models', 'pull', 'tessera/tessera-tiny', '--precision', 'quantized');
  assert.equal(pulled.status, 0, pulled.stderr);
  assert.match(pulled.stdout.trim(), /models--tessera--tessera-tiny\/snapshots\/[0-9a-f]{40}$/);
  assert.ok(existsSync(join(pulled.stdout.trim(), 'onnx', 'model_quantized.onnx')));
  const listed = JSON.parse((await cli('models', 'list', '--json')).stdout) as { installed: { name: string; precisions: string[] }[] };
  assert.ok(listed.installed.some((m) => m.name === 'tessera/tessera-tiny' && m.precisions.includes('quantized')));
  const file = join(cache, 'a.py');
  writeFileSync(file, 'import os\n\ndef main():\n    ');
  const done = await cli('complete', file, '--at', '4:5', '--model', 'tessera/tessera-tiny', '--precision', 'quantized', '--json');
  assert.equal(done.status, 0, done.stderr);
  assert.equal(JSON.parse(done.stdout).model, 'tessera/tessera-tiny');
  const tokens = await cli('tokens', file, '--model', 'tessera/tessera-tiny', '--json');
  assert.equal(tokens.status, 0, tokens.stderr);
  assert.ok(JSON.parse(tokens.stdout).count > 5);
  const missing = await cli('complete', file, '--at', '4:5', '--model', 'someone/else');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /tessera models pull someone\/else/);
  const gone = await cli('models', 'pull', 'nobody/nothing');
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /nobody\/nothing was not found/);
  assert.equal((await cli('models', 'rm', 'tessera/tessera-tiny')).status, 0);
  assert.ok(!existsSync(join(cache, 'models--tessera--tessera-tiny')));
  assert.equal((await cli('models', 'rm', 'tessera/tessera-tiny')).status, 1);
});

test('tessera optimize --block: a model folder --model loads, its report says the block; another block size is refused', async () => {
  const out = join(cache, 'optimized-64');
  const r = await run(
    ['optimize', join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), '--block', '64', '--out', out, '--json'],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  const made = JSON.parse(r.stdout) as { dir: string; report: { block: number; target: string; logitsToKeep: boolean } };
  assert.equal(made.dir, out);
  assert.deepEqual([made.report.block, made.report.target, made.report.logitsToKeep], [64, 'int8', true]);
  const file = join(cache, 'b.py');
  writeFileSync(file, 'def main():\n    ');
  const done = await run(['complete', file, '--at', '2:5', '--model', out, '--json'], env);
  assert.equal(done.status, 0, done.stderr);
  const bad = await run(['optimize', join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), '--block', '48'], env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--block is one of 32, 64, 128/);
});

test('https through a proxy: a CONNECT tunnel to the Hub, TLS checked end to end', async () => {
  const tls = join(root, 'test', 'fixtures', 'tls');
  const secure = new HubStandIn(
    [
      {
        id: 'tessera/tessera-tiny',
        files: {
          'config.json': files['config.json']!,
          'tokenizer.json': files['tokenizer.json']!,
          'onnx/model.onnx': files['onnx/model.onnx']!,
        },
      },
    ],
    {
      tls: { key: readFileSync(join(tls, 'localhost.key'), 'utf8'), cert: readFileSync(join(tls, 'localhost.pem'), 'utf8') },
    },
  );
  const endpoint = await secure.start();
  // A CONNECT proxy on loopback that logs what it tunnels.
  const tunnels: string[] = [];
  const sockets: Socket[] = [];
  const proxy = createServer((client) => {
    sockets.push(client);
    client.once('data', (head) => {
      const m = /^CONNECT ([^ ]+) HTTP/.exec(head.toString('latin1'));
      if (!m) return void client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      tunnels.push(m[1]!);
      const [host, port] = m[1]!.split(':');
      const upstream = connect(Number(port), host === 'localhost' ? '127.0.0.1' : host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      sockets.push(upstream);
      upstream.on('error', () => client.destroy());
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const cacheDir = mkdtempSync(join(tmpdir(), 'tessera-proxy-'));
  const proxied = {
    ...env,
    HF_HUB_CACHE: cacheDir,
    HF_ENDPOINT: endpoint,
    HTTPS_PROXY: proxyUrl,
    NODE_EXTRA_CA_CERTS: join(tls, 'localhost.pem'),
    NO_PROXY: '',
  };
  try {
    const r = await run(['models', 'pull', 'tessera/tessera-tiny', '--precision', 'fp32'], proxied);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(r.stdout.trim(), 'onnx', 'model.onnx')));
    assert.ok(tunnels.length > 0 && tunnels.every((t) => t === new URL(endpoint).host), tunnels.join(', '));
    assert.ok(
      secure.log.some((e) => e.path.startsWith('/cdn/')),
      'the file came through the tunnel',
    );
    // NO_PROXY names the host: straight there.
    const before = tunnels.length;
    const direct = await run(['models', 'pull', 'tessera/tessera-tiny', '--precision', 'fp32'], { ...proxied, NO_PROXY: 'localhost' });
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(tunnels.length, before);
    // A proxy that is not there: the error names it.
    const dead = await run(['models', 'pull', 'tessera/tessera-tiny'], { ...proxied, HTTPS_PROXY: 'http://127.0.0.1:9' });
    assert.equal(dead.status, 1);
    assert.match(dead.stderr, /proxy 127\.0\.0\.1:9/);
  } finally {
    for (const s of sockets) s.destroy();
    proxy.close();
    await secure.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a model loads optimized for this CPU, with work-done progress; Show Server Info says what was done; off runs the file as it is', async () => {
  const optimizedCache = mkdtempSync(join(tmpdir(), 'tessera-optimized-'));
  process.env.TESSERA_CACHE_DIR = optimizedCache;
  const server = spawnServer();
  try {
    const progress: { kind: string; title?: string; percentage?: number; message?: string; cancellable?: boolean }[] = [];
    server.connection.onRequest('window/workDoneProgress/create', () => null);
    server.connection.onNotification('$/progress', (p: { value: (typeof progress)[number] }) => {
      progress.push(p.value);
    });
    const loaded = modelHealth(server);
    await server.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { window: { workDoneProgress: true } },
      initializationOptions: { settings: { model: { path: join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2') } } },
    });
    await server.connection.sendNotification('initialized', {});
    assert.equal((await loaded).state, 'ok');
    const info = (await server.connection.sendRequest('tessera/serverInfo')) as { model: { description: string; onnxFile: string } };
    assert.match(
      info.model.description,
      /onnx\/model\.onnx optimized for this CPU \(int8\); 14 weight matrices to 8 bits \(MatMulNBits, block 32, int8 dot products\); head quantized to 8 bits; logits only for the positions used/,
    );
    assert.match(info.model.onnxFile, new RegExp(`^onnx/model\\.onnx, optimized: ${optimizedCache}/`));
    assert.equal(progress[0]?.kind, 'begin');
    assert.equal(progress[0]?.cancellable, true);
    assert.match(progress[0]?.title ?? '', /optimizing tiny-gqa-qwen2 for this CPU/);
    assert.equal(progress.at(-1)?.kind, 'end');
    assert.ok(progress.some((p) => p.kind === 'report' && p.percentage === 100));
    // Off: the file as it is, and nothing said about optimizing.
    const plain = modelHealth(server);
    await server.connection.sendNotification('workspace/didChangeConfiguration', {
      settings: { tessera: { model: { path: join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), optimize: false } } },
    });
    assert.equal((await plain).state, 'ok');
    const off = (await server.connection.sendRequest('tessera/serverInfo')) as { model: { description: string; onnxFile: string } };
    assert.doesNotMatch(off.model.description, /optimi/);
    assert.equal(off.model.onnxFile, 'onnx/model.onnx');
    // On again: the copy made before is reused at once, with no progress shown.
    const begun = progress.filter((p) => p.kind === 'begin').length;
    const again = modelHealth(server);
    await server.connection.sendNotification('workspace/didChangeConfiguration', {
      settings: { tessera: { model: { path: join(root, 'test', 'fixtures', 'models', 'tiny-gqa-qwen2'), optimize: true } } },
    });
    assert.equal((await again).state, 'ok');
    const reused = (await server.connection.sendRequest('tessera/serverInfo')) as { model: { description: string } };
    assert.match(reused.model.description, /reused: onnx\/model\.onnx optimized for this CPU/);
    assert.equal(progress.filter((p) => p.kind === 'begin').length, begun);
  } finally {
    server.connection.dispose();
    server.proc.kill('SIGKILL');
    rmSync(optimizedCache, { recursive: true, force: true });
  }
});
