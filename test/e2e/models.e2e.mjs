// Models in a real VS Code (code-server with the packaged .vsix): Select Model from the status bar, a
// repo id typed in, the download's progress notification, ghost text from the downloaded model, the
// status bar naming it, and the switch back to the embedded model. The Hub is a stand-in on 127.0.0.1
// (scripts/lib/hubStandIn.ts: the real Hub cannot be reached here), reached through HF_ENDPOINT.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createProfile,
  ensureTools,
  installExtension,
  launchChromium,
  startCodeServer,
  tempRoot,
} from '../../scripts/lib/vscodeServer.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { HubStandIn } = createRequire(import.meta.url)(join(root, 'out', 'lib', 'hubStandIn.js'));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, 'out', `tessera-${process.platform}-${process.arch}-${version}.vsix`);
const results = join(root, 'test-results', 'e2e-models');
const STATUS = '#workbench\\.parts\\.statusbar';
const tiny = join(root, 'models', 'tessera-tiny');
const REPO = 'tessera/tessera-tiny';
/** A file where, after a space typed at 9:52, the model is sure of the right argument (`filename`). */
const WALK =
  'import os\n\n\ndef list_python_files(root):\n    result = []\n    for dirpath, dirnames, filenames in os.walk(root):\n' +
  '        for filename in filenames:\n            if filename.endswith(".py"):\n                result.append(os.path.join(dirpath,))\n    return result\n';

/** A catalogue entry's repo, served with the embedded model's files (its int8 export as onnx/model_int8.onnx). */
const CATALOGUED = 'Xenova/tiny_starcoder_py';
const hub = new HubStandIn([
  {
    id: CATALOGUED,
    files: {
      ...Object.fromEntries(
        ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, join(tiny, f)]),
      ),
      'onnx/model_int8.onnx': join(tiny, 'onnx', 'model_quantized.onnx'),
      'onnx/model.onnx': join(tiny, 'onnx', 'model.onnx'),
    },
  },
  {
    id: REPO,
    files: Object.fromEntries(
      [
        'config.json',
        'generation_config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'onnx/model.onnx',
        'onnx/model_quantized.onnx',
      ].map((f) => [f, join(tiny, f)]),
    ),
  },
]);
let profile, server, browser, cache, workspace;

before(async () => {
  assert.ok(existsSync(vsix), `no ${vsix}: run \`npm run package\` first (npm test does)`);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const endpoint = await hub.start();
  const tools = await ensureTools();
  profile = createProfile(tempRoot('e2e-models')); // default settings: only what the model is sure of is shown
  installExtension(tools, profile, vsix);
  cache = join(profile.root, 'hf-cache');
  workspace = join(profile.root, 'workspace');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'walk.py'), WALK);
  server = await startCodeServer(tools, profile, {
    folder: workspace,
    env: { HF_HUB_CACHE: cache, HF_ENDPOINT: endpoint },
    logFile: join(results, 'code-server.log'),
  });
  browser = await launchChromium(tools, profile);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await hub.close();
  if (profile) rmSync(profile.root, { recursive: true, force: true });
});

const item = (page, label) => page.locator(`${STATUS} .statusbar-item-label[aria-label="${label}"]`);
const row = (page, text) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();

test('Select Model: a catalogue model in two clicks, a repo id with its progress, ghost text from it, back to the embedded model; the walkthrough', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await item(page, 'Tessera: ready').waitFor({ timeout: 90_000 });
    await item(page, 'Tessera model: tessera-tiny').click();
    // The catalogue is listed offline, with sizes; nothing was sent to the Hub to list it.
    await row(page, 'Qwen2.5-Coder 1.5B (base)').waitFor({ timeout: 30_000 });
    assert.equal(hub.log.length, 0);
    await page.screenshot({ path: join(results, 'select-model.png') });
    const input = page.locator('.quick-input-widget input');
    // Two clicks: the status bar's model, then a catalogue entry (its recommended precision, int8).
    await input.fill('TinyStarCoder');
    await row(page, 'TinyStarCoder (Python)').click();
    await item(page, `Tessera model: ${CATALOGUED}`).waitFor({ timeout: 120_000 });
    assert.ok(hub.log.some((e) => e.path === `/${CATALOGUED}/resolve/${hub.commitOf(CATALOGUED)}/onnx/model_int8.onnx`));
    assert.ok(!hub.log.some((e) => e.path.endsWith('onnx/model.onnx')), 'only the chosen precision');

    await item(page, `Tessera model: ${CATALOGUED}`).click();
    await row(page, 'Enter a Hugging Face repo id')
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
    await input.fill('Hugging Face repo id');
    await row(page, 'Enter a Hugging Face repo id').click();
    await page.locator('.quick-input-widget', { hasText: 'a Hugging Face repo with an ONNX export' }).waitFor();
    await input.fill(REPO);
    await page.keyboard.press('Enter');
    await row(page, 'quantized').waitFor({ timeout: 30_000 });
    hub.throttle(1_000_000); // slow enough to see the progress notification
    await row(page, 'fp32').click();
    const progress = page.locator('.notification-toast', { hasText: `downloading ${REPO}` });
    await page.mouse.click(800, 300); // away from the status item, whose tooltip would cover the notification
    await progress.locator('text=/MB of .* MB at/').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(results, 'download-progress.png') });
    // Live: the status bar names the repo; only fp32's files came.
    await item(page, `Tessera model: ${REPO}`).waitFor({ timeout: 120_000 });
    hub.throttle(0);
    assert.ok(!hub.log.some((e) => e.path.includes('model_quantized')));
    const snapshots = readdirSync(join(cache, 'models--tessera--tessera-tiny', 'snapshots'));
    assert.equal(snapshots.length, 1);

    // Ghost text from the downloaded model, at the default threshold: the argument the file needs.
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'walk.py' }).dblclick();
    const editor = page.locator('.monaco-editor').first();
    await editor.locator('.view-lines', { hasText: 'result' }).waitFor();
    const ghostAt = async (shot) => {
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type('9:52');
      await page.keyboard.press('Enter');
      await page.keyboard.type(' ', { delay: 50 });
      const ghost = editor.locator('.ghost-text-decoration, .ghost-text');
      await ghost.first().waitFor({ timeout: 30_000 });
      assert.match((await ghost.allInnerTexts()).join(''), /^filename/);
      await page.mouse.move(600, 500);
      await page.screenshot({ path: join(results, shot) });
      // The editor alone, for the walkthrough's step (media/walkthrough/ghost-text.png).
      await page.screenshot({ path: join(results, shot.replace('.png', '-editor.png')), clip: { x: 348, y: 70, width: 640, height: 230 } });
      await page.keyboard.press('Escape');
      await page.keyboard.press('Backspace');
    };
    await ghostAt('ghost-from-downloaded.png');
    await page
      .locator(`${STATUS} .statusbar-item-label`, { hasText: `${REPO} ` })
      .first()
      .waitFor({ timeout: 30_000 });

    // Back to the embedded model, from the same list.
    await item(page, `Tessera model: ${REPO}`).click();
    await row(page, 'embedded, 2.3M parameters').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(results, 'select-model-installed.png') });
    await row(page, 'embedded, 2.3M parameters').click();
    await page.locator('.quick-input-widget', { hasText: 'which precision?' }).waitFor();
    await row(page, 'fp32').click();
    await item(page, 'Tessera model: tessera-tiny').waitFor({ timeout: 60_000 });
    await ghostAt('ghost-text-python.png'); // the README's picture: the embedded model, a completion to accept

    // The Getting Started walkthrough, as a first-time user finds it.
    await page.keyboard.press('F1');
    await input.fill('>Welcome: Open Walkthrough');
    await row(page, 'Open Walkthrough').click();
    await row(page, 'Get started with Tessera').click();
    for (const step of ['See ghost text', 'See the tokens', 'Choose a real model', 'Check FIM on a file'])
      await page.locator('.gettingStartedContainer', { hasText: step }).first().waitFor({ timeout: 30_000 });
    // Its picture is packaged: the image loads.
    const picture = page.locator('.gettingStartedContainer img[alt="Ghost text in a Python file"]');
    await picture.waitFor({ timeout: 30_000 });
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle(), { timeout: 30_000 });
    await page.screenshot({ path: join(results, 'walkthrough.png') });
  } catch (err) {
    await page.screenshot({ path: join(results, 'models-FAILED.png') }).catch(() => undefined);
    throw err;
  } finally {
    await page.close();
  }
});
