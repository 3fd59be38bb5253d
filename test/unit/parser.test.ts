// Tree-sitter parsing (syntax/parser.ts): grammars loaded once, leaves with UTF-16 offsets, incremental
// edits equal to a fresh parse.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Node } from 'web-tree-sitter';
import { documentOf } from '../../language-server/src/completion/window';
import { TextBuffer } from '../../language-server/src/documents/textBuffer';
import { SyntaxDocument, SyntaxService, advance, pointAt } from '../../language-server/src/syntax/parser';
import { seededRandom } from '../../language-server/src/generation/processors';

const root = join(__dirname, '..', '..', '..');
const wasmDir = join(root, 'dist', 'wasm');

let service: SyntaxService;
before(async () => {
  service = await SyntaxService.create(wasmDir);
});

/** The text each document reads, kept as the server keeps it (a TextBuffer). */
const buffers = new WeakMap<SyntaxDocument, TextBuffer>();

async function parse(grammar: string, text: string): Promise<SyntaxDocument> {
  const buffer = new TextBuffer('file:///test', '', 1, text);
  const doc = await SyntaxDocument.create(service, grammar, buffer);
  buffers.set(doc, buffer);
  return doc;
}

/** An edit as the server makes it: the buffer changes, then the tree follows. */
function edit(doc: SyntaxDocument, start: number, end: number, text: string): void {
  const buffer = buffers.get(doc)!;
  const replaced = buffer.slice(start, end);
  buffer.replace(start, end, text);
  doc.applyEdit({ start, end, text, replaced });
}

/** Each leaf as [its text, its kind], read back from the document text by its offsets. */
function texts(doc: SyntaxDocument, leaves = doc.leaves()): [string, string][] {
  return leaves.map((l) => [doc.text.slice(l.start, l.end), l.kind]);
}

/** Every node of the tree with its offsets and points, for comparing an edited tree with a fresh one. */
function dump(node: Node, out: string[] = []): string[] {
  const { startPosition: s, endPosition: e } = node;
  out.push(`${node.type}${node.isMissing ? '!' : ''} ${node.startIndex}-${node.endIndex} ${s.row}:${s.column}-${e.row}:${e.column}`);
  for (const child of node.children) if (child) dump(child, out);
  return out;
}

/** Random integers below n from a seed, so failures reproduce. */
function random(seed: number): (n: number) => number {
  const next = seededRandom(seed);
  return (n) => Math.floor(next() * n);
}

test('a grammar is loaded once and its parser shared', async () => {
  const a = service.parser('python');
  assert.equal(service.parser('python'), a);
  assert.equal(await a, await service.parser('python'));
});

test('TypeScript leaves carry UTF-16 offsets after emoji and non-BMP characters', async () => {
  const text = 'const s = "😀é𝒳"; /* ü 🎉 */ let 𝒳 = 1.5;\n// 𝒳\nfoo(s, this, true);';
  const doc = await parse('typescript', text);
  assert.deepEqual(texts(doc), [
    ['const', 'keyword'],
    ['s', 'identifier'],
    ['=', 'punctuation'],
    ['"', 'punctuation'],
    ['😀é𝒳', 'string'],
    ['"', 'punctuation'],
    [';', 'punctuation'],
    ['/* ü 🎉 */', 'comment'],
    ['let', 'keyword'],
    ['𝒳', 'identifier'],
    ['=', 'punctuation'],
    ['1.5', 'number'],
    [';', 'punctuation'],
    ['// 𝒳', 'comment'],
    ['foo', 'identifier'],
    ['(', 'punctuation'],
    ['s', 'identifier'],
    [',', 'punctuation'],
    ['this', 'keyword'],
    [',', 'punctuation'],
    ['true', 'keyword'],
    [')', 'punctuation'],
    [';', 'punctuation'],
  ]);
  // Offsets are code units: the last `;` is the last code unit of the text.
  const leaves = doc.leaves();
  assert.equal(leaves.at(-1)!.end, text.length);
  assert.equal(leaves.find((l) => l.type === 'comment')!.start, text.indexOf('/*'));
  // And the tree agrees with the leaves: every node's text is the document's text at its offsets.
  const check = (node: Node): void => {
    assert.equal(text.slice(node.startIndex, node.endIndex), node.text);
    for (const child of node.children) if (child) check(child);
  };
  check(doc.tree.rootNode);
  assert.equal(doc.hasErrors(), false);
  doc.dispose();
});

test('TypeScript kinds: identifiers of every flavour, keywords, strings, template parts', async () => {
  const doc = await parse('typescript', 'interface P { name: string }\nconst o: P = { name };\no.name = `a${o.name}\\n`;');
  const kinds = new Map(texts(doc).map(([t, k]) => [t, k]));
  assert.equal(kinds.get('interface'), 'keyword');
  assert.equal(kinds.get('P'), 'identifier'); // type_identifier
  assert.equal(kinds.get('name'), 'identifier'); // property_identifier, shorthand_property_identifier
  assert.equal(kinds.get('string'), 'keyword'); // predefined type
  assert.equal(kinds.get('a'), 'string'); // template string_fragment
  assert.equal(kinds.get('\\n'), 'string'); // escape_sequence
  assert.equal(kinds.get('${'), 'punctuation');
  assert.equal(kinds.get('`'), 'punctuation');
  const types = new Set(doc.leaves().map((l) => l.type));
  for (const t of ['type_identifier', 'property_identifier', 'shorthand_property_identifier']) assert.ok(types.has(t), t);
  doc.dispose();
});

test('TSX and JavaScript (JSX) parse elements, attributes and text', async () => {
  const tsx = await parse('tsx', 'const a = <div className="x">hi 👋 {b}</div>;');
  assert.deepEqual(
    texts(tsx).map(([t]) => t),
    ['const', 'a', '=', '<', 'div', 'className', '=', '"', 'x', '"', '>', 'hi 👋 ', '{', 'b', '}', '</', 'div', '>', ';'],
  );
  assert.equal(tsx.hasErrors(), false);
  tsx.dispose();

  const js = await parse('javascript', 'export const App = () => <b>{n + 1}</b>; // ok');
  assert.equal(js.hasErrors(), false);
  assert.deepEqual(texts(js), [
    ['export', 'keyword'],
    ['const', 'keyword'],
    ['App', 'identifier'],
    ['=', 'punctuation'],
    ['(', 'punctuation'],
    [')', 'punctuation'],
    ['=>', 'punctuation'],
    ['<', 'punctuation'],
    ['b', 'identifier'],
    ['>', 'punctuation'],
    ['{', 'punctuation'],
    ['n', 'identifier'],
    ['+', 'punctuation'],
    ['1', 'number'],
    ['}', 'punctuation'],
    ['</', 'punctuation'],
    ['b', 'identifier'],
    ['>', 'punctuation'],
    [';', 'punctuation'],
    ['// ok', 'comment'],
  ]);
  js.dispose();
});

test('Python: f-strings, escapes inside one string leaf, keywords, None', async () => {
  const text = 'def f(x: int) -> str:\n    """Doc 🐍."""\n    return f"{x!r} ü\\n" if x else None  # 𝒳\n';
  const doc = await parse('python', text);
  assert.deepEqual(texts(doc), [
    ['def', 'keyword'],
    ['f', 'identifier'],
    ['(', 'punctuation'],
    ['x', 'identifier'],
    [':', 'punctuation'],
    ['int', 'identifier'],
    [')', 'punctuation'],
    ['->', 'punctuation'],
    ['str', 'identifier'],
    [':', 'punctuation'],
    ['"""', 'string'],
    ['Doc 🐍.', 'string'],
    ['"""', 'string'],
    ['return', 'keyword'],
    ['f"', 'string'],
    ['{', 'punctuation'],
    ['x', 'identifier'],
    ['!r', 'other'],
    ['}', 'punctuation'],
    [' ü\\n', 'string'],
    ['"', 'string'],
    ['if', 'keyword'],
    ['x', 'identifier'],
    ['else', 'keyword'],
    ['None', 'keyword'],
    ['# 𝒳', 'comment'],
  ]);
  assert.equal(doc.hasErrors(), false);
  doc.dispose();
});

test('text no visible node covers becomes leaves of the node that holds it (css numbers and colors)', async () => {
  const text = '.a { margin: 1.5px 0; color: #fff; }';
  const doc = await parse('css', text);
  assert.equal(doc.hasErrors(), false);
  const leaves = doc.leaves();
  assert.deepEqual(
    leaves
      .filter((l) => ['1.5', 'px', '0', 'fff'].includes(text.slice(l.start, l.end)))
      .map((l) => [text.slice(l.start, l.end), l.type, l.kind]),
    [
      ['1.5', 'float_value', 'number'],
      ['px', 'unit', 'other'],
      ['0', 'integer_value', 'number'],
      ['fff', 'color_value', 'other'],
    ],
  );
  // A range inside the hidden token still finds it.
  const at = text.indexOf('1.5') + 1;
  assert.deepEqual(texts(doc, doc.leaves(at, at + 1)), [['1.5', 'number']]);
  assert.deepEqual(texts(doc, doc.leaves(at, at)), [['1.5', 'number']]);
  assert.deepEqual(texts(doc, doc.leaves(at + 1, at + 3)), [
    ['1.5', 'number'],
    ['px', 'other'],
  ]); // '5p'
  doc.dispose();
});

test('hasErrors detects an unbalanced brace, and an edit that closes it clears it', async () => {
  const text = 'function f(a: number) {\n  if (a) {\n    return 1;\n  \n}\n';
  const doc = await parse('typescript', text);
  assert.equal(doc.hasErrors(), true);
  // MISSING nodes are zero-width: they never show up as leaves.
  assert.ok(doc.leaves().every((l) => l.end > l.start));
  const at = text.indexOf('  \n}') + 2;
  edit(doc, at, at, '}');
  assert.equal(doc.hasErrors(), false);
  edit(doc, at, at + 1, '');
  assert.equal(doc.hasErrors(), true);
  doc.dispose();

  const py = await parse('python', 'def f(:\n  pass\n');
  assert.equal(py.hasErrors(), true);
  py.dispose();
});

test('leaves(range) returns exactly the leaves overlapping the range', async () => {
  const text = `${readFileSync(join(root, 'language-server', 'src', 'syntax', 'parser.ts'), 'utf8')}\nconst 𝒳 = "😀";\n`;
  const doc = await parse('typescript', text);
  const all = doc.leaves();
  assert.ok(all.length > 500);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.end <= all[i]!.start, 'sorted and disjoint');
  const rand = random(7);
  for (let n = 0; n < 300; n++) {
    const a = rand(text.length + 1);
    const b = Math.min(text.length, a + rand(n % 3 === 0 ? 3 : 2000));
    const expected = all.filter((l) => (a === b ? l.start <= a && a < l.end : l.start < b && l.end > a));
    assert.deepEqual(doc.leaves(a, b), expected, `[${a}, ${b})`);
  }
  assert.deepEqual(doc.leaves(text.length, text.length), []);
  assert.deepEqual(doc.leaves(0, 0), all.slice(0, 1));
  doc.dispose();
});

interface Source {
  grammar: string;
  text: string;
}

const sources: Source[] = [
  { grammar: 'typescript', text: readFileSync(join(root, 'test', 'fixtures', 'workspace', 'src', 'greet.ts'), 'utf8') },
  { grammar: 'python', text: readFileSync(join(root, 'test', 'fixtures', 'workspace', 'src', 'stats.py'), 'utf8') },
  { grammar: 'typescript', text: readFileSync(join(root, 'language-server', 'src', 'syntax', 'subtokens.ts'), 'utf8') },
  {
    grammar: 'tsx',
    text: 'export function Card({ title }: { title: string }) {\n  // 🃏 card\n  return <section className="card">\n    <h2>{title} ✨</h2>\n  </section>;\n}\n',
  },
  {
    grammar: 'python',
    text: 'class Point:\n    """A point 📍."""\n\n    def __init__(self, x: float, y: float) -> None:\n        self.x = x\n        self.y = y\n\n    def norm(self):\n        return (self.x ** 2 + self.y ** 2) ** 0.5  # √\n',
  },
  { grammar: 'javascript', text: 'const re = /a+b/g;\nlet s = `x ${1 + 2} y`;\nfunction* g() { yield "é"; }\n' },
];

const INSERTS = [
  '😀',
  '𝒳',
  'é',
  '\n',
  '{',
  '}',
  '(',
  ')',
  '"',
  "'",
  '`',
  ';',
  ' ',
  '    ',
  'x',
  'return ',
  '# ',
  '// ',
  '/*',
  '*/',
  '\n    ',
  ':',
  '🎉🎉',
];
/** Text that can go anywhere inside a string or a comment without ending it. */

const SAFE_INSERTS = ['😀', '𝒳', 'é', 'ü 🎉', ' ', 'abc', '👨‍👩‍👧'];

const NAMES = ['x', 'café', 'value2', 'déjà', '_tmp'];

function isLow(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff;
}

/** A random offset in [from, to] that does not split a surrogate pair. */

function offset(text: string, rand: (n: number) => number, from = 0, to = text.length): number {
  let at = from + rand(to - from + 1);
  if (at > from && isLow(text, at)) at--;
  return at;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * A random edit of `text`, of the kinds an editor makes: typing or deleting anywhere (which often breaks
 * the syntax), pasting a piece of the original, typing emoji inside a string or comment, renaming an
 * identifier, duplicating a line. Ranges never split a surrogate pair.
 */

function randomEdit(
  text: string,
  original: string,
  leaves: readonly { start: number; end: number; kind: string }[],
  rand: (n: number) => number,
): Edit {
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[rand(xs.length)] : undefined);
  switch (rand(6)) {
    case 0: {
      const leaf = pick(leaves.filter((l) => l.kind === 'string' || l.kind === 'comment'));
      if (!leaf) break;
      const at = offset(text, rand, leaf.start + 1, leaf.end - 1);
      return { start: at, end: at, text: pick(SAFE_INSERTS)! };
    }
    case 1: {
      const leaf = pick(leaves.filter((l) => l.kind === 'identifier'));
      if (!leaf) break;
      return { start: leaf.start, end: leaf.end, text: pick(NAMES)! };
    }
    case 2: {
      const at = offset(text, rand);
      const lineStart = text.lastIndexOf('\n', at - 1) + 1;
      let lineEnd = text.indexOf('\n', at);
      if (lineEnd === -1) break;
      lineEnd++;
      return { start: lineEnd, end: lineEnd, text: text.slice(lineStart, lineEnd) };
    }
    case 3: {
      const s = offset(original, rand);
      let piece = original.slice(s, Math.min(original.length, s + rand(40)));
      if (/[\uD800-\uDBFF]$/.test(piece)) piece = piece.slice(0, -1);
      const at = offset(text, rand);
      return { start: at, end: at, text: piece };
    }
  }
  // Typing or deleting at a random place; sometimes a whole block.
  const start = offset(text, rand);
  let end = Math.min(text.length, start + (rand(3) === 0 ? 0 : rand(rand(3) === 0 ? 80 : 6)));
  if (end < text.length && isLow(text, end)) end++;
  return { start, end, text: rand(2) ? pick(INSERTS)! : '' };
}

test('incremental applyEdit gives the same tree and leaves as a fresh parse, over random edits', async () => {
  let compared = 0;
  let valid = 0;
  for (const [index, { grammar, text: original }] of sources.entries()) {
    const rand = random(1000 + index);
    const doc = await parse(grammar, original);
    assert.equal(doc.hasErrors(), false, `source ${index} parses without errors`);

    /** Applies an edit incrementally and checks the result against a fresh parse of the same text. */
    const step = async (e: Edit, context: string): Promise<SyntaxDocument> => {
      const before = doc.text;
      edit(doc, e.start, e.end, e.text);
      const text = before.slice(0, e.start) + e.text + before.slice(e.end);
      context = `${grammar} source ${index}, ${context}: [${e.start}, ${e.end}) <- ${JSON.stringify(e.text)}`;
      assert.equal(doc.text, text, context);
      const fresh = await parse(grammar, text);
      const leaves = doc.leaves();
      // Syntax trees may differ after error recovery (tree-sitter recovers from an edited tree
      // differently), but never on valid text; leaves must agree either way.
      assert.deepEqual(leaves, fresh.leaves(), context);
      assert.equal(doc.hasErrors(), fresh.hasErrors(), context);
      // A range query sees the same leaves as filtering the whole list, on broken trees too.
      const from = offset(text, rand);
      const to = Math.min(text.length, from + rand(120));
      const overlapping = leaves.filter((l) => (from === to ? l.start <= from && from < l.end : l.start < to && l.end > from));
      assert.deepEqual(doc.leaves(from, to), overlapping, `${context}, leaves(${from}, ${to})`);
      if (!fresh.hasErrors()) {
        assert.deepEqual(dump(doc.tree.rootNode), dump(fresh.tree.rootNode), context);
        valid++;
      }
      // Leaves are sorted, disjoint, non-empty, inside the text, and cover every non-whitespace character,
      // text that error recovery skipped into hidden nodes included.
      let covered = 0;
      for (const l of leaves) {
        assert.ok(covered <= l.start && l.start < l.end && l.end <= text.length, context);
        assert.match(text.slice(covered, l.start), /^\s*$/, context);
        covered = l.end;
      }
      assert.match(text.slice(covered), /^\s*$/, context);
      compared++;
      return fresh;
    };

    for (let n = 0; n < 100; n++) {
      const before = doc.text;
      const e = randomEdit(before, original, doc.leaves(), rand);
      const fresh = await step(e, `edit ${n}`);
      const broken = fresh.hasErrors();
      fresh.dispose();
      // Keep edits that leave valid code; undo the others, as a user fixing a typo would.
      if (broken) (await step({ start: e.start, end: e.start + e.text.length, text: before.slice(e.start, e.end) }, `undo ${n}`)).dispose();
    }
    doc.dispose();
  }
  assert.ok(compared >= 600, `${compared} edits compared`);
  assert.ok(valid >= 300, `${valid} edits left valid code`);
});

test('edit points: rows by \n, columns in UTF-16 code units', () => {
  const text = 'a😀\r\nbé𝒳c\n\nxyz';
  const naive = (offset: number) => {
    const before = text.slice(0, offset).split('\n');
    return { row: before.length - 1, column: before.at(-1)!.length };
  };
  for (let o = 0; o <= text.length; o++) assert.deepEqual(pointAt(text, o), naive(o), `offset ${o}`);
  assert.deepEqual(pointAt(text, 4), { row: 0, column: 4 }); // after '\r': only '\n' ends a row
  assert.deepEqual(pointAt(text, 9), { row: 1, column: 4 }); // after 'bé𝒳'
  assert.deepEqual(advance({ row: 3, column: 4 }, '😀x'), { row: 3, column: 7 });
  assert.deepEqual(advance({ row: 3, column: 4 }, 'ab\n\n😀'), { row: 5, column: 2 });
  assert.deepEqual(advance({ row: 3, column: 4 }, ''), { row: 3, column: 4 });
  for (let a = 0; a <= text.length; a++) {
    for (let b = a; b <= text.length; b++) assert.deepEqual(advance(pointAt(text, a), text.slice(a, b)), pointAt(text, b));
  }
});

test('applyEdit rejects ranges outside the document; a disposed document refuses use', async () => {
  const doc = await parse('typescript', 'let a = 1;');
  assert.throws(() => doc.applyEdit({ start: 5, end: 4, text: '', replaced: '' }), RangeError);
  assert.throws(() => doc.applyEdit({ start: 0, end: 11, text: '', replaced: 'x'.repeat(11) }), RangeError);
  assert.throws(() => doc.applyEdit({ start: -1, end: 0, text: '', replaced: '' }), RangeError);
  // An edit the text did not go through (the buffer was not changed) is refused too.
  assert.throws(() => doc.applyEdit({ start: 0, end: 0, text: 'x', replaced: '' }), /not the one the text went through/);
  assert.equal(doc.text, 'let a = 1;');
  edit(doc, 10, 10, '\n😀');
  assert.equal(doc.text, 'let a = 1;\n😀');
  doc.dispose();
  assert.throws(() => doc.leaves(), /dispose/);
  doc.dispose(); // twice is harmless
});

let scratch: string | undefined;
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a missing or broken grammar, or a missing runtime, gives an error naming the file', async () => {
  await assert.rejects(service.parser('klingon'), (e: Error) => {
    assert.match(e.message, /grammar "klingon" not found/);
    assert.ok(e.message.includes(join(wasmDir, 'grammars', 'tree-sitter-klingon.wasm')), e.message);
    return true;
  });
  await assert.rejects(SyntaxDocument.create(service, 'klingon', documentOf('x')), /tree-sitter-klingon\.wasm/);
  await assert.rejects(service.parser('../tree-sitter'), /invalid tree-sitter grammar name/);

  scratch = mkdtempSync(join(tmpdir(), 'tessera-syntax-'));
  await assert.rejects(SyntaxService.create(scratch), (e: Error) => e.message.includes(join(scratch!, 'tree-sitter.wasm')));

  mkdirSync(join(scratch, 'grammars'));
  copyFileSync(join(wasmDir, 'tree-sitter.wasm'), join(scratch, 'tree-sitter.wasm'));
  writeFileSync(join(scratch, 'grammars', 'tree-sitter-broken.wasm'), 'not wasm');
  const other = await SyntaxService.create(scratch);
  await assert.rejects(other.parser('broken'), (e: Error) => {
    assert.match(e.message, /grammar "broken" failed to load from/);
    assert.ok(e.message.includes(join(scratch!, 'grammars', 'tree-sitter-broken.wasm')), e.message);
    return true;
  });
});
