// The runtime users would pick instead, side by side: llama.cpp (through node-llama-cpp's prebuilt
// binaries, installed from npm into node_modules/.tessera-llamacpp on first run: a dependency of this
// benchmark only) running the same weights, written as GGUF by models/recipe/gguf.py. One run, both
// runtimes, one thread each, the same token ids:
//   prefill      a 512-token prompt from nothing, ms
//   decode       greedy tokens after a 384-token prompt, ms per token: plain, and each with its drafts
//                (Tessera: prompt lookup; llama.cpp: node-llama-cpp's InputLookupTokenPredictor)
//   typing       a replay through held-out files keystroke by keystroke: greedy to the end of the line
//                (at most 16 tokens), each runtime reusing its cache for the prefix the prompts share
// Then, with --shaped, the same at Qwen2.5-Coder-0.5B's shape (random weights, models/recipe/shaped.py;
// fp32, int8, fp16 and q4 ONNX against F32, Q8_0, F16 and Q4_0 GGUF, each also after `tessera optimize`
// against the GGUF of the same bits): prefill, decode, 32-token blocks, and decode's share of the
// memory-bandwidth bound (the bytes a token reads over the bandwidth measured in the same run).
// The optimized forms also replay typing through held-out files with Qwen2.5-Coder's tokenizer. --shapes
// 0.5b,1.5b adds Qwen2.5-Coder-1.5B's shape (its fp32 file optimized to int8 and q4).
//   npm run bench -- llamacpp [--keys N] [--shaped [--only-shaped] [--shapes 0.5b,1.5b] [--threads N]
//                             [--forms 3,7] [--shaped-keys N] [--no-spin] [--json]]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installNodeLlamaCpp, NODE_LLAMA_CPP } from '../scripts/lib/llamaServer.mjs';
import { generate } from '../language-server/src/generation/generate';
import { CachedSession } from '../language-server/src/inference/cachedSession';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { parseModelConfig } from '../language-server/src/model/config';
import type { Decoder } from '../language-server/src/model/decoder';
import { commonPrefix } from '../language-server/src/model/kvCache';
import { dataFilesOf, type Precision } from '../language-server/src/model/folder';
import { openDecoder } from '../language-server/src/model/openDecoder';
import { type OptimizeBlock, optimizeFolder } from '../language-server/src/model/optimize/optimizeFolder';
import { median, percentile as pct } from '../language-server/src/quantiles';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { Bandwidth } from './bandwidth';
import { heldOutSources } from './heldOut';
import { ensurePython, python, QWEN_TOKENIZER, type Shape, shapedModel } from './shapedModel';

const root = join(__dirname, '..', '..');
const arg = (name: string, dflt: string) =>
  process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1]! : dflt;
const KEYS = Number(arg('keys', '150'));
/** Threads each runtime gets in the shaped rows. */
const THREADS = Number(arg('threads', '1'));
const JSON_OUT = process.argv.includes('--json');
/** --no-spin: onnxruntime's idle threads sleep at once (its default is to spin a while first). */
const SPINNING = !process.argv.includes('--no-spin');

/** What the benchmark uses of node-llama-cpp (typed here: it is not a dependency of the project). */
interface Sequence {
  readonly contextTokens: number[];
  readonly nextTokenIndex: number;
  clearHistory(): Promise<void>;
  eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>): Promise<void>;
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], options: { temperature: number }): AsyncIterable<number>;
}
interface NodeLlamaCpp {
  getLlama(o: object): Promise<{
    loadModel(o: { modelPath: string }): Promise<{
      createContext(o: object): Promise<{ getSequence(o?: object): Sequence; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
  }>;
  InputLookupTokenPredictor: new () => object;
}

/** node-llama-cpp, installed beside the project's packages on first use (npm registry, prebuilt binaries). */
async function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  const dir = join(root, 'node_modules', '.tessera-llamacpp');
  const entry = join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  if (!existsSync(entry)) {
    const platform = `@node-llama-cpp/${process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
    console.error(`installing node-llama-cpp ${NODE_LLAMA_CPP} (${platform}) into ${dir}…`);
    installNodeLlamaCpp(dir, { also: [`${platform}@${NODE_LLAMA_CPP}`], scripts: true });
  }
  return (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
}

/** `dir`'s export as GGUF (models/recipe/gguf.py), made once into a temporary folder. */
function gguf(dir: string, name: string, type: 'f32' | 'f16' | 'q8_0' | 'q4_0'): string {
  const out = join(tmpdir(), 'tessera-gguf', `${name}-${type}.gguf`);
  if (!existsSync(out)) {
    mkdirSync(join(tmpdir(), 'tessera-gguf'), { recursive: true });
    ensurePython();
    const r = spawnSync(python, ['models/recipe/gguf.py', dir, out, '--type', type], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('models/recipe/gguf.py failed (it needs Python with numpy and onnx)');
  }
  return out;
}

/** One runtime behind the three measurements. */
interface Runner {
  name: string;
  /** A prompt run from nothing. */
  prefill(ids: number[]): Promise<void>;
  /** `n` greedy tokens after `prompt`: the tokens and the ms they took (the prompt's last token included, the rest prefilled untimed). */
  decode(prompt: number[], n: number, drafts: boolean): Promise<{ tokens: number[]; ms: number }>;
  /** Greedy after `prompt` until `stop(token)` or `max` tokens, reusing the cached prefix. */
  complete(prompt: number[], max: number, stop: (id: number) => boolean): Promise<number[]>;
}

function tessera(decoder: Decoder, tok: Tokenizer): Runner {
  const session = new CachedSession(decoder);
  const newline = new Set<number>();
  for (let id = 0; id < decoder.config.vocabSize; id++) if (tok.tokenBytes(id).includes(10)) newline.add(id);
  return {
    name: 'Tessera',
    prefill: async (ids) => {
      await session.prefill(ids, false);
    },
    decode: async (prompt, n, drafts) => {
      await session.prefill(prompt.slice(0, -1), false);
      const t0 = performance.now();
      const g = await generate(session, tok, prompt, { maxTokens: n, stopIds: new Set(), processors: [], maxDraft: drafts ? 8 : 0 });
      return { tokens: g.tokens, ms: performance.now() - t0 };
    },
    complete: async (prompt, max) => {
      const g = await generate(session, tok, prompt, {
        maxTokens: max,
        stopIds: newline,
        processors: [],
        maxDraft: 8,
      });
      return g.tokens;
    },
  };
}

async function llamaCpp(nlc: NodeLlamaCpp, path: string, capacity: number): Promise<Runner & { dispose(): Promise<void> }> {
  const llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
  const model = await llama.loadModel({ modelPath: path });
  // One context per sequence, each batch dispatched at once: with more sequences than are busy, or the
  // default schedule, node-llama-cpp waits an event-loop turn per batch for others to join it.
  const options = {
    contextSize: capacity,
    threads: THREADS,
    batchSize: 512,
    batching: { dispatchSchedule: (dispatch: () => void) => dispatch() },
  };
  const contexts = [await model.createContext(options), await model.createContext(options)];
  const plain = contexts[0]!.getSequence();
  const lookup = contexts[1]!.getSequence({ tokenPredictor: new nlc.InputLookupTokenPredictor() });
  const take = async (seq: Sequence, ids: number[], max: number, stop: (id: number) => boolean = () => false) => {
    const out: number[] = [];
    for await (const t of seq.evaluate(ids, { temperature: 0 })) {
      if (stop(t)) break;
      out.push(t);
      if (out.length >= max) break;
    }
    return out;
  };
  return {
    name: 'llama.cpp',
    prefill: async (ids) => {
      await plain.clearHistory();
      await plain.evaluateWithoutGeneratingNewTokens(ids);
    },
    decode: async (prompt, n, drafts) => {
      const seq = drafts ? lookup : plain;
      await seq.clearHistory();
      await seq.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
      const t0 = performance.now();
      const tokens = await take(seq, prompt.slice(-1), n);
      return { tokens, ms: performance.now() - t0 };
    },
    complete: async (prompt, max, stop) => {
      const seq = lookup;
      const keep = Math.min(commonPrefix(seq.contextTokens, prompt), prompt.length - 1);
      if (seq.nextTokenIndex > keep) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
      return take(seq, prompt.slice(keep), max, stop);
    },
    dispose: async () => {
      for (const c of contexts) await c.dispose();
      await model.dispose();
    },
  };
}

/** p50 and p90 rows of a typing replay (ms per keystroke, both runtimes). */
function typingRows(t: Awaited<ReturnType<typeof typing>>): Row[] {
  return [0.5, 0.9].map((q) => ({
    what: `typing p${q * 100} (${t.total} keys, ${t.same} alike)`,
    ours: pct(t.latency[0]!, q),
    theirs: pct(t.latency[1]!, q),
    unit: 'ms',
  }));
}

/**
 * Medians over `rounds` runs of each, after one warm-up each, of the ms `a` and `b` report. The two take
 * turns, each going first every other round, so that a busy spell of the machine (this VM's speed drifts
 * by tens of percent over seconds) falls on both alike.
 */
async function pairedMedians(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  await a();
  await b();
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      times[0].push(await a());
      times[1].push(await b());
    } else {
      times[1].push(await b());
      times[0].push(await a());
    }
  }
  return [median(times[0]), median(times[1])];
}

/** How long `f` takes, in ms. */
async function msOf(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

interface Row {
  what: string;
  ours: number;
  theirs: number;
  unit: string;
  /** Tokens agree (greedy in both). */
  same?: boolean;
}

function printRows(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log('                                          Tessera    llama.cpp   llama.cpp / Tessera');
  for (const r of rows) {
    const same = r.same === undefined ? '' : r.same ? '   same tokens' : '   tokens differ';
    console.log(
      `${r.what.padEnd(40)} ${r.ours.toFixed(2).padStart(9)} ${r.theirs.toFixed(2).padStart(12)}   ×${(r.theirs / r.ours).toFixed(2)} ${r.unit}${same}`,
    );
  }
}

const sameTokens = (a: number[], b: number[]) => a.length === b.length && a.every((t, i) => t === b[i]);

async function compare(ours: Runner, theirs: Runner, prompt512: number[], prompt384: number[], n: number, rounds: number, drafts: boolean) {
  const rows: Row[] = [];
  const [prefillOurs, prefillTheirs] = await pairedMedians(
    rounds,
    () => msOf(() => ours.prefill(prompt512)),
    () => msOf(() => theirs.prefill(prompt512)),
  );
  rows.push({ what: `prefill ${prompt512.length} tokens`, ours: prefillOurs, theirs: prefillTheirs, unit: 'ms' });
  for (const d of drafts ? [false, true] : [false]) {
    // Greedy: every run gives the same tokens; the last run's are compared.
    const tokens: [number[], number[]] = [[], []];
    const timed = (runner: Runner, k: 0 | 1) => async () => {
      const r = await runner.decode(prompt384, n, d);
      tokens[k] = r.tokens;
      return r.ms;
    };
    const [decodeOurs, decodeTheirs] = await pairedMedians(rounds, timed(ours, 0), timed(theirs, 1));
    rows.push({
      what: `decode ${n} tokens${d ? ', drafts' : ''}`,
      ours: decodeOurs / n,
      theirs: decodeTheirs / n,
      unit: 'ms/token',
      same: sameTokens(tokens[0], tokens[1]),
    });
  }
  return rows;
}

/** The typing replay: per keystroke latency of a completion to the end of the line, both runtimes. */
async function typing(runners: Runner[], tok: Tokenizer, keys: number) {
  const newline = (id: number) => tok.tokenBytes(id).includes(10);
  const sources = heldOutSources(1, 11);
  const latency = runners.map(() => [] as number[]);
  let same = 0;
  let total = 0;
  for (const s of sources) {
    const start = s.text.lastIndexOf('\n', Math.floor(s.text.length / 2)) + 1;
    for (let k = 1; k <= keys; k++) {
      const prompt = [4, ...tok.encodeIds(s.text.slice(Math.max(0, start - 1500), start + k))].slice(-320);
      const outs: number[][] = [];
      for (const [i, r] of runners.entries()) {
        const t0 = performance.now();
        outs.push(await r.complete(prompt, 16, newline));
        latency[i]!.push(performance.now() - t0);
      }
      total++;
      if (sameTokens(outs[0]!, outs[1]!)) same++;
    }
  }
  return { latency, same, total, files: sources.length };
}

/** One row of --json: {shape, form, optimized, threads, metric, tessera, llamacpp, ratio}. */
const jsonRows: object[] = [];

/** The shaped model's forms: the file a user downloads, or its `tessera optimize` copy, against a GGUF of the same bits. */
const SHAPED_FORMS: {
  form: string;
  file: string;
  type: 'f32' | 'f16' | 'q8_0' | 'q4_0';
  optimize?: { from: Precision; target: 'q4' | 'int8'; block?: OptimizeBlock };
}[] = [
  { form: 'fp32', file: 'model.onnx', type: 'f32' },
  { form: 'int8', file: 'model_quantized.onnx', type: 'q8_0' },
  { form: 'int8', file: 'model.onnx', type: 'q8_0', optimize: { from: 'fp32', target: 'int8' } },
  { form: 'fp16', file: 'model_fp16.onnx', type: 'f16' },
  { form: 'fp16 → int8', file: 'model_fp16.onnx', type: 'q8_0', optimize: { from: 'fp16', target: 'int8' } },
  { form: 'q4', file: 'model_q4.onnx', type: 'q4_0' },
  { form: 'q4', file: 'model_q4.onnx', type: 'q4_0', optimize: { from: 'q4', target: 'q4' } },
  { form: 'fp32 → q4', file: 'model.onnx', type: 'q4_0', optimize: { from: 'fp32', target: 'q4' } },
  { form: 'fp32 → q4, block 128', file: 'model.onnx', type: 'q4_0', optimize: { from: 'fp32', target: 'q4', block: 128 } },
];

/** Bytes one decode step reads: every weight a token multiplies by (the embedding's lookup reads one row). */
function bytesPerToken(onnxPath: string, embeddingBytes: number): number {
  return [onnxPath, ...dataFilesOf(onnxPath)].reduce((sum, f) => sum + statSync(f).size, 0) - embeddingBytes;
}

const SHAPES: Record<string, Shape> = { '0.5b': 'qwen2.5-coder-0.5b', '1.5b': 'qwen2.5-coder-1.5b' };
/** Keystrokes per held-out file of the shaped typing replay (each up to 16 tokens, both runtimes). */
const SHAPED_KEYS = Number(arg('shaped-keys', '30'));

async function shaped(nlc: NodeLlamaCpp, shape: Shape): Promise<void> {
  const dir = shapedModel(shape);
  const qwen = Tokenizer.fromFile(QWEN_TOKENIZER);
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), {}, dir);
  const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % config.vocabSize);
  // The fp32 embedding (a lookup reads one row of it) is in every file but the fp16 ones.
  const hidden = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { hidden_size: number }).hidden_size;
  const embedding = config.vocabSize * hidden * 4;
  console.log(`\n${THREADS} thread(s) each below`);
  const bandwidth = new Bandwidth(256, 5);
  // --forms 3,5: only those rows of SHAPED_FORMS (1-based), to re-measure a few.
  const only = arg('forms', '')
    .split(',')
    .filter(Boolean)
    .map((n) => SHAPED_FORMS[Number(n) - 1]);
  // At 1.5B only fp32 is made: the rows are its `tessera optimize` copies.
  const forms = (only.length ? only.filter((x) => x !== undefined) : SHAPED_FORMS).filter(
    (f) => shape === 'qwen2.5-coder-0.5b' || f.optimize?.from === 'fp32',
  );
  for (const f of forms) {
    const optimized = f.optimize ? optimizeFolder({ source: dir, ...f.optimize }) : undefined;
    const path = optimized?.onnxPath ?? join(dir, 'onnx', f.file);
    const { decoder } = await openDecoder(path, config, { threads: THREADS, spinning: SPINNING });
    const ours = tessera(decoder, qwen);
    const theirs = await llamaCpp(nlc, gguf(dir, `shaped-${shape}`, f.type), 1024);
    const rows = await compare(ours, theirs, ids(512), ids(384), 32, 5, false);
    const decode = rows[rows.length - 1]!;
    rows.push({ what: 'block completion', ours: 1000 / decode.ours, theirs: 1000 / decode.theirs, unit: 'tokens/s (higher is better)' });
    // Typing: the forms a user runs (optimized), with real text through Qwen's tokenizer.
    if (optimized && SHAPED_KEYS > 0) rows.push(...typingRows(await typing([ours, theirs], qwen, SHAPED_KEYS)));
    // An optimized fp16 file is widened to fp32 (its embedding too).
    const read = bytesPerToken(path, f.file.includes('fp16') && !optimized ? embedding / 2 : embedding);
    // Measured for each form: the machine's bandwidth drifts as its speed does.
    const gbs = bandwidth.sample();
    const bound = (read / (gbs * 1e9)) * 1000;
    const name = optimized
      ? `tessera optimize --from ${f.optimize!.from} --precision ${f.optimize!.target}${f.optimize!.block ? ` --block ${f.optimize!.block}` : ''} (${optimized.report.seconds} s)`
      : `ONNX ${f.file}`;
    printRows(`${shape}'s shape, random weights: ${name} vs GGUF ${f.type.toUpperCase()}`, rows);
    console.log(
      `  decode reads ${(read / 1e6).toFixed(0)} MB per token; memory bandwidth now ${gbs.toFixed(1)} GB/s (one thread, memcmp of two 256 MB buffers): the bound is ${bound.toFixed(1)} ms/token, Tessera at ${((100 * bound) / decode.ours).toFixed(0)}% of it`,
    );
    for (const r of rows)
      jsonRows.push({
        shape,
        form: f.form,
        file: f.file,
        gguf: f.type,
        optimized: !!optimized,
        threads: THREADS,
        spinning: SPINNING,
        metric: r.what,
        tessera: r.ours,
        llamacpp: r.theirs,
        ratio: r.unit.startsWith('tokens/s') ? r.ours / r.theirs : r.theirs / r.ours,
        unit: r.unit,
      });
    jsonRows.push({
      shape,
      form: f.form,
      file: f.file,
      optimized: !!optimized,
      threads: THREADS,
      spinning: SPINNING,
      metric: 'decode % of bandwidth bound',
      tessera: (100 * bound) / decode.ours,
    });
    await theirs.dispose();
    await decoder.release();
  }
}

/** --shapes 0.5b,1.5b: which shapes the shaped rows run (0.5B alone by default). */
function shapes(): Shape[] {
  return arg('shapes', '0.5b')
    .split(',')
    .map((s) => {
      const shape = SHAPES[s];
      if (!shape) throw new Error(`unknown shape ${s} (known: ${Object.keys(SHAPES).join(', ')})`);
      return shape;
    });
}

async function main(): Promise<void> {
  const nlc = await nodeLlamaCpp();
  if (process.argv.includes('--only-shaped')) {
    console.log(
      `bench/llamacpp — ${describeMachine(machine())}; node-llama-cpp ${NODE_LLAMA_CPP}, ${THREADS} thread(s) each${SPINNING ? '' : ', onnxruntime not spinning'}`,
    );
    for (const shape of shapes()) await shaped(nlc, shape);
    if (JSON_OUT) console.log(JSON.stringify({ machine: describeMachine(machine()), rows: jsonRows }));
    return;
  }
  const dir = join(root, 'models', 'tessera-tiny');
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), {}, dir);
  const tok = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
  const { decoder } = await openDecoder(join(dir, 'onnx', 'model.onnx'), config, { threads: 1 });
  const ours = tessera(decoder, tok);
  const theirs = await llamaCpp(nlc, gguf(dir, 'tessera-tiny', 'f32'), decoder.capacity);
  console.log(`bench/llamacpp — ${describeMachine(machine())}; node-llama-cpp ${NODE_LLAMA_CPP}, 1 thread each`);
  const text = heldOutSources(2, 5)
    .map((s) => s.text)
    .join('\n');
  const all = [4, ...tok.encodeIds(text)];
  const rows = await compare(ours, theirs, all.slice(0, 512), all.slice(1000, 1384), 64, 15, true);
  printRows(`tessera-tiny, fp32 ONNX vs F32 GGUF (${decoder.capacity}-position context)`, rows);
  const t = await typing([ours, theirs], tok, KEYS);
  console.log(`\ntyping replay: ${t.files} held-out files × ${KEYS} keystrokes, greedy to the end of the line (≤ 16 tokens)`);
  console.log('                   p50 ms    p90 ms');
  for (const [i, name] of ['Tessera', 'llama.cpp'].entries()) {
    console.log(`${name.padEnd(16)} ${pct(t.latency[i]!, 0.5).toFixed(2).padStart(8)} ${pct(t.latency[i]!, 0.9).toFixed(2).padStart(9)}`);
  }
  console.log(
    `llama.cpp / Tessera at p50: ×${(pct(t.latency[1]!, 0.5) / pct(t.latency[0]!, 0.5)).toFixed(2)}; same completion on ${t.same}/${t.total} keystrokes`,
  );
  await theirs.dispose();
  await decoder.release();
  if (process.argv.includes('--shaped')) for (const shape of shapes()) await shaped(nlc, shape);
  if (JSON_OUT) console.log(JSON.stringify({ machine: describeMachine(machine()), rows: jsonRows }));
}

void main();
