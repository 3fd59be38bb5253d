// An OpenAI-compatible server as the engine (vLLM, TGI, SGLang, LM Studio, llama.cpp's /v1): Tessera
// writes the whole FIM prompt in the model family's template and sends it raw to /v1/completions, since
// those servers ignore or lack `suffix`; `logprobs` returns each token's probability for the confident head.
import { hungAfterMs } from '../inference/host';
import { detectFimTemplate, type FimOrder, type FimTemplate, fimOrderFor, fimPromptText, templateForModelName } from '../prompt/fim';
import type { CompletionSettings, EngineSettings } from '../settings';
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { CompletionEngine, EngineRequest, EngineResult, ServedModel } from './engine';
import { ServerEngine } from './serverEngine';
import { type ServedToken, servedGeneration } from './remoteGeneration';
import { callJson, EngineFault, hostOf, modelLabel, streamJson } from './serverHttp';
import { servedTokens } from './servedTokens';

interface ModelList {
  data?: Array<{ id: string; max_model_len?: number; meta?: { n_ctx_train?: number } }>;
}

/** One event of /v1/completions' stream (the last may carry only usage or timings). */
interface CompletionEvent {
  choices?: Array<{
    text?: string;
    finish_reason?: string | null;
    logprobs?: {
      // The classic shape (vLLM, TGI, OpenAI)…
      tokens?: string[];
      token_logprobs?: Array<number | null>;
      // …and llama.cpp's, one object per token.
      content?: Array<{ id?: number; token: string; bytes?: number[]; logprob?: number }>;
    } | null;
  }>;
  usage?: { prompt_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } };
  timings?: { prompt_n?: number; prompt_ms?: number; predicted_ms?: number; cache_n?: number };
}

const PROBE_MS = 5000;
/** Where the server says nothing of its context length. */
const DEFAULT_CONTEXT = 2048;

export class OpenAiEngine extends ServerEngine implements CompletionEngine {
  readonly kind = 'openai';
  private model = '';
  private template: FimTemplate | undefined;
  private order: FimOrder = 'psm';

  constructor(
    settings: EngineSettings,
    private readonly completion: CompletionSettings,
    private readonly tokenizers: TokenizerRegistry,
  ) {
    super(settings);
  }

  async open(): Promise<ServedModel> {
    if (!this.settings.url) throw new Error('tessera.engine.url is empty: set it to the server, e.g. http://127.0.0.1:8000');
    const list = (await callJson(this.server, '/v1/models', undefined, { timeoutMs: PROBE_MS })) as ModelList;
    const listed = list.data ?? [];
    const entry = this.settings.model ? listed.find((m) => m.id === this.settings.model) : listed[0];
    if (this.settings.model && listed.length && !entry)
      throw new EngineFault(
        'unsupported',
        `the server has no model "${this.settings.model}" (it lists ${listed.map((m) => m.id).join(', ')})`,
      );
    this.model = this.settings.model || entry?.id || '';
    if (!this.model) throw new EngineFault('unsupported', 'the server lists no model: set tessera.engine.model');
    const tokens = servedTokens(this.settings.tokenizer, this.tokenizers);
    const chosen = this.completion.fimTemplate;
    this.template =
      chosen !== 'auto'
        ? detectFimTemplate(tokens.tokenizer, chosen)
        : ((tokens.exact ? detectFimTemplate(tokens.tokenizer) : undefined) ?? templateForModelName(this.model));
    if (!this.template)
      throw new EngineFault(
        'unsupported',
        `no FIM template is known for "${this.model}": name its tokenizer.json in tessera.engine.tokenizer or its family in tessera.completion.fimTemplate`,
      );
    const order = fimOrderFor(this.template, this.completion.fimOrder);
    this.order = order;
    return {
      name: `${modelLabel(this.model)} @ ${hostOf(this.settings.url)}`,
      tokenizer: tokens.tokenizer,
      tokensFrom: tokens.from,
      template: this.template,
      order,
      contextLimit: entry?.max_model_len ?? entry?.meta?.n_ctx_train ?? DEFAULT_CONTEXT,
      snippets: !!this.template.fileSep,
      merges: false,
      healingModes: [],
      healingNote: 'off over an OpenAI-compatible server: its prompt is text, tokenized there, and nothing constrains the first tokens',
      url: this.settings.url,
      description: `OpenAI-compatible server at ${this.settings.url}: /v1/completions, model ${this.model}`,
      fimTemplate: `${this.template.family} (${order.toUpperCase()}), written by Tessera`,
    };
  }

  async generate(r: EngineRequest, onCancel?: (cancel: () => void) => void): Promise<EngineResult | null> {
    const template = this.template;
    if (!template) throw new Error('the engine is not open');
    const signal = this.latest.start(onCancel);
    try {
      const body = {
        model: this.model,
        prompt: fimPromptText(template, r.parts, this.order),
        max_tokens: r.maxTokens,
        temperature: r.temperature,
        top_p: r.topP,
        // OpenAI takes at most four stop strings: a line's end first, then the template's ends.
        stop: [...(r.shape.multiline ? [] : ['\n']), ...template.stop, ...(template.fileSep ? [template.fileSep] : [])].slice(0, 4),
        logprobs: 1,
        stream_options: { include_usage: true },
      };
      let text = '';
      let choices = 0;
      const tokens: ServedToken[] = [];
      let finish: string | null | undefined;
      let usage: CompletionEvent['usage'];
      let timings: CompletionEvent['timings'];
      const finished = await streamJson(this.server, '/v1/completions', body, { signal, timeoutMs: hungAfterMs(r.timeLimitMs) }, (e) => {
        const event = e as CompletionEvent;
        const choice = event.choices?.[0];
        if (choice) {
          choices++;
          text += choice.text ?? '';
          tokens.push(...tokensOf(choice.logprobs));
          finish = choice.finish_reason ?? finish;
        }
        usage = event.usage ?? usage;
        timings = event.timings ?? timings;
      });
      if (!finished) return null;
      if (!choices) throw new EngineFault('bad-response', `${this.settings.url}/v1/completions sent no choices`);
      const t = timings ?? {};
      const cached = usage?.prompt_tokens_details?.cached_tokens ?? t.cache_n ?? 0;
      const generation = servedGeneration(
        {
          text,
          tokens,
          finish: finish === 'length' ? 'length' : 'stop',
          prefillTokens: t.prompt_n ?? Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
          reusedTokens: cached,
          prefillMs: t.prompt_ms ?? 0,
          decodeMs: t.predicted_ms ?? 0,
        },
        r.shape,
      );
      return { generation, prompt: [] };
    } finally {
      this.latest.done(signal);
    }
  }
}

function tokensOf(logprobs: NonNullable<CompletionEvent['choices']>[number]['logprobs']): ServedToken[] {
  if (!logprobs) return [];
  if (logprobs.content)
    return logprobs.content.map((p) => ({
      text: p.token,
      ...(p.id !== undefined ? { id: p.id } : {}),
      ...(p.bytes ? { bytes: p.bytes } : {}),
      ...(p.logprob !== undefined ? { logProb: p.logprob } : {}),
    }));
  return (logprobs.tokens ?? []).map((text, i) => {
    const lp = logprobs.token_logprobs?.[i];
    return { text, ...(typeof lp === 'number' ? { logProb: lp } : {}) };
  });
}
