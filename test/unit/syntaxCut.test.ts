// The syntax's say on where a block completion ends (completion/syntaxCut.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntaxCut } from '../../language-server/src/completion/syntaxCut';
import { useSyntax } from '../support/syntax';

const { parse, service } = useSyntax();

test('syntaxCut keeps the longest line cut that adds no syntax error, from a parse or from the document tree', async () => {
  const text = 'function f(a: number) {\n  \n}\nconst x = 1;\n';
  const offset = text.indexOf('  \n}') + 2;
  // The model wrote the body, then closed the function again, twice: only the body may stay.
  const completion = 'if (a) {\n    return 1;\n  }\n  return 0;\n}\n}';
  const doc = await parse('typescript', text);
  const parser = await service().parser('typescript');
  const fromParse = syntaxCut(parser, text, offset, completion);
  const fromTree = syntaxCut(parser, text, offset, completion, doc.tree);
  assert.equal(fromParse, 'if (a) {\n    return 1;\n  }\n  return 0;');
  assert.equal(fromTree, fromParse);
  // The document's tree is only read: it still describes the document.
  assert.equal(doc.tree.rootNode.endIndex, text.length);
  assert.equal(doc.hasErrors(), false);
  assert.equal(syntaxCut(parser, text, offset, '}\n}\n}'), null);
  doc.dispose();
});
