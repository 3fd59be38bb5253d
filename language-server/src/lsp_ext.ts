// Every custom request and notification between the Tessera client and server, with its types.
// Both sides import this file, so a change to the protocol is a change in one place.
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** What the client passes in `initialize.initializationOptions`. */
export interface InitializationOptions {
  logLevel?: LogLevel;
  /** The `tessera` settings section (language-server/src/settings.ts reads it). */
  settings?: unknown;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The server's own judgement of whether it can do its job; the client only displays it. */
export type HealthState = 'ok' | 'warning' | 'error';

export interface Health {
  state: HealthState;
  /** One line, shown in the status bar tooltip (and as the reason on error). */
  message: string;
  /** Longer explanation, written to the output channel. */
  detail?: string;
  /** The completion model's name while it loads or runs (the status bar shows it). */
  model?: string;
  /** A completion server's fault while it lasts (the client tells the user once per outage). */
  fault?: string;
}

/** Pushed by the server whenever its health changes (first right after `initialized`). */
export const healthNotification = new NotificationType<Health>('tessera/health');

export interface OnnxRuntimeInfo {
  available: boolean;
  version?: string;
  /** Why it could not be loaded, when it could not. */
  error?: string;
}

export interface ServerInfo {
  name: string;
  version: string;
  pid: number;
  node: string;
  platform: string;
  arch: string;
  /** ISO time the process started. */
  startedAt: string;
  uptimeMs: number;
  onnxruntime: OnnxRuntimeInfo;
  health: Health;
  openDocuments: number;
  tokenizer: TokenizerStatus;
  model: ModelStatus;
  inference: InferenceLoad;
}

/** Inference threads and the requests they hold: what a burst or a crash may leave behind. */
export interface InferenceLoad {
  workers: number;
  pendingRequests: number;
}

/** What writes completions (tessera.engine.kind): the local model, or a server a team shares. */
export const ENGINE_KINDS = ['local', 'llama.cpp', 'openai'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** The completion model as the server holds it. */
export interface ModelStatus {
  state: 'loading' | 'ready' | 'error' | 'off';
  /** Folder name (e.g. tessera-tiny). */
  name?: string;
  dir?: string;
  onnxFile?: string;
  /** e.g. "llama, 6 layers, 4 heads (4 kv), vocab 8192, split cache" */
  description?: string;
  fimTemplate?: string;
  error?: string;
  lastLatencyMs?: number;
  /** What writes the completions: the local model or a server (tessera.engine.kind). */
  engine?: EngineKind;
  /** The server's address. */
  url?: string;
  /** Where the prompt's tokens are counted from (a server's model: its tokenizer.json, or an estimate). */
  tokens?: string;
  /** How completing from inside a word works with this engine, where it differs from the local model. */
  healingNote?: string;
  /** The server failed (unreachable, refused key, 5xx, too slow): what kind, while it lasts. */
  fault?: string;
}

export const serverInfoRequest = new RequestType0<ServerInfo, void>('tessera/serverInfo');

export interface DocumentStatsParams {
  uri: string;
}

export interface DocumentStats {
  uri: string;
  version: number;
  lines: number;
  /** Length in UTF-16 code units, VS Code's unit for offsets. */
  utf16Length: number;
  /** Size of the text encoded as UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
  utf8Bytes: number;
}

/** Statistics of an open document as the server sees it: proves that document sync is exact. */
export const documentStatsRequest = new RequestType<DocumentStatsParams, DocumentStats | null, void>('tessera/documentStats');

// ── Completions ──────────────────────────────────────────────────────────────────────────────

/** What one inline completion cost and how sure the model was (pushed after each request). */
export interface CompletionInfo {
  uri: string;
  model: string;
  latencyMs: number;
  tokens: number;
  prefillTokens: number;
  reusedTokens: number;
  confidence: number;
  /** False when the confidence gate or the syntax held it back. */
  shown: boolean;
  reason?: string;
  /** How it started inside the cursor's word: 'off' (it did not), 'heal' or 'exact'. */
  healing?: HealingMode;
  /** False when the model's tokens are not the tokenizer's own encoding of their text. */
  canonical?: boolean;
  /** The filter that cut the model's text (a loop, an echo, …), if one did. */
  filteredBy?: string;
  /** With show 'head': the probability of the head kept. */
  headProbability?: number;
  /** The rest of the completion shown before, which the user has been typing (no model run). */
  typedThrough?: boolean;
  /** The other open documents whose snippets were in the prompt. */
  snippets?: string[];
  /** Computed ahead while the completion before it was shown (it was accepted). */
  computedAhead?: boolean;
  /** Decoding stopped at tessera.completion.timeLimitMs (this many ms); what it had written is what was shown. */
  timeLimitMs?: number;
}

export const completionInfoNotification = new NotificationType<CompletionInfo>('tessera/completionInfo');

// ── Token Lens ────────────────────────────────────────────────────────────────────────────────

/** Tokens are sent as parallel arrays; offsets are UTF-16 code units into the document. */
export interface TokenRun {
  ids: number[];
  starts: number[];
  ends: number[];
  /** Bit 1: starts inside a character it shares; bit 2: ends inside one. */
  flags: number[];
  /** Each token's index in the file (from the start of its line when the file is too large). */
  indices: number[];
}

export interface TokensParams {
  uri: string;
  /** Ranges as UTF-16 offsets [start, end); the client sends its visible ranges. */
  ranges: Array<[number, number]>;
}

export interface TokensResult extends TokenRun {
  /** Document version the offsets refer to. */
  version: number;
  tokenizer: string;
  /** Set when the result is partial or approximate, saying why (shown to the user). */
  note?: string;
}

export const tokensRequest = new RequestType<TokensParams, TokensResult | null, void>('tessera/tokens');

export interface CountParams {
  uri: string;
  /** Selections as UTF-16 offsets; empty or absent: the whole file. */
  ranges?: Array<[number, number]>;
}

export interface CountResult {
  version: number;
  tokenizer: string;
  tokens: number;
  characters: number;
  /** Whether the count is of the selection (true) or the file. */
  selection: boolean;
  /** Set when no count could be made (file too large, no tokenizer): the reason. */
  unavailable?: string;
}

export const countRequest = new RequestType<CountParams, CountResult | null, void>('tessera/count');

export interface TokenAtParams {
  uri: string;
  offset: number;
}

export interface TokenAtResult {
  id: number;
  start: number;
  end: number;
  /** Hover text (markdown) composed by the server. */
  markdown: string;
}

export const tokenAtRequest = new RequestType<TokenAtParams, TokenAtResult | null, void>('tessera/tokenAt');

export interface CompareParams {
  uri: string;
  range?: [number, number];
}

export interface CompareRow {
  tokenizer: string;
  /** Which tokenizer the lens uses. */
  active: boolean;
  tokens?: number;
  charsPerToken?: number;
  error?: string;
}

export interface CompareResult {
  characters: number;
  selection: boolean;
  rows: CompareRow[];
}

export const compareRequest = new RequestType<CompareParams, CompareResult, void>('tessera/compareTokenizers');

/** Pushed when the active tokenizer changes or fails to load, so the client can refresh. */
export interface TokenizerStatus {
  name?: string;
  path?: string;
  vocabSize?: number;
  error?: string;
}

export const tokenizerStatusNotification = new NotificationType<TokenizerStatus>('tessera/tokenizerStatus');

// ── FIM check ────────────────────────────────────────────────────────────────────────────────

/** Completing from inside a word: not at all, token healing, or exact byte-level prompting. */
export type HealingMode = 'off' | 'heal' | 'exact';

/** Whole lines, multi-line blocks at statement boundaries, random character spans. */
export type SpanKind = 'line' | 'multiline' | 'random';

export interface FimCheckParams {
  uri: string;
  /** Only spans inside [from, to) (a selection, UTF-16 offsets). */
  range?: [number, number];
  kinds?: SpanKind[];
  /** Spans of each kind (default 8). */
  n?: number;
  modes?: HealingMode[];
  seed?: number;
}

/** A token of a fill as the model chose it: its text, probability and likeliest alternatives. */
export interface TokenView {
  text: string;
  p: number;
  alternatives: Array<{ text: string; p: number }>;
}

export interface FimFill {
  text: string;
  /** What the model wrote, before the editor's post-processing cut it to `text`. */
  raw: string;
  /** Why post-processing left nothing, when it did. */
  reason?: string;
  exactMatch: boolean;
  editSimilarity: number;
  parses: boolean;
  canonical: boolean;
  /** Whether the editor would show it (the confidence gate) and the model's confidence. */
  shown: boolean;
  confidence: number;
  latencyMs: number;
  tokens: TokenView[];
}

export interface FimSample {
  file: string;
  kind: SpanKind;
  /** The span cut out: [start, end) in UTF-16 offsets of the file. */
  start: number;
  end: number;
  expected: string;
  /** The expected text as the model's tokenizer cuts it. */
  expectedTokens: string[];
  generated: Partial<Record<HealingMode, string>>;
  fills: Partial<Record<HealingMode, FimFill>>;
}

export interface FimScores {
  n: number;
  /** Rates in 0..1; latency in ms (median). */
  exactMatch: number;
  editSimilarity: number;
  parseRate: number;
  nonCanonical: number;
  latencyMs: number;
}

export interface FimReport {
  model: string;
  seed: number;
  modes: HealingMode[];
  samples: FimSample[];
  summary: Partial<Record<HealingMode, FimScores>>;
  byKind: Partial<Record<SpanKind, Partial<Record<HealingMode, FimScores>>>>;
}

/** Runs the FIM check on an open document (a model of its own, so typing's completions go on). */
export const fimCheckRequest = new RequestType<FimCheckParams, FimReport, void>('tessera/fimCheck');

export interface FimCheckProgress {
  uri: string;
  done: number;
  total: number;
}

/** Pushed while a FIM check runs. */
export const fimCheckProgressNotification = new NotificationType<FimCheckProgress>('tessera/fimCheckProgress');

/** Models: what is on this machine and in the catalogue. `folders`: model folders the user added. */
export interface ModelsParams {
  folders?: string[];
}

export interface ModelEntry {
  /** `org/name` for the Hugging Face cache's models; the folder's name otherwise. */
  name: string;
  dir: string;
  repo?: string;
  precisions: string[];
  bytes: number;
  source: 'embedded' | 'hub-cache' | 'folder';
}

export interface CatalogueEntry {
  repo: string;
  label: string;
  params: string;
  licence: string;
  kind: 'base' | 'instruct';
  fim: string;
  note: string;
  /** Precision → approximate download size in bytes. */
  precisions: Record<string, number>;
  recommended: string;
  /** Approximate memory the recommended precision needs to run, in bytes. */
  memoryBytes: number;
  /** Precisions already in the cache. */
  installed: string[];
}

export interface ModelsList {
  /** The Hugging Face cache folder the list was read from. */
  cache: string;
  /** HF_HUB_OFFLINE is set: nothing can be downloaded. */
  offline: boolean;
  endpoint: string;
  installed: ModelEntry[];
  catalogue: CatalogueEntry[];
  /** This machine's memory, to warn about models that will not fit. */
  memoryBytes: number;
}

export const modelsRequest = new RequestType<ModelsParams, ModelsList, void>('tessera/models');

/** The ONNX decoders a Hub repo offers (for "Enter a Hugging Face repo id…"). */
export interface RepoFilesParams {
  repo: string;
  revision?: string;
  /** A Hugging Face token from the editor's secret storage; never logged. */
  token?: string;
  /** The editor's http.proxy setting, for https requests. */
  proxy?: string;
}

export interface RepoFiles {
  repo: string;
  commit: string;
  precisions: string[];
}

export const repoFilesRequest = new RequestType<RepoFilesParams, RepoFiles, void>('tessera/models/repoFiles');

/** Downloads one precision of a repo into the Hugging Face cache; cancel with the request's token. */
export interface PullParams {
  repo: string;
  precision: string;
  revision?: string;
  /** A Hugging Face token from the editor's secret storage; never logged. */
  token?: string;
  /** The editor's http.proxy setting, for https requests. */
  proxy?: string;
}

export interface PullResultInfo {
  repo: string;
  /** The snapshot folder: what tessera.model.path is set to. */
  dir: string;
  commit: string;
  precision: string;
  fetchedBytes: number;
  cachedBytes: number;
}

export const pullRequest = new RequestType<PullParams, PullResultInfo, void>('tessera/models/pull');

export interface PullProgressInfo {
  repo: string;
  file: string;
  bytes: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft?: number;
}

export const pullProgressNotification = new NotificationType<PullProgressInfo>('tessera/models/pullProgress');
