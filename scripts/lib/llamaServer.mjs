// The real llama.cpp server for tests and benchmarks, built from npm alone: node-llama-cpp ships
// llama.cpp's source as a git bundle, and Debian's cmake and g++ build `llama-server` from it
// (CPU only, no curl). Built once into the tools cache (like code-server), pinned by the bundle's tag.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { ensureDebianPackages } from './debianPackages.mjs';

/** The npm package whose bundle holds the llama.cpp source (also the llama.cpp benchmark's runtime). */
export const NODE_LLAMA_CPP = '3.22.1';
const DEBIAN_PACKAGES = [
  { pkg: 'cmake', provides: '/usr/bin/cmake' },
  { pkg: 'g++', provides: '/usr/bin/g++' },
  { pkg: 'git', provides: '/usr/bin/git' },
];

const log = (msg) => process.stderr.write(`[llama-server] ${msg}\n`);

function cacheBase() {
  return process.env.TESSERA_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tessera');
}

/**
 * Installs node-llama-cpp NODE_LLAMA_CPP into `dir` with `also` (e.g. its prebuilt binaries' package),
 * in a clean npm environment; `scripts`: whether install scripts run.
 * @param {string} dir
 * @param {{also?: string[], scripts?: boolean}} o
 */
export function installNodeLlamaCpp(dir, o = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private": true}\n');
  const keep = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.test(k)));
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--omit=optional', '--loglevel=error'];
  if (!o.scripts) args.push('--ignore-scripts');
  const r = spawnSync('npm', [...args, `node-llama-cpp@${NODE_LLAMA_CPP}`, ...(o.also ?? [])], { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm could not install node-llama-cpp ${NODE_LLAMA_CPP}`);
}

/** node-llama-cpp's package for its source bundle (no install scripts, no binaries). */
function sourcePackage() {
  const dir = join(cacheBase(), `node-llama-cpp-${NODE_LLAMA_CPP}`);
  const pkg = join(dir, 'node_modules', 'node-llama-cpp');
  if (existsSync(join(pkg, 'llama', 'gitRelease.bundle'))) return pkg;
  log(`installing node-llama-cpp ${NODE_LLAMA_CPP} (for llama.cpp's source) into ${dir}`);
  installNodeLlamaCpp(dir);
  return pkg;
}

/** Builds llama-server once (8-11 min on two cores) and returns its path. */
export function ensureLlamaServer() {
  if (process.env.TESSERA_LLAMA_SERVER) return process.env.TESSERA_LLAMA_SERVER;
  const pkg = sourcePackage();
  const { tag } = JSON.parse(readFileSync(join(pkg, 'llama', 'llama.cpp.info.json'), 'utf8'));
  const dir = join(cacheBase(), `llama-server-${tag}`);
  const binary = join(dir, 'build', 'bin', 'llama-server');
  if (existsSync(binary)) return binary;
  ensureDebianPackages(DEBIAN_PACKAGES, 'Building llama-server');
  log(`building llama-server ${tag} into ${dir} (once; 8-11 min on two cores)`);
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  const src = join(dir, 'src');
  execFileSync('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', join(pkg, 'llama', 'gitRelease.bundle'), src], {
    stdio: 'inherit',
  });
  const build = join(dir, 'cmake');
  const cmake = (args) => execFileSync('cmake', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  cmake([
    '-S',
    src,
    '-B',
    build,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DLLAMA_CURL=OFF',
    '-DGGML_NATIVE=ON',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DBUILD_SHARED_LIBS=OFF',
  ]);
  cmake(['--build', build, '--target', 'llama-server', '-j', String(availableParallelism())]);
  // Keep the (static) binary; drop the source and objects.
  mkdirSync(join(dir, 'build', 'bin'), { recursive: true });
  execFileSync('cp', [join(build, 'bin', 'llama-server'), binary]);
  rmSync(src, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/**
 * The embedded model as GGUF (models/recipe/gguf.py, f32: the same weights llama.cpp and Tessera run),
 * made once per model file into the tools cache. Needs Debian's python3-numpy and python3-onnx.
 * @param {string} repoRoot the checkout
 */
export function embeddedGguf(repoRoot) {
  const onnx = join(repoRoot, 'models', 'tessera-tiny', 'onnx', 'model.onnx');
  const hash = createHash('sha256').update(readFileSync(onnx)).digest('hex').slice(0, 12);
  const out = join(cacheBase(), 'gguf', `tessera-tiny-${hash}-f32.gguf`);
  if (existsSync(out)) return out;
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  if (!process.env.PYTHON) {
    const at = (module) => `/usr/lib/python3/dist-packages/${module}/__init__.py`;
    ensureDebianPackages(
      [
        { pkg: 'python3-numpy', provides: at('numpy') },
        { pkg: 'python3-onnx', provides: at('onnx') },
      ],
      "The embedded model's GGUF",
    );
  }
  mkdirSync(join(cacheBase(), 'gguf'), { recursive: true });
  const tmp = `${out}.part`;
  const r = spawnSync(python, ['models/recipe/gguf.py', join(repoRoot, 'models', 'tessera-tiny'), tmp, '--type', 'f32'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('models/recipe/gguf.py failed (it needs Python with numpy and onnx)');
  renameSync(tmp, out);
  return out;
}

/**
 * How to serve the embedded model: it was trained suffix-first (SPM), and llama-server lays /infill
 * out that way with --spm-infill. (Its tokenizer's pre-tokenizer is Tessera's own regex, which GGUF
 * cannot name: llama.cpp splits text a little differently, so text prompts fare worse than in Tessera.)
 */
export const EMBEDDED_SERVER_ARGS = ['--spm-infill'];

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts llama-server on 127.0.0.1 serving `model` (a GGUF) and waits until /health answers.
 * @param {{model: string, port?: number, parallel?: number, apiKey?: string, ctx?: number, threads?: number, args?: string[]}} o
 */
export async function startLlamaServer(o) {
  const binary = ensureLlamaServer();
  const port = o.port ?? (await freePort());
  const args = ['-m', o.model, '--host', '127.0.0.1', '--port', String(port), '-c', String(o.ctx ?? 4096)];
  args.push('--parallel', String(o.parallel ?? 1), '-t', String(o.threads ?? 1), '--no-webui', ...(o.args ?? []));
  if (o.apiKey) args.push('--api-key', o.apiKey);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-4_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`llama-server did not become healthy in 60 s:\n${output}`);
    }
    await sleep(100);
  }
  return {
    url,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
