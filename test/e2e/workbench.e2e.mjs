// End-to-end tests in a real VS Code: code-server (VS Code 1.100) with the packaged .vsix
// installed as a user installs it, driven through headless Chromium by playwright-core.
// Part 1 looks at the workbench as a user does; part 2 runs the mocha suite in
// test/e2e/suite inside the real extension host. Screenshots go to test-results/e2e/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
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
// The tokenizers the repository brings, in a folder of tokenizer folders (the test build's support module).
const { tokenizerDir } = createRequire(import.meta.url)(join(root, 'out', 'lib', 'testTokenizers.js'));
const tokenizers = tokenizerDir();
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, 'out', `tessera-${process.platform}-${process.arch}-${version}.vsix`);
const results = join(root, 'test-results', 'e2e');
const STATUS = '#workbench\\.parts\\.statusbar';
/** Where the inline-completion test types, and what: the start of a body the model should fill. */
const GHOST_CASES = [
  {
    file: 'people.ts',
    text: 'export interface Person {\n  name: string;\n  languages: string[];\n}\n',
    typed: '\nexport function farewell(person: Person): string {\n',
    shot: 'ghost-typescript',
  },
  {
    file: 'spread.py',
    text: 'from statistics import mean\n\n',
    typed: '\ndef spread(values: list[float]) -> float:\n',
    shot: 'ghost-python',
  },
];

let tools,
  profile,
  server,
  browser,
  workspace,
  failed = false;

before(async () => {
  assert.ok(existsSync(vsix), `no ${vsix}: run \`npm run package\` first (npm test does)`);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  tools = await ensureTools();
  profile = createProfile(tempRoot('e2e'), {
    'tessera.tokenizerDirectories': [tokenizers],
    'tessera.tokenizer': 'qwen2.5-coder',
    'tessera.server.logLevel': 'debug',
    'tessera.completion.minHeadProbability': 0,
    'tessera.completion.snippetTokens': 128,
  });
  installExtension(tools, profile, vsix);
  workspace = join(profile.root, 'workspace');
  cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
  server = await startCodeServer(tools, profile, {
    folder: workspace,
    env: { TESSERA_E2E_RESULTS: join(profile.root, 'in-editor-results.json') },
    logFile: join(results, 'code-server.log'),
  });
  browser = await launchChromium(tools, profile);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (failed && profile) copyLogs(profile.userDataDir, join(results, 'logs'));
  if (profile && !failed) rmSync(profile.root, { recursive: true, force: true });
});

/** Runs `fn` with a fresh workbench page; on failure saves a screenshot named after the test. */
async function withPage(name, url, fn) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  try {
    await page.goto(url);
    await fn(page);
    await page.screenshot({ path: join(results, `${name}.png`) });
  } catch (err) {
    failed = true;
    await page.screenshot({ path: join(results, `${name}-FAILED.png`) }).catch(() => undefined);
    writeFileSync(join(results, `${name}-console.log`), consoleLines.join('\n'));
    throw err;
  } finally {
    await page.close();
  }
}

const tesseraItem = (page, label) => page.locator(`${STATUS} .statusbar-item-label[aria-label="${label}"]`);

async function runCommand(page, title) {
  await page
    .locator('.monaco-workbench')
    .click({ position: { x: 600, y: 300 } })
    .catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

function copyLogs(from, to) {
  try {
    cpSync(join(from, 'logs'), to, { recursive: true });
  } catch {
    // no logs written
  }
}

describe('Tessera in a real VS Code (code-server 1.100, installed from the .vsix)', () => {
  test('the status bar shows the server ready, a command round-trips, a killed server restarts', async () => {
    await withPage('workbench', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      assert.match(await tesseraItem(page, 'Tessera: ready').innerText(), /Tessera/);
      await page.screenshot({ path: join(results, 'status-ready.png') });

      // A server-backed command, run from the command palette as a user would.
      await runCommand(page, 'Tessera: Show Server Info');
      const toast = page.locator('.notification-toast', { hasText: 'Tessera server' });
      await toast.waitFor({ timeout: 30_000 });
      const message = await toast.innerText();
      assert.match(message, new RegExp(`Tessera server ${version.replace(/\./g, '\\.')}: pid \\d+, Node v\\d+`));
      assert.match(message, /ONNX Runtime \d+\.\d+\.\d+/);
      const pid = Number(/pid (\d+)/.exec(message)[1]);
      await page.screenshot({ path: join(results, 'server-info.png') });

      // Document sync, seen through a command on an open file.
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'src' }).click();
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'greet.ts' }).dblclick();
      await page.locator('.monaco-editor .view-lines', { hasText: 'export function greet' }).waitFor();
      await runCommand(page, 'Tessera: Show Document Stats');
      const stats = page.locator('.notification-toast', { hasText: 'greet.ts:' });
      await stats.waitFor({ timeout: 30_000 });
      const fixture = readFileSync(join(workspace, 'src', 'greet.ts'), 'utf8');
      assert.match(await stats.innerText(), new RegExp(`src/greet\\.ts: 10 lines, ${Buffer.byteLength(fixture)} bytes UTF-8`));

      // Kill the language server: VS Code must restart it and the status bar must say so.
      process.kill(pid, 'SIGKILL');
      const restarted = tesseraItem(page, 'Tessera: ready (restarted)');
      await restarted.waitFor({ timeout: 30_000 });
      assert.match(await restarted.innerText(), /Tessera \(restarted\)/);
      await page.screenshot({ path: join(results, 'status-restarted.png') });
      assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the killed server is gone');
    });
  });

  test('an untrusted workspace cannot point Tessera at a tokenizer, a model or a server; trusted, its tokenizer applies', async () => {
    // A folder whose settings name another tokenizer and a model folder that does not exist.
    const folder = join(profile.root, 'untrusted-workspace');
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    const file = join(folder, 'app.ts');
    writeFileSync(file, 'export const answer = 42; // the answer\n');
    writeFileSync(
      join(folder, '.vscode', 'settings.json'),
      JSON.stringify({
        'tessera.model.path': join(folder, 'no-such-model'),
        'tessera.engine.kind': 'openai',
        'tessera.engine.url': 'http://127.0.0.1:9',
        'tessera.tokenizer': 'cl100k',
        'tessera.tokenizerDirectories': [tokenizers],
      }),
    );
    const count = (...tokenizer) =>
      JSON.parse(
        execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'tokens', file, '--json', ...tokenizer], { encoding: 'utf8' }),
      ).count;
    const cl100k = count('--tokenizer', 'cl100k', '--tokenizer-dir', tokenizers);
    const tiny = count();
    assert.notEqual(cl100k, tiny, 'the two tokenizers count the file differently');
    const openApp = async (page) => {
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.ts' }).dblclick();
      await page.locator('.monaco-editor .view-lines', { hasText: 'export const answer' }).waitFor();
    };
    const countShown = (page, n) =>
      page.locator(`${STATUS} .statusbar-item-label[aria-label^="Tessera: ${n} tokens,"]`).waitFor({ timeout: 30_000 });
    const modelInfo = async (page) => {
      await runCommand(page, 'Tessera: Show Server Info');
      const toast = page.locator('.notification-toast', { hasText: 'Tessera server' });
      await toast.waitFor({ timeout: 30_000 });
      return toast.innerText();
    };
    // Trusted (this suite's VS Code runs with workspace trust off): the folder's tokenizer applies; its
    // model path and completion server never do (tessera.model.path and tessera.engine.* are user settings only).
    await withPage('trusted-settings', `${server.url}/?folder=${encodeURIComponent(folder)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await openApp(page);
      await countShown(page, cl100k);
      assert.match(await modelInfo(page), /Model tessera-tiny/);
    });
    // Untrusted: a VS Code with workspace trust on opens the folder in Restricted Mode.
    const restricted = createProfile(tempRoot('e2e-untrusted'), {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'always',
    });
    installExtension(tools, restricted, vsix);
    const untrusted = await startCodeServer(tools, restricted, {
      folder,
      workspaceTrust: true,
      logFile: join(results, 'code-server-untrusted.log'),
    });
    try {
      await withPage('untrusted-settings', `${untrusted.url}/?folder=${encodeURIComponent(folder)}`, async (page) => {
        await page.locator('.monaco-workbench', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
        await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
        await openApp(page);
        await countShown(page, tiny); // the default tokenizer, not the folder's cl100k
        const info = await modelInfo(page);
        assert.match(info, /Model tessera-tiny/);
        assert.doesNotMatch(info, /no-such-model/);
      });
    } finally {
      await untrusted.stop();
      rmSync(restricted.root, { recursive: true, force: true });
    }
  });

  test('token lens: decorations, hover with the token id, and the status bar count equal to the CLI', async () => {
    const file = join(workspace, 'src', 'greet.ts');
    const cli = JSON.parse(
      execFileSync(
        process.execPath,
        [join(root, 'dist', 'cli.js'), 'tokens', file, '--json', '--tokenizer', 'qwen2.5-coder', '--tokenizer-dir', tokenizers],
        { encoding: 'utf8' },
      ),
    );
    await withPage('token-lens', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'src' }).click();
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'greet.ts' }).dblclick();
      await page.locator('.monaco-editor .view-lines', { hasText: 'export function greet' }).waitFor();

      // The count the user sees is the CLI's count.
      const perToken = (readFileSync(file, 'utf8').length / cli.count).toFixed(2);
      const countItem = page.locator(
        `${STATUS} .statusbar-item-label[aria-label="Tessera: ${cli.count} tokens, ${perToken} characters per token"]`,
      );
      await countItem.waitFor({ timeout: 30_000 });

      await runCommand(page, 'Tessera: Toggle Token Boundaries');
      const decorated = page.locator('.monaco-editor .view-overlays [class*="TextEditorDecorationType"]');
      await decorated.first().waitFor({ timeout: 30_000 });
      assert.ok((await decorated.count()) >= cli.count / 2, `decorations drawn: ${await decorated.count()}`);
      await page.screenshot({ path: join(results, 'token-lens.png') });

      // Hover the word "interface": the hover names its token id.
      const token = cli.tokens.find((t) => t.text === ' interface');
      const word = page.locator('.monaco-editor .view-lines span', { hasText: /^interface$/ }).first();
      await word.hover();
      const hover = page.locator('.monaco-hover', { hasText: `Token ${token.id}` });
      await hover.waitFor({ timeout: 30_000 });
      assert.match(await hover.innerText(), /keyword interface = 1 token/);
      await page.screenshot({ path: join(results, 'token-hover.png') });

      await page.keyboard.press('Escape');
      await runCommand(page, 'Tessera: Toggle Token Boundaries');
      await decorated.first().waitFor({ state: 'detached', timeout: 30_000 });

      // Switching tokenizers from the picker: the count follows (then back to Qwen2.5-Coder's).
      const countFor = (name) =>
        JSON.parse(
          execFileSync(
            process.execPath,
            [join(root, 'dist', 'cli.js'), 'tokens', file, '--json', '--tokenizer', name, '--tokenizer-dir', tokenizers],
            { encoding: 'utf8' },
          ),
        ).count;
      for (const name of ['cl100k', 'qwen2.5-coder']) {
        await runCommand(page, 'Tessera: Select Tokenizer');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
        const n = countFor(name);
        const label = `Tessera: ${n} tokens, ${(readFileSync(file, 'utf8').length / n).toFixed(2)} characters per token`;
        await page.locator(`${STATUS} .statusbar-item-label[aria-label="${label}"]`).waitFor({ timeout: 30_000 });
      }
    });
  });

  test('FIM check: the report shows a chart per span kind and a table of samples; clicking one selects its span', async () => {
    const file = 'shapes.ts';
    const text = Array.from(
      { length: 6 },
      (_, i) => `export function area${i}(w: number, h: number): number {\n  const a = w * h * ${i};\n  return a;\n}\n`,
    ).join('\n');
    writeFileSync(join(workspace, file), text);
    await withPage('fim-check', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).dblclick();
      await page.locator('.monaco-editor .view-lines', { hasText: 'export function area0' }).waitFor();
      await runCommand(page, 'Tessera: Check FIM on This File');
      // The report is a webview: its page sits in an iframe inside VS Code's webview iframe.
      const report = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      const rows = report.locator('#samples tbody tr');
      await rows.first().waitFor({ timeout: 120_000 });
      assert.equal(await report.locator('.chart svg').count(), 3, 'a chart per span kind');
      const headings = await report.locator('.chart h3').allInnerTexts();
      assert.deepEqual(
        headings.map((h) => h.replace(/ \(\d+\)$/, '')),
        ['line spans', 'multiline spans', 'random spans'],
      );
      assert.ok((await rows.count()) >= 10, `${await rows.count()} samples`);
      await page.screenshot({ path: join(results, 'fim-report.png') });
      // A multi-line sample: its expected text is what the editor selects.
      const row = rows.filter({ hasText: 'multiline' }).first();
      const expected = (await row.locator('code').innerText()).replaceAll(' ⏎ ', '\n');
      await row.click();
      await report.locator('#detail .tokens span').first().waitFor();
      const selected = page.locator(`${STATUS} [aria-label*="selected"], ${STATUS} .statusbar-item-label:has-text("selected")`).first();
      await selected.waitFor({ timeout: 30_000 });
      const chars = Number(/\((\d+) selected\)/.exec(await selected.innerText())?.[1]);
      assert.equal(chars, expected.length, `selection of ${chars} characters for ${JSON.stringify(expected)}`);
      // Each generated token shows its probability and alternatives on hover.
      const title = await report.locator('#detail .tokens span[title]').first().getAttribute('title');
      assert.match(title ?? '', /^p = [01]\.\d{3}(\nalternatives:\n.+)?/s);
      await report.locator('#detail h4').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(results, 'fim-report-sample.png') });
    });
  });

  test('a snippet of another open file joins the prompt, and the status bar tooltip names it', async () => {
    writeFileSync(
      join(workspace, 'helpers.ts'),
      'export interface Order {\n  items: Item[];\n  destination: string;\n}\n\n' +
        'export function computeShippingCost(order: Order, rate: number): number {\n  return order.items.length * rate;\n}\n',
    );
    writeFileSync(
      join(workspace, 'checkout.ts'),
      'import { type Order } from "./helpers";\n\nexport function checkout(order: Order, rate: number): number {\n  const cost = ',
    );
    await withPage('snippets', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'helpers.ts' }).dblclick();
      await page.locator('.monaco-editor .view-lines', { hasText: 'computeShippingCost' }).waitFor();
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'checkout.ts' }).dblclick();
      const editor = page.locator('.monaco-editor', { hasText: 'const cost' }).first();
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('o', { delay: 60 });
      const item = page.locator(`${STATUS} .statusbar-item`, { hasText: /tessera-tiny \d+ ms/ }).first();
      await item.waitFor({ timeout: 30_000 });
      await item.hover();
      const hover = page.locator('.monaco-hover, .workbench-hover, .custom-hover', { hasText: 'context from helpers.ts' }).first();
      await hover.waitFor({ timeout: 15_000 });
      await page.screenshot({ path: join(results, 'snippets-tooltip.png') });
    });
  });

  test('where the model loops, the ghost text does not', async () => {
    // A file where the model, asked at line 28 after typing "e", writes "r, text: string, text: string, …".
    const file = 'anchors.ts';
    const typed = readFileSync(join(root, 'test', 'fixtures', 'loops', 'anchors.ts.txt'), 'utf8');
    writeFileSync(join(workspace, file), typed);
    const after = typed.split('\n');
    after[27] += 'e';
    const probe = join(profile.root, 'probe.ts');
    writeFileSync(probe, after.join('\n'));
    const cli = (...extra) =>
      JSON.parse(
        execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'complete', probe, '--at', '28:51', '--json', ...extra], {
          encoding: 'utf8',
        }),
      );
    // Without the filters (and the old whole-completion gate) the loop would be shown: the case is real.
    const unfiltered = cli('--show', 'whole', '--filters', 'off');
    assert.ok(unfiltered.shown && /(, text: string){3}/.test(unfiltered.completion), JSON.stringify(unfiltered));
    assert.equal(cli().filteredBy, 'a line that repeats itself');
    await withPage('loop', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).dblclick();
      const editor = page.locator('.monaco-editor').first();
      await editor.locator('.view-lines', { hasText: 'context(uri: string' }).waitFor();
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type('28:50');
      await page.keyboard.press('Enter');
      await page.keyboard.press('End');
      await page.keyboard.type('e');
      // The completion ran (the status bar shows its latency); what ghost text there is does not loop.
      await page
        .locator(`${STATUS} .statusbar-item`, { hasText: /tessera-tiny \d+ ms/ })
        .first()
        .waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      const ghost = (await editor.locator('.ghost-text-decoration, .ghost-text').allInnerTexts()).join('').replace(/\u00a0/g, ' ');
      assert.doesNotMatch(ghost, /(, text: string){2}/, `ghost text: ${JSON.stringify(ghost)}`);
      await page.screenshot({ path: join(results, 'loop-filtered.png') });
    });
  });

  test('the server killed while the user types: restarted, ghost text comes back, no error notifications', async () => {
    const { text, typed } = GHOST_CASES[0];
    writeFileSync(join(workspace, 'killed.ts'), text);
    await withPage('killed-mid-completion', `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
      await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
      await runCommand(page, 'Tessera: Show Server Info');
      const toast = page.locator('.notification-toast', { hasText: 'Tessera server' }).last();
      await toast.waitFor({ timeout: 30_000 });
      const pid = Number(/pid (\d+)/.exec(await toast.innerText())[1]);
      await page.keyboard.press('Escape');
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'killed.ts' }).dblclick();
      const editor = page.locator('.monaco-editor').first();
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      // Every keystroke asks for a completion; the server dies right after the last key.
      await page.keyboard.type(typed.slice(0, -1), { delay: 40 });
      await page.keyboard.type(typed.slice(-1));
      process.kill(pid, 'SIGKILL');
      await tesseraItem(page, 'Tessera: ready (restarted)').waitFor({ timeout: 30_000 });
      // A key and its undo at the same place: the new server completes there, as the first one did.
      await page.keyboard.press('Escape');
      await page.keyboard.type(' ', { delay: 100 });
      await page.keyboard.press('Backspace');
      await editor.locator('.ghost-text-decoration, .ghost-text').first().waitFor({ timeout: 30_000 });
      assert.match(await tesseraItem(page, 'Tessera: ready (restarted)').innerText(), /Tessera tessera-tiny \d+ ms \(restarted\)/);
      await page.screenshot({ path: join(results, 'killed-mid-completion-ghost.png') });
      const errors = await page.locator('.notification-toast .codicon-error, .notifications-center .codicon-error').count();
      assert.equal(errors, 0, 'no error notifications');
      await runCommand(page, 'File: Revert File');
    });
  });

  test('inline completion: typing shows ghost text from the embedded model, Tab inserts it (TypeScript, Python)', async () => {
    for (const { file, text, typed, shot } of GHOST_CASES) {
      // Files of its own, so the other tests' files never carry its edits.
      writeFileSync(join(workspace, file), text);
      await withPage(shot, `${server.url}/?folder=${encodeURIComponent(workspace)}`, async (page) => {
        await tesseraItem(page, 'Tessera: ready').waitFor({ timeout: 60_000 });
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).dblclick();
        const editor = page.locator('.monaco-editor').first();
        await editor.locator('.view-lines').waitFor();
        await editor.locator('.view-lines').click();
        await page.keyboard.press('Control+End');
        await page.keyboard.type(typed, { delay: 60 });
        // Ghost text: Monaco draws the suggestion as ghost-text decorations after the cursor.
        const ghost = editor.locator('.ghost-text-decoration, .ghost-text');
        await ghost.first().waitFor({ timeout: 30_000 });
        // The pieces of ghost text (the cursor line's, and further lines drawn as a view zone, in DOM order).
        const pieces = (await ghost.allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' ')).filter((t) => t.trim());
        assert.ok(pieces.length > 0, 'the ghost text is not empty');
        const inline = (
          await editor
            .locator('.ghost-text-decoration')
            .first()
            .innerText()
            .catch(() => pieces[0])
        ).replace(/\u00a0/g, ' ');
        await page.screenshot({ path: join(results, `${shot}-ghost.png`) });
        const squash = (t) => t.replace(/[\s\u00a0]+/g, '');
        // Word by word: Ctrl+Right takes the suggestion's first word, the rest stays as ghost text.
        const firstWord = /^\s*[\w$]+|^\s*\S/.exec(inline)?.[0].trim() ?? '';
        await page.keyboard.press('Control+ArrowRight');
        await page
          .waitForFunction(
            ([sel, before]) => document.querySelector(sel)?.textContent !== before,
            ['.monaco-editor .view-lines', await editor.locator('.view-lines').textContent()],
            { timeout: 10_000 },
          )
          .catch(() => undefined);
        const partly = await editor.locator('.view-lines').innerText();
        assert.ok(squash(partly).includes(squash(firstWord)), `Ctrl+Right inserted "${firstWord}"`);
        if (await ghost.count()) await page.keyboard.press('Tab');
        await ghost
          .first()
          .waitFor({ state: 'detached', timeout: 10_000 })
          .catch(() => undefined);
        const after = await editor.locator('.view-lines').innerText();
        // Every piece of the ghost text is now text (lines may wrap: compared without whitespace).
        for (const piece of pieces) assert.ok(squash(after).includes(squash(piece)), `Tab inserted "${piece}"`);
        assert.equal(await ghost.count(), 0, 'no ghost text left: it is text now');
        await page.screenshot({ path: join(results, `${shot}-accepted.png`) });
        // The status bar names the last completion's latency.
        assert.match(await tesseraItem(page, 'Tessera: ready').innerText(), /Tessera tessera-tiny \d+ ms/);
        // The server, as installed from the .vsix, runs the model with its KV cache updated in place
        // (onnxruntime's C API through koffi), not the copying fallback.
        await runCommand(page, 'Tessera: Show Server Info');
        const info = page.locator('.notification-toast', { hasText: 'Tessera server' }).last();
        await info.waitFor({ timeout: 30_000 });
        assert.match(await info.innerText(), /Model tessera-tiny \(onnx\/model\.onnx; .*updated in place/);
        await runCommand(page, 'File: Revert File');
      });
    }
  });

  test('the in-editor suite passes inside the real extension host', async (t) => {
    const ext = readdirSync(profile.extensionsDir).find((d) => d.startsWith(`tessera.tessera-${version}`));
    assert.ok(ext, `the .vsix was installed into ${profile.extensionsDir}`);
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    // The installed extension is the development extension: the suite tests exactly what was installed.
    const payload = [
      ['extensionDevelopmentPath', remote(join(profile.extensionsDir, ext))],
      ['extensionTestsPath', remote(join(root, 'out', 'test', 'e2e', 'suite', 'index.js'))],
    ];
    const url = `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const resultsFile = join(profile.root, 'in-editor-results.json');
    let exitCode;
    await withPage('in-editor-suite', 'about:blank', async (page) => {
      const exited = new Promise((resolve) => page.exposeFunction('codeAutomationExit', (code) => resolve(code)));
      await page.goto(url);
      let timer;
      const timeout = new Promise((r) => (timer = setTimeout(() => r('timeout'), 240_000)));
      exitCode = await Promise.race([exited, timeout]);
      clearTimeout(timer);
    });
    assert.ok(existsSync(resultsFile), `the suite wrote no results (workbench exit: ${exitCode})`);
    const outcomes = JSON.parse(readFileSync(resultsFile, 'utf8'));
    for (const o of outcomes) {
      await t.test(o.title, () => {
        if (o.state === 'failed') {
          failed = true;
          assert.fail(o.error);
        }
      });
    }
    assert.ok(outcomes.length >= 5, `expected the whole suite to run, got ${outcomes.length} results`);
    assert.equal(exitCode, 0, `the workbench exited with ${exitCode}`);
  });
});
