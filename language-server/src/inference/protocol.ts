// Messages between the server and its inference worker (one model session, one request at a time).
import type { Generation } from '../generation/generate';
import type { CompletionShape } from '../generation/stops';
import type { ModelConfig } from '../model/config';
import type { Engine } from '../model/decoder';
import type { Precision } from '../model/folder';
import type { CacheLayout } from '../model/session';

export interface LoadMessage {
  type: 'load';
  dir: string;
  precision: Precision;
  threads: number;
  /** 'auto': the in-place cache where the model allows it; 'binding': onnxruntime-node (to measure it). */
  engine: Engine;
  /** Int32Array over a SharedArrayBuffer: [latest request id]; a running request whose id is older stops. */
  latest: SharedArrayBuffer;
}

export interface GenerateRequest {
  prompt: number[];
  stopIds: number[];
  /** Control tokens that must never be generated. */
  suppressIds: number[];
  maxTokens: number;
  shape: CompletionShape;
  /** Bytes backed off from the prompt's end (token healing): the output must start with them. */
  healingBytes?: number[];
  temperature: number;
  topP: number;
  seed?: number;
  /** Longest prompt-lookup draft verified in one pass (greedy only); 0: none. */
  maxDraft: number;
  /** Re-use the KV cache across requests (off only to measure what it saves). */
  reuseCache: boolean;
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
  dir: string;
  onnxPath: string;
  config: ModelConfig;
  cache: CacheLayout;
  mergedDecoder: boolean;
  /** Longest prompt + completion the cache holds. */
  contextLimit: number;
  /** 'in-place': the cache stays in onnxruntime and grows in place; 'copied': it crosses the binding each run. */
  cacheMode: 'in-place' | 'copied';
  copiedBecause?: string;
  loadMs: number;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; generation: Generation; ms: number }
  | { type: 'error'; id: number; message: string };
