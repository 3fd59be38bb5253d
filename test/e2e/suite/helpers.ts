import * as vscode from 'vscode';
import type { ServerInfo } from '../../../language-server/src/lsp_ext';

import type { TesseraApi } from '../../../extension/src/extension';

export type { TesseraApi };

export async function tessera(): Promise<TesseraApi> {
  const ext = vscode.extensions.getExtension<TesseraApi>('tessera.tessera');
  if (!ext) throw new Error('the Tessera extension is not installed');
  return ext.isActive ? ext.exports : ext.activate();
}

/** Polls `probe` until it returns a value that is not undefined, or fails with `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForLabel(api: TesseraApi, pattern: RegExp): Promise<string> {
  return waitFor(`a status bar label matching ${pattern}`, () => {
    const label = api.status().view?.label;
    return label !== undefined && pattern.test(label) ? label : undefined;
  });
}

export async function serverInfo(): Promise<ServerInfo> {
  const info = await vscode.commands.executeCommand<ServerInfo | undefined>('tessera.showServerInfo');
  if (!info) throw new Error('tessera.showServerInfo returned nothing');
  return info;
}

/** Waits until a server other than `oldPid` answers, and returns its info. */
export async function newServer(oldPid: number): Promise<ServerInfo> {
  return waitFor(`a new server process (old pid ${oldPid})`, async () => {
    const info = await vscode.commands.executeCommand<ServerInfo | undefined>('tessera.showServerInfo');
    return info && info.pid !== oldPid ? info : undefined;
  });
}
