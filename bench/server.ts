// The load a team puts on one shared server: 1, 4 and 16 simulated editors, each its own Tessera
// pipeline (as each user's editor runs its own language server), replay typing on held-out files against
// one `llama-server --parallel 4` through the llama.cpp engine. Each editor types as people do (keys
// --interval-ms apart on average, jittered, with pauses at line ends and now and then), and asks as the
// extension asks: after waiting out the typist's usual gap (extension/src/completion/typingRhythm.ts),
// so a key that follows quickly sends nothing; a request still waiting when the next key comes is
// cancelled (its stream closed, which stops the server's work on it).
// Per editor count: latency of each request (p50/p95), completions per second, errors (goal: 0), and
// Tessera's own time per request (its latency outside the HTTP call).
// The server is the real llama-server, built from npm (scripts/lib/llamaServer.mjs).
//   npm run bench -- server [--editors 1,4,16] [--keys 40] [--interval-ms 150] [--parallel 4] [--threads 2]
//                           [--gguf PATH] [--json]
// Without --gguf: the embedded model as GGUF (f32, 2.3M parameters: the server's time is small, so
// Tessera's own time and the HTTP path show). Any GGUF with FIM tokens can stand in (a 0.5B model
// on this 2-core machine measures the CPU, not the engine).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { TypingRhythm } from '../extension/src/completion/typingRhythm';
import { CompletionService } from '../language-server/src/completion/service';
import { seededRandom } from '../language-server/src/generation/processors';
import { documentOf } from '../language-server/src/completion/window';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { percentile } from '../language-server/src/quantiles';
import { DEFAULT_SETTINGS, type TesseraSettings } from '../language-server/src/settings';
import { grammarFor } from '../language-server/src/syntax/languages';
import { SyntaxService } from '../language-server/src/syntax/parser';
import { TokenizerRegistry } from '../language-server/src/tokenizer/registry';
import { EMBEDDED_SERVER_ARGS, embeddedGguf, ensureLlamaServer, startLlamaServer } from '../scripts/lib/llamaServer.mjs';
import { repoRoot } from '../scripts/lib/repoRoot';
import { heldOutSources, type Source } from './heldOut';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const EDITORS = arg('editors', '1,4,16').split(',').map(Number);
const KEYS = Number(arg('keys', '40'));
const INTERVAL_MS = Number(arg('interval-ms', '150'));
const PARALLEL = Number(arg('parallel', '4'));
const THREADS = Number(arg('threads', String(Math.min(2, cpus().length))));
const GGUF = arg('gguf', '');

interface EditorResult {
  /** Latency of each request the server answered (ms), and the pipeline's own part of it. */
  latency: number[];
  overhead: number[];
  /** Requests sent; those the next key cancelled; keys answered by typing through; errors. */
  requests: number;
  cancelled: number;
  typedThrough: number;
  errors: string[];
  shown: number;
}

interface Row {
  editors: number;
  keys: number;
  requests: number;
  seconds: number;
  completionsPerSecond: number;
  p50: number;
  p95: number;
  overheadP50: number;
  overheadP95: number;
  cancelled: number;
  typedThrough: number;
  shown: number;
  errors: number;
  errorSamples: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tokenizers = new TokenizerRegistry({ name: 'tessera-tiny', path: join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json') });

function editorSettings(url: string): TesseraSettings {
  return {
    ...DEFAULT_SETTINGS,
    engine: {
      ...DEFAULT_SETTINGS.engine,
      kind: 'llama.cpp',
      url,
      ...(GGUF ? {} : { tokenizer: join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json') }),
    },
  };
}

/** One editor typing KEYS characters of `source` from a line a third of the way in. */
async function typeIn(service: CompletionService, source: Source, syntax: SyntaxService): Promise<EditorResult> {
  const r: EditorResult = { latency: [], overhead: [], requests: 0, cancelled: 0, typedThrough: 0, errors: [], shown: 0 };
  const full = source.text;
  const start = full.indexOf('\n', Math.floor(full.length / 3)) + 1;
  const end = Math.min(full.length, start + KEYS);
  const grammar = grammarFor('', source.path);
  const parser = grammar ? await syntax.parser(grammar).catch(() => undefined) : undefined;
  const uri = `file:///${source.path}`;
  const inputAt = (k: number) => ({
    uri,
    path: source.path,
    document: documentOf(full.slice(0, start + k) + full.slice(end)),
    offset: start + k,
    ...(parser ? { syntax: { parser } } : {}),
  });
  await service.warm(inputAt(0));
  const rhythm = new TypingRhythm();
  const random = seededRandom(source.text.length);
  let keys = 0;
  let cancel: (() => void) | undefined;
  const pending: Promise<void>[] = [];
  const ask = async (k: number, key: number, wait: number) => {
    await sleep(wait);
    if (key !== keys) return; // the next key came first: the extension sends nothing
    r.requests++;
    try {
      const res = await service.complete(inputAt(k), { onCancel: (c) => (cancel = c) });
      if (!res) {
        const status = service.status;
        if (status.state === 'error') r.errors.push(status.error ?? 'error');
        else r.cancelled++;
        return;
      }
      if (res.typedThrough) r.typedThrough++;
      else {
        r.latency.push(res.latencyMs);
        r.overhead.push(res.latencyMs - res.engineMs);
      }
      if (res.shown) r.shown++;
    } catch (err) {
      r.errors.push(err instanceof Error ? err.message : String(err));
    }
  };
  for (let k = 0; k <= end - start; k++) {
    cancel?.(); // a key: VS Code cancels the request still waiting
    cancel = undefined;
    const now = performance.now();
    rhythm.keystroke(now);
    pending.push(ask(k, ++keys, rhythm.delay(now)));
    // Keys ~INTERVAL_MS apart (±40%), a pause of 0.5-1.5 s after a line and before one key in ten.
    const pause = full[start + k] === '\n' || random() < 0.1;
    await sleep(pause ? 500 + random() * 1000 : INTERVAL_MS * (0.6 + random() * 0.8));
  }
  await Promise.all(pending);
  return r;
}

async function run(editors: number, url: string, sources: Source[], syntax: SyntaxService): Promise<Row> {
  const services = await Promise.all(
    Array.from({ length: editors }, async () => {
      const settings = editorSettings(url);
      const s = new CompletionService(settings, tokenizers, undefined, join(repoRoot, 'dist', 'worker.js'));
      await s.configure(settings);
      if (s.status.state !== 'ready') throw new Error(`the engine did not open: ${s.status.error}`);
      return s;
    }),
  );
  const t0 = performance.now();
  // Editors start a little apart, as people do.
  const results = await Promise.all(
    services.map(async (s, i) => {
      await sleep((i * INTERVAL_MS) / editors);
      return typeIn(s, sources[i % sources.length]!, syntax);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(services.map((s) => s.dispose()));
  const all = <K extends keyof EditorResult>(k: K) => results.flatMap((r) => r[k] as unknown as number[]);
  const latency = all('latency');
  const overhead = all('overhead');
  const errors = results.flatMap((r) => r.errors);
  const count = (k: 'requests' | 'cancelled' | 'typedThrough' | 'shown') => results.reduce((a, r) => a + r[k], 0);
  return {
    editors,
    keys: editors * (KEYS + 1),
    requests: count('requests'),
    seconds,
    completionsPerSecond: latency.length / seconds,
    p50: percentile(latency, 0.5),
    p95: percentile(latency, 0.95),
    overheadP50: percentile(overhead, 0.5),
    overheadP95: percentile(overhead, 0.95),
    cancelled: count('cancelled'),
    typedThrough: count('typedThrough'),
    shown: count('shown'),
    errors: errors.length,
    errorSamples: [...new Set(errors)].slice(0, 3),
  };
}

async function main(): Promise<void> {
  const binary = ensureLlamaServer();
  const gguf = GGUF || embeddedGguf(repoRoot);
  const llama = await startLlamaServer({
    model: gguf,
    parallel: PARALLEL,
    threads: THREADS,
    ctx: 2048 * PARALLEL,
    ...(GGUF ? {} : { args: EMBEDDED_SERVER_ARGS }),
  });
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const sources = heldOutSources(Math.ceil(Math.max(...EDITORS) / 3), 7);
  const rows: Row[] = [];
  try {
    for (const n of EDITORS) rows.push(await run(n, llama.url, sources, syntax));
  } finally {
    const log = arg('server-log', '');
    if (log) writeFileSync(log, llama.output());
    await llama.stop();
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ machine: machine(), gguf: basename(gguf), parallel: PARALLEL, threads: THREADS, rows }, null, 2));
    return;
  }
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  console.log(`load on one llama-server (${basename(binary)} --parallel ${PARALLEL} -t ${THREADS}), model ${basename(gguf)}`);
  console.log(`machine: ${describeMachine(machine())}; editors and server share it`);
  console.log(
    `each editor: ${KEYS + 1} keys (${INTERVAL_MS} ms apart on average, pauses at line ends) in a held-out file of its own, the llama.cpp engine, default settings`,
  );
  console.log('');
  const header = [
    'editors',
    'keys',
    'requests',
    'completions/s',
    'p50 ms',
    'p95 ms',
    'Tessera own p50',
    'p95',
    'cancelled',
    'typed through',
    'shown',
    'errors',
  ];
  console.log(header.join('  '));
  for (const r of rows) {
    const cells = [
      r.editors,
      r.keys,
      r.requests,
      f(r.completionsPerSecond),
      f(r.p50),
      f(r.p95),
      f(r.overheadP50),
      f(r.overheadP95),
      r.cancelled,
      r.typedThrough,
      r.shown,
      r.errors,
    ];
    console.log(cells.map((c, k) => String(c).padStart(header[k]!.length)).join('  '));
    for (const e of r.errorSamples) console.log(`  error: ${e}`);
  }
  const one = rows.find((r) => r.editors === 1);
  const most = rows.at(-1)!;
  if (one && most !== one)
    console.log(
      `\np50 latency at ${most.editors} editors / at 1: ${(most.p50 / one.p50).toFixed(2)}x; completions/s ${(most.completionsPerSecond / one.completionsPerSecond).toFixed(2)}x`,
    );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
