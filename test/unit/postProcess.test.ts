// What of the model's text is shown (completion/postProcess.ts): the syntax cut of blocks, the text the
// line already has after the cursor, the file's indentation, and the confidence gate.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { gate, matchIndentation, postProcess, trimSuffixOverlap } from '../../language-server/src/completion/postProcess';
import { completionShape } from '../../language-server/src/completion/shape';
import { completionWindow, documentOf } from '../../language-server/src/completion/window';
import { SyntaxService } from '../../language-server/src/syntax/parser';
import { repoRoot } from '../../scripts/lib/repoRoot';

test('the text after the cursor is not typed again; trailing whitespace goes', () => {
  assert.equal(trimSuffixOverlap('a, b);', ');'), 'a, b');
  assert.equal(trimSuffixOverlap('a, b', ');'), 'a, b');
  assert.equal(trimSuffixOverlap('x = 1  \n', ''), 'x = 1');
  // A cursor inside a word of the suffix: the fill joins it without doubling its bytes.
  assert.equal(trimSuffixOverlap('s.length', 'ngth > 0) {'), 's.le');
});

test("a block takes the file's tabs", () => {
  assert.equal(matchIndentation('if x {\n    y()\n        z()\n', '\t'), 'if x {\n\ty()\n\t\tz()\n');
  assert.equal(matchIndentation('a\n    b', '  '), 'a\n    b');
});

test('the gate holds back what the model was unsure of, and keeps an earlier reason', () => {
  assert.deepEqual(gate({ text: 'x' }, 0.5, 0.4), { text: 'x' });
  assert.deepEqual(gate({ text: 'x' }, 0.3, 0.4), { text: '', reason: 'confidence 0.30 below 0.4' });
  assert.deepEqual(gate({ text: '', reason: 'nothing to insert' }, 0.1, 0.4), { text: '', reason: 'nothing to insert' });
});

test('a block is cut back to its longest error-free lines; a window of a large file is not parsed', async () => {
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const parser = await syntax.parser('typescript');
  const text = 'function f(x: number) {\n  \n}\n';
  const offset = text.indexOf('  \n') + 2;
  const shape = completionShape(text, offset);
  assert.equal(shape.multiline, true);
  const raw = 'const y = x * 2;\n  return y;\n}\n)';
  const window = completionWindow(documentOf(text), offset);
  assert.deepEqual(postProcess(raw, shape, window, { parser }), { text: 'const y = x * 2;\n  return y;' });
  // Without the syntax the stop rules alone would have decided: the text stays as written (trimmed).
  assert.deepEqual(postProcess(raw, shape, window, undefined), { text: raw });
  assert.deepEqual(postProcess('   \n', shape, window, { parser }), { text: '', reason: 'nothing to insert' });
  assert.deepEqual(postProcess(')))\n{{{', shape, window, { parser }), { text: '', reason: 'every cut of it adds a syntax error' });
  const large = `${'// filler line\n'.repeat(60_000)}${text}`;
  const far = completionWindow(documentOf(large), large.length - text.length + offset);
  assert.equal(far.whole, false);
  assert.deepEqual(postProcess(raw, shape, far, { parser }), { text: raw }, 'no parse of a window');
});
