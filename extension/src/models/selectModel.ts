// Tessera: Select Model…: a quick pick of the models on this machine and in the catalogue; choosing one
// downloads it if needed and switches the server to it through the user settings (no reload).
import * as vscode from 'vscode';
import { askSecret } from '../askSecret';
import { type ModelsList, modelsRequest, pullRequest, type PullResultInfo, repoFilesRequest } from '../../../language-server/src/lsp_ext';
import type { ServerSupervisor } from '../supervisor';
import { type ModelChoice, type PickRow, pickRows, precisionRows, progressLine } from './pickItems';

const TOKEN_KEY = 'tessera.huggingFaceToken';

/** VS Code's proxy setting, which the server's downloads go through (https only). */
const proxy = (): { proxy?: string } => {
  const p = vscode.workspace.getConfiguration('http').get<string>('proxy')?.trim();
  return p ? { proxy: p } : {};
};
const FOLDERS_KEY = 'tessera.modelFolders';

export class ModelPicker {
  constructor(
    private readonly server: ServerSupervisor,
    private readonly context: vscode.ExtensionContext,
  ) {}

  private active(): { dir: string; precision: string } {
    const c = vscode.workspace.getConfiguration('tessera.model');
    return { dir: c.get<string>('path') ?? '', precision: c.get<string>('precision') ?? 'fp32' };
  }

  async list(): Promise<ModelsList> {
    return this.server.sendRequest(modelsRequest, { folders: this.context.globalState.get<string[]>(FOLDERS_KEY) ?? [] });
  }

  /** The command: returns the folder switched to ('' for the embedded model), or undefined if nothing changed. */
  async run(): Promise<string | undefined> {
    const list = await this.list();
    const trusted = vscode.workspace.isTrusted;
    const rows = pickRows(list, this.active(), trusted);
    const picked = await vscode.window.showQuickPick(
      rows.map((r) => (r.separator ? { label: r.label, kind: vscode.QuickPickItemKind.Separator } : { ...r, row: r })),
      { title: 'Tessera: Select Model', placeHolder: 'The model for inline completions', matchOnDescription: true, matchOnDetail: true },
    );
    const choice = (picked as { row?: PickRow } | undefined)?.row?.choice;
    return choice ? this.choose(choice) : undefined;
  }

  async choose(choice: ModelChoice): Promise<string | undefined> {
    switch (choice.kind) {
      case 'installed': {
        const m = choice.model;
        const precision = m.precisions.length === 1 ? m.precisions[0] : await this.pickPrecision(m.precisions, {}, this.active().precision);
        if (!precision) return undefined;
        return this.apply(m.source === 'embedded' ? '' : m.dir, precision, m.name);
      }
      case 'catalogue': {
        const r = await this.download(choice.entry.repo, choice.entry.recommended);
        return r && this.apply(r.dir, r.precision, r.repo);
      }
      case 'repo':
        return this.fromRepoId();
      case 'folder':
        return this.fromFolder();
      case 'token':
        await this.setToken();
        return undefined;
    }
  }

  private async pickPrecision(precisions: string[], sizes: Record<string, number>, recommended?: string): Promise<string | undefined> {
    const picked = await vscode.window.showQuickPick(precisionRows(precisions, sizes, recommended), { title: 'Tessera: which precision?' });
    return picked?.label;
  }

  private async fromRepoId(): Promise<string | undefined> {
    const repo = await vscode.window.showInputBox({
      title: 'Tessera: a Hugging Face repo with an ONNX export',
      placeHolder: 'org/name, e.g. onnx-community/Qwen2.5-Coder-1.5B',
      validateInput: (v) => (/^[\w.-]+\/[\w.-]+$/.test(v.trim()) ? undefined : 'org/name'),
    });
    if (!repo) return undefined;
    const token = await this.context.secrets.get(TOKEN_KEY);
    const files = await this.server
      .sendRequest(repoFilesRequest, { repo: repo.trim(), ...(token ? { token } : {}) })
      .catch((err: unknown) => {
        void vscode.window.showErrorMessage(`Tessera: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      });
    if (!files) return undefined;
    if (files.precisions.length === 0) {
      void vscode.window.showErrorMessage(`Tessera: ${files.repo} has no ONNX decoder (onnx/model*.onnx or decoder_model_merged*.onnx).`);
      return undefined;
    }
    const precision = await this.pickPrecision(files.precisions, {}, files.precisions.includes('int8') ? 'int8' : files.precisions[0]);
    if (!precision) return undefined;
    const r = await this.download(files.repo, precision);
    return r && this.apply(r.dir, r.precision, r.repo);
  }

  private async fromFolder(): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Tessera: a model folder' });
    const dir = uris?.[0]?.fsPath;
    if (!dir) return undefined;
    const folders = [...new Set([...(this.context.globalState.get<string[]>(FOLDERS_KEY) ?? []), dir])];
    const found = (await this.server.sendRequest(modelsRequest, { folders })).installed.find((m) => m.dir === dir);
    if (!found) {
      void vscode.window.showErrorMessage(
        `Tessera: ${dir} is not a model folder: it needs tokenizer.json, config.json and an ONNX decoder.`,
      );
      return undefined;
    }
    await this.context.globalState.update(FOLDERS_KEY, folders);
    return this.choose({ kind: 'installed', model: found });
  }

  async setToken(): Promise<void> {
    await askSecret(this.context.secrets, TOKEN_KEY, {
      title: 'Tessera: Hugging Face access token',
      prompt: "Kept in the editor's secret storage; sent only to the Hub, for gated and private repos. Empty: remove it.",
      name: 'Hugging Face token',
    });
  }

  /** Downloads with a progress notification (bytes, rate, time left, cancel); errors and cancels say what happened. */
  async download(repo: string, precision: string): Promise<PullResultInfo | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Tessera: downloads are off in an untrusted workspace.');
      return undefined;
    }
    const token = await this.context.secrets.get(TOKEN_KEY);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tessera: downloading ${repo} (${precision})`, cancellable: true },
      async (progress, cancel) => {
        let shown = 0;
        const watch = this.server.onPullProgress((p) => {
          if (p.repo !== repo || !p.total) return;
          const pct = (p.bytes / p.total) * 100;
          progress.report({ increment: pct - shown, message: progressLine(p) });
          shown = pct;
        });
        try {
          return await this.server.sendRequest(pullRequest, { repo, precision, ...(token ? { token } : {}), ...proxy() }, cancel);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (cancel.isCancellationRequested)
            void vscode.window.showInformationMessage(`Tessera: download of ${repo} paused; choosing it again resumes it.`);
          else if (/token/.test(message)) {
            void vscode.window.showErrorMessage(`Tessera: ${message}`, 'Set Token').then((b) => b && this.setToken());
          } else void vscode.window.showErrorMessage(`Tessera: ${message}`);
          return undefined;
        } finally {
          watch.dispose();
        }
      },
    );
  }

  /** Switches the server to a model through the user settings, and says when it is live (or why not). */
  private async apply(dir: string, precision: string, name: string): Promise<string> {
    const config = vscode.workspace.getConfiguration('tessera.model');
    const live = this.waitUntilLive(name, dir);
    // The precision first: the folder's own precision is then never paired with the old folder's one.
    await config.update('precision', precision, vscode.ConfigurationTarget.Global);
    await config.update('path', dir, vscode.ConfigurationTarget.Global);
    void live.then((error) => {
      if (error === undefined) {
        void vscode.window.setStatusBarMessage(`Tessera: ${name} is live`, 5000);
        // A first completion from it where the cursor is, so the switch shows itself.
        if (vscode.window.activeTextEditor) void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      } else void vscode.window.showErrorMessage(`Tessera: ${name} did not load: ${error}`);
    });
    return dir;
  }

  /** Resolves when the server reports `name` ready (undefined), or its load of `dir` failed (the reason). */
  private waitUntilLive(name: string, dir: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done('it did not load within two minutes'), 120_000);
      const sub = this.server.onDidChange((s) => {
        const h = s.health;
        if (h?.model === name && /^Ready/.test(h.message)) done(undefined);
        else if (h?.state === 'warning' && dir && h.detail?.includes(dir) && /Completions off/.test(h.message)) done(h.message);
      });
      const done = (error: string | undefined) => {
        clearTimeout(timer);
        sub.dispose();
        resolve(error);
      };
    });
  }
}
