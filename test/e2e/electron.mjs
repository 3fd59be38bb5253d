// The in-editor suite on desktop VS Code (Electron) through @vscode/test-electron.
// That tool downloads VS Code, so this runs only on machines with the internet; offline, `npm test`
// runs the same suite in code-server instead (test/e2e/workbench.e2e.mjs).
//   npm run build && npm run test:electron
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = fileURLToPath(new URL('../..', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'tessera-electron-'));
const workspace = join(temp, 'workspace');
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
// The same settings as the code-server run: the shared tokenizers, StarCoder2 active.
const userData = join(temp, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
const shared = process.env.TESSERA_SHARED ?? join(root, '..', 'shared');
writeFileSync(
  join(userData, 'User', 'settings.json'),
  JSON.stringify({ 'tessera.tokenizerDirectories': [join(shared, 'tokenizers')], 'tessera.tokenizer': 'starcoder2', 'workbench.startupEditor': 'none' }),
);

try {
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'e2e', 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${userData}`],
  });
} catch (err) {
  console.error(`test:electron: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
