// The FIM check report's page (extension/src/fimCheck/reportPage.ts): a strict policy, nothing remote,
// and file text only ever set as text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportHtml } from '../../extension/src/fimCheck/reportPage';

test('the page allows only its own style and script, by nonce, and loads nothing remote', () => {
  const html = reportHtml('N0nce+/=', 'vscode-resource:');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-N0nce\+\/='/);
  assert.match(csp, /style-src 'nonce-N0nce\+\/='/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal((html.match(/<script nonce="N0nce\+\/=">/g) ?? []).length, 1);
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'no other script');
  assert.doesNotMatch(html, /src=["']https?:|href=["']https?:/);
});

test('report data reaches the page only as text: no innerHTML, no string-built markup', () => {
  const html = reportHtml('x', 'vscode-resource:');
  const script = /<script nonce="x">([\s\S]*)<\/script>/.exec(html)![1]!;
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  assert.match(script, /textContent/);
});

test('the page script is valid JavaScript (it is text inside a template, where escapes go wrong)', () => {
  const script = /<script nonce="x">([\s\S]*)<\/script>/.exec(reportHtml('x', 'y'))![1]!;
  // Parsed, not run: a syntax error throws here.
  assert.doesNotThrow(() => new Function(script));
});
