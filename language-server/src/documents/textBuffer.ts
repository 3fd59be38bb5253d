// An open document's text, edited in place at the cost of the edited lines. vscode-languageserver's
// TextDocument rebuilds the whole string and its line index on every change: ~4 ms per keystroke
// at 1 MB. Positions and offsets follow TextDocument's rules exactly (UTF-16 columns; \n, \r\n and
// \r end lines; a column past the line end clamps before its line break).
import type { Position, Range } from 'vscode-languageserver';
import { ChunkedText } from './chunkedText';

export class TextBuffer {
  private readonly chunks: ChunkedText;
  /** Offset of the first character of every line; lineStarts[0] = 0. */
  private lineStarts: number[];
  private whole: string | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    public version: number,
    content: string,
  ) {
    this.chunks = new ChunkedText(content);
    this.whole = content;
    this.lineStarts = [0, ...lineBreakEnds(content, 0)];
  }

  get length(): number {
    return this.chunks.length;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** The whole text, or a range of it. The whole text is kept until the next edit. */
  getText(range?: Range): string {
    if (range) return this.chunks.slice(this.offsetAt(range.start), this.offsetAt(range.end));
    this.whole ??= this.chunks.toString();
    return this.whole;
  }

  slice(from: number, to: number): string {
    return this.chunks.slice(from, to);
  }

  endsWith(suffix: string, pos: number): boolean {
    return this.chunks.endsWith(suffix, pos);
  }

  offsetAt(position: Position): number {
    const starts = this.lineStarts;
    if (position.line >= starts.length) return this.length;
    if (position.line < 0) return 0;
    const lineOffset = starts[position.line]!;
    if (position.character <= 0) return lineOffset;
    const next = position.line + 1 < starts.length ? starts[position.line + 1]! : this.length;
    return this.beforeLineBreak(Math.min(lineOffset + position.character, next), lineOffset);
  }

  positionAt(offset: number): Position {
    offset = Math.max(Math.min(offset, this.length), 0);
    const line = lineIndexOf(this.lineStarts, offset);
    const lineOffset = this.lineStarts[line]!;
    return { line, character: this.beforeLineBreak(offset, lineOffset) - lineOffset };
  }

  /** Replaces text[start, end) and keeps the line index right, scanning only the lines touched. */
  replace(start: number, end: number, insert: string): void {
    const starts = this.lineStarts;
    const delta = insert.length - (end - start);
    // Lines from the one holding start - 1 (a \r there may pair with an inserted \n) to the first
    // line start after `end`: only their line starts can change; later ones only shift.
    const first = lineIndexOf(starts, Math.max(0, start - 1));
    const regionStart = starts[first]!;
    let after = lineIndexOf(starts, end) + 1; // index of the first line start > end
    while (after < starts.length && starts[after]! <= end) after++;
    const regionEnd = after < starts.length ? starts[after]! : this.length;
    this.chunks.replace(start, end, insert);
    this.whole = undefined;
    const fresh = lineBreakEnds(this.chunks.slice(regionStart, regionEnd + delta), regionStart).filter((p) => p < regionEnd + delta);
    for (let i = after; i < starts.length; i++) starts[i]! += delta;
    starts.splice(first + 1, after - first - 1, ...fresh);
  }

  /** TextDocument's rule: an offset is never left after a line's break characters. */
  private beforeLineBreak(offset: number, lineOffset: number): number {
    while (offset > lineOffset) {
      const c = this.chunks.slice(offset - 1, offset).charCodeAt(0);
      if (c !== 10 && c !== 13) break;
      offset--;
    }
    return offset;
  }
}

/** Offsets right after each line break in `text`, shifted by `base`. */
function lineBreakEnds(text: string, base: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      out.push(base + i + 1);
    } else if (c === 10) out.push(base + i + 1);
  }
  return out;
}

/** Index of the line holding `offset`. */
function lineIndexOf(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (starts[mid]! > offset) high = mid;
    else low = mid + 1;
  }
  return Math.max(0, low - 1);
}
