import * as vscode from 'vscode';
import { renderStatus, type StatusInput, type StatusView } from './statusModel';

/** The Tessera status bar item: copies the rendered view onto the item, nothing more. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('status', vscode.StatusBarAlignment.Right, 100);
  private current: StatusView | undefined;

  constructor() {
    this.item.name = 'Tessera';
    this.item.show();
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
  }

  view(): StatusView | undefined {
    return this.current;
  }

  dispose(): void {
    this.item.dispose();
  }
}
