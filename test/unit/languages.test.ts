// Which grammar a document gets (syntax/languages.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRAMMARS, grammarFor } from '../../language-server/src/syntax/languages';
import { useSyntax } from '../support/syntax';

const { parse } = useSyntax();

test('grammarFor maps languageIds and extensions, and every grammar it names loads', async () => {
  assert.equal(grammarFor('typescript'), 'typescript');
  assert.equal(grammarFor('typescriptreact'), 'tsx');
  assert.equal(grammarFor('javascriptreact'), 'javascript');
  assert.equal(grammarFor('csharp'), 'c-sharp');
  assert.equal(grammarFor('c'), 'cpp');
  assert.equal(grammarFor('shellscript'), 'bash');
  assert.equal(grammarFor('plaintext'), undefined);
  assert.equal(grammarFor('', 'src/a.mts'), 'typescript');
  assert.equal(grammarFor('unknown', 'C:\\x\\App.TSX'), 'tsx');
  assert.equal(grammarFor('', 'file:///x/y/lib.cjs'), 'javascript');
  assert.equal(grammarFor('', 'stats.py'), 'python');
  assert.equal(grammarFor('', 'main.rs'), 'rust');
  assert.equal(grammarFor('', 'Makefile'), undefined);
  assert.equal(grammarFor('', '.ts'), undefined, 'a dotfile has no extension');
  // A known languageId wins over the extension.
  assert.equal(grammarFor('python', 'x.ts'), 'python');

  for (const grammar of GRAMMARS) {
    const doc = await parse(grammar, 'x');
    assert.ok(doc.leaves().length >= 1, grammar);
    doc.dispose();
  }
});
