import * as vscode from 'vscode';
import {
  compareRequest,
  type CountResult,
  documentStatsRequest,
  type DocumentStats,
  serverInfoRequest,
  type ServerInfo,
} from '../../language-server/src/lsp_ext';
import { FimCheckCommand } from './fimCheck/command';
import { showComparison } from './lens/compareView';
import { selectTokenizer } from './lens/selectTokenizer';
import { TokenCount } from './lens/tokenCount';
import { type LensSnapshot, TokenLens } from './lens/tokenLens';
import { EngineKey } from './engineKey';
import { ModelPicker } from './models/selectModel';
import { StatusBar } from './statusBar';
import type { StatusView, ServerPhase } from './statusModel';
import { declaredSettings } from './settingsSnapshot';
import { ServerSupervisor } from './supervisor';

/** What `activate` returns: lets tests (and other extensions) see what the user sees. */
export interface TesseraApi {
  status(): { phase: ServerPhase; view: StatusView | undefined };
  lens(): { enabled: boolean; snapshot(uri: string): LensSnapshot | undefined; onDidDraw: vscode.Event<LensSnapshot> };
  tokenCount(): CountResult | null;
  /** The FIM check's report: which sample it last revealed in the editor. */
  fimCheck(): { revealed: number | undefined };
}

let supervisor: ServerSupervisor | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TesseraApi> {
  const output = vscode.window.createOutputChannel('Tessera', { log: true });
  const statusBar = new StatusBar();
  // A new key reaches the server in its environment: the server starts again with it.
  const engineKey = new EngineKey(context.secrets, () => void supervisor?.restart());
  await engineKey.load();
  supervisor = new ServerSupervisor(
    context.asAbsolutePath('dist/server.js'),
    output,
    declaredSettings(context.extension.packageJSON),
    () => engineKey.value,
  );
  const server = supervisor;
  context.subscriptions.push(
    output,
    engineKey,
    statusBar,
    server.onDidChange((s) => statusBar.update(s)),
  );
  statusBar.update(server.status());

  const lens = new TokenLens(server);
  const tokenCount = new TokenCount(server);
  const fimCheck = new FimCheckCommand(server);
  context.subscriptions.push(fimCheck);
  let comparePanel: vscode.WebviewPanel | undefined;
  context.subscriptions.push(lens, tokenCount);
  const models = new ModelPicker(server, context);

  context.subscriptions.push(
    vscode.commands.registerCommand('tessera.toggleTokenBoundaries', () => {
      const on = lens.toggle();
      void vscode.window.setStatusBarMessage(`Tessera: token boundaries ${on ? 'shown' : 'hidden'}`, 2000);
      return on;
    }),
    vscode.commands.registerCommand('tessera.selectTokenizer', () => selectTokenizer()),
    vscode.commands.registerCommand('tessera.selectModel', () => request(() => models.run())),
    vscode.commands.registerCommand('tessera.setHuggingFaceToken', () => models.setToken()),
    vscode.commands.registerCommand('tessera.setEngineApiKey', () => engineKey.ask()),
    vscode.commands.registerCommand('tessera.openSample', async () => {
      // The walkthrough's first step: a file to type in, where the embedded model knows the idioms.
      const content =
        'import os\n\n\ndef list_python_files(root):\n    result = []\n    for dirpath, dirnames, filenames in os.walk(root):\n        ';
      const doc = await vscode.workspace.openTextDocument({ language: 'python', content });
      const editor = await vscode.window.showTextDocument(doc);
      const end = doc.positionAt(content.length);
      editor.selection = new vscode.Selection(end, end);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }),
    vscode.commands.registerCommand('tessera.checkFim', () => fimCheck.run()),
    vscode.commands.registerCommand('tessera.compareTokenizers', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        void vscode.window.showWarningMessage('Tessera: open a file to compare tokenizers on it.');
        return undefined;
      }
      const doc = editor.document;
      const sel = editor.selection;
      const range: [number, number] | undefined = sel.isEmpty ? undefined : [doc.offsetAt(sel.start), doc.offsetAt(sel.end)];
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Tessera: counting tokens under every tokenizer…' },
        () => request(() => server.sendRequest(compareRequest, { uri: doc.uri.toString(), ...(range ? { range } : {}) })),
      );
      if (!result) return undefined;
      if (result.rows.length === 0) {
        void vscode.window.showWarningMessage(
          'Tessera: no tokenizers to compare. List folders of tokenizers in tessera.tokenizerDirectories.',
        );
        return result;
      }
      const title = `${vscode.workspace.asRelativePath(doc.uri)}${range ? ' (selection)' : ''}`;
      const fresh = comparePanel === undefined;
      comparePanel = showComparison(result, title, comparePanel);
      if (fresh) comparePanel.onDidDispose(() => (comparePanel = undefined));
      return result;
    }),
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
      const m = info.model;
      const served = m.engine && m.engine !== 'local';
      const model =
        m.state === 'ready' && served
          ? ` Engine: ${m.name} (${m.description}; FIM ${m.fimTemplate}; tokens ${m.tokens}${m.healingNote ? `; healing: ${m.healingNote}` : ''}).`
          : m.state === 'ready'
            ? ` Model ${m.name} (${m.onnxFile}; ${m.description}; FIM ${m.fimTemplate}).`
            : m.state === 'error'
              ? ` Completions off: ${m.error}.`
              : m.state === 'loading'
                ? ` Loading model ${m.name ?? ''}.`
                : ' Completions off.';
      void vscode.window.showInformationMessage(
        `Tessera server ${info.version}: pid ${info.pid}, Node ${info.node}, ${ort}, up ${Math.round(info.uptimeMs / 1000)} s.${model}`,
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
    lens: () => ({ enabled: lens.isEnabled, snapshot: (uri) => lens.snapshot(uri), onDidDraw: lens.onDidDraw }),
    tokenCount: () => tokenCount.current(),
    fimCheck: () => ({ revealed: fimCheck.revealed }),
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
