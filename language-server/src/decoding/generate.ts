// The decoding loop: prefill (reusing the cache), then one token at a time through the processor
// chain, until a stop token, a stop rule or the token limit. Pure of editor concerns.
import type { CachedSession } from '../model/cachedSession';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { StreamDecoder } from '../tokenizer/decoder';
import { applyChain, argmaxOf, logProb, sampleOf, type LogitsProcessor } from './processors';
import type { StopRule } from './stops';

export interface GenerateOptions {
  maxTokens: number;
  stopIds: ReadonlySet<number>;
  processors: LogitsProcessor[];
  stop?: StopRule;
  /** Bytes the output begins with that the prompt already had (token healing): dropped from the text. */
  healedBytes?: number;
  /** Random source for sampling; greedy when absent. */
  random?: () => number;
  /** Checked between steps: true abandons the request. */
  cancelled?: () => boolean;
}

export interface Generation {
  text: string;
  tokens: number[];
  /** Geometric mean probability of the chosen tokens under the model (before any truncation). */
  confidence: number;
  /** Lowest single-token probability. */
  minProbability: number;
  prefillTokens: number;
  reusedTokens: number;
  prefillMs: number;
  /** Time of the token-by-token part (model steps and processors). */
  decodeMs: number;
  stoppedBy: 'stop-token' | 'rule' | 'max-tokens' | 'cancelled';
}

export async function generate(model: CachedSession, tok: Tokenizer, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const t0 = performance.now();
  const pre = await model.prefill(prompt);
  const t1 = performance.now();
  let logits = pre.logits;
  const tokens: number[] = [];
  const decoder = new StreamDecoder((id) => tok.tokenBytes(id), 0);
  let bytesToSkip = o.healedBytes ?? 0;
  let text = '';
  let logSum = 0;
  let minP = 1;
  let stoppedBy: Generation['stoppedBy'] = 'max-tokens';
  const work = new Float32Array(logits.length);
  while (tokens.length < o.maxTokens) {
    if (o.cancelled?.()) {
      stoppedBy = 'cancelled';
      break;
    }
    work.set(logits);
    applyChain(o.processors, work, { generated: tokens });
    const id = o.random ? sampleOf(work, o.random) : argmaxOf(work);
    if (work[id] === -Infinity) break; // every token forbidden
    const lp = logProb(logits, id);
    if (o.stopIds.has(id)) {
      stoppedBy = 'stop-token';
      break;
    }
    tokens.push(id);
    logSum += lp;
    minP = Math.min(minP, Math.exp(lp));
    let bytes = tok.tokenBytes(id);
    if (bytesToSkip > 0) {
      const skip = Math.min(bytesToSkip, bytes.length);
      bytes = bytes.subarray(skip);
      bytesToSkip -= skip;
    }
    text += decoder.pushBytes(bytes);
    const cut = o.stop?.(text);
    if (cut !== null && cut !== undefined) {
      text = text.slice(0, cut);
      stoppedBy = 'rule';
      break;
    }
    if (tokens.length >= o.maxTokens) break;
    logits = await model.step(id);
  }
  if (stoppedBy !== 'rule') text += decoder.flush();
  return {
    text,
    tokens,
    confidence: tokens.length ? Math.exp(logSum / tokens.length) : 0,
    minProbability: tokens.length ? minP : 0,
    prefillTokens: pre.ran,
    reusedTokens: pre.reused,
    prefillMs: t1 - t0,
    decodeMs: performance.now() - t1,
    stoppedBy,
  };
}
