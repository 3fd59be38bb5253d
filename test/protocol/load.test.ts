// Load on the real server: a burst of completion requests, a third of them cancelled, with typing in
// between. Every request is answered or cancelled, nothing stays pending, no worker or thread is left
// behind, memory stays bounded, and the next request is answered at once.
//   TESSERA_BURST=… sets the burst's size (default 1,000).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { seededRandom } from '../../language-server/src/generation/processors';
import type { ServerInfo } from '../../language-server/src/lsp_ext';
import { processUse, readyServer, stopAll } from './lspClient';

const burst = Number(process.env.TESSERA_BURST ?? 1000);
after(stopAll);

test(`a burst of ${burst} completion requests with cancellations and typing: each answered or cancelled, nothing leaks`, async (t) => {
  const server = await readyServer();

  const uri = 'file:///load/app.ts';
  const lines = [
    'import { readFile } from "node:fs/promises";',
    '',
    'export async function load(path: string) {',
    '  const text = await readFile(path, "utf8");',
    '  ',
  ];
  const text = `${lines.join('\n')}\n}\n`;
  let version = 1;
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version, text } });
  const line = 4;
  let column = 2;
  const params = () => ({ textDocument: { uri }, position: { line, character: column }, context: { triggerKind: 2 } });
  const ask = (source?: CancellationTokenSource) =>
    source
      ? server.connection.sendRequest('textDocument/inlineCompletion', params(), source.token)
      : server.connection.sendRequest('textDocument/inlineCompletion', params());
  // Warm up: the model's first passes allocate what later ones reuse.
  for (let i = 0; i < 20; i++) await ask();
  const before = processUse(server.proc.pid!);

  const next = seededRandom(5);
  const typed = 'return text.split("\\n").map((l) => l.trim());';
  let answered = 0;
  let cancelled = 0;
  const failures: string[] = [];
  const requests: Array<Promise<unknown>> = [];
  for (let i = 0; i < burst; i++) {
    if (i % 10 === 9) {
      // A keystroke: the document changes under the requests in flight.
      const ch = typed[(i / 10) % typed.length]!;
      const insertAt = { line, character: column };
      version++;
      await server.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: insertAt, end: insertAt }, text: ch }],
      });
      column++;
    }
    const source = next() < 1 / 3 ? new CancellationTokenSource() : undefined;
    requests.push(
      ask(source).then(
        () => answered++,
        (e: unknown) => {
          if (e instanceof ResponseError && e.code === -32800) cancelled++;
          else failures.push(String(e));
        },
      ),
    );
    if (source) setTimeout(() => source.cancel(), Math.floor(next() * 10));
    // An editor sends a request per keystroke, not all at once: a few ms apart, some back to back.
    if (next() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(next() * 3)));
  }
  await Promise.all(requests);
  assert.deepEqual(failures, []);
  assert.equal(answered + cancelled, burst, 'every request answered or cancelled');
  assert.ok(cancelled > 0, 'some were cancelled');

  // The next request is answered, with nothing pending and no worker or thread left behind.
  assert.ok(Array.isArray(await ask()), 'the server answers after the burst');
  // A shown completion starts the one after it (computed ahead): wait for that to finish.
  let info = (await server.connection.sendRequest('tessera/serverInfo')) as ServerInfo;
  for (let i = 0; i < 100 && info.inference.pendingRequests > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    info = (await server.connection.sendRequest('tessera/serverInfo')) as ServerInfo;
  }
  assert.deepEqual(info.inference, { workers: 1, pendingRequests: 0 });
  const afterBurst = processUse(server.proc.pid!);
  t.diagnostic(
    `${burst} requests: ${answered} answered, ${cancelled} cancelled; RSS ${before.rssMB.toFixed(0)} → ${afterBurst.rssMB.toFixed(0)} MB, threads ${before.threads} → ${afterBurst.threads}`,
  );
  assert.equal(afterBurst.threads, before.threads, 'no thread left behind');
  // Bounded: the default model and its cache take ~100 MB; a leak per request would add far more.
  assert.ok(afterBurst.rssMB - before.rssMB < 150, `RSS grew ${(afterBurst.rssMB - before.rssMB).toFixed(0)} MB`);
});
