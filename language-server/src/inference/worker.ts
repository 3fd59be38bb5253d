// The inference worker: owns the onnxruntime session and its KV cache, runs the decoding loop, so the
// language server's thread never blocks on the model.
import { parentPort } from 'node:worker_threads';
import { buildChain } from '../generation/chain';
import { DraftPolicy, TREE_NODES } from '../generation/draftPolicy';
import { exactStart } from '../generation/exact';
import { type Generation, generate } from '../generation/generate';
import { withNgramCache } from '../generation/ngramCache';
import { seededRandom } from '../generation/processors';
import { AdjacencyTable, type TreeTemplate, treeTemplate } from '../generation/recycling';
import { shapeStop } from '../generation/stops';
import { openDecoder } from '../model/openDecoder';
import { type TokenTable, unpackTokenTable } from '../tokenizer/tokenTable';
import { CachedSession } from './cachedSession';
import type { FromWorker, GenerateRequest, LoadMessage, ToWorker } from './protocol';

interface Loaded {
  table: TokenTable;
  cached: CachedSession;
  /** Token Recycling's table: what followed each token in this model's passes, kept across requests. */
  adjacency: AdjacencyTable;
  policy: DraftPolicy;
}

const template: TreeTemplate = treeTemplate(TREE_NODES - 1);

let loaded: Loaded | undefined;
let latest: Int32Array | undefined;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

async function run(id: number, r: GenerateRequest): Promise<void> {
  const m = loaded!;
  const t0 = performance.now();
  const session = m.cached.forRequest({ reuse: r.reuseCache, runs: r.mergeRuns });
  const model = r.memory ? withNgramCache(session, r.memory.ids, r.memory.beta) : session;
  const healing = r.healing;
  // The word the cursor is in leaves the prompt; the text must start with its bytes.
  const prompt = healing ? [...r.prompt.slice(0, r.prefixEnd - healing.backOff), ...r.prompt.slice(r.prefixEnd)] : r.prompt;
  const random = r.temperature > 0 ? seededRandom(r.seed ?? Date.now()) : undefined;
  const stopIds = new Set(r.stopIds);
  const cancelled = () => latest !== undefined && Atomics.load(latest, 0) !== id;
  const lead =
    healing?.mode === 'exact' && healing.covers
      ? await exactStart(model, m.table, prompt, healing.bytes, healing.covers, { stopIds, suppressIds: r.suppressIds, random, cancelled })
      : undefined;
  if (m.policy.setting !== r.draftTrees) m.policy = new DraftPolicy(r.draftTrees);
  const mode = r.maxDraft > 0 && !random && session.trees && model === session ? m.policy.choose() : 'chain';
  const generation = await generate(model, m.table, lead ? [...prompt, ...lead.tokens] : prompt, {
    maxTokens: r.maxTokens,
    stopIds,
    processors: buildChain({
      suppressIds: r.suppressIds,
      healing:
        healing?.mode === 'heal' && healing.allowed
          ? { length: healing.bytes.length, allowed: healing.allowed, table: m.table }
          : undefined,
      temperature: r.temperature,
      topP: r.topP,
    }),
    stop: shapeStop(r.stop),
    healedBytes: healing?.mode === 'heal' ? healing.bytes.length : 0,
    lead: lead && { tokens: lead.tokens, bytes: lead.extra, logProb: lead.logProb },
    maxDraft: r.maxDraft,
    ...(mode === 'tree' ? { recycling: { table: m.adjacency, template } } : {}),
    random,
    cancelled,
    deadline: t0 + r.timeLimitMs,
    ...(r.explain ? { explain: r.explain } : {}),
  });
  m.policy.record(mode, generation.tokens.length, generation.decodeMs);
  if (lead) {
    // The prompt ran in the exact step; the decoding loop's own prompt run only added the cover.
    generation.passes += lead.passes;
    generation.prefillTokens += lead.prefill.ran;
    generation.reusedTokens = lead.prefill.reused;
  }
  send({ type: 'result', id, generation, prompt, ms: performance.now() - t0 });
}

async function load(msg: LoadMessage): Promise<void> {
  const t0 = performance.now();
  latest = new Int32Array(msg.latest);
  const table = unpackTokenTable(msg.vocabulary);
  const { decoder, copiedBecause } = await openDecoder(msg.onnxPath, msg.config, { threads: msg.threads, engine: msg.engine });
  loaded = { table, cached: new CachedSession(decoder), adjacency: new AdjacencyTable(msg.config.vocabSize), policy: new DraftPolicy() };
  send({
    type: 'loaded',
    info: {
      onnxPath: msg.onnxPath,
      config: msg.config,
      cache: decoder.layout.cache,
      mergedDecoder: decoder.layout.useCacheBranch,
      contextLimit: decoder.capacity,
      cacheMode: decoder.cacheMode,
      draftTrees: decoder.trees,
      merges: decoder.merges,
      copiedBecause,
      loadMs: performance.now() - t0,
    },
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
      send({ type: 'result', id: msg.id, generation: cancelledGeneration(), prompt: [], ms: 0 });
      return;
    }
    await run(msg.id, msg.request).catch((err: unknown) => {
      loaded?.cached.invalidate();
      send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    });
  });
});

function cancelledGeneration(): Generation {
  return {
    text: '',
    tokens: [],
    confidence: 0,
    minProbability: 0,
    prefillTokens: 0,
    reusedTokens: 0,
    prefillMs: 0,
    decodeMs: 0,
    passes: 0,
    drafted: 0,
    accepted: 0,
    stoppedBy: 'cancelled',
    trace: [],
  };
}
