// The decoding loop: prefill (reusing the cache), then token by token through the processor chain,
// until a stop token, a stop rule or the token limit. Greedy decoding also tries drafts: chains copied
// from the prompt (drafts.ts) verified k at a time, or, on models that take a tree in one pass, Token
// Recycling's trees around that chain (recycling.ts). Pure of editor concerns.
import type { TokenTree } from '../model/treeAttention';
import type { TokenTable } from '../tokenizer/tokenTable';
import { StreamDetokenizer } from '../tokenizer/detokenizer';
import { lookupDraft } from './drafts';
import { type AdjacencyTable, draftTree, type TreeTemplate } from './recycling';
import { applyChain, argmaxOf, type LogitsProcessor, logProb, logSoftmaxOf, sampleOf, topK } from './processors';
import type { StopRule } from './stops';

/** What the loop needs of a model: a cached sequence it extends (model/cachedSession.ts is one). */
export interface SequenceModel {
  /** Runs the prompt (reusing what it can); the logits of its last position. */
  prefill(prompt: readonly number[]): Promise<{ logits: Float32Array; ran: number; reused: number }>;
  /** Appends one token; the next position's logits. */
  step(id: number): Promise<Float32Array>;
  /** Appends several tokens; each new position's logits, row after row. */
  extend(ids: readonly number[]): Promise<Float32Array>;
  /** Keeps the first `length` positions of the sequence (a merged identifier is one position). */
  rewind(length: number): void;
  readonly length: number;
  /** Rows are log-probabilities already (the export normalizes its logits). */
  readonly logProbs?: boolean;
  /** The most positions it holds (generation stops there). */
  readonly capacity?: number;
  /** Verifies draft trees in one pass (extendTree and keepBranch work). */
  readonly trees?: boolean;
  /** Runs a tree after the sequence (node 0: the next token), each node seeing its ancestors only; each node's logits. */
  extendTree?(tree: TokenTree): Promise<Float32Array>;
  /** After extendTree: the sequence goes on with the nodes `branch` (root first) only. */
  keepBranch?(branch: readonly number[]): void;
}

export interface GenerateOptions {
  maxTokens: number;
  stopIds: ReadonlySet<number>;
  processors: LogitsProcessor[];
  stop?: StopRule;
  /** Bytes the output begins with that the prompt already had (token healing): dropped from the text. */
  healedBytes?: number;
  /**
   * Tokens already chosen after the prompt (exact prompting's cover; the prompt ends with them), the
   * bytes of them past the healed word (the text starts with these), and their log-probability.
   */
  lead?: { tokens: readonly number[]; bytes: Uint8Array; logProb: number };
  /** Random source for sampling; greedy when absent. */
  random?: () => number;
  /** Longest draft to verify in one pass (greedy only); 0 turns drafts off. */
  maxDraft?: number;
  /**
   * Token Recycling (recycling.ts): drafts are trees read from this adjacency table down the template,
   * with the prompt-lookup draft as one branch, verified in one pass (greedy, models with `trees`). Every
   * pass refreshes the table.
   */
  recycling?: { table: AdjacencyTable; template: TreeTemplate };
  /** Checked between steps: true abandons the request. */
  cancelled?: () => boolean;
  /** performance.now() after which no further step starts; the text so far is the result. */
  deadline?: number;
  /** Record each token's probability and this many likeliest alternatives (for the FIM check's report). */
  explain?: number;
}

/** One generated token as the model saw it: its log-probability and the likeliest alternatives. */
export interface ExplainedToken {
  id: number;
  logProb: number;
  alternatives: Array<{ id: number; logProb: number }>;
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
  /** Model passes after the prefill, and draft tokens proposed / accepted. */
  passes: number;
  drafted: number;
  accepted: number;
  /** 'time': the deadline passed (what was written by then is kept). */
  stoppedBy: 'stop-token' | 'rule' | 'max-tokens' | 'cancelled' | 'no-token' | 'time';
  /** With `explain`: each token's probability and alternatives (a lead's tokens share its probability). */
  explained?: ExplainedToken[];
  /**
   * Per token: its log-probability and the length of `text` once it was added (a lead's tokens: its
   * log-probability on the last of them; healed bytes add no text). The completion's confident head is
   * cut from these.
   */
  trace: TokenTrace[];
}

export interface TokenTrace {
  logProb: number;
  end: number;
}

/** Most nodes of a draft tree, root included: what one run of the in-place cache takes. */
const MAX_TREE = 64;

export async function generate(model: SequenceModel, tok: TokenTable, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const t0 = performance.now();
  const pre = await model.prefill(prompt);
  const t1 = performance.now();
  const tokens: number[] = [];
  const detokenizer = new StreamDetokenizer((id) => tok.tokenBytes(id), 0);
  const work = new Float32Array(pre.logits.length);
  let bytesToSkip = o.healedBytes ?? 0;
  let text = '';
  let logSum = 0;
  let minP = 1;
  let passes = 0;
  let drafted = 0;
  let accepted = 0;
  let stoppedBy: Generation['stoppedBy'] | undefined;
  const explained: ExplainedToken[] | undefined = o.explain ? [] : undefined;
  const trace: TokenTrace[] = [];

  /** The token the chain picks from `row`, or -1 when every token is forbidden. */
  const choose = (row: Float32Array): number => {
    work.set(row);
    applyChain(o.processors, work, { generated: tokens });
    const id = o.random ? sampleOf(work, o.random) : argmaxOf(work);
    return work[id] === -Infinity ? -1 : id;
  };
  /** Ends the completion, saying why; true, for `return finish(...)`. */
  const finish = (why: Generation['stoppedBy']): true => {
    stoppedBy = why;
    return true;
  };
  /** Takes `id` into the output; true when the completion is finished. */
  const emit = (row: Float32Array, id: number): boolean => {
    if (id < 0) return finish('no-token');
    if (o.stopIds.has(id)) return finish('stop-token');
    tokens.push(id);
    const lp = model.logProbs ? row[id]! : logProb(row, id);
    logSum += lp;
    if (explained) {
      const of = logSoftmaxOf(row, model.logProbs === true);
      explained.push({ id, logProb: lp, alternatives: topK(row, o.explain!).map((alt) => ({ id: alt, logProb: of(alt) })) });
    }
    minP = Math.min(minP, Math.exp(lp));
    let bytes = tok.tokenBytes(id);
    if (bytesToSkip > 0) {
      const skip = Math.min(bytesToSkip, bytes.length);
      bytes = bytes.subarray(skip);
      bytesToSkip -= skip;
    }
    text += detokenizer.pushBytes(bytes);
    trace.push({ logProb: lp, end: text.length });
    const cut = o.stop?.(text);
    if (cut !== null && cut !== undefined) {
      text = text.slice(0, cut);
      return finish('rule');
    }
    if (tokens.length >= o.maxTokens || model.length + 1 >= (model.capacity ?? Infinity)) return finish('max-tokens');
    return false;
  };

  let row = pre.logits;
  const vocab = row.length;
  const recycling = !o.random && model.trees && model.extendTree && model.keepBranch ? o.recycling : undefined;
  recycling?.table.update(prompt.slice(-1), row);
  if (o.lead) {
    tokens.push(...o.lead.tokens);
    logSum += o.lead.logProb;
    for (const id of o.lead.tokens) explained?.push({ id, logProb: o.lead.logProb, alternatives: [] });
    text += detokenizer.pushBytes(o.lead.bytes);
    o.lead.tokens.forEach((_, k) => {
      trace.push({ logProb: k === o.lead!.tokens.length - 1 ? o.lead!.logProb : 0, end: text.length });
    });
    const cut = o.stop?.(text);
    if (cut !== null && cut !== undefined) {
      text = text.slice(0, cut);
      stoppedBy = 'rule';
    }
  }
  /** Walks the verified rows down the drafts: emits each token the chain picks that a draft holds there. */
  const accept = (rows: Float32Array, next: (node: number, token: number) => number): { node: number; path: number[]; done: boolean } => {
    const path = [0];
    let node = 0;
    for (;;) {
      row = rows.subarray(node * vocab, (node + 1) * vocab);
      const y = choose(row);
      const child = y < 0 ? -1 : next(node, y);
      if (child < 0) return { node, path, done: false }; // the outer loop emits y from this same row
      accepted++;
      path.push(child);
      node = child;
      if (emit(row, y)) return { node, path, done: true };
    }
  };
  while (!stoppedBy) {
    if (o.cancelled?.()) {
      stoppedBy = 'cancelled';
      break;
    }
    if (o.deadline !== undefined && tokens.length > 0 && performance.now() >= o.deadline) {
      stoppedBy = 'time';
      break;
    }
    const id = choose(row);
    if (emit(row, id)) break;
    // The prompt already ends with the lead's tokens: the lookup sees each token once.
    const generated = o.lead ? tokens.slice(o.lead.tokens.length) : tokens;
    const room = Math.min(o.maxTokens - tokens.length, (model.capacity ?? Infinity) - model.length - 2);
    const draft = o.random || !o.maxDraft ? [] : lookupDraft(prompt, generated, Math.min(o.maxDraft, room));
    passes++;
    const nodes = Math.min(MAX_TREE, recycling?.template.parents.length ?? MAX_TREE, (model.capacity ?? Infinity) - model.length);
    const tree = recycling && room > 0 ? draftTree(id, draft, recycling.table, recycling.template, nodes, room) : undefined;
    if (tree && tree.ids.length > 1) {
      const rows = await model.extendTree!(tree);
      recycling!.table.update(tree.ids, rows);
      drafted += tree.ids.length - 1;
      const walked = accept(rows, tree.child);
      model.keepBranch!(walked.path);
      if (walked.done) break;
      continue;
    }
    if (!draft.length) {
      row = await model.step(id);
      recycling?.table.update([id], row);
      continue;
    }
    // One pass over id and the draft: row j is the distribution after draft token j (row 0: after id).
    const fed = model.length;
    const rows = await model.extend([id, ...draft]);
    drafted += draft.length;
    const walked = accept(rows, (node, token) => (node < draft.length && draft[node] === token ? node + 1 : -1));
    if (walked.done) break;
    if (walked.node < draft.length) model.rewind(fed + 1 + walked.node);
  }
  if (stoppedBy !== 'rule') text += detokenizer.flush();
  return {
    text,
    tokens,
    confidence: tokens.length ? Math.exp(logSum / tokens.length) : 0,
    minProbability: tokens.length ? minP : 0,
    prefillTokens: pre.ran,
    reusedTokens: pre.reused,
    prefillMs: t1 - t0,
    decodeMs: performance.now() - t1,
    passes,
    drafted,
    accepted,
    stoppedBy: stoppedBy ?? 'max-tokens',
    ...(explained ? { explained } : {}),
    trace,
  };
}
