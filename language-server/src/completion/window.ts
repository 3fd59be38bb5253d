// The part of a document a completion reads. The prompt needs a few KB around the cursor: a large file
// is not copied whole per keystroke (nor parsed: the syntax check is for whole files only).

/** A document's text as the completion reads it (documents/textBuffer.ts is one). */
export interface DocumentText {
  readonly length: number;
  getText(): string;
  slice(from: number, to: number): string;
}

/** Files up to this many characters go to completion whole; larger ones as a window around the cursor. */
export const WHOLE_FILE = 512 * 1024;
const WINDOW_BEFORE = 192 * 1024;
const WINDOW_AFTER = 32 * 1024;
/** The window starts on a grid of this many characters: it stays put while typing, so the prompt does too. */
const WINDOW_GRID = 64 * 1024;

export interface TextWindow {
  text: string;
  /** The cursor's offset in `text`. */
  offset: number;
  /** Whether `text` is the whole document (the document's syntax tree then applies to it). */
  whole: boolean;
}

export function completionWindow(doc: DocumentText, cursor: number): TextWindow {
  if (doc.length <= WHOLE_FILE) return { text: doc.getText(), offset: cursor, whole: true };
  const from = lineStartAfter(doc, Math.max(0, Math.floor((cursor - WINDOW_BEFORE) / WINDOW_GRID) * WINDOW_GRID));
  return { text: doc.slice(from, Math.min(doc.length, cursor + WINDOW_AFTER)), offset: cursor - from, whole: false };
}

/** The first line start at or after `pos` (within 64K; `pos` itself if no line ends there). */
function lineStartAfter(doc: DocumentText, pos: number): number {
  if (pos === 0) return 0;
  const nl = doc.slice(pos, Math.min(doc.length, pos + WINDOW_GRID)).indexOf('\n');
  return nl < 0 ? pos : pos + nl + 1;
}

/** A string as a document (the command line and benchmarks complete files read whole). */
export function documentOf(text: string): DocumentText {
  return { length: text.length, getText: () => text, slice: (from, to) => text.slice(from, to) };
}
