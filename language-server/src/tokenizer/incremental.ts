// A document's tokens kept up to date edit by edit: only the region around an edit is
// re-tokenized, until the new piece boundaries fall back in step with the old ones.
//
// Pieces live in a gap buffer: those before the gap hold absolute offsets, those after it hold
// offsets from the END of the text, so an edit shifts nothing; moving the gap costs the distance
// moved, which is small while the user types in one place.
import { ChunkedText } from '../documents/chunkedText';
import type { Encoding, Piece, Tokenizer } from './tokenizer';

/** Pieces re-tokenized before the edit: a change can move the boundary of the previous pieces. */
const BACKOFF_PIECES = 2;
/** Pieces at the end of a window that are not trusted: the window cut may have changed them. */
const UNTRUSTED_TAIL = 2;
/** First window after the edit, in code units; doubled until the pieces fall back in step. */
const FIRST_WINDOW = 256;

/** Text the tokens are of, read piecewise (a ChunkedText, or the server's TextBuffer). */
export interface TextSource {
  readonly length: number;
  slice(from: number, to: number): string;
  endsWith(suffix: string, pos: number): boolean;
}

export class TokenizedText {
  private readonly content: TextSource;
  /** The text when this owns it (built from a string); else the caller edits the source. */
  private readonly owned: ChunkedText | undefined;
  /** Length of the text the pieces describe (during an edit of a shared source: the old one). */
  private size: number;
  /** Pieces before the gap, in order, absolute offsets. */
  private head: Piece[];
  /** Pieces after the gap, LAST piece first, offsets relative to the text end (<= 0). */
  private tail: Piece[] = [];
  private total = 0;

  /**
   * Over a string (kept here, edited with `edit`), or over a text source its owner edits and
   * reports with `followEdit` — then the document's text is held once, not twice.
   */
  constructor(
    readonly tokenizer: Tokenizer,
    text: string | TextSource,
  ) {
    if (typeof text === 'string') this.content = this.owned = new ChunkedText(text);
    else this.content = text;
    this.size = this.content.length;
    this.head = tokenizer.pieces(typeof text === 'string' ? text : text.slice(0, text.length));
    for (const p of this.head) this.total += p.ids.length;
  }

  /** The whole text (joins the chunks: O(length)). */
  get text(): string {
    return this.content.slice(0, this.size);
  }

  get length(): number {
    return this.size;
  }

  slice(from: number, to: number): string {
    return this.content.slice(from, to);
  }

  /** Number of tokens in the whole text. */
  get count(): number {
    return this.total;
  }

  get pieceCount(): number {
    return this.head.length + this.tail.length;
  }

  /**
   * Replaces text[start, end) (UTF-16 offsets in the current text) by `insert`, in text this owns.
   * Returns how many pieces were tokenized anew.
   */
  edit(start: number, end: number, insert: string): number {
    if (!this.owned) throw new Error('TokenizedText over a shared text source: edit the source, then call followEdit');
    if (start < 0 || end < start || end > this.size) throw new RangeError(`edit [${start}, ${end}) outside a text of ${this.size}`);
    this.owned.replace(start, end, insert);
    return this.followEdit(start, end, insert.length);
  }

  /**
   * The source has had [start, oldEnd) replaced by `inserted` code units: re-tokenize around it.
   * Returns how many pieces were tokenized anew.
   */
  followEdit(start: number, oldEnd: number, inserted: number): number {
    const text = this.content;
    if (text.length !== this.size - (oldEnd - start) + inserted) {
      throw new Error(`followEdit: the source is ${text.length} long, not ${this.size} - ${oldEnd - start} + ${inserted}`);
    }
    const k = Math.max(0, this.firstEndingAtOrAfter(start) - BACKOFF_PIECES);
    this.moveGap(k);
    // Old pieces from k on are now all in the tail, end-relative: still right for unchanged text.
    const tail = this.tail;
    const from = this.head.length > 0 ? this.head[this.head.length - 1]!.end : 0;
    const atSegmentStart = this.tokenizer.isSegmentStart(text, from); // text before `from` is unchanged
    const len = text.length;
    const editEnd = start + inserted;
    // Tokenize a window of the text, never the whole of it: slicing a 1 MB string per keystroke
    // would cost more than everything else.
    let windowEnd = Math.min(len, Math.max(editEnd, from) + FIRST_WINDOW);
    for (;;) {
      const complete = windowEnd >= len;
      const fresh = this.tokenizer.pieces(text.slice(from, windowEnd), from, atSegmentStart);
      const trusted = complete ? fresh.length : fresh.length - UNTRUSTED_TAIL;
      for (let f = 0; f < trusted; f++) {
        const p = fresh[f]!;
        if (p.start < editEnd) continue;
        // Is there an old piece at the same place (seen from the end of the text)?
        const j = this.tailIndexStartingAt(p.start - len);
        if (j >= 0 && tail[j]!.end === p.end - len) {
          this.size = len;
          this.dropTail(tail.length - 1 - j);
          this.pushHead(fresh, f);
          return f;
        }
      }
      if (complete) {
        this.size = len;
        this.dropTail(tail.length);
        this.pushHead(fresh, fresh.length);
        return fresh.length;
      }
      windowEnd = Math.min(len, from + 2 * (windowEnd - from));
    }
  }

  /** Tokens overlapping [from, to), with their spans in the current text. */
  tokensIn(from: number, to: number): Encoding {
    const hits: Piece[] = [];
    const n = this.pieceCount;
    for (let i = this.firstEndingAtOrAfter(from + 1); i < n; i++) {
      const p = this.piece(i);
      if (p.start >= to) break;
      hits.push(p);
    }
    if (hits.length === 0) return this.tokenizer.spans('', []);
    // Spans need the pieces' text: hand over just that stretch, offsets relative to it.
    const base = hits[0]!.start;
    const stretch = this.content.slice(base, hits[hits.length - 1]!.end);
    const local: Piece[] = [];
    for (const p of hits) {
      if ('normalized' in p) {
        // Its offset maps were made where the piece was first tokenized: tokenize it again here.
        const at = this.tokenizer.isSegmentStart(this.content, p.start);
        local.push(...this.tokenizer.pieces(stretch.slice(p.start - base, p.end - base), p.start - base, at));
      } else local.push({ start: p.start - base, end: p.end - base, ids: p.ids });
    }
    const all = this.tokenizer.spans(stretch, local);
    // Keep the tokens that overlap the range (a piece's other tokens may lie outside it).
    let a = 0;
    while (a < all.ids.length && all.ends[a]! + base <= from) a++;
    let b = all.ids.length;
    while (b > a && all.starts[b - 1]! + base >= to && !(all.starts[b - 1]! + base === from && from === to)) b--;
    const enc: Encoding = {
      ids: all.ids.slice(a, b),
      starts: all.starts.slice(a, b),
      ends: all.ends.slice(a, b),
      flags: all.flags.slice(a, b),
    };
    for (let i = 0; i < enc.starts.length; i++) {
      enc.starts[i]! += base;
      enc.ends[i]! += base;
    }
    return enc;
  }

  /** Tokens overlapping [from, to): what a selection costs. */
  countIn(from: number, to: number): number {
    let count = 0;
    const n = this.pieceCount;
    for (let i = this.firstEndingAtOrAfter(from + 1); i < n; i++) {
      const p = this.piece(i);
      if (p.start >= to) break;
      if (p.start >= from && p.end <= to) count += p.ids.length;
      else {
        const enc = this.tokensIn(p.start, p.end);
        for (let t = 0; t < enc.ids.length; t++) if (enc.ends[t]! > from && enc.starts[t]! < to) count++;
      }
    }
    return count;
  }

  /** Number of tokens that start before `offset`: the index in the file of the token there. */
  tokensBefore(offset: number): number {
    let n = 0;
    const count = this.pieceCount;
    let i = 0;
    for (; i < count && this.endAt(i) <= offset; i++) n += this.idsAt(i).length;
    if (i < count && this.piece(i).start < offset) {
      const enc = this.tokensIn(this.piece(i).start, offset);
      for (let t = 0; t < enc.ids.length; t++) if (enc.starts[t]! < offset) n++;
    }
    return n;
  }

  /** All token ids, in order. */
  allIds(): Int32Array {
    const out = new Int32Array(this.total);
    let k = 0;
    for (const p of this.head) {
      out.set(p.ids, k);
      k += p.ids.length;
    }
    for (let i = this.tail.length - 1; i >= 0; i--) {
      out.set(this.tail[i]!.ids, k);
      k += this.tail[i]!.ids.length;
    }
    return out;
  }

  /** Piece i with absolute offsets (a copy when it comes from the tail). */
  private piece(i: number): Piece {
    if (i < this.head.length) return this.head[i]!;
    const p = this.tail[this.tail.length - 1 - (i - this.head.length)]!;
    const len = this.size;
    return { ...p, start: p.start + len, end: p.end + len };
  }

  private idsAt(i: number): Int32Array {
    return i < this.head.length ? this.head[i]!.ids : this.tail[this.tail.length - 1 - (i - this.head.length)]!.ids;
  }

  private endAt(i: number): number {
    if (i < this.head.length) return this.head[i]!.end;
    return this.tail[this.tail.length - 1 - (i - this.head.length)]!.end + this.size;
  }

  private firstEndingAtOrAfter(x: number): number {
    let lo = 0;
    let hi = this.pieceCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.endAt(mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index in `tail` of the piece starting at end-relative offset `rel`, or -1. */
  private tailIndexStartingAt(rel: number): number {
    // tail is in descending order of offsets.
    let lo = 0;
    let hi = this.tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tail[mid]!.start > rel) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.tail.length && this.tail[lo]!.start === rel ? lo : -1;
  }

  /** Makes the head hold exactly the first k pieces. */
  private moveGap(k: number): void {
    const len = this.size;
    while (this.head.length > k) {
      const p = this.head.pop()!;
      p.start -= len;
      p.end -= len;
      this.tail.push(p);
    }
    while (this.head.length < k && this.tail.length > 0) {
      const p = this.tail.pop()!;
      p.start += len;
      p.end += len;
      this.head.push(p);
    }
  }

  /** Removes the first `count` pieces after the gap. */
  private dropTail(count: number): void {
    for (let i = 0; i < count; i++) this.total -= this.tail.pop()!.ids.length;
  }

  private pushHead(fresh: Piece[], count: number): void {
    for (let i = 0; i < count; i++) {
      this.head.push(fresh[i]!);
      this.total += fresh[i]!.ids.length;
    }
  }
}
