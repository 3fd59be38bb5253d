// Where the FIM check cuts a file (fimCheck/spans.ts) and how it scores a fill (fimCheck/score.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editSimilarity, exactMatch, levenshtein } from '../../language-server/src/fimCheck/score';
import { median } from '../../language-server/src/quantiles';
import { cutSpans } from '../../language-server/src/fimCheck/spans';
import { useSyntax } from '../support/syntax';

const { service } = useSyntax();

const text = [
  'import { x } from "y";',
  '',
  'export function f(a: number): number {',
  '  const b = a * 2;',
  '  if (b > 3) {',
  '    return b;',
  '  }',
  '  return a;',
  '}',
  '',
  'const 😀 = "emoji";',
  '',
].join('\n');

test('lines: a whole line after its indentation; blocks: statements that start and end lines', async () => {
  const tree = (await service().parser('typescript')).parse(text)!;
  const spans = cutSpans(text, { kinds: ['line', 'multiline'], n: 50, seed: 3, tree });
  const lines = spans.filter((s) => s.kind === 'line');
  assert.ok(lines.length >= 6);
  for (const s of lines) {
    const cut = text.slice(s.start, s.end);
    assert.ok(!cut.includes('\n') && cut === cut.trim() && cut.length >= 4, JSON.stringify(cut));
    assert.ok(
      s.start === 0 || /^[ \t]*$/.test(text.slice(text.lastIndexOf('\n', s.start - 1) + 1, s.start)),
      "from the line's first character",
    );
  }
  const blocks = spans.filter((s) => s.kind === 'multiline');
  assert.ok(blocks.length >= 2, `${blocks.length} blocks`);
  for (const s of blocks) {
    const cut = text.slice(s.start, s.end);
    assert.ok(cut.includes('\n'), JSON.stringify(cut));
    assert.ok(text[s.end] === '\n' || s.end === text.length, 'ends a line');
  }
  assert.ok(
    blocks.some((s) => text.slice(s.start, s.end).startsWith('if (b > 3) {')),
    'the if statement is a block',
  );
  tree.delete();
});

test('random spans: anywhere, never half a character, the same for a seed, inside a range when given', () => {
  const a = cutSpans(text, { kinds: ['random'], n: 30, seed: 9 });
  assert.deepEqual(cutSpans(text, { kinds: ['random'], n: 30, seed: 9 }), a);
  assert.notDeepEqual(cutSpans(text, { kinds: ['random'], n: 30, seed: 10 }), a);
  for (const s of a) {
    assert.ok(s.end > s.start && text.slice(s.start, s.end).trim());
    assert.ok(!/[\uDC00-\uDFFF]/.test(text[s.start]!) && !/[\uDC00-\uDFFF]/.test(text[s.end] ?? ''), 'no split surrogate pair');
  }
  const from = text.indexOf('export');
  const to = text.indexOf('}\n\nconst');
  for (const s of cutSpans(text, { kinds: ['line', 'random', 'multiline'], n: 20, seed: 1, range: [from, to] })) {
    assert.ok(s.start >= from && s.end <= to, `${s.kind} [${s.start}, ${s.end}) inside [${from}, ${to})`);
  }
});

test('scores: exact match and edit similarity ignore trailing whitespace', () => {
  assert.equal(exactMatch('return a;\n', 'return a;'), true);
  assert.equal(exactMatch('return b;', 'return a;'), false);
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
  assert.equal(editSimilarity('', ''), 1);
  assert.equal(editSimilarity('abc', ''), 0);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
