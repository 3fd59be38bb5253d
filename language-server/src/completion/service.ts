// Inline completion, from a document and a cursor to the text to show, in named steps:
//   window (the part of the document read) → context (prefix and suffix within token budgets)
//   → prompt (the family's FIM template, and how to complete from inside the last word) → generate
//   (the inference worker: model, decoding loop, stop rules) → filters (loops, echoes, re-typed
//   suffixes) → confident head (as much as the model is sure of) → post-process (syntax cut, suffix
//   overlap, indentation) → gate.
// Editor-agnostic: the LSP handler and the CLI both call complete().
import { join } from 'node:path';
import { chooseEngine, type EngineSettingsAll } from '../engines/choose';
import type { EngineRequest, EngineResult } from '../engines/engine';
import { type Served, Serving } from '../engines/serving';
import type { ExplainedToken } from '../generation/generate';
import type { InferenceLoad, ModelStatus } from '../lsp_ext';
import type { Engine } from '../model/decoder';
import { DEFAULT_SETTINGS, type HealingMode } from '../settings';
import { checkCanonical } from '../tokenizer/canonical';
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { CompletedAhead } from './ahead';
import { confidentHead } from './confidentHead';
import { applyFilters, aroundCursor } from './filters';
import type { OptimizeProgress } from '../engines/optimizeStep';
import { type DocumentSyntax, gate, headGate, postProcess } from './postProcess';
import { type CompletionShape, completionShape } from './shape';
import { type BuiltPrompt, PromptStep } from './promptStep';
import type { Neighbour } from './snippets';
import { TypedThrough } from './typedThrough';
import { completionWindow, type DocumentText, documentOf, type TextWindow } from './window';

export interface CompletionInput {
  uri: string;
  /** Path shown to the model as the file's name (workspace-relative when known). */
  path: string;
  document: DocumentText;
  offset: number;
  /** The document's syntax, for the check of multi-line completions (whole files only). */
  syntax?: DocumentSyntax;
  /** Other open documents: snippets of those of the same language join the prompt (asked for only when snippets are on). */
  neighbours?: () => readonly Neighbour[];
}

/** How one request departs from the settings (the FIM check and the benchmarks ask for these). */
export interface CompleteOptions {
  /** Called with a function that cancels the request. */
  onCancel?(cancel: () => void): void;
  /** Re-use the KV cache across requests (off only to measure what it saves). */
  reuseCache?: boolean;
  healing?: HealingMode;
  /** Force the shape: one line, or a block (otherwise the text around the cursor decides). */
  shape?: 'line' | 'block';
  maxTokens?: number;
  /** No confidence gate: the text is returned whatever the model's confidence (shown says if the gate would pass it). */
  ungated?: boolean;
  /** Each token's probability and this many alternatives (CompletionResult.explained). */
  explain?: number;
  /** Another head threshold than the setting's (the acceptance benchmark moves it). */
  minHeadProbability?: number;
  /** A completion computed ahead: it computes none ahead itself, and types through nothing. */
  speculative?: boolean;
}

export interface CompletionResult {
  /** Text to insert at the cursor ('' when nothing is worth showing). */
  text: string;
  /** The model that wrote it (a server's: `model @ host`; the local model's while it stands in for one). */
  model: string;
  shown: boolean;
  reason?: string;
  confidence: number;
  tokens: number;
  prefillTokens: number;
  reusedTokens: number;
  latencyMs: number;
  multiline: boolean;
  /** What the model wrote before post-processing. */
  raw: string;
  /** The prompt's token ids as they ran (after token healing's back-off). */
  prompt: number[];
  /** Time waiting for the engine (the worker, or the server's HTTP answer): the rest of latencyMs is the pipeline's own. */
  engineMs: number;
  /** Worker time: prompt run, then the token-by-token part. */
  prefillMs: number;
  decodeMs: number;
  /** Model passes after the prompt's, and prompt-lookup draft tokens proposed / accepted. */
  passes: number;
  drafted: number;
  accepted: number;
  /** How the completion started inside the cursor's word ('off' when it did not need to). */
  healing: HealingMode;
  /** With show 'head': the probability of the head kept (before post-processing). */
  headProbability?: number;
  /** The filter that last cut the model's text, if one did. */
  filteredBy?: string;
  /** The rest of the completion shown before, which the user has been typing (no model run). */
  typedThrough?: boolean;
  /** The other documents whose snippets were in the prompt. */
  snippets?: string[];
  /** Computed ahead, while the completion before it was shown (it was accepted). */
  computedAhead?: boolean;
  /** Decoding stopped at the time limit (this many ms). */
  timeLimitMs?: number;
  /** The model's tokens, and whether they are the tokenizer's own encoding of their text. */
  ids: number[];
  canonical: boolean;
  /** With `explain`: each of `ids` with its probability and likeliest alternatives. */
  explained?: ExplainedToken[];
}

/** The settings a completion service reads (the engine's may be left out: the local model). */
export type ServiceSettings = Omit<EngineSettingsAll, 'engine'> & { engine?: EngineSettingsAll['engine'] };

/** The n-gram cache's weight β: the best held-out bits per byte of those tried (bench/memory.ts). */
const MEMORY_BETA = 8;

export class CompletionService {
  private serving: Serving | undefined;
  private opening: Promise<void> | undefined;
  private engineKey = '';
  private readonly prompts = new PromptStep(() => this.settings.completion);
  private readonly typedThrough = new TypedThrough();
  private readonly ahead = new CompletedAhead<CompletionResult>();
  status: ModelStatus = { state: 'off' };
  /** Prompt-lookup drafts per pass (0: off); the typing benchmark compares both. */
  maxDraft = 8;
  /** How the model runs: 'auto' (in-place cache where possible) or 'binding' (the benchmark's comparison). */
  engine: Engine = 'auto';

  /** `tokenizers` is the process's registry (shared with the lens: a tokenizer.json is parsed once). */
  constructor(
    private settings: ServiceSettings,
    private readonly tokenizers: TokenizerRegistry,
    private readonly onStatus: (s: ModelStatus) => void = () => undefined,
    private readonly workerFile = join(__dirname, 'worker.js'),
    /** Shows an optimization's progress in the editor, with a cancel (the server's work-done progress). */
    private readonly optimizeProgress?: (name: string) => Promise<OptimizeProgress | undefined>,
  ) {}

  /** New settings; reopens the engine when what it serves changed (the model's folder, precision, threads; the server). */
  configure(settings: ServiceSettings): Promise<void> {
    this.settings = settings;
    if (!settings.completion.enabled) {
      this.setStatus({ state: 'off' });
      return Promise.resolve();
    }
    return this.ensureOpen();
  }

  forget(uri: string): void {
    this.prompts.forget(uri);
    this.typedThrough.forget(uri);
    this.ahead.forget(uri);
  }

  /** The completion at `input.offset`, or null when superseded/cancelled or completions are off. */
  async complete(input: CompletionInput, options: CompleteOptions = {}): Promise<CompletionResult | null> {
    const c = this.settings.completion;
    if (!c.enabled) return null;
    const t0 = performance.now();
    // Read now, with the syntax tree the caller copied: the document may change during the awaits.
    const window = completionWindow(input.document, input.offset);
    const interactive = window.whole && !options.ungated && !options.speculative;
    const rest = interactive ? this.typedThrough.rest(input.uri, window.text, window.offset) : undefined;
    if (rest !== undefined) return this.typedThroughResult(rest, t0, this.modelName);
    const ready = interactive ? await this.ahead.take(input.uri, window.text, window.offset) : undefined;
    if (ready) {
      if (ready.shown) this.typedThrough.remember(input.uri, window.text, window.offset, ready.text);
      return { ...ready, latencyMs: performance.now() - t0, computedAhead: true };
    }
    const served = await this.served();
    if (!served) return null; // the health already says why
    const model = served.model;
    const built = this.prompts.build(
      model,
      {
        uri: input.uri,
        path: input.path,
        window,
        ...(input.syntax ? { syntax: input.syntax } : {}),
        ...(input.neighbours ? { neighbours: input.neighbours } : {}),
      },
      { maxTokens: options.maxTokens ?? c.maxTokens, remember: !options.speculative, healing: options.healing ?? c.healing },
    );
    const shape = completionShape(window.text, window.offset, options.shape);
    const request = this.request(input, built, shape, options);
    const engineStart = performance.now();
    const generated = await this.generate(served, request, options);
    const engineMs = performance.now() - engineStart;
    if (!generated) return null;
    const g = generated.generation;
    const filtered = c.filters ? applyFilters(g.text, aroundCursor(window.text, window.offset), shape.multiline) : { text: g.text };
    const minHead = options.minHeadProbability ?? c.minHeadProbability;
    const head = c.show === 'head' && !options.ungated ? confidentHead(filtered.text, g.trace, minHead, shape.multiline) : undefined;
    const processed = postProcess(head?.text ?? filtered.text, shape, window, input.syntax);
    const gated = head ? headGate(processed, head, filtered, minHead) : gate(processed, g.confidence, c.minConfidence);
    const shown = options.ungated && !processed.reason ? { text: processed.text, reason: gated.reason } : gated;
    const latencyMs = performance.now() - t0;
    this.status = { ...this.status, lastLatencyMs: latencyMs };
    if (interactive) {
      this.typedThrough.remember(input.uri, window.text, window.offset, gated.reason ? '' : shown.text);
      if (!gated.reason && c.completeAhead) this.completeAhead(input, window, shown.text);
    }
    return {
      text: shown.text,
      model: model.name,
      shown: !gated.reason,
      reason: shown.reason,
      confidence: g.confidence,
      tokens: g.tokens.length,
      prefillTokens: g.prefillTokens,
      reusedTokens: g.reusedTokens,
      latencyMs,
      multiline: shape.multiline,
      raw: g.text,
      prompt: generated.prompt,
      engineMs,
      prefillMs: g.prefillMs,
      decodeMs: g.decodeMs,
      passes: g.passes,
      drafted: g.drafted,
      accepted: g.accepted,
      healing: built.healing?.mode ?? 'off',
      ...(built.snippets.length ? { snippets: built.snippets.map((x) => x.path) } : {}),
      ...(head ? { headProbability: head.probability } : {}),
      ...(filtered.by ? { filteredBy: filtered.by } : {}),
      ...(g.stoppedBy === 'time' ? { timeLimitMs: c.timeLimitMs } : {}),
      ids: g.tokens,
      canonical: served.engine.kind !== 'local' || checkCanonical(model.tokenizer, g.tokens)?.canonical !== false,
      ...(g.explained ? { explained: g.explained } : {}),
    };
  }

  /** Starts computing the completion that follows `shown` once accepted (not awaited). */
  private completeAhead(input: CompletionInput, window: TextWindow, shown: string): void {
    const text = window.text.slice(0, window.offset) + shown + window.text.slice(window.offset);
    const offset = window.offset + shown.length;
    const next = this.complete(
      { ...input, document: documentOf(text), offset, syntax: input.syntax && { parser: input.syntax.parser } },
      { speculative: true },
    );
    this.ahead.store(
      input.uri,
      text,
      offset,
      next.catch(() => null),
    );
  }

  /** The rest of a completion the user is typing through: shown again, no model run. */
  private typedThroughResult(rest: string, t0: number, model: string): CompletionResult {
    const latencyMs = performance.now() - t0;
    return {
      text: rest,
      model,
      shown: true,
      confidence: 1,
      tokens: 0,
      prefillTokens: 0,
      reusedTokens: 0,
      latencyMs,
      multiline: rest.includes('\n'),
      raw: rest,
      prompt: [],
      engineMs: 0,
      prefillMs: 0,
      decodeMs: 0,
      passes: 0,
      drafted: 0,
      accepted: 0,
      healing: 'off',
      ids: [],
      canonical: true,
      typedThrough: true,
    };
  }

  /** The engine to complete with, opening it first if settings asked for another; undefined if none can. */
  private async served(): Promise<Served | undefined> {
    await this.ensureOpen();
    return this.serving?.current();
  }

  /**
   * Fills a server's cache for a document just opened (llama.vscode does the same): the prompt for
   * the cursor at the document's start, sent for no tokens. Not awaited; a local model needs none.
   */
  async warm(input: CompletionInput): Promise<void> {
    if (!this.settings.completion.enabled || (this.settings.engine?.kind ?? 'local') === 'local') return;
    const served = await this.served();
    if (!served?.engine.warm) return;
    const window = completionWindow(input.document, input.offset);
    const built = this.prompts.build(
      served.model,
      { uri: input.uri, path: input.path, window, ...(input.neighbours ? { neighbours: input.neighbours } : {}) },
      { maxTokens: this.settings.completion.maxTokens, remember: false, healing: 'off' },
    );
    served.engine.warm(this.request(input, built, completionShape(window.text, window.offset), {}));
  }

  /** The request the engine gets: the prompt as text parts and as ids, and how to decode. */
  private request(input: CompletionInput, built: BuiltPrompt, shape: CompletionShape, options: CompleteOptions): EngineRequest {
    const c = this.settings.completion;
    const maxTokens = options.maxTokens ?? c.maxTokens;
    const ctx = built.context;
    return {
      uri: input.uri,
      parts: { path: input.path, snippets: built.snippets, prefix: ctx.prefix, prefixIds: ctx.prefixIds, suffix: ctx.suffix },
      prompt: built.prompt,
      shape,
      ...(built.healing ? { healing: built.healing } : {}),
      ...(built.mergeRuns ? { mergeRuns: built.mergeRuns } : {}),
      maxTokens: shape.multiline ? maxTokens : Math.min(maxTokens, 48),
      temperature: c.temperature,
      topP: c.topP,
      reuseCache: options.reuseCache ?? true,
      timeLimitMs: c.timeLimitMs,
      maxDraft: this.maxDraft,
      draftTrees: c.draftTrees,
      ...(options.explain ? { explain: options.explain } : {}),
      ...(c.localMemory ? { memory: { beta: MEMORY_BETA, ids: [] } } : {}),
    };
  }

  /** The engine's text for `request`; null if superseded or cancelled, or the server failed (the status says so). */
  private async generate(served: Served, request: EngineRequest, options: CompleteOptions): Promise<EngineResult | null> {
    try {
      return await served.engine.generate(request, options.onCancel);
    } catch (err) {
      if (!served.fallback && this.serving?.failed(err)) return null;
      throw err;
    }
  }

  private ensureOpen(): Promise<void> {
    const s = this.settings;
    const engine = s.engine ?? DEFAULT_SETTINGS.engine;
    const key = JSON.stringify([
      engine,
      s.model.path,
      s.model.precision,
      s.model.threads,
      s.model.optimize,
      s.completion.fimTemplate,
      s.completion.fimOrder,
      s.completion.subtokenMerging,
    ]);
    // Same settings: whatever happened stands (a folder that failed is not retried per keystroke;
    // a crashed worker is opened again by the serving, on the next request).
    if (key === this.engineKey && this.serving) return this.opening ?? Promise.resolve();
    this.engineKey = key;
    const old = this.serving;
    void old?.dispose();
    // What the last model showed or computed ahead is not the new one's.
    this.typedThrough.clear();
    this.ahead.clear();
    const choice = chooseEngine(
      { ...s, engine },
      {
        tokenizers: this.tokenizers,
        workerFile: this.workerFile,
        decoder: this.engine,
        ...(this.optimizeProgress ? { optimizeProgress: this.optimizeProgress } : {}),
        onCrash: (message) => serving.crashed(message),
      },
    );
    const serving = new Serving(choice.engine, choice.label, choice.fallback, (status) => {
      if (this.serving === serving) this.setStatus(status);
    });
    this.serving = serving;
    const opening = serving.open().finally(() => {
      if (this.opening === opening) this.opening = undefined;
    });
    this.opening = opening;
    return opening;
  }

  private setStatus(s: ModelStatus): void {
    this.status = { ...s, lastLatencyMs: this.status.lastLatencyMs };
    this.onStatus(this.status);
  }

  get inference(): InferenceLoad {
    return this.serving?.inFlight ?? { workers: 0, pendingRequests: 0 };
  }

  /** The model of the engine the settings chose (its name also while its server is down). */
  get modelName(): string {
    return this.serving?.model?.name ?? '';
  }

  /** The served model's tokenizer (the registry's: shared with the lens). */
  get tokenizer(): Tokenizer | undefined {
    return this.serving?.model?.tokenizer;
  }

  dispose(): Promise<void> {
    return this.serving?.dispose() ?? Promise.resolve();
  }
}
