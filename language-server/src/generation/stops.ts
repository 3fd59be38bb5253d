// When a completion is done, judged on its text as it grows: where to cut it, or null to go on.
// The syntax decides the shape (completion/shape.ts); these rules only apply it.

export interface CompletionShape {
  /** A whole block may follow (empty body, empty line after an opener); else the rest of one line. */
  multiline: boolean;
  maxLines: number;
  /** Indentation of the lines being written: a non-empty line indented less ends the completion. */
  blockIndent: string;
  /** The text after the cursor up to the end of its line (what the completion must not repeat). */
  lineSuffix: string;
  /** The first non-blank line after the cursor's line, trimmed: written again, it ends the completion. */
  nextLine: string;
}

export type StopRule = (text: string) => number | null;

const OPEN = '([{';
const CLOSE = ')]}';

/**
 * The cut for `text` under `shape`, or null while it may still grow. A block ends at a line indented
 * less than it, at the line that already follows the cursor, at a line repeating the one before, after
 * two blank lines or `maxLines` lines.
 */
export function shapeStop(shape: CompletionShape): StopRule {
  return (text) => {
    // Brackets: a closer that the completion did not open belongs to the code after the cursor.
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (OPEN.includes(c)) depth++;
      else if (CLOSE.includes(c) && --depth < 0 && (!shape.multiline || !text.slice(0, i).includes('\n'))) return i;
    }
    const nl = text.indexOf('\n');
    if (!shape.multiline) return nl >= 0 ? nl : null;
    const lines = text.split('\n');
    let offset = lines[0]!.length + 1;
    // Only complete lines are judged (the last one may still be growing).
    for (let k = 1; k < lines.length - 1; k++) {
      const line = lines[k]!;
      const trimmed = line.trim();
      if (trimmed) {
        const indent = line.slice(0, line.length - line.trimStart().length);
        if (indent.length < shape.blockIndent.length) return offset - 1;
        if (shape.nextLine && trimmed === shape.nextLine) return offset - 1;
        // A line written again right after itself: the model is looping.
        if (trimmed === lines[k - 1]!.trim()) return offset - 1;
      } else if (k >= 2 && !lines[k - 1]!.trim()) {
        return offset - 1; // two blank lines: the block is over
      }
      if (k >= shape.maxLines) return offset - 1;
      offset += line.length + 1;
    }
    return null;
  };
}

/** Removes the part of `text` the code after the cursor already has (a closing `)` or `;`). */
export function trimSuffixOverlap(text: string, lineSuffix: string): string {
  const rest = lineSuffix.trim();
  if (!rest) return text.replace(/\s+$/, '');
  const trimmed = text.replace(/\s+$/, '');
  for (let k = Math.min(rest.length, trimmed.length); k > 0; k--) {
    if (trimmed.endsWith(rest.slice(0, k))) return trimmed.slice(0, trimmed.length - k);
  }
  return trimmed;
}
