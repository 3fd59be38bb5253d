import * as vscode from 'vscode';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Tokenizer folders found in the configured directories, by name. */
function discover(directories: string[]): Array<{ name: string; dir: string }> {
  const found: Array<{ name: string; dir: string }> = [];
  for (const dir of directories) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) if (existsSync(join(dir, name, 'tokenizer.json'))) found.push({ name, dir });
  }
  return found;
}

/**
 * `Tessera: Select Tokenizer`: pick one of the tokenizers found, or a tokenizer.json on disk.
 * Writes the user setting; the server reloads on the change.
 */
export async function selectTokenizer(): Promise<string | undefined> {
  const config = vscode.workspace.getConfiguration('tessera');
  const current = config.get<string>('tokenizer', '');
  const items: Array<vscode.QuickPickItem & { value?: string }> = discover(config.get<string[]>('tokenizerDirectories', [])).map((t) => ({
    label: t.name,
    description: t.name === current ? 'active' : t.dir,
    value: t.name,
  }));
  items.unshift({
    label: 'tessera-tiny',
    description: current ? "the default model's tokenizer" : "active · the default model's tokenizer",
    value: '',
  });
  items.push({ label: '$(folder-opened) Choose a tokenizer.json…', alwaysShow: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Tessera: tokenizer for the lens and counts',
    placeHolder: 'The default, a tokenizer from tessera.tokenizerDirectories, or a tokenizer.json file',
  });
  if (!pick) return undefined;
  let value = pick.value;
  if (value === undefined) {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { Tokenizer: ['json'] },
      title: 'A Hugging Face tokenizer.json',
    });
    if (!files?.[0]) return undefined;
    value = files[0].fsPath;
  }
  await config.update('tokenizer', value || undefined, vscode.ConfigurationTarget.Global);
  return value;
}
