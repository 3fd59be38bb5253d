import * as vscode from 'vscode';
import { renderStatus, type StatusInput, type StatusView } from './statusModel';

/** The Tessera status bar item: copies the rendered view onto the item, nothing more. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('status', vscode.StatusBarAlignment.Right, 100);
  /** The active model's name; a click opens Select Model. */
  private readonly model = vscode.window.createStatusBarItem('model', vscode.StatusBarAlignment.Right, 99);
  private current: StatusView | undefined;

  constructor() {
    this.item.name = 'Tessera';
    this.item.show();
    this.model.name = 'Tessera Model';
    this.model.command = 'tessera.selectModel';
  }

  update(input: StatusInput): void {
    const view = renderStatus(input);
    this.current = view;
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.label };
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const broken = input.phase === 'failed' || input.phase === 'stopped';
    this.item.command = broken ? 'tessera.restartServer' : 'tessera.showServerInfo';
    const model = input.phase === 'running' ? input.health?.model : undefined;
    if (model) {
      this.model.text = `$(hubot) ${model}`;
      this.model.tooltip = `Tessera's completion model: ${model}. Click to choose another or download one.`;
      this.model.accessibilityInformation = { label: `Tessera model: ${model}` };
      this.model.show();
    } else this.model.hide();
  }

  view(): StatusView | undefined {
    return this.current;
  }

  dispose(): void {
    this.item.dispose();
    this.model.dispose();
  }
}
