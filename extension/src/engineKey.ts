// The API key for a completion server, kept in the editor's secret storage (never in settings, never
// logged): read once at start and whenever it changes, and handed to the server process in its
// environment when it starts (so a change restarts it).
import type * as vscode from 'vscode';
import { askSecret } from './askSecret';

const KEY = 'tessera.engine.apiKey';

export class EngineKey implements vscode.Disposable {
  private key = '';
  private readonly watch: vscode.Disposable;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    /** The key changed: the server starts again with it. */
    private readonly changed: () => void,
  ) {
    // Another window may change it too; a change this window made itself is applied once (by ask).
    this.watch = secrets.onDidChange((e) => {
      if (e.key === KEY) void this.reload();
    });
  }

  async load(): Promise<void> {
    this.key = (await this.secrets.get(KEY)) ?? '';
  }

  /** Reads the key again; the server starts again only when it differs. */
  private async reload(): Promise<void> {
    const before = this.key;
    await this.load();
    if (this.key !== before) this.changed();
  }

  get value(): string {
    return this.key;
  }

  /** Asks for the key (empty: remove it); the server starts again with it. */
  async ask(): Promise<void> {
    const changed = await askSecret(this.secrets, KEY, {
      title: 'Tessera: API key for the completion server',
      prompt: "Kept in the editor's secret storage; sent only to tessera.engine.url, as a Bearer token. Empty: remove it.",
      name: 'engine API key',
    });
    if (changed) await this.reload();
  }

  dispose(): void {
    this.watch.dispose();
  }
}
