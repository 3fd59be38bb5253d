import * as vscode from 'vscode';
import { documentStatsRequest, type DocumentStats, serverInfoRequest, type ServerInfo } from '../../language-server/src/lsp_ext';
import { StatusBar } from './statusBar';
import type { StatusView, ServerPhase } from './statusModel';
import { ServerSupervisor } from './supervisor';

/** What `activate` returns: lets tests (and other extensions) see what the user sees. */
export interface TesseraApi {
  status(): { phase: ServerPhase; view: StatusView | undefined };
}

let supervisor: ServerSupervisor | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TesseraApi> {
  const output = vscode.window.createOutputChannel('Tessera', { log: true });
  const statusBar = new StatusBar();
  supervisor = new ServerSupervisor(context.asAbsolutePath('dist/server.js'), output);
  const server = supervisor;
  context.subscriptions.push(output, statusBar, server.onDidChange((s) => statusBar.update(s)));
  statusBar.update(server.status());

  context.subscriptions.push(
    vscode.commands.registerCommand('tessera.restartServer', async () => {
      output.info('Restart requested.');
      await server.restart();
    }),
    vscode.commands.registerCommand('tessera.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('tessera.showServerInfo', async (): Promise<ServerInfo | undefined> => {
      const info = await request(() => server.sendRequest(serverInfoRequest));
      if (!info) return undefined;
      output.info(`server info: ${JSON.stringify(info, null, 2)}`);
      const ort = info.onnxruntime.available
        ? `ONNX Runtime ${info.onnxruntime.version}`
        : `ONNX Runtime unavailable (${info.onnxruntime.error})`;
      void vscode.window.showInformationMessage(
        `Tessera server ${info.version}: pid ${info.pid}, Node ${info.node}, ${ort}, up ${Math.round(info.uptimeMs / 1000)} s.`,
      );
      return info;
    }),
    vscode.commands.registerCommand('tessera.showDocumentStats', async (): Promise<DocumentStats | undefined> => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        void vscode.window.showWarningMessage('Tessera: open a file first.');
        return undefined;
      }
      const uri = editor.document.uri.toString();
      const stats = await request(() => server.sendRequest(documentStatsRequest, { uri }));
      if (stats === undefined) return undefined;
      if (stats === null) {
        void vscode.window.showWarningMessage('Tessera: the server does not have this document open.');
        return undefined;
      }
      const name = vscode.workspace.asRelativePath(editor.document.uri);
      void vscode.window.showInformationMessage(
        `Tessera: ${name}: ${stats.lines} lines, ${stats.utf8Bytes} bytes UTF-8, ${stats.utf16Length} UTF-16 units.`,
      );
      return stats;
    }),
  );

  void server.start();
  return {
    status: () => ({ phase: server.status().phase, view: statusBar.view() }),
  };
}

export async function deactivate(): Promise<void> {
  await supervisor?.dispose();
  supervisor = undefined;
}

/** Runs a server request; a failure becomes an error message, not an unhandled rejection. */
async function request<T>(send: () => Promise<T>): Promise<T | undefined> {
  try {
    return await send();
  } catch (err) {
    void vscode.window.showErrorMessage(`Tessera: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
