// Exact byte-level prompting (Phan et al. 2024, "Exact Byte-Level Probabilities from Tokenized Language
// Models for FIM-Tasks and Model Ensembles"). The prompt ends before the word the cursor is in; the text
// must start with that word's bytes. By the byte-token representation lemma, the probability that the
// text starts with bytes x is the sum of the model's probabilities of x's cover encodings (token
// sequences the tokenizer could produce whose text runs to or past the end of x). So the next byte has
// a distribution: each cover that runs past x votes for its byte there, and a cover that ends exactly
// at x votes through the model's next token. Bytes are chosen from it one at a time and the covers that
// disagree leave, until one cover is left and the text ends on its last token: from there ordinary
// decoding is exact again, with that cover's tokens as the prompt's continuation.
//
// Bounded where the paper is open-ended: a cover that ends exactly at the text is not extended into
// new covers (their number would grow with every byte). When the byte chosen is one such a cover votes
// for more than the longer covers do, the likeliest of them is taken and ordinary decoding goes on from
// it; its votes come from the model's `expand` likeliest next tokens.
import type { CoverGroup } from '../prompt/healing';
import type { TokenTable } from '../tokenizer/tokenTable';
import type { SequenceModel } from './generate';
import { logSoftmaxOf, topK } from './processors';

/** A cover: tokens after the prompt, their bytes, and their log-probability under the model. */
interface Cover {
  ids: number[];
  bytes: Uint8Array;
  logp: number;
}

/** The end of the text, as a choice beside the 256 bytes: a stop token after a cover on a boundary. */
export const END = 256;

export interface ExactOptions {
  /** Tokens that end the text (they vote for END). */
  stopIds: ReadonlySet<number>;
  /** Tokens never to extend a cover with (control tokens). */
  suppressIds: readonly number[];
  /** Next tokens tried after a cover that ends exactly at the text. */
  expand?: number;
  /** Bytes chosen past the word at most before the likeliest cover is taken as it is. */
  maxBytes?: number;
  /** Random source for sampling the bytes; greedy when absent. */
  random?: () => number;
  cancelled?: () => boolean;
}

export interface ExactStart {
  /** The chosen cover's tokens: they follow the prompt. */
  tokens: number[];
  /** The bytes chosen past the word (the start of what is shown). */
  extra: Uint8Array;
  /** log P(extra | the word, the prompt): the chosen continuation's share of the word's probability. */
  logProb: number;
  /** Whether the text ended there (END won). */
  ended: boolean;
  /** Model passes run after the prompt's. */
  passes: number;
  /** The prompt's own run: tokens run, tokens the cache already had. */
  prefill: { ran: number; reused: number };
}

/** The covers of a word and the text chosen so far; the next byte's distribution over them. */
export class CoverSet {
  private covers: Cover[];
  private text: Uint8Array;
  /** log P(the prompt is followed by text starting with the word). */
  readonly wordLogProb: number;
  passes: number;
  /** The prompt's own run. */
  readonly prefill: { ran: number; reused: number };
  /** The last distribution's votes, split by where they came from (covers ending at the text, or past it). */
  private votes: { atEnd: Map<number, number>; past: Map<number, number> } | undefined;

  private constructor(
    private readonly model: SequenceModel,
    private readonly table: TokenTable,
    /** Positions the prompt takes in the cache (fewer than its tokens where identifiers were merged). */
    private readonly promptPositions: number,
    word: Uint8Array,
    covers: Cover[],
    passes: number,
    prefill: { ran: number; reused: number },
    private readonly o: ExactOptions,
  ) {
    this.prefill = prefill;
    this.covers = covers;
    this.text = word;
    this.wordLogProb = logSumExp(covers.map((c) => c.logp));
    this.passes = passes;
  }

  /** Runs the prompt and each cover's left part: the probability of every cover of `word`. */
  static async of(
    model: SequenceModel,
    table: TokenTable,
    prompt: readonly number[],
    word: Uint8Array,
    groups: readonly CoverGroup[],
    o: ExactOptions,
  ): Promise<CoverSet> {
    const pre = await model.prefill(prompt);
    const base = model.length;
    // Rows are valid until the next run: the prompt's row is kept as a copy.
    const first = logSoftmaxOf(pre.logits.slice(), model.logProbs === true);
    const bytesOf = (ids: readonly number[]) => concat(ids.map((id) => table.tokenBytes(id)));
    const covers: Cover[] = [];
    let passes = 0;
    for (const g of groups) {
      let logp = 0;
      let last = first;
      if (g.left.length) {
        model.rewind(base);
        const rows = await model.extend(g.left);
        passes++;
        const vocab = rows.length / g.left.length;
        logp = first(g.left[0]!);
        for (let j = 1; j < g.left.length; j++)
          logp += logSoftmaxOf(rows.subarray((j - 1) * vocab, j * vocab), model.logProbs === true)(g.left[j]!);
        last = logSoftmaxOf(rows.subarray((g.left.length - 1) * vocab), model.logProbs === true);
      }
      const leftBytes = bytesOf(g.left);
      for (const t of g.tokens) covers.push({ ids: [...g.left, t], bytes: concat([leftBytes, table.tokenBytes(t)]), logp: logp + last(t) });
    }
    return new CoverSet(model, table, base, word, covers, passes, { ran: pre.ran, reused: pre.reused }, o);
  }

  get chosen(): Uint8Array {
    return this.text;
  }

  /** Whether one cover is left and the text ends where it ends. */
  get settled(): boolean {
    return this.covers.length === 1 && this.covers[0]!.bytes.length === this.text.length;
  }

  /**
   * log P(next byte = b | text so far), b in 0..255 or END, normalized: covers running past the text
   * vote with their own probability, covers ending at it through the model's next token.
   */
  async distribution(): Promise<Map<number, number>> {
    const at = this.text.length;
    const past = new Map<number, number[]>();
    const atEnd = new Map<number, number[]>();
    const add = (into: Map<number, number[]>, b: number, logp: number) => {
      const list = into.get(b);
      if (list) list.push(logp);
      else into.set(b, [logp]);
    };
    const suppressed = new Set(this.o.suppressIds);
    for (const c of this.covers) {
      if (c.bytes.length > at) {
        add(past, c.bytes[at]!, c.logp);
        continue;
      }
      this.model.rewind(this.promptPositions);
      const rows = await this.model.extend(c.ids);
      this.passes++;
      const vocab = rows.length / c.ids.length;
      const row = rows.subarray((c.ids.length - 1) * vocab);
      const lp = logSoftmaxOf(row, this.model.logProbs === true);
      for (const id of this.o.stopIds) add(atEnd, END, c.logp + lp(id));
      const ok = (id: number) => !suppressed.has(id) && !this.o.stopIds.has(id) && this.table.tokenBytes(id).length > 0;
      for (const t of topK(row, this.o.expand ?? 32, ok)) add(atEnd, this.table.tokenBytes(t)[0]!, c.logp + lp(t));
    }
    const sum = (m: Map<number, number[]>) => new Map([...m].map(([b, list]) => [b, logSumExp(list)]));
    this.votes = { atEnd: sum(atEnd), past: sum(past) };
    const all = new Map<number, number[]>();
    for (const m of [this.votes.atEnd, this.votes.past]) for (const [b, lp] of m) add(all, b, lp);
    const total = logSumExp([...all.values()].flat());
    return new Map([...all].map(([b, list]) => [b, logSumExp(list) - total]));
  }

  /**
   * Takes byte `b` (or END). If the covers ending at the text vote for it more than the longer ones do,
   * the likeliest of them is taken (ordinary decoding continues from it); else the covers running
   * past the text with another byte there leave.
   */
  choose(b: number): void {
    const at = this.text.length;
    const fromEnd = this.votes?.atEnd.get(b) ?? -Infinity;
    const fromPast = this.votes?.past.get(b) ?? -Infinity;
    this.votes = undefined;
    if (b === END || fromEnd > fromPast) {
      const best = maxBy(this.covers.filter((c) => c.bytes.length === at));
      this.covers = best ? [best] : [];
      return;
    }
    this.text = concat([this.text, Uint8Array.of(b)]);
    this.covers = this.covers.filter((c) => c.bytes.length > at && c.bytes[at] === b);
  }

  /** The likeliest cover left. */
  best(): Cover | undefined {
    return maxBy(this.covers);
  }
}

function maxBy(covers: readonly Cover[]): Cover | undefined {
  let best: Cover | undefined;
  for (const c of covers) if (!best || c.logp > best.logp) best = c;
  return best;
}

/**
 * Chooses the start of the text after `prompt` that begins with `word`, byte by byte from the exact
 * distribution, until one cover is left on a token boundary (or the text ends).
 */
export async function exactStart(
  model: SequenceModel,
  table: TokenTable,
  prompt: readonly number[],
  word: Uint8Array,
  groups: readonly CoverGroup[],
  o: ExactOptions,
): Promise<ExactStart | undefined> {
  const set = await CoverSet.of(model, table, prompt, word, groups, o);
  if (set.wordLogProb === -Infinity) return undefined;
  const maxBytes = o.maxBytes ?? 48;
  let ended = false;
  while (!set.settled && set.chosen.length < word.length + maxBytes && !o.cancelled?.()) {
    const dist = await set.distribution();
    if (!dist.size) break;
    const b = o.random ? sample(dist, o.random) : argmax(dist);
    set.choose(b);
    ended = b === END;
  }
  const cover = set.best();
  if (!cover) return undefined;
  // The text chosen is what the cover spells (on a budget cut, its last token is taken whole).
  return {
    tokens: cover.ids,
    extra: cover.bytes.slice(word.length),
    logProb: cover.logp - set.wordLogProb,
    ended,
    passes: set.passes,
    prefill: set.prefill,
  };
}

function argmax(dist: Map<number, number>): number {
  let best = -1;
  let bestLp = -Infinity;
  for (const [b, lp] of dist) {
    if (lp > bestLp) {
      best = b;
      bestLp = lp;
    }
  }
  return best;
}

function sample(dist: Map<number, number>, random: () => number): number {
  let r = random();
  for (const [b, lp] of dist) {
    r -= Math.exp(lp);
    if (r <= 0) return b;
  }
  return argmax(dist);
}

export function logSumExp(xs: readonly number[]): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
