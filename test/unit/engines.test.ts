// The engine pieces that need no server: a server's answer as a Generation (the stop rules' cut, each
// token's end for the confident head), the text prompt against the id prompt, templates by model name,
// the outage's backoff, HTTP faults in words, the command line's engine options and the settings.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { engineFromArgs } from '../../language-server/src/cli/engineArgs';
import { UsageError } from '../../language-server/src/cli/command';
import { confidentHead } from '../../language-server/src/completion/confidentHead';
import { gbnfLiteral } from '../../language-server/src/engines/llamaCpp';
import { Outage } from '../../language-server/src/engines/outage';
import { servedGeneration } from '../../language-server/src/engines/remoteGeneration';
import { callJson, EngineFault, modelLabel } from '../../language-server/src/engines/serverHttp';
import { assessHealth } from '../../language-server/src/health';
import { buildFimPrompt, detectFimTemplate, fimPromptText, templateForModelName } from '../../language-server/src/prompt/fim';
import { DEFAULT_SETTINGS, readSettings } from '../../language-server/src/settings';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

const line = { multiline: false, maxLines: 1, blockIndent: '', nextLine: '' };
const block = { multiline: true, maxLines: 8, blockIndent: '    ', nextLine: 'return x' };
const answer = (text: string, tokens: Array<{ text: string; logProb?: number; bytes?: number[] }>) => ({
  text,
  tokens,
  finish: 'length' as const,
  prefillTokens: 10,
  reusedTokens: 5,
  prefillMs: 3,
  decodeMs: 7,
});

test("a server's answer: cut by Tessera's stop rules, with each token's end and probability for the confident head", () => {
  const g = servedGeneration(
    answer('foo(a))\nmore', [
      { text: 'foo', logProb: Math.log(0.9) },
      { text: '(a', logProb: Math.log(0.8) },
      { text: '))', logProb: Math.log(0.5) },
      { text: '\nmore', logProb: Math.log(0.9) },
    ]),
    line,
  );
  assert.equal(g.text, 'foo(a)', 'the closer it did not open belongs to the code after the cursor');
  assert.equal(g.stoppedBy, 'rule');
  assert.deepEqual(
    g.trace.map((t) => t.end),
    [3, 5, 7, 12],
  );
  assert.ok(Math.abs(g.confidence - Math.exp((Math.log(0.9) + Math.log(0.8) + Math.log(0.5) + Math.log(0.9)) / 4)) < 1e-12);
  // The head at 0.6: foo(a (0.72), not the bracket after it (0.36).
  assert.equal(confidentHead(g.text, g.trace, 0.6, false).text, 'foo(a');
  assert.equal(g.prefillTokens, 10);
  assert.equal(g.reusedTokens, 5);
});

test('token healing over a server: the text after the word it gave back, token ends shifted', () => {
  const g = servedGeneration(
    answer(' field6: number', [
      { text: ' f', logProb: Math.log(0.0001) }, // forced by the grammar: not the model's doubt
      { text: 'ield', logProb: Math.log(0.5) },
      { text: '6', logProb: Math.log(0.9) },
      { text: ': number', logProb: Math.log(0.8) },
    ]),
    line,
    ' fiel',
  );
  assert.equal(g.text, 'd6: number');
  assert.deepEqual(
    g.trace.map((t) => t.end),
    [1, 2, 10],
  );
  assert.ok(Math.abs(g.confidence - Math.cbrt(0.5 * 0.9 * 0.8)) < 1e-12);
  assert.equal(servedGeneration(answer('other', [{ text: 'other' }]), line, ' fiel').text, '', 'a text not starting with the word is none');
  assert.equal(gbnfLiteral('a"b\\c\td'), '"a\\"b\\\\c\\x09d"');
});

test('a block from a server stops at a line indented less, as the local loop stops', () => {
  const g = servedGeneration(answer('x = 1\n    y = 2\nz = 3\n', [{ text: 'x = 1\n    y = 2\nz = 3\n' }]), block);
  assert.equal(g.text, 'x = 1\n    y = 2');
  assert.equal(g.confidence, 1, 'no probabilities: every token counts as sure');
});

test("a token's bytes that end inside a character: its text ends where the character is complete", () => {
  const euro = [...Buffer.from('€', 'utf8')];
  const g = servedGeneration(
    answer('a€b', [
      { text: 'a', bytes: [97] },
      { text: '', bytes: euro.slice(0, 2) },
      { text: '€b', bytes: [...euro.slice(2), 98] },
    ]),
    line,
  );
  assert.deepEqual(
    g.trace.map((t) => t.end),
    [1, 1, 3],
  );
});

/** Tokenizes as a server does a prompt: control tokens by their text, the text between them on its own. */
function asServer(tok: Tokenizer, text: string, specials: string[]): number[] {
  const re = new RegExp(specials.map((s) => s.replace(/[|.*+?^${}()[\]\\]/g, '\\$&')).join('|'), 'g');
  const ids: number[] = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    ids.push(...tok.encodeIds(text.slice(at, m.index)), tok.id(m[0])!);
    at = m.index + m[0].length;
  }
  return [...ids, ...tok.encodeIds(text.slice(at))];
}

test('the text prompt is the id prompt written out: the same tokens once a server tokenizes it', () => {
  for (const name of ['starcoder2-style', 'tessera-tiny']) {
    const tok = Tokenizer.fromFile(tokenizerPath(name));
    const t = detectFimTemplate(tok)!;
    const parts = {
      path: 'src/app.ts',
      snippets: [{ path: 'src/util.ts', text: 'export const two = 2;' }],
      prefix: 'function add(a, b) {\n  return ',
      suffix: ';\n}\n',
    };
    for (const order of t.orders) {
      const text = fimPromptText(t, parts, order);
      const specials = [t.prefix, t.suffix, t.middle, t.fileSep!];
      assert.deepEqual(
        asServer(tok, text, specials),
        buildFimPrompt(t, tok, parts, order).ids,
        `${name} ${order}: ${JSON.stringify(text)}`,
      );
    }
  }
});

test('templates by the names models are published under', () => {
  assert.equal(templateForModelName('Qwen/Qwen2.5-Coder-1.5B')?.family, 'qwen2.5-coder');
  assert.equal(templateForModelName('bigcode/starcoder2-3b')?.family, 'starcoder2');
  assert.equal(templateForModelName('deepseek-ai/deepseek-coder-1.3b-base')?.family, 'deepseek-coder');
  assert.equal(templateForModelName('codellama/CodeLlama-7b-hf')?.family, 'codellama');
  assert.equal(templateForModelName('/models/tessera-tiny-f32.gguf')?.family, 'tessera');
  assert.equal(templateForModelName('meta-llama/Llama-3.1-8B'), undefined);
  assert.equal(modelLabel('/srv/models/qwen2.5-coder-1.5b-q8_0.gguf'), 'qwen2.5-coder-1.5b-q8_0.gguf');
  assert.equal(modelLabel('Qwen/Qwen2.5-Coder-1.5B'), 'Qwen/Qwen2.5-Coder-1.5B');
});

test('an outage: probes back off 1 s, 2 s, 4 s … 30 s, and the first that succeeds ends it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let answers = false;
  const probes: number[] = [];
  const changes: Array<[string | undefined, number]> = [];
  const outage = new Outage(
    async () => {
      probes.push(Date.now());
      if (!answers) throw new EngineFault('unreachable', 'cannot reach');
    },
    (f, ms) => changes.push([f?.kind, ms]),
  );
  outage.report(new EngineFault('unreachable', 'cannot reach'));
  outage.report(new EngineFault('unreachable', 'cannot reach')); // the outage goes on: no second schedule
  assert.ok(outage.down);
  for (const ms of [1000, 2000, 4000, 8000, 16000, 30000, 30000]) {
    t.mock.timers.tick(ms);
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(
    changes.map((c) => c[1]),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  answers = true;
  t.mock.timers.tick(30000);
  await new Promise((r) => setImmediate(r));
  assert.equal(outage.down, undefined);
  assert.deepEqual(changes.at(-1), [undefined, 0]);
  assert.equal(probes.length, 8);
  outage.dispose();
});

test('HTTP faults in words: refused key, server error, missing endpoint, dead address; a cancel is null; the key goes as a Bearer token', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(String(req.headers.authorization));
    const status = req.url === '/401' ? 401 : req.url === '/500' ? 500 : req.url === '/404' ? 404 : 200;
    if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2000);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"ok":true}' : JSON.stringify({ error: { message: `said ${status}` } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const s = { url, apiKey: 'k-123' };
  try {
    assert.deepEqual(await callJson(s, '/ok', undefined, { timeoutMs: 1000 }), { ok: true });
    assert.equal(seen[0], 'Bearer k-123');
    const fault = async (path: string) =>
      callJson(s, path, {}, { timeoutMs: 500 }).then(
        () => assert.fail(path),
        (e: EngineFault) => e,
      );
    const auth = await fault('/401');
    assert.equal(auth.kind, 'auth');
    assert.match(auth.message, /refused the API key \(401: said 401\)/);
    assert.ok(!auth.message.includes('k-123'));
    assert.equal((await fault('/500')).kind, 'server');
    assert.equal((await fault('/404')).kind, 'unsupported');
    assert.equal((await fault('/slow')).kind, 'timeout');
    const cancel = new AbortController();
    const pending = callJson(s, '/slow', {}, { timeoutMs: 5000, signal: cancel.signal });
    cancel.abort();
    assert.equal(await pending, null);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const dead = await callJson({ url }, '/ok', undefined, { timeoutMs: 1000 }).catch((e: EngineFault) => e);
  assert.equal((dead as EngineFault).kind, 'unreachable');
  assert.match((dead as EngineFault).message, new RegExp(`cannot reach ${url}/ok \\(ECONNREFUSED\\)`));
});

test('engine options: kinds checked, a server needs its URL, the key comes from TESSERA_API_KEY only', () => {
  const opts = (o: Record<string, string>) => new Map(Object.entries(o));
  assert.deepEqual(engineFromArgs(opts({}), {}), DEFAULT_SETTINGS.engine);
  const e = engineFromArgs(opts({ engine: 'openai', 'engine-url': 'http://h:8000', 'engine-model': 'm' }), { TESSERA_API_KEY: ' k ' });
  assert.deepEqual(e, { ...DEFAULT_SETTINGS.engine, kind: 'openai', url: 'http://h:8000', model: 'm', apiKey: 'k' });
  assert.throws(() => engineFromArgs(opts({ engine: 'vllm' }), {}), UsageError);
  assert.throws(() => engineFromArgs(opts({ engine: 'llama.cpp' }), {}), /needs --engine-url/);
  assert.throws(() => engineFromArgs(opts({ 'engine-url': 'http://h' }), {}), /need --engine llama\.cpp or openai/);
});

test('engine settings: read with defaults; the key from the environment only, never from settings', () => {
  const saved = process.env.TESSERA_API_KEY;
  delete process.env.TESSERA_API_KEY;
  try {
    assert.deepEqual(readSettings({}).engine, { kind: 'local', url: '', model: '', tokenizer: '', fallback: 'none' });
    const e = readSettings({ engine: { kind: 'llama.cpp', url: ' http://h:8012 ', fallback: 'local', apiKey: 'x' } }).engine;
    assert.deepEqual(e, { kind: 'llama.cpp', url: 'http://h:8012', model: '', tokenizer: '', fallback: 'local' });
    process.env.TESSERA_API_KEY = ' k ';
    assert.equal(readSettings({ engine: { kind: 'openai' } }).engine.apiKey, 'k');
    assert.equal(readSettings({ engine: { kind: 'ollama' } }).engine.kind, 'local');
  } finally {
    if (saved === undefined) delete process.env.TESSERA_API_KEY;
    else process.env.TESSERA_API_KEY = saved;
  }
});

test("a server's health: ready names the model and server; a fault is a warning that says what stands in", () => {
  const noOnnx = { available: false, error: 'x' };
  const ready = assessHealth(noOnnx, {
    state: 'ready',
    engine: 'llama.cpp',
    name: 'qwen.gguf @ h:8012',
    url: 'http://h:8012',
    description: 'llama.cpp server at http://h:8012: /infill',
    fimTemplate: "the server's",
    tokens: 'estimated',
    healingNote: 'off over a server',
  });
  assert.equal(ready.state, 'ok', 'a server needs no ONNX Runtime');
  assert.equal(ready.message, 'Ready: qwen.gguf @ h:8012 (llama.cpp server)');
  assert.equal(ready.model, 'qwen.gguf @ h:8012');
  assert.match(ready.detail ?? '', /tokens: estimated; healing: off over a server/);
  const down = assessHealth(noOnnx, {
    state: 'error',
    engine: 'openai',
    url: 'http://h:8000',
    fault: 'auth',
    error: 'refused the API key (401)',
  });
  assert.equal(down.state, 'warning');
  assert.equal(down.fault, 'auth');
  assert.equal(down.message, 'OpenAI-compatible server http://h:8000: refused the API key (401)');
  assert.match(down.detail ?? '', /Set Engine API Key/);
});
