import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CompareResult } from '../../../language-server/src/lsp_ext';
import { tessera, waitFor } from './helpers';

interface CliTokens {
  tokenizer: string;
  count: number;
  tokens: Array<{ id: number; text: string; start: number; end: number }>;
}

/** The CLI shipped in the installed extension, on the same file and tokenizer. */
function cliTokens(file: string): CliTokens {
  const ext = vscode.extensions.getExtension('tessera.tessera')!;
  const config = vscode.workspace.getConfiguration('tessera');
  const r = spawnSync(
    'node',
    [
      join(ext.extensionPath, 'dist', 'cli.js'),
      'tokens',
      file,
      '--json',
      '--tokenizer',
      config.get<string>('tokenizer')!,
      '--tokenizer-dir',
      config.get<string[]>('tokenizerDirectories')!.join(':'),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as CliTokens;
}

async function open(relative: string): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders![0]!;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, relative));
  return vscode.window.showTextDocument(doc);
}

describe('Token Lens in VS Code', () => {
  it('the status bar count equals the CLI count for the same file', async () => {
    const api = await tessera();
    const editor = await open('src/greet.ts');
    const count = await waitFor('a token count', () => {
      const c = api.tokenCount();
      return c && c.version === editor.document.version && !c.selection && c.tokens > 0 ? c : undefined;
    });
    const cli = cliTokens(editor.document.uri.fsPath);
    assert.equal(count.tokenizer, 'qwen2.5-coder');
    assert.equal(count.tokens, cli.count);
  });

  it('counts a selection', async () => {
    const api = await tessera();
    const editor = await open('src/greet.ts');
    const doc = editor.document;
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(23)); // `export interface Person`
    const count = await waitFor('a selection count', () => {
      const c = api.tokenCount();
      return c?.selection ? c : undefined;
    });
    assert.equal(count.characters, 23);
    assert.equal(count.tokens, 3);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
  });

  it('toggling draws the visible tokens, and hover shows the token id', async () => {
    const api = await tessera();
    const editor = await open('src/greet.ts');
    const uri = editor.document.uri.toString();
    assert.equal(await vscode.commands.executeCommand('tessera.toggleTokenBoundaries'), true);
    const snapshot = await waitFor('the lens to draw', () => api.lens().snapshot(uri));
    const cli = cliTokens(editor.document.uri.fsPath);
    assert.equal(snapshot.tokens, cli.count, 'the whole small file is visible');
    // Hover inside ` interface` (offsets 6-16).
    const token = cli.tokens.find((t) => t.start <= 10 && t.end > 10)!;
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      editor.document.positionAt(10),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, new RegExp(`\\*\\*Token ${token.id}\\*\\*`));
    assert.match(text, /keyword `interface` = 1 token/);
    assert.doesNotMatch(text, /merged into 1 position/);
    // `zebraStripes` is ` z|ebra|Strip|es` to this tokenizer: subtoken merging would pool it into one position.
    const folder = vscode.workspace.workspaceFolders![0]!;
    writeFileSync(join(folder.uri.fsPath, 'src', 'zebra.ts'), 'const zebraStripes = 3;\n');
    const zebra = await open('src/zebra.ts');
    const mergedText = await waitFor('a hover naming the identifier', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        zebra.document.uri,
        zebra.document.positionAt(9),
      );
      const t = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      return /identifier `zebraStripes`/.test(t) ? t : undefined;
    });
    assert.match(mergedText, /identifier `zebraStripes` = 4 tokens/);
    assert.match(mergedText, /merged into 1 position/);
    assert.equal(await vscode.commands.executeCommand('tessera.toggleTokenBoundaries'), false);
    assert.equal(api.lens().enabled, false);
  });

  it('Compare Tokenizers counts the file under every tokenizer', async () => {
    await open('src/stats.py');
    const result = await vscode.commands.executeCommand<CompareResult>('tessera.compareTokenizers');
    assert.ok(result.rows.length >= 8, `rows: ${result.rows.map((r) => r.tokenizer)}`);
    for (const row of result.rows) assert.ok(row.tokens && row.tokens > 10 && !row.error, `${row.tokenizer}: ${row.error ?? row.tokens}`);
    assert.equal(
      result.rows
        .filter((r) => r.active)
        .map((r) => r.tokenizer)
        .join(),
      'qwen2.5-coder',
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('reports invisible and bidi characters with their token cost', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const file = join(folder.uri.fsPath, 'src', 'sneaky.ts');
    writeFileSync(file, 'const access = "user\u200B";\nconst admin = "\u202Eresu\u202C";\nconst раss = 1;\n');
    const editor = await open('src/sneaky.ts');
    const diags = await waitFor('tessera diagnostics', () => {
      const d = vscode.languages.getDiagnostics(editor.document.uri).filter((x) => x.source === 'tessera');
      return d.length >= 4 ? d : undefined;
    });
    const codes = diags.map((d) => String(d.code));
    assert.ok(codes.includes('invisible'), codes.join());
    assert.ok(codes.includes('bidi'), codes.join());
    assert.ok(codes.includes('confusable'), codes.join());
    const zwsp = diags.find((d) => d.code === 'invisible')!;
    assert.match(zwsp.message, /U\+200B ZERO WIDTH SPACE.*costs \d+ tokens?/);
    assert.equal(zwsp.severity, vscode.DiagnosticSeverity.Information);
  });
});
