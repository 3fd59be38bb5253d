import * as vscode from 'vscode';
import type { CompareResult } from '../../../language-server/src/lsp_ext';

/** The Compare Tokenizers table: one webview, re-used, no scripts. */
export function showComparison(result: CompareResult, title: string, existing?: vscode.WebviewPanel): vscode.WebviewPanel {
  const panel =
    existing ??
    vscode.window.createWebviewPanel('tessera.compare', 'Compare Tokenizers', vscode.ViewColumn.Beside, { enableScripts: false });
  panel.title = `Tokens: ${title}`;
  panel.webview.html = comparisonHtml(result, title, panel.webview.cspSource);
  return panel;
}

/** HTML of the table. Pure; bars scale to the largest count. */
export function comparisonHtml(result: CompareResult, title: string, cspSource: string): string {
  const max = Math.max(1, ...result.rows.map((r) => r.tokens ?? 0));
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = result.rows
    .map((r) => {
      if (r.error) return `<tr><td>${esc(r.tokenizer)}</td><td colspan="3" class="error">${esc(r.error)}</td></tr>`;
      const width = (((r.tokens ?? 0) / max) * 100).toFixed(1);
      return `<tr class="${r.active ? 'active' : ''}"><td>${esc(r.tokenizer)}${r.active ? ' (active)' : ''}</td><td class="num">${(r.tokens ?? 0).toLocaleString('en-US')}</td><td class="num">${(r.charsPerToken ?? 0).toFixed(2)}</td><td class="bar"><div style="width:${width}%"></div></td></tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
table { border-collapse: collapse; width: 100%; max-width: 52em; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid var(--vscode-panel-border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bar { width: 40%; } td.bar div { height: 0.8em; background: var(--vscode-charts-blue); border-radius: 2px; }
tr.active td { font-weight: 600; } td.error { color: var(--vscode-errorForeground); }
</style></head><body>
<h2>${esc(title)}</h2>
<p>${result.characters.toLocaleString('en-US')} characters (${result.selection ? 'selection' : 'whole file'}). Fewer tokens: cheaper prompts, more context.</p>
<table id="comparison"><thead><tr><th>Tokenizer</th><th>Tokens</th><th>Chars / token</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></body></html>`;
}
