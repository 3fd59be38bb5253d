// Fill-in-the-middle prompts in each model family's own format, detected from the tokenizer's special
// tokens. SPM puts the text before the cursor last, so typing extends the previous prompt and the KV
// cache is reused up to the cursor; PSM is used where a family was not trained (or is not known to be
// trained) on SPM.
import type { Tokenizer } from '../tokenizer/tokenizer';

export type FimOrder = 'psm' | 'spm';

export interface FimTemplate {
  family: string;
  /** How this family's markers are laid out for each order (see buildFimPrompt). */
  style: 'starcoder' | 'deepseek' | 'codellama' | 'codestral';
  prefix: string;
  suffix: string;
  middle: string;
  /** Orders the family was trained on; the first is the default. */
  orders: FimOrder[];
  /** Tokens that end the middle (besides the tokenizer's end-of-text). */
  stop: string[];
  /** File separator used for a `path` header before the FIM markers, if the family has one. */
  fileSep?: string;
  bos?: string;
}

const T = (t: FimTemplate) => t;

/** Most specific first: detection takes the first whose markers the tokenizer has. */
// biome-ignore format: one family to a line or two reads as a table
export const FIM_TEMPLATES: FimTemplate[] = [
  T({ family: 'tessera', style: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>',
    orders: ['spm', 'psm'], stop: ['<|endoftext|>', '<file_sep>'], fileSep: '<file_sep>' }),
  T({ family: 'starcoder2', style: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>',
    orders: ['psm', 'spm'], stop: ['<|endoftext|>', '<file_sep>', '<fim_pad>'], fileSep: '<file_sep>' }),
  T({ family: 'starcoder', style: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>',
    orders: ['psm', 'spm'], stop: ['<|endoftext|>', '<fim_pad>'] }),
  T({ family: 'santacoder', style: 'starcoder', prefix: '<fim-prefix>', suffix: '<fim-suffix>', middle: '<fim-middle>',
    orders: ['psm', 'spm'], stop: ['<|endoftext|>', '<fim-pad>'] }),
  T({ family: 'qwen2.5-coder', style: 'starcoder', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>',
    orders: ['psm'], stop: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|im_end|>'], fileSep: '<|file_sep|>' }),
  T({ family: 'codegemma', style: 'starcoder', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>',
    orders: ['psm'], stop: ['<|file_separator|>', '<eos>', '<end_of_turn>'], fileSep: '<|file_separator|>', bos: '<bos>' }),
  T({ family: 'fim-generic', style: 'starcoder', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>',
    orders: ['psm'], stop: ['<|endoftext|>'] }),
  T({ family: 'deepseek-coder', style: 'deepseek', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>',
    orders: ['psm'], stop: ['<｜end▁of▁sentence｜>', '<|EOT|>'], bos: '<｜begin▁of▁sentence｜>' }),
  T({ family: 'codellama', style: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>',
    orders: ['psm'], stop: ['▁<EOT>', '</s>'], bos: '<s>' }),
  T({ family: 'codestral', style: 'codestral', prefix: '[PREFIX]', suffix: '[SUFFIX]', middle: '[MIDDLE]',
    orders: ['spm'], stop: ['</s>'], bos: '<s>' }),
];

/** What decides between families that share markers. */
function matches(t: FimTemplate, tok: Tokenizer): boolean {
  const has = (s: string) => tok.id(s) !== undefined;
  if (![t.prefix, t.suffix].every(has) || (t.style !== 'codestral' && !has(t.middle))) return false;
  switch (t.family) {
    case 'tessera':
      return tok.vocabSize <= 16384 && has('<file_sep>') && !has('<fim_pad>');
    case 'starcoder2':
      return has('<file_sep>');
    case 'qwen2.5-coder':
      return has('<|file_sep|>');
    case 'codegemma':
      return has('<|file_separator|>');
    default:
      return true;
  }
}

export function detectFimTemplate(tok: Tokenizer, family?: string): FimTemplate | undefined {
  if (family) return FIM_TEMPLATES.find((t) => t.family === family);
  return FIM_TEMPLATES.find((t) => matches(t, tok));
}

/** The order to lay the template out in: the setting's, except where the family has one order only (Codestral). */
export function fimOrderFor(t: FimTemplate, setting: 'auto' | FimOrder): FimOrder {
  return setting !== 'auto' && t.style !== 'codestral' ? setting : t.orders[0]!;
}

export interface FimParts {
  /** Workspace-relative path, written as a header where the family has a file separator. */
  path?: string;
  /** Other files' snippets, each as a file of its own before this one (families with a file separator). */
  snippets?: ReadonlyArray<{ path: string; text: string }>;
  prefix: string;
  /** The prefix's tokens when the caller has them already (they must be `encodeIds(prefix)`). */
  prefixIds?: readonly number[];
  suffix: string;
}

export interface FimPrompt {
  ids: number[];
  /** Ids that end generation. */
  stopIds: Set<number>;
  /** ids[prefixStart, prefixEnd) are the prefix's tokens (SPM: the last ones). */
  prefixStart: number;
  prefixEnd: number;
}

/** One piece of a FIM prompt: a control token by its text, or text tokenized as it is. */
type Piece = { special: string } | { text: string; fragment?: boolean; prefix?: true };

/** The prompt's pieces for `parts` in `order`: one layout for the id prompt and the text prompt. */
function fimLayout(t: FimTemplate, parts: FimParts, order: FimOrder, hasBos: boolean): Piece[] {
  const out: Piece[] = [];
  if (t.bos && hasBos) out.push({ special: t.bos });
  if (t.fileSep) for (const s of parts.snippets ?? []) out.push({ special: t.fileSep }, { text: `${s.path}\n${s.text}\n` });
  if (t.fileSep && parts.path) out.push({ special: t.fileSep }, { text: `${parts.path}\n` });
  const prefix: Piece = { text: parts.prefix, prefix: true };
  const suffix: Piece = { text: parts.suffix, fragment: t.style === 'codellama' || t.style === 'codestral' };
  if (t.style === 'codestral') {
    // Mistral's own order: [SUFFIX]suffix[PREFIX]prefix, the middle follows directly.
    out.push({ special: t.suffix }, suffix, { special: t.prefix }, prefix);
  } else if (order === 'spm') {
    // StarCoder/Megatron SPM: <pre><suf>suffix<mid>prefix — prefix and middle adjacent.
    out.push({ special: t.prefix }, { special: t.suffix }, suffix, { special: t.middle }, prefix);
  } else {
    out.push({ special: t.prefix }, prefix, { special: t.suffix }, suffix, { special: t.middle });
  }
  return out;
}

/**
 * The prompt for `parts` in `order`. Prefix and suffix are tokenized on their own, as in training
 * (the cursor falls between tokens); token healing, if wanted, is the caller's step.
 */
export function buildFimPrompt(t: FimTemplate, tok: Tokenizer, parts: FimParts, order: FimOrder = t.orders[0]!): FimPrompt {
  const id = (s: string): number => {
    const v = tok.id(s);
    if (v === undefined) throw new Error(`the tokenizer has no ${s} token for the ${t.family} FIM template`);
    return v;
  };
  const ids: number[] = [];
  let prefixStart = 0;
  let prefixEnd = 0;
  for (const piece of fimLayout(t, parts, order, !!t.bos && tok.id(t.bos) !== undefined)) {
    if ('special' in piece) ids.push(id(piece.special));
    else if (piece.prefix) {
      prefixStart = ids.length;
      ids.push(...(parts.prefixIds ?? tok.encodeIds(parts.prefix)));
      prefixEnd = ids.length;
    } else ids.push(...(piece.fragment ? tok.encodeFragment(piece.text) : tok.encodeIds(piece.text)));
  }
  const stopIds = new Set<number>();
  for (const s of t.stop) {
    const v = tok.id(s);
    if (v !== undefined) stopIds.add(v);
  }
  return { ids, stopIds, prefixStart, prefixEnd };
}

/**
 * The same prompt as text, for a server that tokenizes it (control tokens written as their text, which
 * servers parse as the tokens; SentencePiece's ▁ is a space there).
 */
export function fimPromptText(t: FimTemplate, parts: FimParts, order: FimOrder = t.orders[0]!): string {
  return fimLayout(t, parts, order, false)
    .map((piece) => ('special' in piece ? piece.special.replace(/^▁/, ' ') : piece.text))
    .join('');
}

/** Families by the names their models are published under, most specific first. */
const FAMILY_BY_NAME: Array<[RegExp, string]> = [
  [/qwen.*coder/, 'qwen2.5-coder'],
  [/starcoder2/, 'starcoder2'],
  [/starcoder/, 'starcoder'],
  [/deepseek.*coder/, 'deepseek-coder'],
  [/code-?llama/, 'codellama'],
  [/codestral/, 'codestral'],
  [/codegemma/, 'codegemma'],
  [/tessera/, 'tessera'],
];

/** The family a served model's name points at (for a server whose tokenizer Tessera cannot see). */
export function templateForModelName(name: string): FimTemplate | undefined {
  const family = FAMILY_BY_NAME.find(([re]) => re.test(name.toLowerCase()))?.[1];
  return family ? FIM_TEMPLATES.find((t) => t.family === family) : undefined;
}
