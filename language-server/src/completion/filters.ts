// Filters a completion goes through before it is shown, as the best peers have them (Tabby's
// removeRepetitiveLines / removeLineEndsWithRepetition / removeRepetitiveBlocks, Continue's and
// llama.vscode's duplicate-line checks): a small model loops, echoes the code around the cursor and
// re-types what follows it. Each filter cuts the text; none adds to it.

/** The code around the cursor the filters compare with. */
export interface Around {
  /** The cursor's line before and after the cursor. */
  linePrefix: string;
  lineSuffix: string;
  /** The nearest non-blank line above the cursor's line, trimmed. */
  lineAbove: string;
  /** The next non-blank lines below the cursor's line, trimmed (a few). */
  linesBelow: string[];
}

export function aroundCursor(text: string, offset: number, below = 3): Around {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  let lineAbove = '';
  for (let end = lineStart - 1; end > 0 && !lineAbove; ) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    lineAbove = text.slice(start, end).trim();
    end = start - 1;
  }
  const linesBelow: string[] = [];
  for (let start = lineEnd + 1; start < text.length && linesBelow.length < below; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    if (line) linesBelow.push(line);
    start = end + 1;
  }
  return { linePrefix: text.slice(lineStart, offset), lineSuffix: text.slice(offset, lineEnd), lineAbove, linesBelow };
}

/** Which filter cut the text last (for the completion's report), and what is left. */
export interface Filtered {
  text: string;
  by?: string;
}

export function applyFilters(text: string, around: Around, multiline: boolean): Filtered {
  let out: Filtered = { text };
  const step = (by: string, next: string) => {
    if (next !== out.text) out = { text: next, by };
  };
  step('a line that repeats itself', cutRepeatingLineEnd(out.text));
  step('a line written twice', cutRepeatedLines(out.text));
  step('an echo of the code around the cursor', cutEchoes(out.text, around));
  if (!multiline) step('unbalanced brackets', balanceBrackets(out.text, around.lineSuffix));
  if (retypesSuffix(out.text, around)) step('what follows the cursor already', '');
  return out;
}

const MIN_UNIT = 3;
const MIN_REPEATS = 3;

/**
 * A line that ends in the same few characters three times or more (`x, a < 0 && a < 0 && a < 0`): the
 * loop is cut, the first of its repeats kept (`x, a < 0 && a < 0`), and nothing after the line.
 */
export function cutRepeatingLineEnd(text: string): string {
  let start = 0;
  for (const line of text.split('\n')) {
    const body = line.trimEnd();
    for (let p = MIN_UNIT; p * MIN_REPEATS <= body.length && p <= 40; p++) {
      const unit = body.slice(body.length - p);
      if (!/\w/.test(unit)) continue;
      let r = 1;
      while (r * p + p <= body.length && body.slice(body.length - (r + 1) * p, body.length - r * p) === unit) r++;
      if (r >= MIN_REPEATS) return text.slice(0, start) + body.slice(0, body.length - (r - 1) * p);
    }
    start += line.length + 1;
  }
  return text;
}

/** A line of some length written again later in the completion: the loop starts there. */
export function cutRepeatedLines(text: string): string {
  const seen = new Set<string>();
  let start = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.length >= 10) {
      if (seen.has(t)) return text.slice(0, start).replace(/\n$/, '');
      seen.add(t);
    }
    start += line.length + 1;
  }
  return text;
}

/** A line that is the line above the cursor again, or one of the lines below it: cut there. */
export function cutEchoes(text: string, around: Around): string {
  let start = 0;
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    // The first line continues the cursor's line: compare the whole line it makes.
    const whole = (k === 0 ? around.linePrefix + line : line).trim();
    if (whole.length >= 4 && ((k === 0 && whole === around.lineAbove) || around.linesBelow.includes(whole))) {
      return text.slice(0, start).replace(/\n$/, '');
    }
    start += line.length + 1;
  }
  return text;
}

/** Whether the completion only types what already follows the cursor. */
export function retypesSuffix(text: string, around: Around): boolean {
  const t = text.trim();
  if (!t) return false;
  const after = [around.lineSuffix, ...around.linesBelow].join('\n').trimStart();
  return after.startsWith(t);
}

const OPEN = '([{';
const CLOSE = ')]}';

/**
 * One line's brackets: if the completion leaves brackets open that the rest of the line does not close,
 * it is cut back to where its own brackets were last balanced (a whole argument, a whole call).
 */
export function balanceBrackets(text: string, lineSuffix: string): string {
  const open: number[] = [];
  let balancedAt = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (OPEN.includes(c)) open.push(i);
    else if (CLOSE.includes(c)) open.pop();
    if (!open.length) balancedAt = i + 1;
  }
  if (!open.length) return text;
  // The suffix closes what is open, innermost first?
  const needed = open
    .map((i) => CLOSE[OPEN.indexOf(text[i]!)]!)
    .reverse()
    .join('');
  const closers = lineSuffix.replace(/[^)\]}]/g, '');
  if (closers.startsWith(needed)) return text;
  return text.slice(0, balancedAt).trimEnd();
}
