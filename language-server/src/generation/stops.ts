// When generated text is done, judged on the text as it grows: where to cut it, or null to go on.
// What shape the text should take is the completion's to say (completion/shape.ts); these rules
// only apply it.

export interface StopSpec {
  /** A whole block may follow (empty body, empty line after an opener); else the rest of one line. */
  multiline: boolean;
  maxLines: number;
  /** Indentation of the lines being written: a non-empty line indented less ends the text. */
  blockIndent: string;
  /** The first non-blank line after the cursor's line, trimmed: written again, it ends the text. */
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
export function shapeStop(shape: StopSpec): StopRule {
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
