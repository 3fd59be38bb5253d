/**
 * Tree-sitter parsing for the token view: grammars loaded on demand from wasm files, and documents kept
 * parsed incrementally as they are edited.
 *
 * Offsets: web-tree-sitter hands a JS string to tree-sitter as UTF-16 and converts every index and
 * column it exposes (Node.startIndex/endIndex, Point.column, Edit fields) from bytes to UTF-16 code
 * units, i.e. halves tree-sitter's UTF-16 byte offsets. So its indices are already the code units
 * VS Code and the rest of the server use, and nothing here converts; the unit tests pin this down with
 * emoji and non-BMP text in front of the nodes they check.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Language, Parser, Point, Tree, TreeCursor } from 'web-tree-sitter';
import { isOpaque, leafKind, type LeafKind } from './kinds';
import { isWhitespace } from './subtokens';

/**
 * require(), not import: esbuild then bundles web-tree-sitter's CommonJS build. An import statement
 * selects its ES module build, which calls createRequire(import.meta.url); import.meta.url is undefined
 * in the server's CommonJS bundle, and Parser.init would throw.
 */
const treeSitter = require('web-tree-sitter') as typeof import('web-tree-sitter');

export type { LeafKind } from './kinds';

/** A leaf of the syntax tree; start and end are UTF-16 offsets into the document, end exclusive. */
export interface Leaf {
  start: number;
  end: number;
  /** The grammar's node type: 'identifier', 'string_fragment', '(' ... */
  type: string;
  kind: LeafKind;
}

/**
 * The tree-sitter runtime is one wasm instance per process (Parser.init keeps a module-level
 * singleton), so it is initialized once, from the first wasm directory given.
 */
let runtime: Promise<void> | undefined;

function initRuntime(wasmDir: string): Promise<void> {
  const file = join(wasmDir, 'tree-sitter.wasm');
  if (!existsSync(file)) return Promise.reject(new Error(`tree-sitter runtime not found: ${file}`));
  runtime ??= treeSitter.Parser.init({ locateFile: (name: string) => join(wasmDir, name) }).catch((cause: unknown) => {
    runtime = undefined; // let a later call retry
    throw new Error(`tree-sitter runtime failed to load from ${file}: ${String(cause)}`, { cause });
  });
  return runtime;
}

/** Loads grammars from `<wasmDir>/grammars/tree-sitter-<grammar>.wasm`, each once, on first use. */
export class SyntaxService {
  private readonly parsers = new Map<string, Promise<Parser>>();

  private constructor(readonly wasmDir: string) {}

  /** `wasmDir` holds tree-sitter.wasm and grammars/ (the server's dist/wasm). */
  static async create(wasmDir: string): Promise<SyntaxService> {
    await initRuntime(wasmDir);
    return new SyntaxService(wasmDir);
  }

  /** The wasm file of a grammar (it may not exist). */
  grammarFile(grammar: string): string {
    return join(this.wasmDir, 'grammars', `tree-sitter-${grammar}.wasm`);
  }

  /**
   * A parser for the grammar, shared by every document of that grammar: parsing is synchronous, so
   * one parser per grammar never serves two parses at once.
   */
  parser(grammar: string): Promise<Parser> {
    const cached = this.parsers.get(grammar);
    if (cached !== undefined) return cached;
    const parser = this.load(grammar);
    this.parsers.set(grammar, parser);
    // A failed load is not cached: the file may appear later (a rebuild).
    parser.catch(() => {
      if (this.parsers.get(grammar) === parser) this.parsers.delete(grammar);
    });
    return parser;
  }

  private async load(grammar: string): Promise<Parser> {
    // The name becomes part of a path: keep it to a plain file-name stem.
    if (!/^[a-z0-9_-]+$/i.test(grammar)) throw new Error(`invalid tree-sitter grammar name: ${JSON.stringify(grammar)}`);
    const file = this.grammarFile(grammar);
    if (!existsSync(file)) throw new Error(`tree-sitter grammar "${grammar}" not found: ${file}`);
    let language: Language;
    try {
      language = await treeSitter.Language.load(file);
    } catch (cause) {
      throw new Error(`tree-sitter grammar "${grammar}" failed to load from ${file}: ${String(cause)}`, { cause });
    }
    const parser = new treeSitter.Parser();
    parser.setLanguage(language);
    return parser;
  }
}

/** The row and UTF-16 column of `offset`, counting rows by '\n' as tree-sitter does. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    row++;
    lineStart = nl + 1;
  }
  return { row, column: offset - lineStart };
}

/** The point reached from `start` after `inserted`. */
export function advance(start: Point, inserted: string): Point {
  const last = inserted.lastIndexOf('\n');
  if (last === -1) return { row: start.row, column: start.column + inserted.length };
  let rows = 0;
  for (let nl = inserted.indexOf('\n'); nl !== -1; nl = inserted.indexOf('\n', nl + 1)) rows++;
  return { row: start.row + rows, column: inserted.length - last - 1 };
}

/** What a SyntaxDocument reads its text from: the document's own buffer (documents/textBuffer.ts). */
export interface TextSource {
  readonly length: number;
  getText(): string;
}

/** A document's syntax tree, re-parsed incrementally on each edit. The text stays the document's own. */
export class SyntaxDocument {
  private current: Tree | undefined;
  /** The length of the text the tree is of (the source's, until its next edit). */
  private parsedLength: number;

  private constructor(
    private readonly parser: Parser,
    readonly grammar: string,
    private readonly source: TextSource,
  ) {
    const text = source.getText();
    this.current = parse(parser, text, null);
    this.parsedLength = text.length;
  }

  static async create(service: SyntaxService, grammar: string, source: TextSource): Promise<SyntaxDocument> {
    return SyntaxDocument.parse(await service.parser(grammar), grammar, source);
  }

  /** Parses `source` as it is now (synchronously: no edit can come between). */
  static parse(parser: Parser, grammar: string, source: TextSource): SyntaxDocument {
    return new SyntaxDocument(parser, grammar, source);
  }

  get text(): string {
    return this.source.getText();
  }

  /**
   * The current tree, for queries beyond leaves(). It is replaced (and deleted) by the next applyEdit
   * and by dispose: do not keep it, or nodes from it, across them, and do not delete it.
   */
  get tree(): Tree {
    return this.live();
  }

  /**
   * Follows an edit the source has just applied, as an LSP incremental change does: [start, end)
   * (UTF-16 offsets into the text before it) held `replaced` and now holds `text`. Re-parses reusing
   * the unchanged parts of the old tree.
   */
  applyEdit({ start, end, text, replaced }: { start: number; end: number; text: string; replaced: string }): void {
    const tree = this.live();
    const current = this.source.getText();
    const old = this.parsedLength;
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= old)) {
      throw new RangeError(`edit [${start}, ${end}) is outside the document (length ${old})`);
    }
    if (replaced.length !== end - start || current.length !== old - (end - start) + text.length) {
      throw new RangeError(`edit [${start}, ${end}) is not the one the text went through (${old} → ${current.length} characters)`);
    }
    // The text before the edit is unchanged: the start's point is read from the current text, the old
    // end's counted on from it over the replaced text.
    const startPosition = pointAt(current, start);
    tree.edit({
      startIndex: start,
      oldEndIndex: end,
      newEndIndex: start + text.length,
      startPosition,
      oldEndPosition: advance(startPosition, replaced),
      newEndPosition: advance(startPosition, text),
    });
    this.current = parse(this.parser, current, tree);
    this.parsedLength = current.length;
    tree.delete();
  }

  /** Whether the tree has a syntax error (an ERROR or MISSING node) anywhere. */
  hasErrors(): boolean {
    return this.live().rootNode.hasError;
  }

  /**
   * The leaves overlapping [startOffset, endOffset) in document order: tokens with no children, and
   * comments and string text as single leaves (kinds.ts isOpaque). Zero-width leaves (MISSING nodes)
   * cover no text and are left out. An empty range gives the leaf that contains its offset, if any.
   *
   * Text inside a node that none of its visible children covers is a leaf too, one per run of
   * non-whitespace, typed by the node that holds it: grammars leave some tokens hidden (css's `1.5` in
   * float_value `1.5px`, whose only visible child is the unit `px`), and error recovery can skip text
   * into hidden nodes. So leaves cover all non-whitespace text, which the token view relies on.
   *
   * Walks only the subtrees that overlap the range, so a visible range costs its own size, not the
   * document's.
   */
  leaves(startOffset = 0, endOffset = this.source.length): Leaf[] {
    return leavesOf(this.live(), this.source.getText(), startOffset, endOffset);
  }

  /** Frees the tree (wasm memory, not garbage-collected). The document is unusable afterwards. */
  dispose(): void {
    this.current?.delete();
    this.current = undefined;
  }

  private live(): Tree {
    if (this.current === undefined) throw new Error('SyntaxDocument used after dispose()');
    return this.current;
  }
}

/** SyntaxDocument.leaves over any tree of `text` (a copy the caller owns, say). */
export function leavesOf(tree: Tree, text: string, startOffset: number, endOffset: number): Leaf[] {
  const walk = new LeafWalk(text, startOffset, endOffset);
  const cursor = tree.walk();
  try {
    const stack = gotoRangeStart(cursor, tree, startOffset);
    let covered = cursor.startIndex; // text before this is accounted for: emitted, skipped or out of range
    for (;;) {
      const start = cursor.startIndex;
      const end = cursor.endIndex;
      const parent = stack.at(-1);
      if (parent !== undefined) walk.gap(covered, start, parent);
      covered = Math.max(covered, start);
      // Nodes come in document order, so the first one starting at or past the range ends the walk.
      if (start >= endOffset && !(walk.empty && start === startOffset)) break;
      if (end > startOffset) {
        const type = cursor.nodeType;
        const named = cursor.nodeIsNamed;
        if (!isOpaque(type) && cursor.gotoFirstChild()) {
          stack.push({ type, named, end });
          continue; // look at its first child next
        }
        if (start < end) walk.leaf(start, end, type, named);
      }
      covered = Math.max(covered, end);
      // On to the next node in document order, closing the nodes this one ends.
      let more = true;
      while (!cursor.gotoNextSibling()) {
        const closed = stack.pop();
        if (closed === undefined || !cursor.gotoParent()) {
          more = false;
          break;
        }
        walk.gap(covered, closed.end, closed);
        covered = Math.max(covered, closed.end);
      }
      if (!more) break;
    }
  } finally {
    cursor.delete();
  }
  return walk.out;
}

function parse(parser: Parser, text: string, oldTree: Tree | null): Tree {
  const tree = parser.parse(text, oldTree);
  // null only when parsing is cancelled or times out, which this module never asks for.
  if (tree === null) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** An ancestor of the node a leaf walk is at. */
interface Frame {
  type: string;
  named: boolean;
  end: number;
}

/** Collects the leaves of one leaves() call: nodes, and runs of text no visible node covers. */
class LeafWalk {
  readonly out: Leaf[] = [];
  readonly empty: boolean;

  constructor(
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.empty = start === end;
  }

  private overlaps(start: number, end: number): boolean {
    return this.empty ? start <= this.start && this.start < end : start < this.end && end > this.start;
  }

  leaf(start: number, end: number, type: string, named: boolean): void {
    this.out.push({ start, end, type, kind: leafKind(type, named, this.text.slice(start, end)) });
  }

  /** The runs of non-whitespace in [from, to), text inside `owner` that no child covers. */
  gap(from: number, to: number, owner: Frame): void {
    if (from >= to || !this.overlaps(from, to)) return;
    const text = this.text;
    // Only the runs that reach into the range matter: scan from the run around the range start, up to the range end.
    let i = Math.max(from, this.start);
    while (i > from && !isWhitespace(text.charCodeAt(i - 1))) i--;
    const stop = Math.min(to, Math.max(this.end, this.start + 1));
    while (i < stop) {
      while (i < to && isWhitespace(text.charCodeAt(i))) i++;
      if (i >= stop) break;
      const runStart = i;
      while (i < to && !isWhitespace(text.charCodeAt(i))) i++;
      if (this.overlaps(runStart, i)) this.leaf(runStart, i, owner.type, owner.named);
    }
  }
}

/**
 * Puts a fresh cursor (at the root) where a walk for leaves from `offset` starts, without visiting the
 * nodes before it, and returns the ancestors of that node, root first. Node starts never decrease in
 * preorder, so a binary search over preorder (descendant) indices finds the last node starting at or
 * before `offset`: the leaf containing the offset, or the last one before it. No leaf earlier in
 * preorder reaches past `offset`. If that node lies inside an opaque one (an escape sequence in a
 * python string), the walk starts at the outermost opaque ancestor instead, which is then one leaf.
 *
 * (TreeCursor.gotoFirstChildForIndex would be the obvious tool, but in web-tree-sitter 0.25.10 its C
 * side reads the goal offset from the wrong slot of the transfer buffer and narrows the found child's
 * index to a bool, so it moves to the wrong child and reports failure as success.)
 */
function gotoRangeStart(cursor: TreeCursor, tree: Tree, offset: number): Frame[] {
  if (offset <= 0) return [];
  let lo = 0;
  let hi = tree.rootNode.descendantCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    cursor.gotoDescendant(mid);
    if (cursor.startIndex <= offset) lo = mid;
    else hi = mid - 1;
  }
  cursor.gotoDescendant(lo);
  let target = lo;
  let ancestors: Frame[] = [];
  while (cursor.gotoParent()) {
    const type = cursor.nodeType;
    if (isOpaque(type)) {
      target = cursor.currentDescendantIndex;
      ancestors = [];
    } else ancestors.push({ type, named: cursor.nodeIsNamed, end: cursor.endIndex });
  }
  cursor.gotoDescendant(target);
  return ancestors.reverse();
}
