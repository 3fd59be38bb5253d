// A team's server in a real VS Code (code-server with the packaged .vsix): the user settings point
// Tessera at a real llama.cpp server (llama-server built from npm, serving the embedded model as GGUF);
// ghost text comes from its /infill, then from its OpenAI-compatible /v1/completions once the setting
// changes; the status bar names the server and model; the server killed turns the status bar to a
// warning with one notification, and its return turns it back; a server that wants a key refuses
// until the notification's button has stored one. A pass-through proxy on 127.0.0.1 records what
// reached the server.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_SERVER_ARGS, embeddedGguf, startLlamaServer } from '../../scripts/lib/llamaServer.mjs';
import {
  createProfile,
  ensureTools,
  installExtension,
  launchChromium,
  startCodeServer,
  tempRoot,
} from '../../scripts/lib/vscodeServer.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { RecordingProxy } = createRequire(import.meta.url)(join(root, 'out', 'lib', 'recordingProxy.js'));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, 'out', `tessera-${process.platform}-${process.arch}-${version}.vsix`);
const results = join(root, 'test-results', 'e2e-engines');
const STATUS = '#workbench\\.parts\\.statusbar';
const BODY = Array.from({ length: 6 }, (_, i) => `  readonly field${i}: number = compute(${i}, this.options);\n`).join('');
/** Typing `6` at the end of line 8 leaves the cursor after `readonly field6`: the model writes `: number`. */
const FIELDS = `export class Fields {\n${BODY}  readonly field\n}\n`;

let llama, keyed, proxy, profile, server, browser, workspace, settings;

before(async () => {
  assert.ok(existsSync(vsix), `no ${vsix}: run \`npm run package\` first (npm test does)`);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const gguf = process.env.TESSERA_TEST_GGUF ?? embeddedGguf(root);
  llama = await startLlamaServer({ model: gguf, args: EMBEDDED_SERVER_ARGS });
  proxy = new RecordingProxy(llama.url);
  const url = await proxy.start();
  const tools = await ensureTools();
  settings = {
    'tessera.engine.kind': 'llama.cpp',
    'tessera.engine.url': url,
    'tessera.engine.tokenizer': join(root, 'models', 'tessera-tiny', 'tokenizer.json'),
    'tessera.completion.minHeadProbability': 0,
    // The cursor ends a word (`field6`): healing would give it back, and the embedded model extends it.
    'tessera.completion.healing': 'off',
    'tessera.completion.completeAhead': false,
  };
  profile = createProfile(tempRoot('e2e-engines'), settings);
  installExtension(tools, profile, vsix);
  workspace = join(profile.root, 'workspace');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'fields.ts'), FIELDS);
  server = await startCodeServer(tools, profile, { folder: workspace, logFile: join(results, 'code-server.log') });
  browser = await launchChromium(tools, profile);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await proxy?.stop();
  await llama?.stop();
  await keyed?.stop();
  if (profile) rmSync(profile.root, { recursive: true, force: true });
});

const item = (page, label) => page.locator(`${STATUS} .statusbar-item-label[aria-label="${label}"]`);

/** Edits the user settings.json in the editor, as a user does: find `from`, replace it with `to`, save. */
async function editUserSettings(page, from, to) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.fill('>Preferences: Open User Settings (JSON)');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open User Settings (JSON)' }).first().click();
  const editor = page.locator('.monaco-editor', { hasText: 'tessera.engine.kind' }).first();
  await editor.waitFor({ timeout: 30_000 });
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+H');
  await page.locator('.find-widget textarea[aria-label="Find"], .find-widget input[aria-label="Find"]').first().fill(from);
  await page.locator('.find-widget textarea[aria-label="Replace"], .find-widget input[aria-label="Replace"]').first().fill(to);
  await page.keyboard.press('Control+Alt+Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+S');
  await page.keyboard.press('Control+W');
}

test('ghost text from a llama.cpp server (/infill), then its OpenAI-compatible API; the status bar names them; a dead server is said once and its return noticed; a refused key is asked for and kept secret', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    const host = new URL(settings['tessera.engine.url']).host;
    // Ready, the model's item naming the model and the server it runs on.
    const named = page.locator(
      `${STATUS} .statusbar-item-label[aria-label^="Tessera model: tessera-tiny-"][aria-label$=".gguf @ ${host}"]`,
    );
    await named.waitFor({ timeout: 90_000 });
    await item(page, 'Tessera: ready').waitFor({ timeout: 30_000 });

    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fields.ts' }).dblclick();
    const editor = page.locator('.monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'readonly field5' }).waitFor();
    const ghostAfterTyping = async (shot) => {
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type('8:17');
      await page.keyboard.press('Enter');
      await page.keyboard.type('6', { delay: 50 });
      const ghost = editor.locator('.ghost-text-decoration, .ghost-text');
      await ghost.first().waitFor({ timeout: 30_000 });
      const text = (await ghost.allInnerTexts()).join('').replace(/\u00a0/g, ' '); // the editor renders spaces as no-break spaces
      await page.mouse.move(600, 500);
      await page.screenshot({ path: join(results, shot) });
      await page.keyboard.press('Escape');
      await page.keyboard.press('Backspace');
      return text;
    };
    assert.match(await ghostAfterTyping('ghost-llamacpp-infill.png'), /^: number/);
    assert.ok(
      proxy.to('/infill').some((r) => r.body.n_predict > 0 && String(r.body.input_prefix).endsWith('readonly field6')),
      'the completion came from /infill',
    );
    // The status bar names the model and its server, with the completion's latency.
    await page
      .locator(`${STATUS} .statusbar-item-label`, { hasText: new RegExp(`gguf @ ${host.replace(/\./g, '\\.')} \\d+ ms`) })
      .first()
      .waitFor({ timeout: 30_000 });

    // The same server's OpenAI-compatible API, from the settings alone.
    await editUserSettings(page, '"llama.cpp"', '"openai"');
    const before = proxy.to('/v1/completions').length;
    for (let i = 0; i < 300 && !proxy.to('/v1/models').length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(proxy.to('/v1/models').length > 0, 'the openai engine opened');
    assert.ok((await ghostAfterTyping('ghost-openai.png')).length > 0);
    assert.ok(proxy.to('/v1/completions').length > before, 'the completion came from /v1/completions');

    // The server dies: a warning in the status bar, one notification; it comes back: ready again.
    const port = llama.port;
    await llama.stop();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('8:17');
    await page.keyboard.press('Enter');
    await page.keyboard.type('6', { delay: 50 });
    const warning = page.locator(`${STATUS} .statusbar-item-label[aria-label^="Tessera: warning: OpenAI-compatible server"]`);
    await warning.waitFor({ timeout: 30_000 });
    const toast = page.locator('.notification-toast', { hasText: 'cannot reach' });
    await toast.first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(results, 'server-down.png') });
    await page.keyboard.press('Backspace');
    llama = await startLlamaServer({ model: process.env.TESSERA_TEST_GGUF ?? embeddedGguf(root), port, args: EMBEDDED_SERVER_ARGS });
    await item(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
    assert.equal(await toast.count(), 1, 'one notification for the outage');
    await page.screenshot({ path: join(results, 'server-back.png') });

    // A server that wants a key: refused, the notification's button asks for the key (secret storage),
    // and the server starts again with it.
    keyed = await startLlamaServer({
      model: process.env.TESSERA_TEST_GGUF ?? embeddedGguf(root),
      apiKey: 'team-key-4711',
      args: EMBEDDED_SERVER_ARGS,
    });
    await editUserSettings(page, settings['tessera.engine.url'], keyed.url);
    const refused = page.locator('.notification-toast', { hasText: 'refused the API key' });
    await refused.first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(results, 'key-refused.png') });
    await refused.first().locator('a.monaco-button', { hasText: 'Set Engine API Key' }).click();
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'API key for the completion server' }).waitFor({ timeout: 30_000 });
    assert.equal(await input.getAttribute('type'), 'password');
    await input.fill('team-key-4711');
    await page.keyboard.press('Enter');
    const keyedHost = new URL(keyed.url).host;
    await page
      .locator(`${STATUS} .statusbar-item-label[aria-label^="Tessera model: tessera-tiny-"][aria-label$=".gguf @ ${keyedHost}"]`)
      .waitFor({ timeout: 60_000 });
    await item(page, 'Tessera: ready').waitFor({ timeout: 30_000 });
    assert.ok(!readFileSync(join(profile.userDataDir, 'User', 'settings.json'), 'utf8').includes('team-key-4711'), 'the key is no setting');
    await page.screenshot({ path: join(results, 'key-accepted.png') });
  } catch (err) {
    await page.screenshot({ path: join(results, 'engines-FAILED.png') }).catch(() => undefined);
    throw err;
  } finally {
    await page.close();
  }
});
