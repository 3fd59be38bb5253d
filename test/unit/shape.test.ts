// The shape a completion takes at the cursor (completion/shape.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionShape, indentUnit } from '../../language-server/src/completion/shape';

test('shape: mid-line is one line; an empty line or an opener at the line end is a block, one level in', () => {
  const ts = 'function f(x: number) {\n  if (x > 1) {\n    \n  }\n}\n';
  const inBody = completionShape(ts, ts.indexOf('    \n') + 4);
  assert.equal(inBody.multiline, true);
  assert.equal(inBody.blockIndent, '    ');
  assert.equal(inBody.nextLine, '}');
  const afterOpener = 'def f(x):\n    if x:\n';
  const s = completionShape(afterOpener, afterOpener.indexOf('if x:') + 5);
  assert.equal(s.multiline, true);
  assert.equal(s.blockIndent, '        ');
  const mid = 'const x = foo(a, );\n';
  const m = completionShape(mid, mid.indexOf(', )') + 2);
  assert.equal(m.multiline, false);
  assert.equal(m.lineSuffix, ');');
  assert.equal(indentUnit('a\n\tb\n\t\tc\n'), '\t');
  assert.equal(indentUnit('a:\n  b\n  c:\n    d\n'), '  ');
});
