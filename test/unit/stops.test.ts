// Stop rules applied to generated text as it grows (generation/stops.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shapeStop } from '../../language-server/src/generation/stops';

test('stop rules: one line stops at its end, a closer it did not open, a dedent, the next line repeated, two blank lines', () => {
  const line = shapeStop({ multiline: false, maxLines: 8, blockIndent: '', nextLine: '' });
  assert.equal(line('a, b'), null);
  assert.equal(line('a, b)'), 4);
  assert.equal(line('f(a))'), 4);
  assert.equal(line('x\ny'), 1);
  const block = shapeStop({ multiline: true, maxLines: 8, blockIndent: '    ', nextLine: 'return result' });
  assert.equal(block('x = 1\n    y = 2\n'), null);
  assert.equal(block('x = 1\n    y = 2\n  z\n'), 15);
  assert.equal(block('x = 1\n    return result\n'), 5);
  assert.equal(block('x = 1\n\n\n    y\n'), 6);
  assert.equal(block('x = 1\n    value = value\n    value = value\n'), 23);
  const capped = shapeStop({ multiline: true, maxLines: 2, blockIndent: '', nextLine: '' });
  assert.equal(capped('a\nb\nc\nd\n'), 3);
});
