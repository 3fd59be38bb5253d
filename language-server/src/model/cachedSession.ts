// A decoder session that remembers the sequence its KV cache holds, so each request re-runs only the
// tokens after the longest prefix it shares with that sequence (prompt and last completion included).
import { commonPrefix, truncateCache } from './kvCache';
import type { DecoderSession, KvCache } from './session';

export interface Prefill {
  /** Logits of the prompt's last position. */
  logits: Float32Array;
  /** Tokens actually run (the rest came from the cache). */
  ran: number;
  reused: number;
}

export class CachedSession {
  private ids: number[] = [];
  private cache: KvCache | null = null;

  constructor(readonly session: DecoderSession, private readonly reuse = true) {}

  get vocabSize(): number {
    return this.session.config.vocabSize;
  }

  async prefill(prompt: readonly number[]): Promise<Prefill> {
    // At least the last prompt token runs: its logits are the first prediction.
    let keep = this.reuse && this.cache ? Math.min(commonPrefix(this.ids, prompt), prompt.length - 1) : 0;
    let cache = this.cache && keep > 0 ? truncateCache(this.session.tensorClass, this.session.layout, this.cache, keep) : undefined;
    if (!cache) keep = 0;
    this.invalidate(); // if the run throws, nothing stale is left behind
    const r = await this.session.run(prompt.slice(keep), cache);
    this.ids = prompt.slice();
    this.cache = r.cache;
    return { logits: r.logits.subarray((r.positions - 1) * this.vocabSize), ran: prompt.length - keep, reused: keep };
  }

  /** Appends one token, returns the next position's logits. */
  step(id: number): Promise<Float32Array> {
    return this.extend([id]);
  }

  /** Runs several tokens at once (drafts to verify); returns the logits of each new position. */
  async extend(ids: readonly number[]): Promise<Float32Array> {
    if (!this.cache) throw new Error('extend before prefill');
    const cache = this.cache;
    const before = this.ids;
    this.invalidate();
    const r = await this.session.run(ids, cache);
    before.push(...ids);
    this.ids = before;
    this.cache = r.cache;
    return r.logits;
  }

  /** Keeps the first `length` tokens (drops rejected drafts). */
  rewind(length: number): void {
    if (!this.cache || length >= this.ids.length) return;
    this.cache = truncateCache(this.session.tensorClass, this.session.layout, this.cache, length);
    this.ids.length = length;
  }

  get length(): number {
    return this.ids.length;
  }

  invalidate(): void {
    this.ids = [];
    this.cache = null;
  }
}
