import * as vscode from 'vscode';
import type { FimReport } from '../../../language-server/src/lsp_ext';
import { webviewNonce } from '../webviewNonce';
import { type ReportMessage, reportHtml } from './reportPage';

/**
 * The FIM check's report: a chart per span kind comparing the healing modes, a table of samples, and a
 * sample's expected and generated text with token boundaries, each generated token tinted by its
 * probability with its likeliest alternatives on hover. The page draws from the report data with DOM
 * calls only (file text is never parsed as HTML); a strict Content-Security-Policy allows only its own
 * script, by nonce, and no remote content.
 */
export class FimReportView implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private report: FimReport | undefined;
  private title = '';
  private document: vscode.TextDocument | undefined;
  /** Whether the page has said it listens (a message posted before is lost). */
  private ready = false;
  /** The sample last revealed in the editor (tests read it). */
  revealed: number | undefined;

  constructor(onDispose: () => void) {
    this.panel = vscode.window.createWebviewPanel('tessera.fimReport', 'FIM check', vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [],
      retainContextWhenHidden: true,
    });
    this.panel.webview.html = reportHtml(webviewNonce(), this.panel.webview.cspSource);
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: ReportMessage) => void this.onMessage(m)),
      this.panel.onDidDispose(() => {
        for (const d of this.disposables) d.dispose();
        onDispose();
      }),
    );
  }

  show(report: FimReport, document: vscode.TextDocument, title: string): void {
    this.report = report;
    this.title = title;
    this.document = document;
    this.revealed = undefined;
    this.panel.title = `FIM check: ${title}`;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    if (this.ready) this.post();
  }

  private post(): void {
    if (this.report) void this.panel.webview.postMessage({ type: 'report', report: this.report, title: this.title });
  }

  private async onMessage(m: ReportMessage): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      return this.post();
    }
    if (m.type === 'save') return this.save();
    const sample = this.report?.samples[m.index];
    if (!sample || !this.document) return;
    const doc = this.document;
    const selection = new vscode.Selection(doc.positionAt(sample.start), doc.positionAt(sample.end));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection });
    this.revealed = m.index;
  }

  private async save(): Promise<void> {
    if (!this.report || !this.document) return;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(this.document.uri, '..', 'fim-check.json'),
      filters: { JSON: ['json'] },
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(`${JSON.stringify(this.report, null, 1)}\n`));
    void vscode.window.showInformationMessage(`Tessera: FIM check report saved to ${vscode.workspace.asRelativePath(target)}.`);
  }

  dispose(): void {
    this.panel.dispose();
  }
}
