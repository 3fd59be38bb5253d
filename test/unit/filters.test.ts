// The filters a completion goes through before it is shown (completion/filters.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyFilters,
  aroundCursor,
  balanceBrackets,
  cutEchoes,
  cutRepeatedLines,
  cutRepeatingLineEnd,
  retypesSuffix,
} from '../../language-server/src/completion/filters';

test('a line that loops keeps the first of its repeats, and nothing after it', () => {
  assert.equal(cutRepeatingLineEnd('return (a < 0 && a < 0 && a < 0 && a < 0'), 'return (a < 0 && a < 0');
  assert.equal(
    cutRepeatingLineEnd('const x = 1;\n  return (a < 0 && a < 0 && a < 0 && a < 0\n}'),
    'const x = 1;\n  return (a < 0 && a < 0',
  );
  assert.equal(cutRepeatingLineEnd('value, key, key, key, key'), 'value, key');
  assert.equal(cutRepeatingLineEnd('r, text: string, text: string, text: string, text:'), 'r, text: string, text:');
  // Legitimate repetition: separators, short units, only two repeats.
  assert.equal(cutRepeatingLineEnd('// ==========================='), '// ===========================');
  assert.equal(cutRepeatingLineEnd('f(a, a)'), 'f(a, a)');
  assert.equal(cutRepeatingLineEnd('x.y.y'), 'x.y.y');
});

test('a line written twice ends the completion before the repeat', () => {
  assert.equal(cutRepeatedLines('const a = compute(1);\nconst b = 2;\nconst a = compute(1);'), 'const a = compute(1);\nconst b = 2;');
  assert.equal(cutRepeatedLines('}\n}\n}'), '}\n}\n}', 'short lines repeat in real code');
});

test('echoes of the line above or the lines below, and text that only re-types the suffix', () => {
  const text = 'function f() {\n  const total = sum(values);\n  \n  return total;\n}\n';
  const around = aroundCursor(text, text.indexOf('  \n') + 2);
  assert.equal(around.lineAbove, 'const total = sum(values);');
  assert.deepEqual(around.linesBelow, ['return total;', '}']);
  assert.equal(cutEchoes('const total = sum(values);', around), '');
  assert.equal(cutEchoes('log(total);\nreturn total;', around), 'log(total);');
  assert.equal(cutEchoes('log(total);', around), 'log(total);');
  assert.equal(retypesSuffix('return total;', around), true);
  assert.equal(retypesSuffix('return total + 1;', around), false);
});

test('brackets: one line leaves none open that the rest of the line does not close', () => {
  assert.equal(balanceBrackets('foo(a, b)', ''), 'foo(a, b)');
  assert.equal(balanceBrackets('foo(a, ', ''), 'foo');
  assert.equal(balanceBrackets('foo(a', ');'), 'foo(a', 'the suffix closes it');
  assert.equal(balanceBrackets('x + g(h(1), ', ''), 'x + g');
});

test('all together: which filter cut, and nothing left when the whole completion was a loop', () => {
  const around = aroundCursor('x = \ny = 2\n', 4);
  assert.deepEqual(applyFilters('b, key, key, key, key', around, false), { text: 'b, key', by: 'a line that repeats itself' });
  assert.deepEqual(applyFilters('1', around, false), { text: '1' });
  assert.deepEqual(applyFilters('y = 2', around, false), { text: '', by: 'what follows the cursor already' });
  const block = aroundCursor('if (a) {\n  const v = read();\n  \n}\n', 31);
  assert.deepEqual(applyFilters('const v = read();', block, true), { text: '', by: 'an echo of the code around the cursor' });
});
