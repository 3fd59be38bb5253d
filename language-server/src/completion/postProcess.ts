// After the model: what of its text is shown. The syntax cuts a block back to its longest error-free
// version, the text the line already has after the cursor is not typed again, a block takes the file's
// indentation, and what the model was unsure of is held back.
import type { Parser, Tree } from 'web-tree-sitter';
import type { CompletionShape } from './shape';
import { indentUnit } from './shape';
import { syntaxCut } from './syntaxCut';
import type { TextWindow } from './window';

export interface Shown {
  text: string;
  /** Why nothing is shown, when nothing is. */
  reason?: string;
}

/** The document's syntax for the check of blocks: its language's parser and, when kept, its tree. */
export interface DocumentSyntax {
  parser: Parser;
  tree?: Tree;
}

export function postProcess(raw: string, shape: CompletionShape, window: TextWindow, syntax: DocumentSyntax | undefined): Shown {
  let text = raw;
  // Only whole files are parsed (a window's cut edges would count as errors).
  if (shape.multiline && syntax && window.whole && text.includes('\n')) {
    const cut = syntaxCut(syntax.parser, window.text, window.offset, text, syntax.tree);
    if (cut === null) return { text: '', reason: 'every cut of it adds a syntax error' };
    text = cut;
  }
  text = trimSuffixOverlap(text, shape.lineSuffix);
  // Only a block has later lines to re-indent: the file's indentation is read for those alone.
  if (text.includes('\n')) text = matchIndentation(text, indentUnit(window.text));
  return text.trim() ? { text } : { text: '', reason: 'nothing to insert' };
}

/** With a confident head: nothing when a filter left nothing or the model was not sure of the start either. */
export function headGate(shown: Shown, head: { text: string }, filtered: { text: string; by?: string }, minProbability: number): Shown {
  if (!filtered.text.trim() && filtered.by) return { text: '', reason: `cut by the filters: ${filtered.by}` };
  if (!head.text.trim()) return { text: '', reason: `no start with probability ${minProbability} or more` };
  return shown;
}

/** The confidence gate: no ghost text beats junk ghost text. */
export function gate(shown: Shown, confidence: number, minConfidence: number): Shown {
  if (shown.reason || confidence >= minConfidence) return shown;
  return { text: '', reason: `confidence ${confidence.toFixed(2)} below ${minConfidence}` };
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

/**
 * Re-indents the completion's later lines to the file's style: the model mostly saw spaces, so in a
 * file indented with tabs each 4 (or the completion's own step of) leading spaces become a tab.
 */
export function matchIndentation(completion: string, unit: string): string {
  if (unit !== '\t' || !completion.includes('\n ')) return completion;
  const step = Number(indentUnit(completion.replace(/^[^\n]*\n/, '')).length) || 4;
  return completion.replace(
    /\n( +)/g,
    (_m, spaces: string) => `\n${'\t'.repeat(Math.floor(spaces.length / step))}${' '.repeat(spaces.length % step)}`,
  );
}
