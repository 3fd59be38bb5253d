// The parts of a Hugging Face tokenizer.json that Tessera reads, and their validation.
// Anything outside this subset is rejected with a message that names it, never guessed at.

export interface AddedTokenSpec {
  id: number;
  content: string;
  special: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

export type RegexOrString = { Regex: string } | { String: string };

export type NormalizerSpec =
  | { type: 'NFC' }
  | { type: 'Prepend'; prepend: string }
  | { type: 'Replace'; pattern: RegexOrString; content: string }
  | { type: 'Sequence'; normalizers: NormalizerSpec[] };

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

export type PreTokenizerSpec =
  | { type: 'Split'; pattern: RegexOrString; behavior: SplitBehavior; invert: boolean }
  | { type: 'Digits'; individual_digits: boolean }
  | { type: 'ByteLevel'; add_prefix_space: boolean; use_regex: boolean; trim_offsets?: boolean }
  | { type: 'Sequence'; pretokenizers: PreTokenizerSpec[] };

export type DecoderSpec =
  | { type: 'ByteLevel' }
  | { type: 'Replace'; pattern: RegexOrString; content: string }
  | { type: 'ByteFallback' }
  | { type: 'Fuse' }
  | { type: 'Strip'; content: string; start: number; stop: number }
  | { type: 'Sequence'; decoders: DecoderSpec[] };

export interface BpeSpec {
  type: 'BPE';
  vocab: Record<string, number>;
  merges: Array<string | [string, string]>;
  unk_token?: string | null;
  byte_fallback?: boolean;
  fuse_unk?: boolean;
  ignore_merges?: boolean;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  dropout?: number | null;
}

export interface TokenizerSpec {
  added_tokens: AddedTokenSpec[];
  normalizer: NormalizerSpec | null;
  pre_tokenizer: PreTokenizerSpec | null;
  decoder: DecoderSpec | null;
  model: BpeSpec;
}

/** A tokenizer file Tessera cannot use, with the reason in words a user can act on. */
export class TokenizerError extends Error {}

/** Checks the shape of a parsed tokenizer.json; throws TokenizerError naming the first problem. */
export function validateSpec(json: unknown): TokenizerSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new TokenizerError('not a tokenizer.json: the top level is not an object');
  const spec = json as Record<string, unknown>;
  const model = spec.model as Record<string, unknown> | undefined;
  if (!model || typeof model !== 'object') throw new TokenizerError('not a tokenizer.json: it has no "model"');
  if (model.type !== 'BPE') {
    throw new TokenizerError(
      `model type ${JSON.stringify(model.type)} is not supported (Tessera reads BPE tokenizers: byte-level and SentencePiece-style)`,
    );
  }
  if (typeof model.vocab !== 'object' || model.vocab === null) throw new TokenizerError('the BPE model has no "vocab" object');
  if (!Array.isArray(model.merges)) throw new TokenizerError('the BPE model has no "merges" list');
  if (model.dropout) throw new TokenizerError('BPE dropout is not supported (it makes tokenization random)');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key]) throw new TokenizerError(`BPE ${key} ${JSON.stringify(model[key])} is not supported`);
  }
  if (!Array.isArray(spec.added_tokens ?? [])) throw new TokenizerError('"added_tokens" is not a list');
  return {
    added_tokens: (spec.added_tokens as AddedTokenSpec[] | undefined) ?? [],
    normalizer: (spec.normalizer as NormalizerSpec | null | undefined) ?? null,
    pre_tokenizer: (spec.pre_tokenizer as PreTokenizerSpec | null | undefined) ?? null,
    decoder: (spec.decoder as DecoderSpec | null | undefined) ?? null,
    model: model as unknown as BpeSpec,
  };
}
