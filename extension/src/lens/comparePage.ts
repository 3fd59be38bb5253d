// The Compare Tokenizers page: a table, no script; its policy allows only its own style, by nonce.
// Every string in it (file name, tokenizer names, errors) is escaped: file-derived text is never markup.
import type { CompareResult } from '../../../language-server/src/lsp_ext';

/** HTML of the table. Pure; bars scale to the largest count. */
export function comparisonHtml(result: CompareResult, title: string, nonce: string): string {
  const max = Math.max(1, ...result.rows.map((r) => r.tokens ?? 0));
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = result.rows
    .map((r) => {
      if (r.error) return `<tr><td>${esc(r.tokenizer)}</td><td colspan="3" class="error">${esc(r.error)}</td></tr>`;
      const width = (((r.tokens ?? 0) / max) * 100).toFixed(1);
      return `<tr class="${r.active ? 'active' : ''}"><td>${esc(r.tokenizer)}${r.active ? ' (active)' : ''}</td><td class="num">${(r.tokens ?? 0).toLocaleString('en-US')}</td><td class="num">${(r.charsPerToken ?? 0).toFixed(2)}</td><td class="bar"><progress max="100" value="${width}"></progress></td></tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
table { border-collapse: collapse; width: 100%; max-width: 52em; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid var(--vscode-panel-border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bar { width: 40%; } td.bar progress { width: 100%; height: 0.8em; accent-color: var(--vscode-charts-blue); }
tr.active td { font-weight: 600; } td.error { color: var(--vscode-errorForeground); }
</style></head><body>
<h2>${esc(title)}</h2>
<p>${result.characters.toLocaleString('en-US')} characters (${result.selection ? 'selection' : 'whole file'}). Fewer tokens: cheaper prompts, more context.</p>
<table id="comparison"><thead><tr><th>Tokenizer</th><th>Tokens</th><th>Chars / token</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></body></html>`;
}
