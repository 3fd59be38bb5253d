// The in-process engine: a model folder's ONNX decoder in the inference worker (the default engine).
// It reads the folder, loads its tokenizer, picks the decoder (optimized for this CPU where asked) and
// the FIM template, and runs each prompt's ids through the decoding loop.
import { basename } from 'node:path';
import { snapshotOf } from '../hub/cacheLayout';
import { isEmbedded } from '../defaultModel';
import { ModelHost } from '../inference/host';
import type { ModelInfo } from '../inference/protocol';
import type { InferenceLoad } from '../lsp_ext';
import type { Engine as DecoderEngine } from '../model/decoder';
import { openModelFolder } from '../model/folder';
import { threadsFor } from '../model/threads';
import { detectFimTemplate, type FimOrder, fimOrderFor } from '../prompt/fim';
import type { CompletionSettings, ModelSettings } from '../settings';
import type { TokenizerRegistry } from '../tokenizer/registry';
import { packTokenTable } from '../tokenizer/tokenTable';
import { chooseDecoder, type OptimizeProgress } from './optimizeStep';
import type { CompletionEngine, EngineRequest, EngineResult, ServedModel } from './engine';

export interface LocalEngineOptions {
  dir: string;
  model: ModelSettings;
  completion: CompletionSettings;
  tokenizers: TokenizerRegistry;
  workerFile: string;
  /** 'auto' (in-place cache where possible) or 'binding' (the benchmark's comparison). */
  decoder: DecoderEngine;
  optimizeProgress?: (name: string) => Promise<OptimizeProgress | undefined>;
  /** The worker crashed or hung: the model is gone until the next open. */
  onCrash: (message: string) => void;
}

export class LocalEngine implements CompletionEngine {
  readonly kind = 'local';
  private readonly host: ModelHost;
  /** The model's end tokens and the control tokens it must never write (set by open). */
  private stopIds: number[] = [];
  private suppressIds: number[] = [];

  constructor(private readonly o: LocalEngineOptions) {
    this.host = new ModelHost(o.workerFile, o.onCrash);
  }

  get inFlight(): InferenceLoad {
    return this.host.inFlight;
  }

  async open(): Promise<ServedModel> {
    const { dir, model: m, completion: c } = this.o;
    const name = snapshotOf(dir)?.repo ?? basename(dir);
    const folder = openModelFolder(dir, m.precision);
    const tokenizer = this.o.tokenizers.load({ name, path: folder.tokenizerPath });
    if (tokenizer.vocabSize > folder.config.vocabSize) {
      throw new Error(
        `tokenizer.json has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${folder.config.vocabSize}: they do not belong together`,
      );
    }
    const template = detectFimTemplate(tokenizer, c.fimTemplate === 'auto' ? undefined : c.fimTemplate);
    if (c.fimTemplate !== 'auto' && !template) throw new Error(`unknown FIM template "${c.fimTemplate}"`);
    // Subtoken merging runs the folder's merging export (its own fine-tuned weights) for every request;
    // one that does not load leaves the plain decoder completing, and the status says why.
    const load = (onnxPath: string) =>
      this.host.load(
        { onnxPath, config: folder.config, vocabulary: packTokenTable(tokenizer) },
        threadsFor(m.threads, isEmbedded(dir)),
        this.o.decoder,
      );
    let mergingNote =
      c.subtokenMerging && !folder.mergingOnnxPath ? ', no subtoken merging (the folder has no onnx/model_merging.onnx)' : '';
    let info: ModelInfo | undefined;
    if (c.subtokenMerging && folder.mergingOnnxPath) {
      info = await load(folder.mergingOnnxPath).catch((err: unknown) => {
        mergingNote = `, no subtoken merging (${basename(folder.mergingOnnxPath!)} did not load: ${err instanceof Error ? err.message : String(err)})`;
        return undefined;
      });
    }
    if (info && !info.merges) mergingNote = `, no subtoken merging (${basename(info.onnxPath)} takes no token_group input)`;
    const decoder = info ? undefined : await chooseDecoder(dir, folder.onnxPath, m, this.o.workerFile, this.o.optimizeProgress, name);
    info ??= await load(decoder!.onnxPath);
    const order: FimOrder = template ? fimOrderFor(template, c.fimOrder) : 'psm';
    const stopIds = new Set<number>(info.config.eosTokenIds);
    for (const s of [...(template?.stop ?? []), '<|endoftext|>']) {
      const id = tokenizer.id(s);
      if (id !== undefined) stopIds.add(id);
    }
    const suppressIds = tokenizer.addedTokens.filter((t) => t.special && !stopIds.has(t.id)).map((t) => t.id);
    const cfg = info.config;
    this.stopIds = [...stopIds];
    this.suppressIds = suppressIds;
    return {
      name,
      tokenizer,
      tokensFrom: `the model's tokenizer.json`,
      template,
      order,
      contextLimit: Math.min(cfg.maxPositions, info.contextLimit),
      snippets: !!template?.fileSep,
      merges: info.merges,
      healingModes: ['heal', 'exact'],
      dir,
      onnxFile: info.onnxPath.startsWith(dir)
        ? info.onnxPath.slice(dir.length + 1)
        : `${folder.onnxPath.slice(dir.length + 1)}, optimized: ${info.onnxPath}`,
      description: `${cfg.modelType}, ${cfg.layers} layers, ${cfg.heads} heads (${cfg.kvHeads} kv), vocab ${cfg.vocabSize}, ${info.cache} cache${info.mergedDecoder ? ', merged decoder' : ''}, ${info.cacheMode === 'in-place' ? 'updated in place' : `copied per run (${info.copiedBecause})`}${info.draftTrees ? ', draft trees' : ''}${info.merges ? ', subtoken merging' : mergingNote}${decoder?.note ?? ''}`,
      fimTemplate: template ? `${template.family} (${order.toUpperCase()})` : 'none: completes from the prefix only',
    };
  }

  async generate(r: EngineRequest, onCancel?: (cancel: () => void) => void): Promise<EngineResult | null> {
    const { id, result } = this.host.generate({
      prompt: r.prompt.ids,
      prefixEnd: r.prompt.prefixEnd,
      healing: r.healing,
      stopIds: [...new Set([...this.stopIds, ...r.prompt.stopIds])],
      suppressIds: this.suppressIds,
      maxTokens: r.maxTokens,
      stop: r.shape,
      temperature: r.temperature,
      topP: r.topP,
      reuseCache: r.reuseCache,
      timeLimitMs: r.timeLimitMs,
      maxDraft: r.maxDraft,
      draftTrees: r.draftTrees,
      ...(r.mergeRuns?.length ? { mergeRuns: r.mergeRuns } : {}),
      ...(r.explain ? { explain: r.explain } : {}),
      ...(r.memory ? { memory: r.memory } : {}),
    });
    onCancel?.(() => this.host.cancel(id));
    const out = await result;
    return out && { generation: out.generation, prompt: out.prompt };
  }

  dispose(): Promise<void> {
    return this.host.dispose();
  }
}
