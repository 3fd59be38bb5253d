// Context beyond the file (completion/snippets.ts) and its place in the prompt (prompt/fim.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { queryAbove, SnippetPicker, similarWindows } from '../../language-server/src/completion/snippets';
import { buildFimPrompt, detectFimTemplate } from '../../language-server/src/prompt/fim';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';

const helper = {
  uri: 'file:///helpers.ts',
  path: 'src/helpers.ts',
  languageId: 'typescript',
  text: `${'// filler\n'.repeat(12)}export function computeShippingCost(order: Order, rate: number): number {\n  return order.items.length * rate;\n}\n${'// more filler\n'.repeat(12)}`,
};
const other = { uri: 'file:///other.ts', path: 'src/other.ts', languageId: 'typescript', text: 'const unrelated = 1;\nlet nothing = 2;\n' };

test('the window of another file most like the lines above the cursor, one per file', () => {
  const query = 'export function checkout(order: Order, rate: number): number {\n  const items = order.items;\n';
  const found = similarWindows(query, [helper, other]);
  assert.equal(found.length, 1);
  assert.equal(found[0]!.path, 'src/helpers.ts');
  assert.match(found[0]!.text, /computeShippingCost/);
  assert.ok(found[0]!.score >= 0.1 && found[0]!.score <= 1);
  assert.deepEqual(similarWindows('zzz qqq', [helper, other]), []);
});

test("the query is the lines above the cursor's line: typing on the line keeps the choice", () => {
  const text = 'a1\na2\nlet order = compute\n';
  assert.equal(queryAbove(text, text.length - 1), 'a1\na2\n');
  const picker = new SnippetPicker();
  const doc = 'function ship(order: Order, rate: number) {\n  return ';
  const first = picker.pick('u', doc, doc.length, [helper]);
  assert.equal(first.length, 1);
  assert.equal(picker.pick('u', `${doc}order`, doc.length + 5, [helper]), first, 'the same choice, not a new one');
});

test("snippets come before the file as files of their own, in the family's layout", () => {
  const tok = Tokenizer.fromFile(join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json'));
  const t = detectFimTemplate(tok)!;
  const p = buildFimPrompt(t, tok, {
    path: 'src/app.ts',
    snippets: [{ path: 'src/helpers.ts', text: 'export const rate = 2;' }],
    prefix: 'let x = ',
    suffix: ';\n',
  });
  assert.equal(
    tok.decode(p.ids),
    '<file_sep>src/helpers.ts\nexport const rate = 2;\n<file_sep>src/app.ts\n<fim_prefix><fim_suffix>;\n<fim_middle>let x = ',
  );
});
