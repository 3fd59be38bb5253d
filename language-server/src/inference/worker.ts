// The inference worker: owns the onnxruntime session and its KV cache, runs the decoding loop, so the
// language server's thread never blocks on the model.
import { parentPort } from 'node:worker_threads';
import { applyHealing, VocabIndex } from '../generation/healing';
import { generate } from '../generation/generate';
import { seededRandom, suppress, temperature, topP, type LogitsProcessor } from '../generation/processors';
import { shapeStop } from '../generation/stops';
import { Tokenizer } from '../tokenizer/tokenizer';
import { CachedSession } from './cachedSession';
import { openDecoder } from '../model/openDecoder';
import { openModelFolder } from '../model/folder';
import type { FromWorker, GenerateRequest, ToWorker } from './protocol';

interface Loaded {
  tokenizer: Tokenizer;
  cached: CachedSession;
  index: VocabIndex;
}

let loaded: Loaded | undefined;
let latest: Int32Array | undefined;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

async function run(id: number, r: GenerateRequest): Promise<void> {
  const m = loaded!;
  const t0 = performance.now();
  const processors: LogitsProcessor[] = [suppress(r.suppressIds)];
  const healedBytes = r.healingBytes?.length ?? 0;
  if (r.healingBytes?.length) processors.push(applyHealing(Uint8Array.from(r.healingBytes), m.index));
  const sampling = r.temperature > 0;
  if (sampling) processors.push(temperature(r.temperature), topP(r.topP));
  const generation = await generate(r.reuseCache ? m.cached : m.cached.withoutReuse(), m.tokenizer, r.prompt, {
    maxTokens: r.maxTokens,
    stopIds: new Set(r.stopIds),
    processors,
    stop: shapeStop(r.shape),
    healedBytes,
    maxDraft: r.maxDraft,
    random: sampling ? seededRandom(r.seed ?? Date.now()) : undefined,
    cancelled: () => latest !== undefined && Atomics.load(latest, 0) !== id,
  });
  send({ type: 'result', id, generation, ms: performance.now() - t0 });
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  const t0 = performance.now();
  latest = new Int32Array(msg.latest);
  const folder = openModelFolder(msg.dir, msg.precision);
  const tokenizer = Tokenizer.fromFile(folder.tokenizerPath);
  if (tokenizer.vocabSize > folder.config.vocabSize) {
    throw new Error(`tokenizer.json has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${folder.config.vocabSize}: they do not belong together`);
  }
  const { decoder, copiedBecause } = await openDecoder(folder.onnxPath, folder.config, { threads: msg.threads, engine: msg.engine });
  loaded = { tokenizer, cached: new CachedSession(decoder), index: new VocabIndex(tokenizer) };
  send({
    type: 'loaded',
    info: { dir: folder.dir, onnxPath: folder.onnxPath, config: folder.config, cache: decoder.layout.cache,
      mergedDecoder: decoder.layout.useCacheBranch, contextLimit: decoder.capacity, cacheMode: decoder.cacheMode, copiedBecause,
      loadMs: performance.now() - t0 },
  });
}

// Messages are handled one at a time, in order: one session, one request running.
let queue = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(async () => {
    if (msg.type === 'dispose') {
      await loaded?.cached.decoder.release();
      loaded = undefined;
      process.exit(0);
    }
    if (msg.type === 'load') {
      await load(msg).catch((err: unknown) => send({ type: 'load-error', message: err instanceof Error ? err.message : String(err) }));
      return;
    }
    if (!loaded) {
      send({ type: 'error', id: msg.id, message: 'no model loaded' });
      return;
    }
    if (latest && Atomics.load(latest, 0) !== msg.id) {
      send({ type: 'result', id: msg.id, generation: cancelledGeneration(), ms: 0 });
      return;
    }
    await run(msg.id, msg.request).catch((err: unknown) => {
      loaded?.cached.invalidate();
      send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    });
  });
});

function cancelledGeneration() {
  return { text: '', tokens: [], confidence: 0, minProbability: 0, prefillTokens: 0, reusedTokens: 0, prefillMs: 0, decodeMs: 0, passes: 0, drafted: 0, accepted: 0, stoppedBy: 'cancelled' as const };
}
