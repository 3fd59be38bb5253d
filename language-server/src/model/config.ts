// A Hugging Face config.json read into the few numbers the runtime needs, whatever the family calls them.

export interface ModelConfig {
  modelType: string;
  vocabSize: number;
  layers: number;
  heads: number;
  /** Key/value heads: = heads (MHA), fewer (GQA), 1 (MQA). */
  kvHeads: number;
  headDim: number;
  /** Longest sequence the model was built or trained for. */
  maxPositions: number;
  eosTokenIds: number[];
}

export class ModelConfigError extends Error {}

/** Larger than any released model's (Gemma's 256k); a bigger number is a broken config, not a model. */
const MAX_VOCABULARY = 4_000_000;

type Json = Record<string, unknown>;

const num = (c: Json, ...keys: string[]): number | undefined => {
  for (const k of keys) {
    const v = c[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
};

const ids = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];

/** Reads config.json (and generation_config.json's eos_token_id when given). */
export function parseModelConfig(config: unknown, generation: unknown, source: string): ModelConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ModelConfigError(`${source}: not a JSON object`);
  }
  const c = ('text_config' in config ? (config as Json).text_config : config) as Json;
  const modelType = typeof (config as Json).model_type === 'string' ? String((config as Json).model_type) : 'unknown';
  const vocabSize = num(c, 'vocab_size');
  const layers = num(c, 'num_hidden_layers', 'n_layer', 'num_layers');
  const heads = num(c, 'num_attention_heads', 'n_head', 'num_heads');
  const hidden = num(c, 'hidden_size', 'n_embd', 'd_model');
  const missing = [
    vocabSize === undefined && 'vocab_size',
    layers === undefined && 'num_hidden_layers (or n_layer)',
    heads === undefined && 'num_attention_heads (or n_head)',
    hidden === undefined && num(c, 'head_dim') === undefined && 'hidden_size (or n_embd)',
  ].filter(Boolean);
  if (missing.length) throw new ModelConfigError(`${source}: missing ${missing.join(', ')}`);
  const multiQuery = c.multi_query === true;
  const kvHeads = multiQuery ? 1 : (num(c, 'num_key_value_heads', 'n_head_kv', 'num_kv_heads') ?? heads!);
  const maxPositions = num(c, 'max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length') ?? 2048;
  const outOfRange = (
    [
      ['vocab_size', vocabSize!, MAX_VOCABULARY],
      ['num_hidden_layers', layers!, 1024],
      ['num_attention_heads', heads!, 1024],
      ['num_key_value_heads', kvHeads, 1024],
      ['max_position_embeddings', maxPositions, 1 << 30],
    ] as const
  ).find(([, v, max]) => !(Number.isInteger(v) && v >= 1 && v <= max));
  if (outOfRange)
    throw new ModelConfigError(`${source}: ${outOfRange[0]} is ${outOfRange[1]}, not a whole number from 1 to ${outOfRange[2]}`);
  const explicitHeadDim = num(c, 'head_dim');
  const headDim = explicitHeadDim ?? hidden! / heads!;
  if (explicitHeadDim === undefined && !Number.isInteger(headDim))
    throw new ModelConfigError(`${source}: hidden size ${hidden} is not a multiple of ${heads} heads`);
  if (!(Number.isInteger(headDim) && headDim >= 1 && headDim <= 4096))
    throw new ModelConfigError(`${source}: head_dim is ${headDim}, not a whole number from 1 to 4096`);
  if (heads! % kvHeads !== 0) throw new ModelConfigError(`${source}: ${heads} heads do not divide into ${kvHeads} key/value heads`);
  const gen = (typeof generation === 'object' && generation !== null ? generation : {}) as Json;
  const eos = ids(gen.eos_token_id).length ? ids(gen.eos_token_id) : ids(c.eos_token_id);
  return {
    modelType,
    vocabSize: vocabSize!,
    layers: layers!,
    heads: heads!,
    kvHeads,
    headDim,
    maxPositions,
    eosTokenIds: eos,
  };
}
