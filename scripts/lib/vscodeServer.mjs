// A real VS Code for tests and `npm start`, offline: code-server (VS Code's workbench in the browser
// with a plain-Node extension host) and Debian's Chromium driven by playwright-core.
// The tools install themselves once into a cache folder outside the repository.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { ensureDebianPackages } from './debianPackages.mjs';

/** code-server 4.100.3 is VS Code 1.100.3, the newest that installs on Node 20. */
export const TOOL_VERSIONS = { 'code-server': '4.100.3', 'playwright-core': '1.65.1' };
const RIPGREP = { pkg: '1.15.11', tag: 'v13.0.0-10' };
const DEBIAN_PACKAGES = [
  { pkg: 'chromium', provides: '/usr/bin/chromium' },
  { pkg: 'libkrb5-dev', provides: '/usr/bin/krb5-config' }, // code-server's `kerberos` module builds from source
  { pkg: 'ripgrep', provides: '/usr/bin/rg' },
];
export const CHROMIUM = '/usr/bin/chromium';

export function toolsDir() {
  const base = process.env.TESSERA_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tessera');
  return join(base, `vscode-${TOOL_VERSIONS['code-server']}`);
}

const log = (msg) => process.stderr.write(`[vscode-tools] ${msg}\n`);

/** Installs what is missing (idempotent) and returns where the tools are. */
export async function ensureTools() {
  ensureDebianPackages(DEBIAN_PACKAGES, 'The real-VS-Code tools');
  const dir = toolsDir();
  const stampFile = join(dir, 'installed.json');
  const stamp = JSON.stringify(TOOL_VERSIONS);
  if (!(existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)) {
    await withLock(dir, () => {
      if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
      installNpmTools(dir);
      writeFileSync(stampFile, stamp);
    });
  }
  return {
    dir,
    codeServer: join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    playwright: join(dir, 'node_modules', 'playwright-core', 'index.js'),
  };
}

function installNpmTools(dir) {
  log(`installing code-server ${TOOL_VERSIONS['code-server']} and playwright-core into ${dir} (once; ~2 min)`);
  rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'tessera-vscode-tools', private: true, dependencies: TOOL_VERSIONS }, null, 2),
  );
  // @vscode/ripgrep's postinstall downloads rg unless its cache holds the archive: give it Debian's rg.
  const tmp = join(dir, 'tmp');
  const cache = join(tmp, `vscode-ripgrep-cache-${RIPGREP.pkg}`);
  mkdirSync(cache, { recursive: true });
  const target = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
  execFileSync('tar', ['czf', join(cache, `ripgrep-${RIPGREP.tag}-${target}.tar.gz`), '-C', '/usr/bin', 'rg']);

  // A clean npm environment: nothing inherited from the `npm test` or `npm start` that runs us
  // (its project .npmrc turns install scripts off), except where packages come from.
  const keep = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.test(k)));
  Object.assign(env, {
    TMPDIR: tmp,
    npm_config_unsafe_perm: 'true', // code-server's postinstall refuses to run as root otherwise
    npm_config_yes: 'true', // node-pty's postinstall runs `npx node-gyp`
    npm_config_ignore_scripts: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
  const result = spawnSync('npm', ['install', '--no-package-lock', '--loglevel=error'], { cwd: dir, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`installing code-server failed (npm exit ${result.status}); see the output above`);
  for (const file of [join(dir, 'node_modules/code-server/out/node/entry.js'), join(dir, 'node_modules/playwright-core/index.js')]) {
    if (!existsSync(file)) throw new Error(`installing the VS Code tools left no ${file}`);
  }
}

/** A mkdir lock, so that `npm start` and `npm test` never install into the same folder at once. */
async function withLock(dir, fn) {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  for (let waited = 0; ; waited += 1) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 900)
        rmSync(lock, { recursive: true, force: true }); // a stale lock from a killed run
      else await sleep(1000);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private profile for one VS Code: user data, extensions and a HOME of its own, since
 * code-server, the VS Code server, onnxruntime and Chromium all write into $HOME.
 */
export function createProfile(root, settings = {}) {
  const profile = {
    root,
    home: join(root, 'home'),
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
  };
  for (const d of [profile.home, join(profile.userDataDir, 'User'), profile.extensionsDir]) mkdirSync(d, { recursive: true });
  const defaults = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'security.workspace.trust.enabled': false,
    'chat.disableAIFeatures': true,
  };
  // A profile kept between runs (npm start) keeps what its user changed.
  const file = join(profile.userDataDir, 'User', 'settings.json');
  const kept = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(file, JSON.stringify({ ...defaults, ...settings, ...kept }, null, 2));
  return profile;
}

function profileEnv(profile, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_|^VSCODE_/i.test(k)));
  return {
    ...env,
    HOME: profile.home,
    XDG_CONFIG_HOME: join(profile.home, '.config'),
    XDG_DATA_HOME: join(profile.home, '.local', 'share'),
    XDG_CACHE_HOME: join(profile.home, '.cache'),
    ...extra,
  };
}

/** `code-server --install-extension`, exactly as a user installs a .vsix. */
export function installExtension(tools, profile, vsix) {
  const args = [
    tools.codeServer,
    '--user-data-dir',
    profile.userDataDir,
    '--extensions-dir',
    profile.extensionsDir,
    '--install-extension',
    vsix,
    '--force',
  ];
  const result = spawnSync(process.execPath, args, { env: profileEnv(profile), encoding: 'utf8' });
  if (result.status !== 0 || !/successfully installed/i.test(result.stdout + result.stderr)) {
    throw new Error(`installing ${vsix} into code-server failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Starts code-server on 127.0.0.1 and resolves once it answers /healthz.
 * Returns { url, port, process, stop() }.
 */
export async function startCodeServer(tools, profile, { folder, port, env = {}, logFile, workspaceTrust = false } = {}) {
  port ??= await freePort();
  const args = [
    tools.codeServer,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir',
    profile.userDataDir,
    '--extensions-dir',
    profile.extensionsDir,
  ];
  if (folder) args.push(folder);
  const child = spawn(process.execPath, args, {
    env: profileEnv(profile, env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32', // its own process group, so stop() ends the extension host too
  });
  let output = '';
  const collect = (chunk) => {
    output += chunk;
    if (logFile) writeFileSync(logFile, output);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${output}`);
    }
    await sleep(200);
  }
  return {
    url,
    port,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
      if (timedOut) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    },
  };
}

/** Headless Debian Chromium with the flags that keep it off the (closed) network. */
export async function launchChromium(tools, profile) {
  const playwright = await import(pathToFileURL(tools.playwright).href);
  const chromium = playwright.chromium ?? playwright.default.chromium;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: profileEnv(profile),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ], // playwright gives every launch a fresh, temporary user-data-dir
  });
}

export function tempRoot(name) {
  const dir = join(tmpdir(), `tessera-${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
