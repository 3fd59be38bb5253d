// Local memory: a token n-gram cache over the code at hand, mixed into the model's distribution.
// Code is local (Tu et al. 2014, "On the localness of software"): the names and call shapes of the file
// being edited recur within it, and a cache of its n-grams predicts them where a small model cannot
// (Hellendoorn & Devanbu 2017 mix one into a neural model the same way). The mixture
//   p(t) = (1 - λ) p_model(t) + λ p_cache(t)
// takes p_cache from the longest context (up to 3 tokens) the cache has seen, λ = c / (c + β) with c how
// often it saw that context: the more evidence, the more weight. β is chosen by held-out bits per byte
// (bench/memory.ts).
import type { SequenceModel } from './generate';
import { logSoftmaxOf } from './processors';

const MAX_CONTEXT = 3;

/** Counts of what followed each context of 1..3 tokens, added to token by token. */
export class NgramIndex {
  private readonly ids: number[] = [];
  /** One map per context length: context key → (next token → count), and the context's total. */
  private readonly orders = Array.from({ length: MAX_CONTEXT }, () => new Map<string, { total: number; next: Map<number, number> }>());

  constructor(ids: Iterable<number> = []) {
    for (const id of ids) this.add(id);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: number): void {
    const n = this.ids.length;
    for (let k = 1; k <= MAX_CONTEXT && k <= n; k++) {
      const key = keyOf(this.ids, n - k, n);
      const map = this.orders[k - 1]!;
      let entry = map.get(key);
      if (!entry) {
        entry = { total: 0, next: new Map() };
        map.set(key, entry);
      }
      entry.total++;
      entry.next.set(id, (entry.next.get(id) ?? 0) + 1);
    }
    this.ids.push(id);
  }

  /** Takes the last token back out (a rejected draft). */
  pop(): void {
    const id = this.ids.pop();
    if (id === undefined) return;
    const n = this.ids.length;
    for (let k = 1; k <= MAX_CONTEXT && k <= n; k++) {
      const map = this.orders[k - 1]!;
      const key = keyOf(this.ids, n - k, n);
      const entry = map.get(key)!;
      entry.total--;
      const c = entry.next.get(id)! - 1;
      if (c) entry.next.set(id, c);
      else entry.next.delete(id);
      if (!entry.total) map.delete(key);
    }
  }

  /** What followed the longest context of `history`'s end the cache has seen, with how often it saw it. */
  predict(history: readonly number[]): { order: number; total: number; next: Map<number, number> } | undefined {
    for (let k = Math.min(MAX_CONTEXT, history.length); k >= 1; k--) {
      const entry = this.orders[k - 1]!.get(keyOf(history, history.length - k, history.length));
      if (entry) return { order: k, ...entry };
    }
    return undefined;
  }
}

function keyOf(ids: readonly number[], from: number, to: number): string {
  let key = '';
  for (let i = from; i < to; i++) key += `${ids[i]},`;
  return key;
}

/** log p of the mixture, for a row of log-probabilities, in place (sparse: only the cache's tokens change). */
export function mixRow(row: Float32Array, prediction: ReturnType<NgramIndex['predict']>, beta: number): void {
  if (!prediction) return;
  const lambda = prediction.total / (prediction.total + beta);
  const keep = Math.log1p(-lambda);
  for (let i = 0; i < row.length; i++) row[i]! += keep;
  for (const [id, count] of prediction.next) {
    const pCache = count / prediction.total;
    // row[id] is now log((1 - λ) p_model): add λ p_cache in probability space.
    row[id] = Math.log(Math.exp(row[id]!) + lambda * pCache);
  }
}

/**
 * The model with the cache mixed into every row it returns (rows become log-probabilities). The cache
 * holds `memory` and, for each row, the sequence's tokens before the one the row predicts: nothing of
 * what it predicts, so drafts verified in one pass get the rows single steps would.
 */
export function withNgramCache(model: SequenceModel, memory: readonly number[], beta: number): SequenceModel {
  const ids: number[] = [];
  const index = new NgramIndex(memory);
  const base = memory.length;
  /** The cache holds exactly memory + ids[0, n). */
  const learnTo = (n: number) => {
    while (index.size - base > n) index.pop();
    while (index.size - base < n) index.add(ids[index.size - base]!);
  };
  const mixed = (logits: Float32Array, positions: number): Float32Array => {
    const vocab = logits.length / positions;
    const out = new Float32Array(logits.length);
    for (let r = 0; r < positions; r++) {
      const row = logits.subarray(r * vocab, (r + 1) * vocab);
      const target = out.subarray(r * vocab, (r + 1) * vocab);
      if (model.logProbs) target.set(row);
      else {
        const lp = logSoftmaxOf(row, false);
        for (let i = 0; i < vocab; i++) target[i] = lp(i);
      }
      // Row r predicts the token after position `end - 1`.
      const end = ids.length - positions + r + 1;
      learnTo(end);
      mixRow(target, index.predict(ids.slice(Math.max(0, end - MAX_CONTEXT), end)), beta);
    }
    return out;
  };
  return {
    logProbs: true,
    capacity: model.capacity,
    get length() {
      return model.length;
    },
    async prefill(prompt) {
      const r = await model.prefill(prompt);
      ids.length = 0;
      ids.push(...prompt);
      learnTo(0);
      return { ...r, logits: mixed(r.logits, 1) };
    },
    async step(id) {
      const row = await model.step(id);
      ids.push(id);
      return mixed(row, 1);
    },
    async extend(more) {
      const rows = await model.extend(more);
      ids.push(...more);
      return mixed(rows, more.length);
    },
    rewind(length) {
      model.rewind(length);
      if (length < ids.length) ids.length = length;
    },
  };
}
