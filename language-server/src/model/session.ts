// One decoder forward pass over an onnxruntime session, whatever the export's cache layout. Input and
// output names come from the session itself, never assumed.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelConfig } from './config';
import { explainLoadError } from './loadError';
import { ATTENTION_BIAS, LOGITS_TO_KEEP, POSITION_IDS, TOKEN_GROUP } from './decoderInputs';
import { floatsOfHalves } from './half';
import { depthsOf, halvesOfBias, treeBias } from './treeAttention';

type Ort = typeof import('onnxruntime-node');

/** How the export keeps its key/value cache. */
export type CacheLayout =
  /** past_key_values.{i}.key / .value: [batch, kv_heads, past, head_dim] (LLaMA, Qwen2, Mistral, ...). */
  | 'split'
  /** past_key_values.{i}.key_value: [batch, past, 2 * head_dim] (GPT-BigCode multi-query). */
  | 'fused';

export interface SessionLayout {
  cache: CacheLayout;
  /** Past inputs in feed order, and the present output that becomes each one next step. */
  past: Array<{ input: string; output: string }>;
  /** Merged decoders take use_cache_branch (false on the first call). */
  useCacheBranch: boolean;
  hasPositionIds: boolean;
  hasAttentionMask: boolean;
  /** Takes attention_bias [batch, 1, new, total] (models/recipe/tree_attention.py): draft trees verify in one pass. */
  hasAttentionBias: boolean;
  biasType: 'float32' | 'float16';
  /** Takes token_group [batch, tokens] (models/recipe/merge.py): identifiers' subtokens pool into one position. */
  hasTokenGroups: boolean;
  /** Takes logits_to_keep (optimize/logitsToKeep.ts): a run computes logits for its last k positions only. */
  hasLogitsToKeep: boolean;
  cacheType: 'float32' | 'float16';
  logits: string;
  logitsType: 'float32' | 'float16';
}

/** The cache after a run: one tensor per past input, `length` positions long. */
export interface KvCache {
  length: number;
  tensors: Tensor[];
}

export interface RunResult {
  /** Logits of the last `rows` new positions (every one, unless the export takes logits_to_keep), row-major [rows, vocab]. */
  logits: Float32Array;
  rows: number;
  positions: number;
  cache: KvCache;
}

export class ModelLayoutError extends Error {}

/**
 * Positions a run of tokens takes: one per token, or with `groups` (token i pools into new position
 * groups[i]: 0 first, non-decreasing, no gaps) one per group. Throws on any other grouping.
 */
export function positionsOf(tokens: number, groups?: ArrayLike<number>): number {
  if (!groups) return tokens;
  if (groups.length !== tokens) throw new Error(`${groups.length} token groups for ${tokens} tokens`);
  let last = -1;
  for (let i = 0; i < tokens; i++) {
    const g = groups[i]!;
    if (g !== last && g !== last + 1)
      throw new Error(`token ${i} pools into position ${g} after ${last}: groups go 0, 1, 2... without gaps`);
    last = g;
  }
  return last + 1;
}

export function detectLayout(inputs: readonly string[], outputs: readonly string[], types: Map<string, string>): SessionLayout {
  if (!inputs.includes('input_ids')) throw new ModelLayoutError(`the decoder has no input_ids input (inputs: ${inputs.join(', ')})`);
  const logits = outputs.find((o) => o === 'logits') ?? outputs[0];
  if (!logits) throw new ModelLayoutError('the decoder has no outputs');
  const pastNames = inputs.filter((n) => n.startsWith('past_key_values.') || n.startsWith('past.'));
  if (!pastNames.length)
    throw new ModelLayoutError('the decoder has no past_key_values inputs: an export without a KV cache is too slow to complete with');
  const fused = pastNames.every((n) => n.endsWith('.key_value'));
  const past = pastNames.map((input) => {
    const output = input.replace(/^past_key_values\./, 'present.').replace(/^past\./, 'present.');
    if (!outputs.includes(output)) throw new ModelLayoutError(`the decoder takes ${input} but gives no ${output}`);
    return { input, output };
  });
  const t = types.get(pastNames[0]!);
  return {
    cache: fused ? 'fused' : 'split',
    past,
    useCacheBranch: inputs.includes('use_cache_branch'),
    hasPositionIds: inputs.includes(POSITION_IDS),
    hasAttentionMask: inputs.includes('attention_mask'),
    hasAttentionBias: inputs.includes(ATTENTION_BIAS) && inputs.includes(POSITION_IDS),
    biasType: types.get(ATTENTION_BIAS) === 'float16' ? 'float16' : 'float32',
    hasTokenGroups: inputs.includes(TOKEN_GROUP) && inputs.includes(POSITION_IDS),
    hasLogitsToKeep: inputs.includes(LOGITS_TO_KEEP),
    cacheType: t === 'float16' ? 'float16' : 'float32',
    logits,
    logitsType: types.get(logits) === 'float16' ? 'float16' : 'float32',
  };
}

/**
 * The export against config.json: one cache entry per layer (two where keys and values are split), and
 * the cache's fixed dimensions equal to the config's heads and head size. A config that disagrees
 * would feed the decoder wrong shapes, or stop at a cryptic runtime error mid-completion.
 */
export function checkLayoutFitsConfig(
  layout: SessionLayout,
  config: ModelConfig,
  shapes: Map<string, ReadonlyArray<number | string>>,
): void {
  const perLayer = layout.cache === 'split' ? 2 : 1;
  if (layout.past.length !== config.layers * perLayer) {
    throw new ModelLayoutError(
      `config.json says ${config.layers} layers but the decoder has a cache for ${layout.past.length / perLayer} (${layout.past.length} past inputs)`,
    );
  }
  const input = layout.past[0]!.input;
  const shape = shapes.get(input) ?? [];
  /** A fixed dimension of the cache (a named one is dynamic) must be what config.json says. */
  const check = (axis: number, want: number, what: string) => {
    const got = shape[axis];
    if (typeof got === 'number' && got !== want)
      throw new ModelLayoutError(`config.json gives ${what} ${want} but the decoder's cache (${input}) has ${got}`);
  };
  if (layout.cache === 'split') {
    check(1, config.kvHeads, 'key/value heads'); // [batch, kv_heads, past, head_dim]
    check(3, config.headDim, 'head size');
  } else check(2, 2 * config.headDim, 'twice the head size'); // [batch, past, 2 * head_dim]
}

export class DecoderSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly config: ModelConfig,
    readonly layout: SessionLayout,
  ) {}

  static async open(onnxPath: string, config: ModelConfig, options: { threads?: number } = {}): Promise<DecoderSession> {
    const ort = require('onnxruntime-node') as Ort;
    const session = await ort.InferenceSession.create(onnxPath, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Confident models' softmax yields subnormal floats, which x86 computes on ~100x slower.
      extra: { session: { set_denormal_as_zero: '1' } },
    }).catch((err: unknown) => {
      throw explainLoadError(onnxPath, err);
    });
    const metadata = [...session.inputMetadata, ...session.outputMetadata];
    const types = new Map(metadata.map((m) => [m.name, m.isTensor ? String(m.type) : 'non-tensor']));
    const shapes = new Map(metadata.map((m) => [m.name, m.isTensor ? m.shape : []]));
    try {
      const layout = detectLayout(session.inputNames, session.outputNames, types);
      checkLayoutFitsConfig(layout, config, shapes);
      return new DecoderSession(ort, session, config, layout);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  get tensorClass(): Ort['Tensor'] {
    return this.ort.Tensor;
  }

  /** A cache holding nothing: what the first call feeds. */
  emptyCache(): KvCache {
    return { length: 0, tensors: this.layout.past.map(() => this.cacheTensor(0)) };
  }

  private cacheTensor(length: number): Tensor {
    const c = this.config;
    const dims = this.layout.cache === 'fused' ? [1, length, 2 * c.headDim] : [1, c.kvHeads, length, c.headDim];
    const size = dims.reduce((a, b) => a * b, 1);
    const data = this.layout.cacheType === 'float16' ? new Uint16Array(size) : new Float32Array(size);
    return new this.ort.Tensor(this.layout.cacheType, data, dims);
  }

  /**
   * Runs `ids` after the cached positions; returns the logits of each new position and the longer cache.
   * With `parents` (exports with an attention bias) the ids are a tree: each attends to its ancestors
   * only. With `groups` (merged exports) token i pools into new position groups[i]. With `keep`, exports
   * that take logits_to_keep compute the last `keep` positions' logits only; others compute all.
   */
  async run(
    ids: ArrayLike<number>,
    cache: KvCache = this.emptyCache(),
    parents?: readonly number[],
    groups?: ArrayLike<number>,
    keep?: number,
  ): Promise<RunResult> {
    const { ort, layout } = this;
    const tokens = ids.length;
    if (tokens === 0) throw new Error('run needs at least one token');
    if (parents && !layout.hasAttentionBias) throw new Error('this export takes no attention bias: it cannot run a tree');
    if (groups && !layout.hasTokenGroups) throw new Error('this export takes no token groups: it cannot merge subtokens');
    const n = positionsOf(tokens, groups);
    const total = cache.length + n;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(ids, BigInt)), [1, tokens]),
    };
    if (layout.hasTokenGroups)
      feeds[TOKEN_GROUP] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: tokens }, (_, i) => BigInt(groups ? groups[i]! : i)),
        [1, tokens],
      );
    if (layout.hasAttentionMask) feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
    if (layout.hasPositionIds) {
      const depths = parents ? depthsOf(parents) : undefined;
      const pos = new BigInt64Array(n);
      for (let i = 0; i < n; i++) pos[i] = BigInt(cache.length + (depths ? depths[i]! : i));
      feeds[POSITION_IDS] = new ort.Tensor('int64', pos, [1, n]);
    }
    if (layout.hasAttentionBias) {
      const bias = parents ? treeBias(parents, cache.length) : new Float32Array(n * total);
      feeds[ATTENTION_BIAS] =
        layout.biasType === 'float16'
          ? new ort.Tensor('float16', halvesOfBias(bias), [1, 1, n, total])
          : new ort.Tensor('float32', bias, [1, 1, n, total]);
    }
    if (layout.hasLogitsToKeep) feeds[LOGITS_TO_KEEP] = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep ?? n)), [1]);
    if (layout.useCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([cache.length > 0 ? 1 : 0]), [1]);
    layout.past.forEach((p, i) => {
      feeds[p.input] = cache.tensors[i]!;
    });
    const out = await this.session.run(feeds);
    const logits = out[layout.logits]!;
    const vocab = logits.dims[logits.dims.length - 1]!;
    const floats = toFloat32(logits, vocab);
    return {
      logits: floats,
      rows: floats.length / vocab,
      positions: n,
      cache: { length: total, tensors: layout.past.map((p) => out[p.output]!) },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function toFloat32(t: Tensor, vocab: number): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return floatsOfHalves(t.data as Uint16Array);
  throw new ModelLayoutError(`logits of type ${t.type} (vocabulary ${vocab}) are not supported`);
}
