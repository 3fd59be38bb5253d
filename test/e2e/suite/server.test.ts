import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DocumentStats } from '../../../language-server/src/lsp_ext';
import { newServer, serverInfo, tessera, waitFor, waitForLabel } from './helpers';

describe('Tessera language server in VS Code', () => {
  it('starts with the editor and reports ready in the status bar', async () => {
    const api = await tessera();
    await waitForLabel(api, /^Tessera: ready$/);
    assert.match(api.status().view?.tooltip ?? '', /ONNX Runtime \d+\.\d+/);
  });

  it('answers a server round trip: Tessera: Show Server Info', async () => {
    const info = await serverInfo();
    assert.equal(info.name, 'tessera-lsp');
    assert.equal(info.onnxruntime.available, true);
    assert.equal(info.health.state, 'ok');
    assert.notEqual(info.pid, process.pid, 'the server runs in its own process');
  });

  it('keeps the server in sync with edits (Show Document Stats)', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'greet.ts'));
    await vscode.window.showTextDocument(doc);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), '// héllo 😀 wörld\r\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const text = doc.getText();
    const stats = await waitFor('stats of the edited document', async () => {
      const s = await vscode.commands.executeCommand<DocumentStats | undefined>('tessera.showDocumentStats');
      return s && s.version === doc.version ? s : undefined;
    });
    assert.equal(stats.utf16Length, text.length);
    assert.equal(stats.utf8Bytes, Buffer.byteLength(text, 'utf8'));
    assert.equal(stats.lines, doc.lineCount);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('restarts a killed server, says so in the status bar, and the new server has the open documents', async () => {
    const api = await tessera();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'greet.ts'));
    await vscode.window.showTextDocument(doc);
    const before = await serverInfo();
    process.kill(before.pid, 'SIGKILL');
    const after = await newServer(before.pid);
    assert.equal(after.health.state, 'ok');
    await waitForLabel(api, /^Tessera: ready \(restarted\)$/);
    assert.match(api.status().view?.tooltip ?? '', /crashed at .* and was restarted \(1 of 5/);
    // The client opened its documents again in the new server: its copy is exact.
    const stats = await waitFor('stats from the new server', async () =>
      vscode.commands.executeCommand<DocumentStats | undefined>('tessera.showDocumentStats'),
    );
    assert.equal(stats.utf16Length, doc.getText().length);
    assert.ok(after.openDocuments >= 1, `${after.openDocuments} open documents`);
  });

  it('gives up after the restart limit with a clear error, and Restart Server recovers', async () => {
    const api = await tessera();
    const config = vscode.workspace.getConfiguration('tessera');
    await config.update('server.restartLimit', 1, vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('tessera.restartServer'); // clears the crash count
      const first = await serverInfo();
      process.kill(first.pid, 'SIGKILL');
      const second = await newServer(first.pid);
      process.kill(second.pid, 'SIGKILL');
      const label = await waitForLabel(api, /^Tessera: error:/);
      assert.equal(label, 'Tessera: error: the server crashed 2 times in 180 s and was not restarted');
      assert.equal(api.status().phase, 'failed');
      await vscode.commands.executeCommand('tessera.restartServer');
      await waitForLabel(api, /^Tessera: ready$/);
      assert.notEqual((await serverInfo()).pid, second.pid);
    } finally {
      await config.update('server.restartLimit', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
