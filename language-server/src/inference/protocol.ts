// Messages between the server and its inference worker (one model session, one request at a time).
import type { Generation } from '../generation/generate';
import type { StopSpec } from '../generation/stops';
import type { ModelConfig } from '../model/config';
import type { HealingPlan } from '../prompt/healing';
import type { MergedRun } from '../syntax/merging';
import type { Engine } from '../model/decoder';
import type { CacheLayout } from '../model/session';
import type { DraftTreesSetting } from '../settings';
import type { PackedTokenTable } from '../tokenizer/tokenTable';

/** The server opened the model folder and loaded its tokenizer: the worker gets what it needs of them. */
export interface LoadMessage {
  type: 'load';
  onnxPath: string;
  config: ModelConfig;
  /** The tokenizer's vocabulary as bytes (the server parsed tokenizer.json; the worker never does). */
  vocabulary: PackedTokenTable;
  threads: number;
  /** 'auto': the in-place cache where the model allows it; 'binding': onnxruntime-node (to measure it). */
  engine: Engine;
  /** Int32Array over a SharedArrayBuffer: [latest request id]; a running request whose id is older stops. */
  latest: SharedArrayBuffer;
}

export interface GenerateRequest {
  prompt: number[];
  /** Where the prefix's tokens end in `prompt` (its end in SPM, before the suffix in PSM). */
  prefixEnd: number;
  /** Completing from inside the prefix's last word: its tokens leave the prompt at prefixEnd. */
  healing?: HealingPlan;
  stopIds: number[];
  /** Control tokens that must never be generated. */
  suppressIds: number[];
  maxTokens: number;
  stop: StopSpec;
  temperature: number;
  topP: number;
  seed?: number;
  /** Longest prompt-lookup draft verified in one pass (greedy only); 0: no drafts at all. */
  maxDraft: number;
  /** Token Recycling draft trees (greedy, exports with an attention bias): measured per model, always, or never. */
  draftTrees: DraftTreesSetting;
  /** Re-use the KV cache across requests (off only to measure what it saves). */
  reuseCache: boolean;
  /** Merging exports: identifiers of the prompt pooled into one position each (prompt token indices). */
  mergeRuns?: MergedRun[];
  /** Decoding stops starting steps this many ms after the worker takes the request up. */
  timeLimitMs: number;
  /** Record each token's probability and this many alternatives. */
  explain?: number;
  /** Local memory: mix an n-gram cache of the prompt (and these tokens) into the model, weight β. */
  memory?: { beta: number; ids: number[] };
}

export interface GenerateMessage {
  type: 'generate';
  id: number;
  request: GenerateRequest;
}

/** Release the model's native memory, then exit. */
export interface DisposeMessage {
  type: 'dispose';
}

export type ToWorker = LoadMessage | GenerateMessage | DisposeMessage;

export interface ModelInfo {
  onnxPath: string;
  config: ModelConfig;
  cache: CacheLayout;
  mergedDecoder: boolean;
  /** Longest prompt + completion the cache holds. */
  contextLimit: number;
  /** 'in-place': the cache stays in onnxruntime and grows in place; 'copied': it crosses the binding each run. */
  cacheMode: 'in-place' | 'copied';
  copiedBecause?: string;
  /** The export takes an attention bias: Token Recycling's draft trees verify in one pass. */
  draftTrees: boolean;
  /** The export takes token groups: identifiers' subtokens can share a position (subtoken merging). */
  merges: boolean;
  loadMs: number;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-error'; message: string }
  /** `prompt` as it ran (after healing's back-off). */
  | { type: 'result'; id: number; generation: Generation; prompt: number[]; ms: number }
  | { type: 'error'; id: number; message: string };
