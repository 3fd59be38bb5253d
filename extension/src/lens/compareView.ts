import * as vscode from 'vscode';
import type { CompareResult } from '../../../language-server/src/lsp_ext';
import { webviewNonce } from '../webviewNonce';
import { comparisonHtml } from './comparePage';

/** The Compare Tokenizers table: one webview, re-used, no scripts. */
export function showComparison(result: CompareResult, title: string, existing?: vscode.WebviewPanel): vscode.WebviewPanel {
  const panel =
    existing ??
    vscode.window.createWebviewPanel('tessera.compare', 'Compare Tokenizers', vscode.ViewColumn.Beside, { enableScripts: false });
  panel.title = `Tokens: ${title}`;
  panel.webview.html = comparisonHtml(result, title, webviewNonce());
  return panel;
}
