import * as vscode from 'vscode';
import { countRequest, type CountResult } from '../../../language-server/src/lsp_ext';
import { renderCount } from './countView';
import type { ServerSupervisor } from '../supervisor';

/** Tokens in the active file or selection, for the active tokenizer. */
export class TokenCount implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokens', vscode.StatusBarAlignment.Right, 99);
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last: CountResult | null = null;

  constructor(private readonly server: ServerSupervisor) {
    this.item.name = 'Tessera token count';
    this.item.command = 'tessera.compareTokenizers';
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.window.onDidChangeTextEditorSelection(() => this.schedule(100)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule(150);
      }),
      server.onDidChange((s) => {
        if (s.phase === 'running') this.schedule(0);
      }),
      server.onDidChangeTokenizer(() => this.schedule(0)),
    );
  }

  /** The count on display (tests read it). */
  current(): CountResult | null {
    return this.last;
  }

  schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), delayMs);
  }

  private async update(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      this.item.hide();
      return;
    }
    const doc = editor.document;
    const ranges = editor.selections.filter((s) => !s.isEmpty).map((s): [number, number] => [doc.offsetAt(s.start), doc.offsetAt(s.end)]);
    let count: CountResult | null;
    try {
      count = await this.server.sendRequest(countRequest, { uri: doc.uri.toString(), ranges });
    } catch {
      return;
    }
    if (editor !== vscode.window.activeTextEditor || (count && count.version !== doc.version)) return;
    this.last = count;
    const view = renderCount(count);
    if (!view.text) {
      this.item.hide();
      return;
    }
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.label };
    // No count (no tokenizer, or a broken one): a click picks one.
    this.item.command =
      count?.unavailable && !count.unavailable.includes('limit') ? 'tessera.selectTokenizer' : 'tessera.compareTokenizers';
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.item.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}
