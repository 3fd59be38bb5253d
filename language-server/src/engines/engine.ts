// What the completion pipeline asks of whatever writes the text: the in-process ONNX model, a llama.cpp
// server, or an OpenAI-compatible server. Every step around it (window, context, snippets, shape, stop
// rules, filters, the confident head, typing-through, complete-ahead) is the same code for all of them;
// an engine only says what model it serves and turns one prompt into one generation.
import type { Generation } from '../generation/generate';
import type { EngineKind, InferenceLoad } from '../lsp_ext';
import type { FimOrder, FimParts, FimPrompt, FimTemplate } from '../prompt/fim';
import type { HealingPlan } from '../prompt/healing';
import type { DraftTreesSetting } from '../settings';
import type { MergedRun } from '../syntax/merging';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { StopSpec } from '../generation/stops';

export { ENGINE_KINDS, type EngineKind } from '../lsp_ext';

/** The model an engine serves, as the pipeline needs to know it. */
export interface ServedModel {
  /** Shown in the status bar: the model's name (and the server's address for a server). */
  name: string;
  /** Counts the prompt's budgets, builds id prompts: the served model's own, or an estimate (tokensFrom says). */
  tokenizer: Tokenizer;
  /** Where the tokens come from, for Show Server Info. */
  tokensFrom: string;
  /** The FIM layout Tessera writes; undefined where the engine lays out FIM itself (llama.cpp's /infill) or the model has none. */
  template: FimTemplate | undefined;
  order: FimOrder;
  /** Longest prompt + completion, in tokens. */
  contextLimit: number;
  /** Other files' snippets can go into the prompt (a file separator in the template, or the engine's own field). */
  snippets: boolean;
  /** Identifiers' subtokens can share a position (the local merging export). */
  merges: boolean;
  /** How it can complete from inside a word: token healing, exact byte-level prompting (prompt/healing.ts). */
  healingModes: ReadonlyArray<'heal' | 'exact'>;
  /** Why a mode is missing, for the status. */
  healingNote?: string;
  /** The engine constrains the healed word's tokens itself (llama.cpp's grammar): only the word is planned. */
  healsItself?: true;
  /** One line for Show Server Info and the status tooltip. */
  description: string;
  fimTemplate: string;
  /** The local model's folder and decoder file (Show Server Info). */
  dir?: string;
  onnxFile?: string;
  /** The server's address. */
  url?: string;
}

/** One completion's prompt and decoding settings, as the pipeline built them. */
export interface EngineRequest {
  /** The document: a server keeps its cache per document (llama.cpp's slot). */
  uri: string;
  /** The prompt as text parts (what a server gets)… */
  parts: FimParts;
  /** …and as token ids in the template's layout (what the local model runs). */
  prompt: FimPrompt;
  healing?: HealingPlan;
  mergeRuns?: MergedRun[];
  /** Where the text should stop: a server gets what it can express of it, and the rules cut again after. */
  shape: StopSpec;
  maxTokens: number;
  temperature: number;
  topP: number;
  timeLimitMs: number;
  reuseCache: boolean;
  maxDraft: number;
  draftTrees: DraftTreesSetting;
  explain?: number;
  memory?: { beta: number; ids: number[] };
}

export interface EngineResult {
  generation: Generation;
  /** The prompt's ids as they ran (after healing's back-off); empty where a server tokenized text. */
  prompt: number[];
}

export interface CompletionEngine {
  readonly kind: EngineKind;
  /** Loads the model or reaches the server; throws an Error that says what is wrong. */
  open(): Promise<ServedModel>;
  /**
   * The text for `request`; null when superseded (a newer request came) or cancelled. Throws on faults
   * (EngineFault for a server's: an outage, retried by opening the engine again).
   */
  generate(request: EngineRequest, onCancel?: (cancel: () => void) => void): Promise<EngineResult | null>;
  /** Fills the server's cache for a document just opened (not awaited; faults are ignored). */
  warm?(request: EngineRequest): void;
  readonly inFlight: InferenceLoad;
  dispose(): Promise<void>;
}
