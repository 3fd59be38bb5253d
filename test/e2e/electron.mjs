// The in-editor suite on desktop VS Code (Electron) through @vscode/test-electron.
// That tool downloads VS Code, so this runs only on machines with the internet; offline, `npm test`
// runs the same suite in code-server instead (test/e2e/workbench.e2e.mjs).
//   npm run build && npm run test:electron
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = fileURLToPath(new URL('../..', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'tessera-electron-'));
const workspace = join(temp, 'workspace');
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
// The same settings as the code-server run: the repository's test tokenizers, Qwen2.5-Coder's active.
const userData = join(temp, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
const { tokenizerDir } = createRequire(import.meta.url)(join(root, 'out', 'lib', 'testTokenizers.js'));
writeFileSync(
  join(userData, 'User', 'settings.json'),
  JSON.stringify({
    'tessera.tokenizerDirectories': [tokenizerDir()],
    'tessera.tokenizer': 'qwen2.5-coder',
    'workbench.startupEditor': 'none',
  }),
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
