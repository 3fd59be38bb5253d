// The completion pipeline in front of a real llama.cpp server (llama-server, built from the source
// node-llama-cpp ships on npm, serving the embedded model as GGUF): /infill and /v1/completions over
// real JSON-RPC, snippets in input_extra, cancellation, a server killed while typing (the status, the
// local model standing in, the server used again once it returns), a refused key and a dead address.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { EMBEDDED_SERVER_ARGS, embeddedGguf, freePort, type LlamaServer, startLlamaServer } from '../../scripts/lib/llamaServer.mjs';
import type { CompletionInfo, Health } from '../../language-server/src/lsp_ext';
import { RecordingProxy } from '../../scripts/lib/recordingProxy';
import { cliJs, initialize, root, type ServerUnderTest, spawnServer } from './lspClient';

const TOKENIZER = join(root, 'models', 'tessera-tiny', 'tokenizer.json');
let gguf = '';
let shared: LlamaServer;
const cleanup: Array<() => unknown> = [];

before(async () => {
  gguf = process.env.TESSERA_TEST_GGUF ?? embeddedGguf(root);
  shared = await startLlamaServer({ model: gguf, parallel: 2, args: EMBEDDED_SERVER_ARGS });
  cleanup.push(() => shared.stop());
});
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

interface Session {
  server: ServerUnderTest;
  infos: CompletionInfo[];
  healths: Health[];
  /** The Token Lens's tokenizer, each time it changed. */
  lensTokenizers: Array<string | undefined>;
  /** Resolves with the first health (from now on) that `match` accepts. */
  health(match: (h: Health) => boolean): Promise<Health>;
}

async function start(settings: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<Session> {
  const server = spawnServer([], env);
  cleanup.push(() => {
    server.connection.dispose();
    server.proc.kill('SIGKILL');
  });
  const infos: CompletionInfo[] = [];
  const healths: Health[] = [];
  const waiting: Array<{ match: (h: Health) => boolean; resolve: (h: Health) => void }> = [];
  server.connection.onNotification('tessera/completionInfo', (i: CompletionInfo) => void infos.push(i));
  const lensTokenizers: Array<string | undefined> = [];
  server.connection.onNotification('tessera/tokenizerStatus', (t: { name?: string }) => void lensTokenizers.push(t.name));
  server.connection.onNotification('tessera/health', (h: Health) => {
    healths.push(h);
    for (const w of [...waiting]) {
      if (w.match(h)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(h);
      }
    }
  });
  await initialize(server, settings);
  return { server, infos, healths, lensTokenizers, health: (match) => new Promise((resolve) => waiting.push({ match, resolve })) };
}

const ready = (h: Health) => h.message.startsWith('Ready:');

/** A recording proxy in front of the shared server: what Tessera sent it, and its address. */
async function recorded(): Promise<{ proxy: RecordingProxy; url: string }> {
  const proxy = new RecordingProxy(shared.url);
  const url = await proxy.start();
  cleanup.push(() => proxy.stop());
  return { proxy, url };
}

type Items = Array<{ insertText: string }> | null;

const ask = (s: ServerUnderTest, uri: string, line: number, character: number, token?: CancellationTokenSource) =>
  s.connection.sendRequest(
    'textDocument/inlineCompletion',
    { textDocument: { uri }, position: { line, character }, context: { triggerKind: 2 } },
    ...(token ? [token.token] : []),
  ) as Promise<Items>;

// Code that repeats itself: the embedded model has something to say at the cursor (": number").
const BODY = Array.from({ length: 6 }, (_, i) => `  readonly field${i}: number = compute(${i}, this.options);\n`).join('');
const TEXT = `export class Fields {\n${BODY}  readonly field6\n}\n`;
const LINE = 7;
const COLUMN = '  readonly field6'.length;

async function open(s: Session, uri: string, text = TEXT, languageId = 'typescript'): Promise<void> {
  await s.server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
}

const engine = (kind: string, url: string, extra: Record<string, unknown> = {}) => ({
  engine: { kind, url, tokenizer: TOKENIZER, ...extra },
  completion: { minHeadProbability: 0, completeAhead: false },
});

test('llama.cpp engine: ghost text from /infill, the status names the server and model, snippets go in input_extra, the cache is reused', async () => {
  const { proxy, url } = await recorded();
  // The served model's tokenizer.json, named in the settings: the prompt's budgets and the Token Lens use it.
  const served = join(mkdtempSync(join(tmpdir(), 'tessera-served-')), 'served-model');
  mkdirSync(served);
  copyFileSync(TOKENIZER, join(served, 'tokenizer.json'));
  const settings = engine('llama.cpp', url, { tokenizer: served });
  // Healing off: the cursor ends a word here, and giving the word back lets the model extend it (the
  // next test covers healing).
  const s = await start({ ...settings, completion: { ...settings.completion, snippetTokens: 256, healing: 'off' } });
  const health = await s.health(ready);
  assert.equal(s.lensTokenizers.at(-1), 'served-model', "the Token Lens shows the served model's tokens");
  assert.equal(health.state, 'ok', health.message);
  const host = new URL(url).host;
  assert.match(health.message, new RegExp(`^Ready: tessera-tiny-\\w+-f32\\.gguf @ ${host.replace('.', '\\.')} \\(llama\\.cpp server\\)`));
  assert.match(health.detail ?? '', /\/infill.*tokens: tessera\.engine\.tokenizer \(.*served-model\/tokenizer\.json\)/);
  // Checked against the server's own tokens (the embedded model's GGUF cannot name its pre-tokenizer, so
  // llama.cpp cuts text a little differently: the status says by how much).
  assert.match(
    health.detail ?? '',
    /the server's \/tokenize (gives the same tokens|cuts a probe into \d+ tokens, this tokenizer into \d+)/,
  );
  // A neighbour of the same language: its snippet goes to the server as input_extra.
  await open(s, 'file:///work/src/compute.ts', 'export function compute(i: number, options: object): number {\n  return i * 2;\n}\n');
  await open(s, 'file:///work/src/fields.ts');
  const items = await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN);
  assert.ok(Array.isArray(items) && items.length === 1, `ghost text, not ${JSON.stringify(items)}`);
  assert.equal(items[0]!.insertText, ': number', 'what the server wrote (greedy; each token ahead of the next best by 0.07 nats or more)');
  const info = s.infos.at(-1)!;
  assert.equal(info.model, health.model);
  assert.ok(info.prefillTokens > 0 || info.reusedTokens > 0, 'the server says what the prompt cost');
  const infills = proxy.to('/infill');
  const warm = infills.filter((r) => r.body.n_predict === 0);
  assert.ok(warm.length >= 2, 'a warm-up request for each document opened (and the check at start)');
  const asked = infills.filter((r) => (r.body.n_predict as number) > 0);
  assert.equal(asked.length, 1);
  const body = asked[0]!.body;
  assert.equal(body.input_prefix, `export class Fields {\n${BODY}  readonly field6`);
  assert.ok(String(body.input_suffix).startsWith('\n}'), JSON.stringify(body.input_suffix));
  assert.deepEqual(body.input_extra, [
    { filename: 'compute.ts', text: 'export function compute(i: number, options: object): number {\n  return i * 2;\n}\n' },
  ]);
  assert.equal(body.cache_prompt, true);
  assert.equal(body.n_probs, 1);
  assert.equal(body.id_slot, -1, 'the server picks the slot whose cache is most like the prompt');
  assert.deepEqual(body.stop, ['\n'], 'one line: the server stops at its end');
  // Typing on: the server finds the slot holding this document's prompt and reuses its cache.
  await s.server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri: 'file:///work/src/fields.ts', version: 2 },
    contentChanges: [{ range: { start: { line: LINE, character: COLUMN }, end: { line: LINE, character: COLUMN } }, text: '6' }],
  });
  await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN + 1);
  assert.ok(s.infos.at(-1)!.reusedTokens > 0, `the slot's cache was reused: ${JSON.stringify(s.infos.at(-1))}`);
});

test('llama.cpp engine, cursor inside a word: token healing by a grammar, the word given back to the model', async () => {
  const { proxy, url } = await recorded();
  const s = await start(engine('llama.cpp', url));
  const health = await s.health(ready);
  assert.match(health.detail ?? '', /healing: token healing by a grammar/);
  const text = `export class Fields {\n${BODY}  readonly fiel\n}\n`;
  await open(s, 'file:///work/src/fields.ts', text);
  const items = await ask(s.server, 'file:///work/src/fields.ts', LINE, '  readonly fiel'.length);
  assert.ok(Array.isArray(items), 'an answer');
  assert.equal(s.infos.at(-1)!.healing, 'heal', 'exact, the default, is token healing over llama.cpp');
  const body = proxy.to('/infill').filter((r) => (r.body.n_predict as number) > 0)[0]!.body;
  assert.equal(body.input_prefix, `export class Fields {\n${BODY}  readonly`, 'the word left the prompt');
  assert.equal(body.grammar, 'root ::= " fiel" .*', 'and the text must start with it');
  // What is shown follows the word the user typed (the server's text starts with it; Tessera drops it).
  if (items.length) assert.ok(!items[0]!.insertText.startsWith(' fiel'), items[0]!.insertText);
});

test("openai engine: ghost text from /v1/completions with the prompt in the model family's FIM tokens", async () => {
  const { proxy, url } = await recorded();
  const s = await start(engine('openai', url));
  const health = await s.health(ready);
  assert.match(health.message, /\(OpenAI-compatible server\)$/);
  assert.match(health.detail ?? '', /\/v1\/completions.*FIM: tessera \(SPM\), written by Tessera/);
  await open(s, 'file:///work/src/fields.ts');
  const items = await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN);
  assert.ok(Array.isArray(items) && items.length === 1 && items[0]!.insertText.length > 0, `ghost text, not ${JSON.stringify(items)}`);
  const sent = proxy.to('/v1/completions');
  assert.equal(sent.length, 1);
  const prompt = String(sent[0]!.body.prompt);
  // SPM, the embedded model's order: the suffix first, then the prefix right before the middle.
  assert.ok(prompt.startsWith('<file_sep>fields.ts\n<fim_prefix><fim_suffix>\n}\n<fim_middle>export class Fields {'), prompt.slice(0, 80));
  assert.ok(prompt.endsWith('  readonly field6'));
  assert.equal(sent[0]!.body.logprobs, 1);
  assert.equal(s.infos.at(-1)!.model, health.model);
});

test('cancelling a completion aborts its HTTP request', async () => {
  const { proxy, url } = await recorded();
  const s = await start(engine('llama.cpp', url));
  await s.health(ready);
  await open(s, 'file:///work/src/fields.ts');
  proxy.delayMs = 1500;
  const cancel = new CancellationTokenSource();
  const pending = ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN, cancel);
  await new Promise((r) => setTimeout(r, 300));
  cancel.cancel();
  await pending.then(
    (r) => assert.equal(r, null),
    (err: { code?: number }) => assert.equal(err.code, -32800, 'RequestCancelled'),
  );
  await new Promise((r) => setTimeout(r, 200));
  const asked = proxy.to('/infill').filter((r) => (r.body.n_predict as number) > 0);
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.aborted, true, 'the HTTP request was closed before the server answered');
});

test('the server killed while typing: the status says so, the local model stands in, and the server is used again once back', async () => {
  const port = await freePort();
  let llama = await startLlamaServer({ model: gguf, port, args: EMBEDDED_SERVER_ARGS });
  cleanup.push(() => llama.stop());
  const s = await start(engine('llama.cpp', llama.url, { fallback: 'local' }));
  const up = await s.health(ready);
  await open(s, 'file:///work/src/fields.ts');
  assert.ok(Array.isArray(await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN)));
  assert.equal(s.infos.at(-1)!.model, up.model);

  await llama.stop();
  const down = s.health((h) => h.fault !== undefined);
  const lost = await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN);
  assert.equal(lost, null, 'the keystroke that met the dead server gets nothing, at once');
  const fault = await down;
  assert.equal(fault.state, 'warning');
  assert.equal(fault.fault, 'unreachable');
  assert.match(fault.message, new RegExp(`cannot reach ${llama.url}/infill .*completing with the local model meanwhile`));
  // Meanwhile: the local model completes.
  const local = await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN);
  assert.ok(Array.isArray(local) && local.length === 1, 'the local model completed');
  assert.equal(s.infos.at(-1)!.model, 'tessera-tiny');

  const back = s.health(ready);
  llama = await startLlamaServer({ model: gguf, port, args: EMBEDDED_SERVER_ARGS });
  const recovered = await back;
  assert.equal(recovered.model, up.model);
  assert.ok(Array.isArray(await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN)));
  assert.equal(s.infos.at(-1)!.model, up.model, 'the server completes again');
});

test('a refused API key: the status says so and names no key; the right key works', async () => {
  const llama = await startLlamaServer({ model: gguf, apiKey: 'right-key-4711', args: EMBEDDED_SERVER_ARGS });
  cleanup.push(() => llama.stop());
  // The editor puts the key from its secret storage into the server's environment (never a setting or
  // an LSP message, which a protocol trace would show), and starts the server again when it changes.
  const wrong = await start(engine('llama.cpp', llama.url), { TESSERA_API_KEY: 'wrong-key-0815' });
  const refused = await wrong.health((h) => h.fault !== undefined);
  assert.equal(refused.fault, 'auth');
  assert.match(refused.message, /refused the API key \(401/);
  const right = await start(engine('llama.cpp', llama.url), { TESSERA_API_KEY: 'right-key-4711' });
  await right.health(ready);
  await open(right, 'file:///work/src/fields.ts');
  assert.ok(Array.isArray(await ask(right.server, 'file:///work/src/fields.ts', LINE, COLUMN)));
  for (const s of [wrong, right]) {
    const said = [...s.server.logs, s.server.stderr(), ...s.healths.map((h) => `${h.message} ${h.detail ?? ''}`)].join('\n');
    assert.ok(!said.includes('wrong-key-0815') && !said.includes('right-key-4711'), 'no key in any log or status');
  }
});

test('a model without FIM tokens: completions off, and the status says why', async () => {
  // The embedded model's GGUF with its FIM tokens renamed (same length, so the file stays valid).
  const bytes = readFileSync(gguf);
  for (const name of ['prefix', 'suffix', 'middle']) {
    const from = Buffer.from(`<fim_${name}>`);
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) bytes.write('x', at + 1);
  }
  const noFim = join(mkdtempSync(join(tmpdir(), 'tessera-nofim-')), 'no-fim.gguf');
  writeFileSync(noFim, bytes);
  const llama = await startLlamaServer({ model: noFim });
  cleanup.push(() => llama.stop());
  const s = await start(engine('llama.cpp', llama.url));
  const off = await s.health((h) => h.fault !== undefined);
  assert.equal(off.state, 'warning');
  assert.equal(off.fault, 'unsupported');
  assert.match(off.message, /Infill is not supported by this model: prefix token is missing/);
  await open(s, 'file:///work/src/fields.ts');
  assert.equal(await ask(s.server, 'file:///work/src/fields.ts', LINE, COLUMN), null);
});

test('an unreachable server: the command line exits non-zero within seconds, naming the URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-engine-'));
  const file = join(dir, 'a.py');
  writeFileSync(file, 'def f(x):\n    return \n');
  const url = 'http://127.0.0.1:9';
  for (const kind of ['llama.cpp', 'openai']) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cliJs, 'complete', file, '--at', '2:12', '--engine', kind, '--engine-url', url], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0, kind);
    assert.ok(Date.now() - t0 < 10_000, `${kind}: ${Date.now() - t0} ms`);
    assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:9\//, r.stderr);
  }
});
