// Asks for a secret (an access token, an API key) and keeps it in the editor's secret storage; an
// empty answer removes it. The one place a secret is typed in.
import * as vscode from 'vscode';

/** True when the secret was saved or removed, false when the box was dismissed. */
export async function askSecret(
  secrets: vscode.SecretStorage,
  key: string,
  o: { title: string; prompt: string; name: string },
): Promise<boolean> {
  const value = await vscode.window.showInputBox({ title: o.title, prompt: o.prompt, password: true, ignoreFocusOut: true });
  if (value === undefined) return false;
  if (value.trim()) await secrets.store(key, value.trim());
  else await secrets.delete(key);
  void vscode.window.showInformationMessage(`Tessera: ${o.name} ${value.trim() ? 'saved' : 'removed'}.`);
  return true;
}
