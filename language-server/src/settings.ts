// The `tessera` settings the server reads: their types, defaults and reader, in the shape package.json
// declares them (`tessera.tokens.maxFileMB` is `tokens.maxFileMB` here). package.json is where the
// editor learns them; a unit test holds its defaults equal to these.
import { homedir } from 'node:os';
import { ENGINE_KINDS, type EngineKind, type HealingMode } from './lsp_ext';

export type { HealingMode } from './lsp_ext';

export interface TesseraSettings {
  /** A tokenizer.json path, a folder holding one, or a name found in tokenizerDirectories. */
  tokenizer: string;
  /** Folders whose subfolders hold tokenizer.json files, each named after its subfolder. */
  tokenizerDirectories: string[];
  /** Tokenizers for Compare Tokenizers (names or paths); empty: every one found. */
  compareTokenizers: string[];
  /** Files above this many million characters are not tokenized whole (the lens still shows visible text). */
  tokens: { maxFileMB: number };
  diagnostics: { normalization: boolean; invisible: boolean; straddle: boolean };
  model: ModelSettings;
  completion: CompletionSettings;
  /** Where model downloads go: a mirror's address; empty: HF_ENDPOINT, else the Hugging Face Hub. */
  hub: { endpoint: string };
  engine: EngineSettings;
}

/** What writes completions: the local model, or a server a team shares (engines/). */
export interface EngineSettings {
  kind: EngineKind;
  /** The server's base URL (llama.cpp: http://host:8080; OpenAI-compatible: up to, not including, /v1). */
  url: string;
  /** The model name sent to an OpenAI-compatible server; empty: the first it lists. */
  model: string;
  /** The served model's tokenizer.json (exact budgets, the Token Lens, healing); empty: estimated. */
  tokenizer: string;
  /** While the server is down: complete with the local model ('local') or not at all. */
  fallback: 'none' | 'local';
  /** TESSERA_API_KEY of the server's environment (the editor puts its secret there; never a setting): a Bearer token. */
  apiKey?: string;
}

/**
 * Which decoder file of a model folder runs: the fp32 export, any quantized one, or one of the variants
 * onnx-community publishes beside model.onnx, by its name (model_q4.onnx for q4, …).
 */
export const PRECISIONS = ['fp32', 'quantized', 'int8', 'uint8', 'q4', 'fp16', 'q4f16', 'bnb4'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Token Recycling draft trees: measured per model and CPU ('auto'), always, or never (chains only). */
export const DRAFT_TREES = ['auto', 'on', 'off'] as const;
export type DraftTreesSetting = (typeof DRAFT_TREES)[number];

export interface ModelSettings {
  /** A model folder (tokenizer.json, config.json, an ONNX decoder); empty: the embedded default. */
  path: string;
  precision: Precision;
  /** onnxruntime intra-op threads; 0: one for the embedded model, the physical cores for others. */
  threads: number;
  /** Run a copy of the decoder optimized for this CPU (model/optimize), made once and cached. */
  optimize: boolean;
}

export interface CompletionSettings {
  enabled: boolean;
  maxTokens: number;
  /** What is shown: the longest head the model is sure of ('head'), or all of it if its mean confidence passes ('whole'). */
  show: 'head' | 'whole';
  /** 'head': the shown head's probability (the product of its tokens') is at least this. */
  minHeadProbability: number;
  /** 'whole': completions whose confidence (geometric mean token probability) is below this are not shown. */
  minConfidence: number;
  /** Cut loops, repeated lines, echoes of the code around the cursor and re-typed suffixes (completion/filters.ts). */
  filters: boolean;
  /** After a completion is shown, compute the one that follows it once accepted (completion/ahead.ts). */
  completeAhead: boolean;
  /** Tokens of the prompt for snippets of other open documents of the same language (0: none; the default model does worse with them, bench/accept). */
  snippetTokens: number;
  /** Mix an n-gram cache of the prompt into the model's distribution (generation/ngramCache.ts); off: it did not raise acceptance (bench/accept). */
  localMemory: boolean;
  /** Greedy decoding's drafts: Token Recycling trees or prompt-lookup chains (generation/draftPolicy.ts). */
  draftTrees: DraftTreesSetting;
  /**
   * AST-aware subtoken merging: identifiers cut into several tokens take one position in the prompt, so
   * the same room holds more code (models with a merging export, onnx/model_merging.onnx; bench/merging).
   */
  subtokenMerging: boolean;
  /** 'auto' (detected from the tokenizer) or a family name (prompt/fim.ts). */
  fimTemplate: string;
  fimOrder: 'auto' | 'psm' | 'spm';
  prefixTokens: number;
  suffixTokens: number;
  /** 0: greedy. */
  temperature: number;
  topP: number;
  /** Completing from inside a word: off, token healing, or exact byte-level prompting (prompt/healing.ts). */
  healing: HealingMode;
  /** Decoding stops after this many ms and shows what it has; a pass that hangs far past it restarts the model. */
  timeLimitMs: number;
}

export const DEFAULT_SETTINGS: TesseraSettings = {
  tokenizer: '',
  tokenizerDirectories: [],
  compareTokenizers: [],
  tokens: { maxFileMB: 8 },
  diagnostics: { normalization: true, invisible: true, straddle: true },
  model: { path: '', precision: 'fp32', threads: 0, optimize: true },
  completion: {
    enabled: true,
    maxTokens: 64,
    show: 'head',
    minHeadProbability: 0.4,
    minConfidence: 0.4,
    filters: true,
    completeAhead: true,
    snippetTokens: 0,
    localMemory: false,
    draftTrees: 'auto',
    subtokenMerging: false,
    fimTemplate: 'auto',
    fimOrder: 'auto',
    prefixTokens: 320,
    suffixTokens: 96,
    temperature: 0,
    topP: 0.95,
    healing: 'exact',
    timeLimitMs: 2000,
  },
  hub: { endpoint: '' },
  engine: { kind: 'local', url: '', model: '', tokenizer: '', fallback: 'none' },
};

/** The healing mode; the boolean `tokenHealing` of earlier versions still works (false: off, true: the default). */
function healingMode(mode: unknown, legacy: unknown, dflt: HealingMode): HealingMode {
  if (mode === 'off' || mode === 'heal' || mode === 'exact') return mode;
  return legacy === false ? 'off' : dflt;
}

const unit = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined);
const positive = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);

/** `~/models/x` as users write it in settings. */
const expandHome = (p: string): string => (p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p);

/** Settings from the `tessera` section as VS Code shapes it, with defaults for what is missing or malformed. */
export function readSettings(raw: unknown): TesseraSettings {
  const r = (raw ?? {}) as Record<string, unknown>;
  const t = (r.tokens ?? {}) as Record<string, unknown>;
  const d = (r.diagnostics ?? {}) as Record<string, unknown>;
  const m = (r.model ?? {}) as Record<string, unknown>;
  const c = (r.completion ?? {}) as Record<string, unknown>;
  const dc = DEFAULT_SETTINGS.completion;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : []);
  const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);
  return {
    tokenizer: typeof r.tokenizer === 'string' ? r.tokenizer.trim() : '',
    tokenizerDirectories: strings(r.tokenizerDirectories),
    compareTokenizers: strings(r.compareTokenizers),
    tokens: { maxFileMB: positive(t.maxFileMB) ?? DEFAULT_SETTINGS.tokens.maxFileMB },
    diagnostics: {
      normalization: bool(d.normalization, true),
      invisible: bool(d.invisible, true),
      straddle: bool(d.straddle, true),
    },
    model: {
      path: typeof m.path === 'string' ? expandHome(m.path.trim()) : '',
      precision: PRECISIONS.includes(m.precision as Precision) ? (m.precision as Precision) : DEFAULT_SETTINGS.model.precision,
      threads: typeof m.threads === 'number' && m.threads >= 0 ? Math.min(16, Math.round(m.threads)) : DEFAULT_SETTINGS.model.threads,
      optimize: bool(m.optimize, DEFAULT_SETTINGS.model.optimize),
    },
    completion: {
      enabled: bool(c.enabled, dc.enabled),
      maxTokens: Math.min(512, Math.round(positive(c.maxTokens) ?? dc.maxTokens)),
      show: c.show === 'whole' || c.show === 'head' ? c.show : dc.show,
      minHeadProbability: unit(c.minHeadProbability) ?? dc.minHeadProbability,
      filters: bool(c.filters, dc.filters),
      localMemory: bool(c.localMemory, dc.localMemory),
      draftTrees: DRAFT_TREES.includes(c.draftTrees as DraftTreesSetting) ? (c.draftTrees as DraftTreesSetting) : dc.draftTrees,
      completeAhead: bool(c.completeAhead, dc.completeAhead),
      subtokenMerging: bool(c.subtokenMerging, dc.subtokenMerging),
      snippetTokens: Math.round(
        typeof c.snippetTokens === 'number' && c.snippetTokens >= 0 ? Math.min(c.snippetTokens, 1024) : dc.snippetTokens,
      ),
      minConfidence:
        typeof c.minConfidence === 'number' && c.minConfidence >= 0 && c.minConfidence <= 1 ? c.minConfidence : dc.minConfidence,
      fimTemplate: typeof c.fimTemplate === 'string' && c.fimTemplate ? c.fimTemplate : dc.fimTemplate,
      fimOrder: c.fimOrder === 'psm' || c.fimOrder === 'spm' ? c.fimOrder : 'auto',
      prefixTokens: Math.round(positive(c.prefixTokens) ?? dc.prefixTokens),
      suffixTokens: Math.round(typeof c.suffixTokens === 'number' && c.suffixTokens >= 0 ? c.suffixTokens : dc.suffixTokens),
      temperature: typeof c.temperature === 'number' && c.temperature >= 0 ? c.temperature : dc.temperature,
      topP: typeof c.topP === 'number' && c.topP > 0 && c.topP <= 1 ? c.topP : dc.topP,
      healing: healingMode(c.healing, c.tokenHealing, dc.healing),
      timeLimitMs: Math.round(typeof c.timeLimitMs === 'number' && c.timeLimitMs >= 100 ? Math.min(c.timeLimitMs, 60_000) : dc.timeLimitMs),
    },
    hub: {
      endpoint:
        typeof (r.hub as Record<string, unknown> | undefined)?.endpoint === 'string'
          ? String((r.hub as Record<string, unknown>).endpoint).trim()
          : '',
    },
    engine: readEngine((r.engine ?? {}) as Record<string, unknown>),
  };
}

function readEngine(e: Record<string, unknown>, apiKey = process.env.TESSERA_API_KEY?.trim()): EngineSettings {
  const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
  return {
    kind: ENGINE_KINDS.includes(e.kind as EngineKind) ? (e.kind as EngineKind) : 'local',
    url: text(e.url),
    model: text(e.model),
    tokenizer: expandHome(text(e.tokenizer)),
    fallback: e.fallback === 'local' ? 'local' : 'none',
    ...(apiKey ? { apiKey } : {}),
  };
}
