// llama.cpp's server as the engine (llama-server, the engine llama.vscode talks to): `/infill` with
// the prefix, the suffix and other files' snippets as `input_extra`, laid out in the model's own FIM
// tokens by the server, streamed (a cancelled stream stops the server's work; a plain request runs to
// its end). `cache_prompt` with `id_slot: -1`: the server gives each request the idle slot whose cached
// prompt is most like it, which is the slot this document's last request used, so typing reuses its
// KV cache. Pinning each document to a slot by hash measured worse (bench/server: at 4 editors on 4
// slots, p50 26-27 ms against 18-21 ms: two documents on one slot while another idles).
// `n_probs` returns each token's probability for the confident head.
import { hungAfterMs } from '../inference/host';
import type { EngineSettings } from '../settings';
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { Tokenizer } from '../tokenizer/tokenizer';
import type { CompletionEngine, EngineRequest, EngineResult, ServedModel } from './engine';
import { ServerEngine } from './serverEngine';
import { type ServedToken, servedGeneration } from './remoteGeneration';
import { callJson, hostOf, modelLabel, streamJson } from './serverHttp';
import { servedTokens } from './servedTokens';

interface Props {
  total_slots?: number;
  model_alias?: string;
  model_path?: string;
  default_generation_settings?: { n_ctx?: number };
}

/** One event of /infill's stream: a piece of text with its token's probability; the last, the totals. */
interface InfillEvent {
  content?: string;
  stop?: boolean;
  stop_type?: string;
  tokens_cached?: number;
  timings?: { prompt_n?: number; prompt_ms?: number; predicted_ms?: number; cache_n?: number };
  completion_probabilities?: Array<{ id: number; token: string; bytes?: number[]; logprob?: number }>;
}

/** Code to compare the server's tokens with Tessera's on (identifiers, indentation, operators, a number). */
const TOKEN_PROBE =
  'export function total(items: Item[]): number {\n  return items.reduce((sum, item) => sum + item.price * 1.25, 0);\n}\n';

/** Calls that only read the server's state answer within this. */
const PROBE_MS = 5000;

export class LlamaCppEngine extends ServerEngine implements CompletionEngine {
  readonly kind = 'llama.cpp';

  constructor(
    settings: EngineSettings,
    private readonly tokenizers: TokenizerRegistry,
  ) {
    super(settings);
  }

  async open(): Promise<ServedModel> {
    if (!this.settings.url) throw new Error('tessera.engine.url is empty: set it to the llama.cpp server, e.g. http://127.0.0.1:8012');
    const props = (await callJson(this.server, '/props', undefined, { timeoutMs: PROBE_MS })) as Props;
    // A request that writes nothing: checks the key and that the model has FIM tokens.
    await callJson(this.server, '/infill', { input_prefix: '', input_suffix: '', n_predict: 0 }, { timeoutMs: PROBE_MS * 2 });
    const slots = Math.max(1, props.total_slots ?? 1);
    const tokens = servedTokens(this.settings.tokenizer, this.tokenizers);
    const model = props.model_alias || props.model_path || 'llama.cpp';
    return {
      name: `${modelLabel(model)} @ ${hostOf(this.settings.url)}`,
      tokenizer: tokens.tokenizer,
      tokensFrom: `${tokens.from}; ${await this.compareTokens(tokens.tokenizer)}`,
      template: undefined,
      order: 'psm',
      contextLimit: props.default_generation_settings?.n_ctx ?? 4096,
      snippets: true,
      merges: false,
      healingModes: ['heal'],
      healsItself: true,
      healingNote: "token healing by a grammar on the first tokens (exact byte-level prompting needs the model's logits)",
      url: this.settings.url,
      description: `llama.cpp server at ${this.settings.url}: /infill, ${slots} slot${slots > 1 ? 's' : ''}, context ${props.default_generation_settings?.n_ctx ?? '?'} tokens`,
      fimTemplate: "the server's (the model's own FIM tokens, /infill)",
    };
  }

  /**
   * How the tokenizer Tessera counts with agrees with the server's own (`/tokenize` of a piece of code):
   * a tokenizer.json that is not the served model's is caught here, and an estimate says how close it is.
   */
  private async compareTokens(tokenizer: Tokenizer): Promise<string> {
    const answer = (await callJson(this.server, '/tokenize', { content: TOKEN_PROBE }, { timeoutMs: PROBE_MS }).catch(() => null)) as {
      tokens?: number[];
    } | null;
    const theirs = answer?.tokens;
    if (!theirs) return 'the server did not tokenize a probe';
    const ours = tokenizer.encodeIds(TOKEN_PROBE);
    if (ours.length === theirs.length && ours.every((id, i) => id === theirs[i])) return "the server's /tokenize gives the same tokens";
    return `the server's /tokenize cuts a probe into ${theirs.length} tokens, this tokenizer into ${ours.length}${ours.length === theirs.length ? ' (other ids)' : ''}`;
  }

  async generate(r: EngineRequest, onCancel?: (cancel: () => void) => void): Promise<EngineResult | null> {
    const signal = this.latest.start(onCancel);
    try {
      let text = '';
      const tokens: ServedToken[] = [];
      let last: InfillEvent = {};
      const finished = await streamJson(
        this.server,
        '/infill',
        this.body(r, r.maxTokens),
        { signal, timeoutMs: hungAfterMs(r.timeLimitMs) },
        (e) => {
          const event = e as InfillEvent;
          text += event.content ?? '';
          for (const p of event.completion_probabilities ?? [])
            tokens.push({
              id: p.id,
              text: p.token,
              ...(p.bytes ? { bytes: p.bytes } : {}),
              ...(p.logprob !== undefined ? { logProb: p.logprob } : {}),
            });
          if (event.stop) last = event;
        },
      );
      if (!finished) return null;
      const t = last.timings ?? {};
      const generation = servedGeneration(
        {
          text,
          tokens,
          finish: last.stop_type === 'limit' ? 'length' : 'stop',
          prefillTokens: t.prompt_n ?? 0,
          reusedTokens: t.cache_n ?? last.tokens_cached ?? 0,
          prefillMs: t.prompt_ms ?? 0,
          decodeMs: t.predicted_ms ?? 0,
        },
        r.shape,
        healedWord(r),
      );
      return { generation, prompt: [] };
    } finally {
      this.latest.done(signal);
    }
  }

  warm(r: EngineRequest): void {
    void callJson(this.server, '/infill', this.body(r, 0), { timeoutMs: hungAfterMs(r.timeLimitMs) }).catch(() => undefined);
  }

  private body(r: EngineRequest, nPredict: number): Record<string, unknown> {
    const healed = healedWord(r);
    return {
      input_prefix: healed ? r.parts.prefix.slice(0, -healed.length) : r.parts.prefix,
      // Token healing: the word at the cursor leaves the prompt and the text must start with it, so
      // the model picks its own tokens for it (the grammar admits any token that agrees with it).
      ...(healed ? { grammar: `root ::= ${gbnfLiteral(healed)} .*` } : {}),
      input_suffix: r.parts.suffix,
      input_extra: (r.parts.snippets ?? []).map((s) => ({ filename: s.path, text: s.text })),
      n_predict: nPredict,
      cache_prompt: r.reuseCache,
      id_slot: -1,
      // A block stops at a line indented less than its own lines (Tessera's rules cut again after).
      ...(r.shape.multiline ? { n_indent: r.shape.blockIndent.length } : { stop: ['\n'] }),
      t_max_predict_ms: r.timeLimitMs,
      n_probs: 1,
      temperature: r.temperature,
      top_p: r.topP,
    };
  }
}

/** The word token healing gives back from the prompt's end, if any. */
function healedWord(r: EngineRequest): string {
  if (!r.healing) return '';
  const word = new TextDecoder().decode(r.healing.bytes);
  return r.parts.prefix.endsWith(word) ? word : '';
}

/** A GBNF string literal: quotes, backslashes and control characters escaped. */
export function gbnfLiteral(text: string): string {
  const escaped = [...text]
    .map((c) => {
      if (c === '"' || c === '\\') return `\\${c}`;
      const code = c.codePointAt(0)!;
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    })
    .join('');
  return `"${escaped}"`;
}
