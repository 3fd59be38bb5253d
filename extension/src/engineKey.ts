// The API key for a completion server, kept in the editor's secret storage (never in settings, never
// logged): read once at start and whenever it changes, and handed to the server process in its
// environment when it starts (so a change restarts it).
import * as vscode from 'vscode';

const KEY = 'tessera.engine.apiKey';

export class EngineKey implements vscode.Disposable {
  private key = '';
  private readonly watch: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    /** The key changed: the server starts again with it. */
    private readonly changed: () => void,
  ) {
    this.watch = secrets.onDidChange((e) => {
      if (e.key === KEY) void this.load().then(changed);
    });
  }

  async load(): Promise<void> {
    this.key = (await this.secrets.get(KEY)) ?? '';
  }

  get value(): string {
    return this.key;
  }

  /** Asks for the key (empty: remove it). */
  async ask(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'Tessera: API key for the completion server',
      prompt: "Kept in the editor's secret storage; sent only to tessera.engine.url, as a Bearer token. Empty: remove it.",
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    if (key.trim()) await this.secrets.store(KEY, key.trim());
    else await this.secrets.delete(KEY);
    await this.load();
    this.changed();
    void vscode.window.showInformationMessage(`Tessera: engine API key ${key.trim() ? 'saved' : 'removed'}.`);
  }

  dispose(): void {
    this.watch.dispose();
  }
}
