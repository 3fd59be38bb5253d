// Decoding as a chain of small processors over one position's logits (as llama.cpp's sampler chain and
// Hugging Face's LogitsProcessorList): each edits the logits in place, -Infinity forbids a token.

export interface DecodeStep {
  /** Tokens generated so far in this completion. */
  generated: readonly number[];
}

export type LogitsProcessor = (logits: Float32Array, step: DecodeStep) => void;

export function applyChain(chain: readonly LogitsProcessor[], logits: Float32Array, step: DecodeStep): void {
  for (const p of chain) p(logits, step);
}

/** Forbids ids (control tokens that are not stops: a FIM marker in the middle is never right). */
export function suppress(ids: Iterable<number>): LogitsProcessor {
  const list = Int32Array.from(ids);
  return (logits) => {
    for (let i = 0; i < list.length; i++) logits[list[i]!] = -Infinity;
  };
}

/** Forbids everything outside `allowed(step)` while it returns a set; null lifts the constraint. */
export function constrain(allowed: (step: DecodeStep) => Uint8Array | null): LogitsProcessor {
  return (logits, step) => {
    const mask = allowed(step);
    if (!mask) return;
    for (let i = 0; i < logits.length; i++) if (!mask[i]) logits[i] = -Infinity;
  };
}

export function temperature(t: number): LogitsProcessor {
  return (logits) => {
    if (t === 1) return;
    for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / t;
  };
}

/** Keeps the smallest set of tokens whose probability reaches p (nucleus sampling). */
export function topP(p: number): LogitsProcessor {
  return (logits) => {
    if (p >= 1) return;
    const probs = softmax(logits);
    const order = Array.from(probs.keys())
      .filter((i) => probs[i]! > 0)
      .sort((a, b) => probs[b]! - probs[a]!);
    let mass = 0;
    let k = 0;
    while (k < order.length && mass < p) mass += probs[order[k++]!]!;
    const keep = new Uint8Array(logits.length);
    for (let i = 0; i < k; i++) keep[order[i]!] = 1;
    for (let i = 0; i < logits.length; i++) if (!keep[i]) logits[i] = -Infinity;
  };
}

export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < logits.length; i++) out[i]! /= sum;
  return out;
}

/** log-probability of `id` under logits (natural log). */
export function logProb(logits: Float32Array, id: number): number {
  return logSoftmaxOf(logits, false)(id);
}

/**
 * Log-probabilities from one row, the normalizer summed once: `normalized` rows (log-softmax exports)
 * are read as they are. The row is read lazily: it must stay unchanged while the function is used.
 */
export function logSoftmaxOf(row: Float32Array, normalized: boolean): (id: number) => number {
  if (normalized) return (id) => row[id]!;
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  // Every decoded token pays this sum over the vocabulary, so it uses expNonPositive (2x Math.exp's
  // speed); terms below e^-40 cannot move a float sum of at least 1.
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const x = row[i]! - max;
    if (x > -40) sum += expNonPositive(x);
  }
  const lse = max + Math.log(sum);
  return (id) => row[id]! - lse;
}

const POW2_NEG = Float64Array.from({ length: 64 }, (_, k) => 2 ** -k);

/** e^x for -40 < x <= 0, relative error below 3e-6: 2^-k by table, the rest by a degree-7 series. */
export function expNonPositive(x: number): number {
  const t = -x * Math.LOG2E;
  const k = Math.floor(t);
  const y = (k - t) * Math.LN2; // in (-ln 2, 0]
  const p = 1 + y * (1 + y * (1 / 2 + y * (1 / 6 + y * (1 / 24 + y * (1 / 120 + y * (1 / 720 + y / 5040))))));
  return p * POW2_NEG[k]!;
}

export function argmaxOf(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Draws from softmax(logits) with `random` in [0, 1). */
export function sampleOf(logits: Float32Array, random: () => number): number {
  const probs = softmax(logits);
  let r = random();
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i]!;
    if (r <= 0 && probs[i]! > 0) return i;
  }
  return argmaxOf(logits);
}

/** A small deterministic random source (mulberry32): sampling with a seed is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `k` ids with the highest logits that `ok` accepts. */
export function topK(row: Float32Array, k: number, ok: (id: number) => boolean = () => true): number[] {
  const best: number[] = [];
  for (let id = 0; id < row.length; id++) {
    if (best.length === k && row[id]! <= row[best[k - 1]!]!) continue;
    if (!ok(id)) continue;
    let i = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push(id);
    while (i > 0 && row[best[i - 1]!]! < row[id]!) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = id;
  }
  return best;
}
