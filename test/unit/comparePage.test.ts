// The Compare Tokenizers page (extension/src/lens/comparePage.ts): no script, a policy that allows only
// its own style by nonce, and file-derived text (the title, tokenizer names, errors) shown as text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparisonHtml } from '../../extension/src/lens/comparePage';

const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">\'"&';

test('Compare Tokenizers: a strict policy by nonce, no script, nothing remote, every file-derived string escaped', () => {
  const html = comparisonHtml(
    {
      characters: 40,
      selection: false,
      rows: [
        { tokenizer: hostile, active: true, tokens: 10, charsPerToken: 4 },
        { tokenizer: 'broken', active: false, error: `${hostile} is not a tokenizer` },
      ],
    },
    `${hostile}.ts`,
    'N0nce+/=',
  );
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  assert.equal(csp, "default-src 'none'; style-src 'nonce-N0nce+/=';");
  assert.equal((html.match(/<style nonce="N0nce\+\/=">/g) ?? []).length, 1);
  assert.doesNotMatch(html, /<script|<img|style="/i, 'no markup from the strings, no inline style attributes');
  assert.equal((html.match(/&#60;script&#62;alert\(1\)&#60;\/script&#62;/g) ?? []).length, 3, 'the title, the name and the error, as text');
  assert.match(html, /<progress max="100" value="100\.0"><\/progress>/);
});
