// A server's answer as the pipeline's Generation: the text cut where Tessera's stop rules say (a server
// only knows stop strings and token limits), and each token's log-probability with where its text ends,
// so the confident head is cut from a server's completion exactly as from the local model's.
import type { Generation, TokenTrace } from '../generation/generate';
import { shapeStop, type StopSpec } from '../generation/stops';

/** One token the server wrote: its log-probability (absent where the server sent none) and its text. */
export interface ServedToken {
  id?: number;
  logProb?: number;
  /** The token's bytes where the server gives them (a token may end inside a character). */
  bytes?: readonly number[];
  text: string;
}

export interface ServedAnswer {
  text: string;
  tokens: readonly ServedToken[];
  /** The server stopped at a stop token or string ('stop'), its token limit ('length'), or its time limit. */
  finish: 'stop' | 'length' | 'time';
  prefillTokens: number;
  reusedTokens: number;
  prefillMs: number;
  decodeMs: number;
}

/**
 * `healed`: the word the prompt gave back (token healing); the server's text starts with it, and the
 * completion is what follows it. A text that does not start with it is no completion.
 */
export function servedGeneration(answer: ServedAnswer, shape: StopSpec, healed = ''): Generation {
  const written = !healed ? answer.text : answer.text.startsWith(healed) ? answer.text.slice(healed.length) : '';
  const cut = shapeStop(shape)(written);
  const text = cut === null ? written : written.slice(0, cut);
  // Tokens that only spell the word given back were forced by the grammar (the server reports the
  // model's probability before it): they say nothing of the model's confidence.
  const trace = traceOf(answer.tokens)
    .filter((t) => !healed || t.end > healed.length)
    .map((t) => ({ logProb: t.logProb, end: t.end - healed.length }));
  const logProbs = trace.map((t) => t.logProb);
  const mean = logProbs.length ? logProbs.reduce((a, b) => a + b, 0) / logProbs.length : 0;
  return {
    text,
    tokens: answer.tokens.map((t) => t.id ?? -1),
    confidence: Math.exp(mean),
    minProbability: Math.exp(Math.min(0, ...logProbs)),
    prefillTokens: answer.prefillTokens,
    reusedTokens: answer.reusedTokens,
    prefillMs: answer.prefillMs,
    decodeMs: answer.decodeMs,
    passes: answer.tokens.length,
    drafted: 0,
    accepted: 0,
    stoppedBy: cut !== null ? 'rule' : answer.finish === 'length' ? 'max-tokens' : answer.finish === 'time' ? 'time' : 'stop-token',
    trace,
  };
}

/** Where each token's text ends in the completion (UTF-16 units), decoding bytes across token boundaries. */
function traceOf(tokens: readonly ServedToken[]): TokenTrace[] {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let end = 0;
  return tokens.map((t) => {
    end += t.bytes ? decoder.decode(Uint8Array.from(t.bytes), { stream: true }).length : t.text.length;
    return { logProb: t.logProb ?? 0, end };
  });
}
