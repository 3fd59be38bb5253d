// The shape a completion should take at the cursor, read from the text around it: the rest of a line,
// or a block (an empty body, an empty line after an opener), and where that block's lines begin.
import type { StopSpec } from '../generation/stops';

export interface CompletionShape extends StopSpec {
  /** The text after the cursor up to the end of its line (what the completion must not repeat). */
  lineSuffix: string;
}

const OPENERS = /[{([:]\s*$|=>\s*$/;

/** `force`: one line or a block whatever the text around says (the FIM check cuts spans of a known kind). */
export function completionShape(text: string, offset: number, force?: 'line' | 'block', maxLines = 8): CompletionShape {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const linePrefix = text.slice(lineStart, offset);
  const lineSuffix = text.slice(offset, lineEnd);
  const nextLine = firstNonBlankLine(text, lineEnd + 1);
  const indent = leadingWhitespace(linePrefix);
  let multiline = false;
  let blockIndent = indent;
  if (lineSuffix.trim() === '') {
    if (linePrefix.trim() === '') {
      // An empty line: statements (or a whole body) at this indentation.
      multiline = true;
      blockIndent = linePrefix;
    } else if (OPENERS.test(linePrefix)) {
      // After an opener at the end of a line: the body starts on the next line, one level in.
      multiline = true;
      blockIndent = indent + indentUnit(text);
    }
  }
  if (force === 'line') multiline = false;
  if (force === 'block' && !multiline) {
    multiline = true;
    blockIndent = indent;
  }
  return { multiline, maxLines, blockIndent, lineSuffix, nextLine: nextLine.trim() };
}

function firstNonBlankLine(text: string, from: number): string {
  let start = from;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    if (line.trim()) return line;
    start = end + 1;
  }
  return '';
}

function leadingWhitespace(s: string): string {
  return s.slice(0, s.length - s.trimStart().length);
}

/** The file's indentation step: a tab, or the smallest indentation increase seen (default 4 spaces). */
export function indentUnit(text: string): string {
  let best = 0;
  let prev = 0;
  let tabs = 0;
  let lines = 0;
  for (const line of text.slice(0, 100_000).split('\n')) {
    if (!line.trim()) continue;
    if (++lines > 2000) break;
    if (line.startsWith('\t')) tabs++;
    const n = line.length - line.trimStart().length;
    if (n > prev && (best === 0 || n - prev < best)) best = n - prev;
    prev = n;
  }
  if (tabs > lines / 2) return '\t';
  return ' '.repeat(best || 4);
}
