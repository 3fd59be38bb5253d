// The BPE model: merges applied lowest rank first, leftmost first on ties — exactly the order of
// Hugging Face's implementation, so ids are identical.
import type { BpeSpec } from './spec';
import { TokenizerError } from './spec';

export class BpeModel {
  readonly vocab: Map<string, number>;
  /** Merge of the pair (a, b), keyed a * PAIR + b: its rank. */
  private readonly ranks = new Map<number, number>();
  /** Token id that merge of rank r produces. */
  private readonly merged: Int32Array;
  private static readonly PAIR = 1 << 22;

  constructor(spec: BpeSpec) {
    this.vocab = new Map(Object.entries(spec.vocab));
    const merges = spec.merges;
    this.merged = new Int32Array(merges.length);
    for (let r = 0; r < merges.length; r++) {
      const m = merges[r]!;
      let a: string;
      let b: string;
      if (typeof m === 'string') {
        const space = m.indexOf(' ', 1);
        if (space < 0) throw new TokenizerError(`merge ${r} (${JSON.stringify(m)}) is not "a b"`);
        a = m.slice(0, space);
        b = m.slice(space + 1);
      } else [a, b] = m;
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      const ic = this.vocab.get(a + b);
      if (ia === undefined || ib === undefined || ic === undefined) {
        throw new TokenizerError(`merge ${r} (${JSON.stringify(m)}) uses a token that is not in the vocabulary`);
      }
      if (ia >= BpeModel.PAIR || ib >= BpeModel.PAIR) throw new TokenizerError('vocabulary ids above 4M are not supported');
      const key = ia * BpeModel.PAIR + ib;
      if (!this.ranks.has(key)) this.ranks.set(key, r);
      this.merged[r] = ic;
    }
  }

  /** True if some merge takes `id` as an input. */
  mergesInvolve(ids: Set<number>): boolean {
    for (const key of this.ranks.keys()) {
      if (ids.has(Math.floor(key / BpeModel.PAIR)) || ids.has(key % BpeModel.PAIR)) return true;
    }
    return false;
  }

  /** Applies the merges to a word given as initial symbol ids; returns the final ids. */
  merge(symbols: number[]): number[] {
    return symbols.length < 48 ? this.mergeSmall(symbols) : this.mergeLarge(symbols);
  }

  /** Quadratic scan: fastest for the short words that are nearly all of code. */
  private mergeSmall(symbols: number[]): number[] {
    const ids = symbols;
    const ranks = this.ranks;
    const P = BpeModel.PAIR;
    while (ids.length > 1) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i < ids.length - 1; i++) {
        const r = ranks.get(ids[i]! * P + ids[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // One merge per step, as Hugging Face does: a merge can create a pair of lower rank.
      ids[best] = this.merged[bestRank]!;
      ids.splice(best + 1, 1);
    }
    return ids;
  }

  /** Heap of candidate merges over a linked list: O(n log n) for long words (minified code, long runs). */
  private mergeLarge(symbols: number[]): number[] {
    const n = symbols.length;
    const ids = Int32Array.from(symbols);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MergeHeap();
    const P = BpeModel.PAIR;
    const push = (i: number): void => {
      const j = next[i]!;
      if (j < 0) return;
      const r = this.ranks.get(ids[i]! * P + ids[j]!);
      if (r !== undefined) heap.push(r, i, ids[i]!, ids[j]!);
    };
    for (let i = 0; i < n - 1; i++) push(i);
    while (heap.size > 0) {
      const [rank, i, left, right] = heap.pop();
      const j = next[i]!;
      // Skip candidates made stale by an earlier merge.
      if (!alive[i] || j < 0 || ids[i] !== left || ids[j] !== right) continue;
      ids[i] = this.merged[rank]!;
      alive[j] = 0;
      const k = next[j]!;
      next[i] = k;
      if (k >= 0) prev[k] = i;
      if (prev[i]! >= 0) push(prev[i]!);
      push(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]!) out.push(ids[i]!);
    return out;
  }
}

/** Binary min-heap ordered by (rank, position): lowest rank first, leftmost on ties. */
class MergeHeap {
  private data: number[] = [];
  get size(): number {
    return this.data.length / 4;
  }
  push(rank: number, pos: number, left: number, right: number): void {
    const d = this.data;
    let i = this.size;
    d.push(rank, pos, left, right);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number, number, number] {
    const d = this.data;
    const top: [number, number, number, number] = [d[0]!, d[1]!, d[2]!, d[3]!];
    const last = this.size - 1;
    if (last > 0) {
      this.swap(0, last);
    }
    d.length -= 4;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
  private less(a: number, b: number): boolean {
    const d = this.data;
    const ra = d[a * 4]!;
    const rb = d[b * 4]!;
    return ra < rb || (ra === rb && d[a * 4 + 1]! < d[b * 4 + 1]!);
  }
  private swap(a: number, b: number): void {
    const d = this.data;
    for (let k = 0; k < 4; k++) {
      const t = d[a * 4 + k]!;
      d[a * 4 + k] = d[b * 4 + k]!;
      d[b * 4 + k] = t;
    }
  }
}
