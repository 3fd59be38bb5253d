// The syntax's say on where a multi-line completion ends: of the cuts at its line ends, the longest
// whose insertion leaves the file with no more syntax errors than it had (brackets balanced, the
// statement or block complete). Tree-sitter parses are incremental from the document's own tree.
import type { Parser, Tree } from 'web-tree-sitter';
import { advance, pointAt } from '../syntax/parser';

export function errorCount(tree: Tree): number {
  if (!tree.rootNode.hasError) return 0;
  let n = 0;
  const cursor = tree.walk();
  try {
    let more = true;
    while (more) {
      const node = cursor.currentNode;
      if (node.isError || node.isMissing) n++;
      if (node.hasError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          more = false;
          break;
        }
      }
    }
  } finally {
    cursor.delete();
  }
  return n;
}

/** Candidate ends of `completion`: each line end, then the whole text, shortest first. */
export function lineCuts(completion: string): number[] {
  const cuts: number[] = [];
  for (let i = completion.indexOf('\n'); i >= 0; i = completion.indexOf('\n', i + 1)) if (i > 0) cuts.push(i);
  if (!cuts.includes(completion.length)) cuts.push(completion.length);
  return cuts;
}

/**
 * The longest prefix of `completion` (cut at a line end) that, inserted at `offset`, adds no syntax
 * error to `text`; null if every cut adds one. `documentTree`, the document's tree for `text` if it keeps
 * one, spares the full parse (it is only read: each cut edits a copy).
 */
export function syntaxCut(parser: Parser, text: string, offset: number, completion: string, documentTree?: Tree): string | null {
  const base = documentTree ?? parser.parse(text);
  if (!base) return completion;
  try {
    const before = errorCount(base);
    const start = pointAt(text, offset);
    const cuts = lineCuts(completion.replace(/\s+$/, ''));
    for (let k = cuts.length - 1; k >= 0; k--) {
      const inserted = completion.slice(0, cuts[k]);
      const tree = base.copy();
      tree.edit({
        startIndex: offset,
        oldEndIndex: offset,
        newEndIndex: offset + inserted.length,
        startPosition: start,
        oldEndPosition: start,
        newEndPosition: advance(start, inserted),
      });
      const next = parser.parse(text.slice(0, offset) + inserted + text.slice(offset), tree);
      tree.delete();
      if (!next) continue;
      const after = errorCount(next);
      next.delete();
      if (after <= before) return inserted;
    }
    return null;
  } finally {
    if (base !== documentTree) base.delete();
  }
}
