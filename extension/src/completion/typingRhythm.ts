// How long to wait before asking for an inline completion, from how fast the user is typing: a fast
// typist's next key is likely within their usual gap, and a request it would cancel is wasted work.

export class TypingRhythm {
  private readonly gaps: number[] = [];
  private last = 0;

  constructor(
    private readonly minMs = 15,
    private readonly maxMs = 200,
    private readonly window = 12,
  ) {}

  /** A keystroke (document change) at `now` ms. Pauses over a second are not typing rhythm. */
  keystroke(now: number): void {
    const gap = now - this.last;
    this.last = now;
    if (gap > 0 && gap < 1000) {
      this.gaps.push(gap);
      if (this.gaps.length > this.window) this.gaps.shift();
    }
  }

  /** The wait before a request made at `now`: the median gap between keys plus a margin, less the time already passed. */
  delay(now: number): number {
    if (this.gaps.length < 3) return this.minMs;
    const sorted = [...this.gaps].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    const wait = Math.min(this.maxMs, Math.max(this.minMs, median * 1.3));
    return Math.max(0, wait - (now - this.last));
  }
}
