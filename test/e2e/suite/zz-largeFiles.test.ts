import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { serverInfo, tessera, waitFor } from './helpers';

/** Server round trip time: what a frozen server or extension host would blow up. */
async function roundTripMs(): Promise<number> {
  const started = Date.now();
  await serverInfo();
  return Date.now() - started;
}

describe('Large files do not freeze the editor', () => {
  const folder = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const files: string[] = [];
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const f of files) rmSync(f, { force: true });
  });

  it('a 5 MB single-line minified file: counted whole, the lens limits itself to the visible start', async () => {
    const api = await tessera();
    const file = join(folder(), 'bundle.min.js');
    files.push(file);
    const unit = 'function a(b,c){return b+c*2}var d=[1,2,3].map(function(e){return a(e,4)});';
    writeFileSync(file, unit.repeat(Math.ceil(5_000_000 / unit.length)));
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc);
    assert.equal(doc.lineCount, 1);
    const count = await waitFor(
      'the count of the minified file',
      () => {
        const c = api.tokenCount();
        return c && c.version === doc.version && c.characters === doc.getText().length ? c : undefined;
      },
      60_000,
    );
    assert.ok(count.tokens > 1_000_000, `tokens: ${count.tokens} (${count.unavailable ?? ''}) tokenizer ${count.tokenizer}`);
    assert.ok((await roundTripMs()) < 2000, 'the server answers at once');
    await vscode.commands.executeCommand('tessera.toggleTokenBoundaries');
    try {
      const snapshot = await waitFor('the lens on the minified file', () => api.lens().snapshot(doc.uri.toString()), 60_000);
      assert.match(snapshot.note ?? '', /showing the first 20,000 characters of each visible range/);
      assert.ok(snapshot.tokens > 1000 && snapshot.tokens < 20_000, `tokens drawn: ${snapshot.tokens}`);
      // Typing still works, and the count follows.
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '/* x */'));
      await waitFor('the count after an edit', () => {
        const c = api.tokenCount();
        return c && c.version === doc.version ? c : undefined;
      });
    } finally {
      await vscode.commands.executeCommand('tessera.toggleTokenBoundaries');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it('a 50 MB file: not tokenized whole, says so, and the lens still shows the visible lines', async () => {
    const api = await tessera();
    // Python: no language extension in this editor analyzes it (tsserver would, for minutes).
    const file = join(folder(), 'huge.py');
    files.push(file);
    const block = 'def add(a: int, b: int) -> int:\n    # the sum\n    return a + b\n\n\n';
    writeFileSync(file, block.repeat(Math.floor(50_000_000 / block.length)));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const count = await waitFor(
      'the count of the 50 MB file',
      () => {
        const c = api.tokenCount();
        return c && c.version === doc.version && c.unavailable ? c : undefined;
      },
      90_000,
    );
    assert.match(count.unavailable!, /over the 8 MB limit/);
    assert.ok((await roundTripMs()) < 2000, 'the server answers at once');
    await vscode.commands.executeCommand('tessera.toggleTokenBoundaries');
    try {
      const snapshot = await waitFor('the lens on the 50 MB file', () => api.lens().snapshot(doc.uri.toString()), 60_000);
      assert.match(snapshot.note ?? '', /approximate: the file is 50\.0 M characters/);
      assert.ok(snapshot.tokens > 20, `tokens drawn: ${snapshot.tokens}`);
    } finally {
      await vscode.commands.executeCommand('tessera.toggleTokenBoundaries');
    }
  });
});
