// The README's first command: `npm start` builds, installs and serves a working VS Code.
// `--check` makes it open the workbench in Chromium, wait for Tessera to report ready and stop.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm start serves VS Code with Tessera ready (start.mjs --check)', () => {
  const shot = join(root, 'test-results', 'start.png');
  rmSync(shot, { force: true });
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'start.mjs'), '--check', '--port', '0'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Tessera is ready in VS Code at http:\/\/127\.0\.0\.1:\d+\/\?folder=/);
  assert.ok(existsSync(shot), 'a screenshot of the workbench was saved');
});

test('npm start refuses a folder that does not exist, with a clear message', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'start.mjs'), '/no/such/folder'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /start: \/no\/such\/folder is not a folder/);
});
