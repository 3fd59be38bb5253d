// Where the FIM check cuts a file: whole lines, multi-line blocks at statement boundaries, and random
// character spans that start and end anywhere (mid-token included). Deterministic for a seed.
import type { Node, Tree } from 'web-tree-sitter';
import { seededRandom } from '../generation/processors';

import type { SpanKind } from '../lsp_ext';

export type { SpanKind } from '../lsp_ext';
export const SPAN_KINDS: readonly SpanKind[] = ['line', 'multiline', 'random'];

/** [start, end) in UTF-16 offsets of the file: the text cut out, which the model is asked to fill. */
export interface Span {
  kind: SpanKind;
  start: number;
  end: number;
}

export interface SpanOptions {
  kinds: readonly SpanKind[];
  /** Spans of each kind (fewer where the file has fewer). */
  n: number;
  seed: number;
  /** Only spans inside [from, to) (a selection). */
  range?: [number, number];
  /** The file's syntax tree, for blocks at statement boundaries (without it: runs of lines at one indentation). */
  tree?: Tree;
}

const MAX_RANDOM = 48;

export function cutSpans(text: string, o: SpanOptions): Span[] {
  const [from, to] = o.range ?? [0, text.length];
  const lines = linesOf(text).filter((l) => l.contentStart >= from && l.end <= to);
  const out: Span[] = [];
  for (const kind of o.kinds) {
    const random = seededRandom(o.seed * 31 + SPAN_KINDS.indexOf(kind));
    const candidates =
      kind === 'line'
        ? lines.filter((l) => l.end - l.contentStart >= 4).map((l) => ({ start: l.contentStart, end: l.end }))
        : kind === 'multiline'
          ? blocks(lines, o.tree).filter((b) => b.start >= from && b.end <= to)
          : randomSpans(text, from, to, o.n * 4, random);
    out.push(...pick(candidates, o.n, random).map((s) => ({ kind, ...s })));
  }
  return out;
}

interface Line {
  /** Offset of the line's first non-whitespace character. */
  contentStart: number;
  /** Offset of its end, before the line break. */
  end: number;
  indent: number;
}

function linesOf(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const end = text[nl - 1] === '\r' ? nl - 1 : nl;
    let c = start;
    while (c < end && (text[c] === ' ' || text[c] === '\t')) c++;
    if (c < end) out.push({ contentStart: c, end, indent: c - start });
    start = nl + 1;
  }
  return out;
}

/** Statements and declarations of 2-10 lines that start a line and end one; runs of lines without a tree. */
function blocks(lines: Line[], tree: Tree | undefined): Array<{ start: number; end: number }> {
  const lineAt = new Map(lines.map((l) => [l.contentStart, l]));
  const lineEnds = new Set(lines.map((l) => l.end));
  if (tree) {
    const out: Array<{ start: number; end: number }> = [];
    const visit = (node: Node) => {
      const rows = node.endPosition.row - node.startPosition.row + 1;
      if (node.isNamed && node !== tree.rootNode && rows >= 2 && rows <= 10 && lineAt.has(node.startIndex) && lineEnds.has(node.endIndex)) {
        out.push({ start: node.startIndex, end: node.endIndex });
      }
      if (rows > 2) for (const child of node.namedChildren) if (child) visit(child);
    };
    visit(tree.rootNode);
    if (out.length) return dedupe(out);
  }
  const out: Array<{ start: number; end: number }> = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    let j = i;
    while (j + 1 < lines.length && j - i < 3 && lines[j + 1]!.indent === lines[i]!.indent) j++;
    if (j > i) out.push({ start: lines[i]!.contentStart, end: lines[j]!.end });
  }
  return out;
}

function randomSpans(text: string, from: number, to: number, count: number, random: () => number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  for (let k = 0; k < count * 4 && out.length < count && to - from > 1; k++) {
    let start = from + Math.floor(random() * (to - from - 1));
    let end = Math.min(to, start + 1 + Math.floor(random() * MAX_RANDOM));
    // Never half a character.
    if (isLowSurrogate(text.charCodeAt(start))) start--;
    if (isLowSurrogate(text.charCodeAt(end))) end++;
    if (text.slice(start, end).trim()) out.push({ start, end });
  }
  return out;
}

function pick<T extends { start: number; end: number }>(candidates: T[], n: number, random: () => number): T[] {
  const pool = dedupe(candidates);
  const out: T[] = [];
  while (out.length < n && pool.length) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out.sort((a, b) => a.start - b.start);
}

function dedupe<T extends { start: number; end: number }>(spans: T[]): T[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    const key = `${s.start}:${s.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
