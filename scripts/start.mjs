// `npm start [-- FOLDER] [--port N] [--check]`: builds Tessera, installs its .vsix into a real
// VS Code (code-server, bound to 127.0.0.1 only) and serves it on FOLDER, or on a sample workspace.
//   --port N   listen on N (default 8080, or a free port if 8080 is taken; 0 = any free port)
//   --check    open the workbench in headless Chromium, wait until Tessera reports ready, save a
//              screenshot to test-results/start.png, stop, and exit 0 (ready) or 1.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProfile, ensureTools, freePort, installExtension, launchChromium, startCodeServer, toolsDir } from './lib/vscodeServer.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const check = args.includes('--check');
const portArg = args.indexOf('--port');
const folderArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port');

function fail(message) {
  console.error(`start: ${message}`);
  process.exit(1);
}

function run(step, script, ...scriptArgs) {
  const r = spawnSync(process.execPath, [join(root, script), ...scriptArgs], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`${step} failed`);
}

async function choosePort() {
  if (portArg !== -1) {
    const n = Number(args[portArg + 1]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`--port needs a port number, got '${args[portArg + 1]}'`);
    return n === 0 ? freePort() : n;
  }
  const probe = await fetch('http://127.0.0.1:8080/healthz').then(
    () => true,
    () => false,
  );
  return probe ? freePort() : 8080;
}

let folder;
const profileRoot = join(dirname(toolsDir()), check ? `start-check-${process.pid}` : 'start-profile');
if (folderArg) {
  folder = resolve(folderArg);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) fail(`${folder} is not a folder`);
} else {
  // A copy, so that playing with the sample never edits the repository.
  folder = join(dirname(toolsDir()), 'sample-workspace');
  if (!existsSync(folder)) cpSync(join(root, 'test', 'fixtures', 'workspace'), folder, { recursive: true });
}

run('build', 'scripts/build.mjs', '--production');
run('packaging', 'scripts/package.mjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, 'out', `tessera-${process.platform}-${process.arch}-${version}.vsix`);

const tools = await ensureTools();
mkdirSync(profileRoot, { recursive: true });
// A folder of tokenizer folders named in $TESSERA_TOKENIZERS is listed by the lens from the start;
// otherwise the lens uses the default model's tokenizer and the user picks others in the settings.
const tokenizerFolders = process.env.TESSERA_TOKENIZERS;
const settings = tokenizerFolders && existsSync(tokenizerFolders) ? { 'tessera.tokenizerDirectories': [resolve(tokenizerFolders)] } : {};
const profile = createProfile(profileRoot, settings);
installExtension(tools, profile, vsix);
const server = await startCodeServer(tools, profile, { folder, port: await choosePort() });
const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;

if (check) {
  const browser = await launchChromium(tools, profile);
  let ok = false;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.locator('#workbench\\.parts\\.statusbar .statusbar-item-label[aria-label="Tessera: ready"]').waitFor({ timeout: 60_000 });
    ok = true;
    mkdirSync(join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-results', 'start.png') });
    console.log(`start: Tessera is ready in VS Code at ${url} (screenshot: test-results/start.png)`);
  } catch (err) {
    console.error(`start: Tessera did not report ready: ${err instanceof Error ? err.message : err}`);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(profileRoot, { recursive: true, force: true });
  }
  process.exit(ok ? 0 : 1);
}

console.log(
  `\nTessera ${version} is running in VS Code (code-server, 127.0.0.1 only):\n\n  ${url}\n\nOpen it in a browser. Ctrl+C stops it.`,
);
let stopping = false;
const stop = async () => {
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.process.on('exit', (code) => {
  if (!stopping) fail(`code-server exited (${code}):\n${server.output().slice(-2000)}`);
});
