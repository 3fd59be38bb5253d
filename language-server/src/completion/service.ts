// Inline completion, from a document and a cursor to the text to show:
//   document → context (prefix/suffix in budget) → FIM prompt (+ token healing) → worker (model, decoder)
//   → syntax and suffix trimming → confidence gate.
// Editor-agnostic: the LSP handler and the CLI both call complete().
import { basename, join } from 'node:path';
import type { Parser, Tree } from 'web-tree-sitter';
import { planHealing, VocabIndex } from '../generation/healing';
import { trimSuffixOverlap } from '../generation/stops';
import type { ModelStatus } from '../lsp_ext';
import type { CompletionSettings, ModelSettings } from '../settings';
import { openModelFolder } from '../model/folder';
import { ModelHost } from '../inference/host';
import type { Engine } from '../model/decoder';
import type { ModelInfo } from '../inference/protocol';
import { buildFimPrompt, detectFimTemplate, type FimOrder, type FimTemplate } from '../prompt/fim';
import { Tokenizer } from '../tokenizer/tokenizer';
import { PrefixAnchors } from './context';
import { completionShape, indentUnit, matchIndentation } from './shape';
import { syntaxCut } from './syntaxCut';

/** The embedded default model, shipped beside the bundles (dist/ → ../models/tessera-tiny). */
export const DEFAULT_MODEL_DIR = join(__dirname, '..', 'models', 'tessera-tiny');

export interface CompletionInput {
  uri: string;
  /** Path shown to the model as the file's name (workspace-relative when known). */
  path: string;
  text: string;
  offset: number;
  /** Tree-sitter parser of the document's language, for the syntax check of multi-line completions. */
  parser?: Parser;
  /** The document's own tree for `text`, when one is kept (the check then starts from it, not a parse). */
  tree?: Tree;
}

export interface CompletionResult {
  /** Text to insert at the cursor ('' when nothing is worth showing). */
  text: string;
  shown: boolean;
  reason?: string;
  confidence: number;
  tokens: number;
  prefillTokens: number;
  reusedTokens: number;
  latencyMs: number;
  multiline: boolean;
  /** What the model wrote before trimming. */
  raw: string;
  /** The prompt's token ids (after token healing's back-off). */
  prompt: number[];
  /** Worker time: prompt run, then the token-by-token part. */
  prefillMs: number;
  decodeMs: number;
  /** Model passes after the prompt's, and prompt-lookup draft tokens proposed / accepted. */
  passes: number;
  drafted: number;
  accepted: number;
}

interface Loaded {
  info: ModelInfo;
  tokenizer: Tokenizer;
  index: VocabIndex;
  template: FimTemplate | undefined;
  order: FimOrder;
  stopIds: number[];
  suppressIds: number[];
  name: string;
}

export class CompletionService {
  private readonly host: ModelHost;
  private loaded: Loaded | undefined;
  private loading: Promise<void> | undefined;
  private modelKey = '';
  private readonly anchors = new PrefixAnchors();
  status: ModelStatus = { state: 'off' };
  /** Prompt-lookup drafts per pass (0: off); the typing benchmark compares both. */
  maxDraft = 8;
  /** How the model runs: 'auto' (in-place cache where possible) or 'binding' (the benchmark's comparison). */
  engine: Engine = 'auto';

  constructor(
    private settings: { model: ModelSettings; completion: CompletionSettings },
    private readonly onStatus: (s: ModelStatus) => void = () => undefined,
    workerFile?: string,
  ) {
    this.host = new ModelHost(workerFile, (message) => {
      this.loaded = undefined;
      this.modelKey = '';
      this.setStatus({ state: 'error', error: `${message}; it is restarted on the next completion` });
    });
  }

  /** New settings; reloads the model when its folder, precision or threads changed. */
  configure(settings: { model: ModelSettings; completion: CompletionSettings }): Promise<void> {
    this.settings = settings;
    if (!settings.completion.enabled) {
      this.setStatus({ state: 'off' });
      return Promise.resolve();
    }
    return this.ensureLoaded();
  }

  private ensureLoaded(): Promise<void> {
    const m = this.settings.model;
    const key = JSON.stringify([m.path || DEFAULT_MODEL_DIR, m.precision, m.threads, this.settings.completion.fimTemplate, this.settings.completion.fimOrder]);
    // Same settings: whatever happened stands (a folder that failed is not retried per keystroke;
    // a crashed worker clears the key, so the next request loads again).
    if (key === this.modelKey) return this.loading ?? Promise.resolve();
    this.modelKey = key;
    this.loaded = undefined;
    const loading = this.load(m.path || DEFAULT_MODEL_DIR, m, key).finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }

  private async load(dir: string, m: ModelSettings, key: string): Promise<void> {
    const name = basename(dir);
    this.setStatus({ state: 'loading', name, dir });
    try {
      const folder = openModelFolder(dir, m.precision);
      const tokenizer = Tokenizer.fromFile(folder.tokenizerPath);
      const c = this.settings.completion;
      const template = detectFimTemplate(tokenizer, c.fimTemplate === 'auto' ? undefined : c.fimTemplate);
      if (c.fimTemplate !== 'auto' && !template) throw new Error(`unknown FIM template "${c.fimTemplate}"`);
      const info = await this.host.load(dir, m.precision, m.threads, this.engine);
      if (key !== this.modelKey) return; // settings changed meanwhile: a newer load owns the state
      const order: FimOrder = template ? (c.fimOrder !== 'auto' && (template.style !== 'codestral') ? c.fimOrder : template.orders[0]!) : 'psm';
      const stopIds = new Set<number>(info.config.eosTokenIds);
      if (template) for (const s of template.stop) { const id = tokenizer.id(s); if (id !== undefined) stopIds.add(id); }
      const eot = tokenizer.id('<|endoftext|>');
      if (eot !== undefined) stopIds.add(eot);
      const suppressIds = tokenizer.addedTokens.filter((t) => t.special && !stopIds.has(t.id)).map((t) => t.id);
      this.loaded = { info, tokenizer, index: new VocabIndex(tokenizer), template, order, stopIds: [...stopIds], suppressIds, name };
      const cfg = info.config;
      this.setStatus({
        state: 'ready', name, dir, onnxFile: info.onnxPath.slice(dir.length + 1),
        description: `${cfg.modelType}, ${cfg.layers} layers, ${cfg.heads} heads (${cfg.kvHeads} kv), vocab ${cfg.vocabSize}, ${info.cache} cache${info.mergedDecoder ? ', merged decoder' : ''}, ${info.cacheMode === 'in-place' ? 'updated in place' : `copied per run (${info.copiedBecause})`}`,
        fimTemplate: template ? `${template.family} (${order.toUpperCase()})` : 'none: completes from the prefix only',
      });
    } catch (err) {
      if (key !== this.modelKey) return;
      this.setStatus({ state: 'error', name, dir, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private setStatus(s: ModelStatus): void {
    this.status = { ...s, lastLatencyMs: this.status.lastLatencyMs };
    this.onStatus(this.status);
  }

  forget(uri: string): void {
    this.anchors.forget(uri);
  }

  /** The completion at `input.offset`, or null when superseded/cancelled or completions are off. */
  async complete(input: CompletionInput, cancelled: { onCancel(f: () => void): void } = { onCancel: () => undefined }, reuseCache = true): Promise<CompletionResult | null> {
    const c = this.settings.completion;
    if (!c.enabled) return null;
    const t0 = performance.now();
    await this.ensureLoaded();
    const m = this.loaded;
    if (!m) return null; // the health already says why
    const maxTokens = c.maxTokens;
    const room = Math.min(m.info.config.maxPositions, m.info.contextLimit) - maxTokens - 24;
    const suffixTokens = m.template ? Math.min(c.suffixTokens, Math.floor(room / 4)) : 0;
    const ctx = this.anchors.context(input.uri, input.text, input.offset, m.tokenizer, {
      prefixTokens: Math.max(16, Math.min(c.prefixTokens, room - suffixTokens)),
      suffixTokens,
    });
    let prefix = ctx.prefix;
    let healingBytes: number[] | undefined;
    if (c.tokenHealing) {
      const ids = m.tokenizer.encodeIds(prefix);
      const plan = planHealing(m.tokenizer, ids, 1, m.index);
      if (plan) {
        const removed = m.tokenizer.decode(ids.slice(plan.keep));
        if (prefix.endsWith(removed)) {
          prefix = prefix.slice(0, prefix.length - removed.length);
          healingBytes = Array.from(plan.bytes);
        }
      }
    }
    const prompt = m.template
      ? buildFimPrompt(m.template, m.tokenizer, { path: input.path, prefix, suffix: ctx.suffix }, m.order)
      : { ids: m.tokenizer.encodeIds(prefix), stopIds: new Set<number>(), prefixStart: 0 };
    const shape = completionShape(input.text, input.offset);
    const { id, result } = this.host.generate({
      prompt: prompt.ids,
      stopIds: [...new Set([...m.stopIds, ...prompt.stopIds])],
      suppressIds: m.suppressIds,
      maxTokens: shape.multiline ? maxTokens : Math.min(maxTokens, 48),
      shape,
      healingBytes,
      temperature: c.temperature,
      topP: c.topP,
      reuseCache,
      maxDraft: this.maxDraft,
    });
    cancelled.onCancel(() => this.host.cancel(id));
    const r = await result;
    if (!r) return null;
    const g = r.generation;
    let text = g.text;
    let reason: string | undefined;
    if (shape.multiline && input.parser && text.includes('\n')) {
      const cut = syntaxCut(input.parser, input.text, input.offset, text, input.tree);
      if (cut === null) reason = 'every cut of it adds a syntax error';
      text = cut ?? '';
    }
    text = trimSuffixOverlap(text, shape.lineSuffix);
    // Only a block has later lines to re-indent: the file's indentation is read for those alone.
    if (text.includes('\n')) text = matchIndentation(text, indentUnit(input.text));
    if (!reason && !text.trim()) reason = 'nothing to insert';
    if (!reason && g.confidence < c.minConfidence) reason = `confidence ${g.confidence.toFixed(2)} below ${c.minConfidence}`;
    const latencyMs = performance.now() - t0;
    this.status = { ...this.status, lastLatencyMs: latencyMs };
    return {
      text: reason ? '' : text,
      shown: !reason,
      reason,
      confidence: g.confidence,
      tokens: g.tokens.length,
      prefillTokens: g.prefillTokens,
      reusedTokens: g.reusedTokens,
      latencyMs,
      multiline: shape.multiline,
      raw: g.text,
      prompt: prompt.ids,
      prefillMs: g.prefillMs,
      decodeMs: g.decodeMs,
      passes: g.passes,
      drafted: g.drafted,
      accepted: g.accepted,
    };
  }

  get modelName(): string {
    return this.loaded?.name ?? '';
  }

  dispose(): Promise<void> {
    return this.host.dispose();
  }
}
