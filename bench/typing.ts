// Typing replayed keystroke by keystroke through real files: after each key, an inline completion at the
// cursor, as an editor asks for one. The same prompts go to three engines in the same run:
//   Tessera            the server's pipeline (worker, KV cache reused across requests)
//   no cache reuse     the same pipeline, each request prefilled from nothing
//   transformers.js    generate() on the same ONNX file, same prompt, same number of new tokens
// and the memory-bandwidth bound for the model's decode on this machine.
//   npm run bench -- typing [--keys N] [--precision fp32|quantized] [--model DIR]
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { CompletionService } from '../language-server/src/completion/service';
import { openModelFolder } from '../language-server/src/model/folder';
import { DEFAULT_SETTINGS } from '../language-server/src/settings';
import { SyntaxService } from '../language-server/src/syntax/parser';
import { grammarFor } from '../language-server/src/syntax/languages';

const root = join(__dirname, '..', '..');
const arg = (name: string, dflt: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1]! : dflt);
const KEYS = Number(arg('keys', '300'));
const precision = arg('precision', 'fp32') as 'fp32' | 'quantized';
const modelDir = arg('model', join(root, 'models', 'tessera-tiny'));

/** Real files of this repository: a TypeScript module, a Python script, a JavaScript module. */
const FILES = ['language-server/src/completion/context.ts', 'models/recipe/train.py', 'scripts/lib/vscodeServer.mjs'];

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Read bandwidth: memcmp over two equal 256 MB buffers (median of 5), GB/s. */
function readBandwidth(): number {
  const a = Buffer.alloc(256 << 20, 7);
  const b = Buffer.alloc(256 << 20, 7);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    a.compare(b);
    times.push(performance.now() - t0);
  }
  return (2 * a.length) / 1e9 / (pct(times.slice(1), 0.5) / 1000);
}

interface Engine {
  name: string;
  latency: number[];
  ran: number[];
  msPerToken: number[];
}

async function main(): Promise<void> {
  const settings = {
    model: { ...DEFAULT_SETTINGS.model, path: modelDir, precision },
    completion: { ...DEFAULT_SETTINGS.completion, minConfidence: 0 },
  };
  const service = new CompletionService(settings, undefined, join(root, 'dist', 'worker.js'));
  await service.configure(settings);
  if (service.status.state !== 'ready') throw new Error(service.status.error ?? 'model not loaded');
  // The same pipeline without prompt-lookup drafts, in a worker (and cache) of its own.
  const undrafted = new CompletionService(settings, undefined, join(root, 'dist', 'worker.js'));
  undrafted.maxDraft = 0;
  await undrafted.configure(settings);
  const folder = openModelFolder(modelDir, precision);
  const { AutoModelForCausalLM, env, Tensor } = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = join(modelDir, '..');
  const tjs = await AutoModelForCausalLM.from_pretrained(basename(modelDir), { dtype: precision === 'fp32' ? 'fp32' : 'q8', local_files_only: true });
  const syntax = await SyntaxService.create(join(root, 'dist', 'wasm'));

  const engines: Engine[] = ['Tessera', 'Tessera, no drafts', 'no cache reuse', 'transformers.js'].map((name) => ({ name, latency: [], ran: [], msPerToken: [] }));
  const [ours, plain, fresh, hf] = engines as [Engine, Engine, Engine, Engine];
  let drafted = 0;
  let accepted = 0;
  let sameText = 0;
  const contextLengths: number[] = [];
  for (const file of FILES) {
    const full = readFileSync(join(root, file), 'utf8');
    const grammar = grammarFor('', file);
    const parser = grammar ? await syntax.parser(grammar) : undefined;
    // Re-type KEYS characters from a line a third of the way in; the rest of the file stays after the cursor.
    const start = full.indexOf('\n', Math.floor(full.length / 3)) + 1;
    const end = Math.min(full.length, start + KEYS);
    for (let k = 0; k <= end - start; k++) {
      const text = full.slice(0, start + k) + full.slice(end);
      const input = { uri: `file:///${file}`, path: file, text, offset: start + k, parser };
      const a = (await service.complete(input, undefined, true))!;
      ours.latency.push(a.latencyMs);
      ours.ran.push(a.prefillTokens);
      if (a.tokens > 1) ours.msPerToken.push(a.decodeMs / (a.tokens - 1));
      contextLengths.push(a.prefillTokens + a.reusedTokens + a.tokens);
      drafted += a.drafted;
      accepted += a.accepted;
      const p = (await undrafted.complete(input, undefined, true))!;
      plain.latency.push(p.latencyMs);
      plain.ran.push(p.prefillTokens);
      if (p.tokens > 1) plain.msPerToken.push(p.decodeMs / (p.tokens - 1));
      if (p.raw === a.raw) sameText++;
      const b = (await service.complete(input, undefined, false))!;
      fresh.latency.push(b.latencyMs);
      fresh.ran.push(b.prefillTokens);
      if (b.tokens > 1) fresh.msPerToken.push(b.decodeMs / (b.tokens - 1));
      // transformers.js: the same prompt and as many new tokens (at least one), greedy.
      const n = a.prompt.length;
      const t0 = performance.now();
      await tjs.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(a.prompt.map(BigInt)), [1, n]),
        attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
        max_new_tokens: Math.max(1, a.tokens), min_new_tokens: Math.max(1, a.tokens), do_sample: false,
      } as never);
      hf.latency.push(performance.now() - t0);
      hf.ran.push(n);
    }
  }
  await service.dispose();
  await undrafted.dispose();

  const cpu = cpus();
  const weights = statSync(folder.onnxPath).size;
  const c = folder.config;
  const ctx = pct(contextLengths, 0.5);
  const kvBytes = 2 * c.layers * c.kvHeads * c.headDim * ctx * 4;
  const bw = readBandwidth();
  const boundMs = ((weights + kvBytes) / 1e9 / bw) * 1000;
  const decode = pct(ours.msPerToken, 0.5);
  const requests = ours.latency.length;
  console.log(`typing replay: ${FILES.length} files × ${KEYS} keystrokes = ${requests} completion requests, ${basename(modelDir)} ${precision} (${(weights / 1e6).toFixed(1)} MB), 1 thread`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}\n`);
  console.log('engine              latency p50   p95      tokens run per request (median, mean)   decode ms/token (median)');
  for (const e of engines) {
    const per = e.msPerToken.length ? pct(e.msPerToken, 0.5).toFixed(2) : '–';
    console.log(`${e.name.padEnd(18)} ${pct(e.latency, 0.5).toFixed(1).padStart(8)} ms ${pct(e.latency, 0.95).toFixed(1).padStart(6)} ms   ${String(pct(e.ran, 0.5)).padStart(8)} ${(sum(e.ran) / e.ran.length).toFixed(1).padStart(8)}                      ${per.padStart(6)}`);
  }
  console.log(`\nprompt-lookup drafts: ${accepted} of ${drafted} draft tokens accepted; output identical to no drafts in ${sameText} of ${requests} requests`);
  console.log(`latency p50 ratio: no cache reuse / Tessera ${(pct(fresh.latency, 0.5) / pct(ours.latency, 0.5)).toFixed(1)}x, transformers.js / Tessera ${(pct(hf.latency, 0.5) / pct(ours.latency, 0.5)).toFixed(1)}x`);
  console.log(`memory bandwidth (read, memcmp 2 × 256 MB): ${bw.toFixed(1)} GB/s; decode reads ${(weights / 1e6).toFixed(1)} MB weights + ${(kvBytes / 1e6).toFixed(2)} MB KV (context ${ctx})`);
  console.log(`decode bound ${boundMs.toFixed(3)} ms/token; Tessera ${decode.toFixed(3)} ms/token = ${((boundMs / decode) * 100).toFixed(0)}% of the bound`);
  console.log(`goals: p50 ≤ 25 ms: ${pct(ours.latency, 0.5) <= 25 ? 'met' : 'NOT met'}; decode ≥ 70% of the bound: ${boundMs / decode >= 0.7 ? 'met' : 'NOT met'}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
