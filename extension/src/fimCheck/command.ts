import * as vscode from 'vscode';
import { type FimReport, fimCheckRequest } from '../../../language-server/src/lsp_ext';
import type { ServerSupervisor } from '../supervisor';
import { FimReportView } from './reportView';

/**
 * Tessera: Check FIM on This File (or on its selection): the server cuts spans and fills them in each
 * healing mode, with a cancellable progress notification; the report opens beside the editor.
 */
export class FimCheckCommand implements vscode.Disposable {
  private view: FimReportView | undefined;

  constructor(private readonly server: ServerSupervisor) {}

  async run(): Promise<FimReport | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage('Tessera: open a file to check FIM on it.');
      return undefined;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const range: [number, number] | undefined = sel.isEmpty ? undefined : [doc.offsetAt(sel.start), doc.offsetAt(sel.end)];
    const title = `${vscode.workspace.asRelativePath(doc.uri)}${range ? ' (selection)' : ''}`;
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tessera: checking FIM on ${title}`, cancellable: true },
      async (progress, token) => {
        let last = 0;
        const watch = this.server.onFimCheckProgress((p) => {
          if (p.uri !== doc.uri.toString() || !p.total) return;
          progress.report({ increment: ((p.done - last) / p.total) * 100, message: `${p.done} of ${p.total} fills` });
          last = p.done;
        });
        try {
          return await this.server.sendRequest(fimCheckRequest, { uri: doc.uri.toString(), ...(range ? { range } : {}) }, token);
        } catch (err) {
          if (!token.isCancellationRequested)
            void vscode.window.showErrorMessage(`Tessera: the FIM check failed: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        } finally {
          watch.dispose();
        }
      },
    );
    if (!report) return undefined;
    this.view ??= new FimReportView(() => {
      this.view = undefined;
    });
    this.view.show(report, doc, title);
    return report;
  }

  /** The sample the report last revealed in the editor (for tests). */
  get revealed(): number | undefined {
    return this.view?.revealed;
  }

  dispose(): void {
    this.view?.dispose();
  }
}
