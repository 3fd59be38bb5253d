// Prefix questions over a vocabulary's bytes: which tokens start with these bytes, which tokens are
// a proper prefix of them. Token healing and exact byte-level prompting ask them per keystroke, so the
// answers come from a sorted array (binary search), built once per tokenizer.
import type { TokenTable } from './tokenTable';

export class VocabIndex {
  /** Token byte strings (one char per byte, so string order is byte order), sorted, with their ids. */
  private readonly sorted: string[];
  private readonly sortedIds: Int32Array;
  private readonly exact = new Map<string, number[]>();

  constructor(readonly table: TokenTable) {
    const entries: Array<[string, number]> = [];
    for (let id = 0; id < table.vocabSize; id++) {
      if (table.isControl(id)) continue;
      const b = table.tokenBytes(id);
      if (b.length === 0) continue;
      const key = latin1(b);
      entries.push([key, id]);
      const same = this.exact.get(key);
      if (same) same.push(id);
      else this.exact.set(key, [id]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    this.sorted = entries.map((e) => e[0]);
    this.sortedIds = Int32Array.from(entries, (e) => e[1]);
  }

  /** Ids of the tokens whose bytes start with `prefix` (`prefix` itself included). */
  startingWith(prefix: Uint8Array): Int32Array {
    const key = latin1(prefix);
    let lo = lowerBound(this.sorted, key);
    const from = lo;
    while (lo < this.sorted.length && this.sorted[lo]!.startsWith(key)) lo++;
    return this.sortedIds.slice(from, lo);
  }

  /** Ids of the tokens whose bytes are a proper prefix of `bytes`. */
  prefixesOf(bytes: Uint8Array): number[] {
    const out: number[] = [];
    for (let n = 1; n < bytes.length; n++) out.push(...(this.exact.get(latin1(bytes.subarray(0, n))) ?? []));
    return out;
  }

  /** Whether some token's bytes strictly extend `bytes`. */
  hasLongerThan(bytes: Uint8Array): boolean {
    const key = latin1(bytes);
    const at = lowerBound(this.sorted, key);
    for (let i = at; i < this.sorted.length && this.sorted[i]!.startsWith(key); i++) if (this.sorted[i]!.length > key.length) return true;
    return false;
  }
}

const indexes = new WeakMap<TokenTable, VocabIndex>();

/** The index of a tokenizer's vocabulary, built on first use and kept with it. */
export function vocabIndexOf(table: TokenTable): VocabIndex {
  let index = indexes.get(table);
  if (!index) {
    index = new VocabIndex(table);
    indexes.set(table, index);
  }
  return index;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
