// Builds the extension, the language server, the CLI and the tests with esbuild.
//   node scripts/build.mjs               development build (source maps)
//   node scripts/build.mjs --production  minified bundles for the .vsix, no tests
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const production = process.argv.includes('--production');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  define: { __TESSERA_VERSION__: JSON.stringify(version) },
};
const shebang = { js: '#!/usr/bin/env node' };

/** Every file under `dir` whose name matches `pattern`, relative to the root. */
function find(dir, pattern) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...find(path, pattern));
    else if (pattern.test(name)) out.push(path);
  }
  return out;
}

/**
 * The server loads tree-sitter and its grammars as WebAssembly from dist/wasm/, beside the bundle,
 * so the .vsix needs no node_modules for them.
 */
function copyWasm() {
  const grammars = join(root, 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm');
  mkdirSync(join(root, 'dist', 'wasm', 'grammars'), { recursive: true });
  copyFileSync(join(root, 'node_modules', 'web-tree-sitter', 'tree-sitter.wasm'), join(root, 'dist', 'wasm', 'tree-sitter.wasm'));
  for (const name of readdirSync(grammars).filter((f) => /^tree-sitter-.+\.wasm$/.test(f))) {
    copyFileSync(join(grammars, name), join(root, 'dist', 'wasm', 'grammars', name));
  }
}

const started = Date.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
const builds = [
  // The extension host provides `vscode`.
  esbuild.build({ ...common, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  // onnxruntime-node and koffi are native packages: they stay in node_modules beside the bundle.
  esbuild.build({
    ...common,
    entryPoints: ['language-server/src/main.ts'],
    outfile: 'dist/server.js',
    external: ['onnxruntime-node', 'koffi'],
    banner: shebang,
  }),
  esbuild.build({
    ...common,
    entryPoints: ['language-server/src/cli/main.ts'],
    outfile: 'dist/cli.js',
    external: ['onnxruntime-node', 'koffi'],
    banner: shebang,
  }),
  // The inference worker (a worker thread of the server and of the CLI).
  esbuild.build({
    ...common,
    entryPoints: ['language-server/src/inference/worker.ts'],
    outfile: 'dist/worker.js',
    external: ['onnxruntime-node', 'koffi'],
  }),
  // The optimizer's worker thread (tessera.model.optimize).
  esbuild.build({ ...common, entryPoints: ['language-server/src/inference/optimizeWorker.ts'], outfile: 'dist/optimizeWorker.js' }),
];
if (!production) {
  rmSync(join(root, 'out'), { recursive: true, force: true });
  // Tests keep their npm imports external and bundle the project code they test.
  const tests = [...find('test', /\.test\.ts$/), 'test/e2e/suite/index.ts'];
  builds.push(
    esbuild.build({ ...common, entryPoints: tests, outdir: 'out/test', outbase: 'test', packages: 'external', sourcemap: 'inline' }),
    // The end-to-end harness (.mjs) sets up the same test tokenizers as the unit tests, and the Hub's stand-in.
    esbuild.build({
      ...common,
      entryPoints: ['scripts/lib/testTokenizers.ts', 'scripts/lib/hubStandIn.ts', 'scripts/lib/recordingProxy.ts'],
      outdir: 'out/lib',
      packages: 'external',
    }),
  );
}
await Promise.all(builds);
copyWasm();
for (const bin of ['dist/server.js', 'dist/cli.js']) chmodSync(join(root, bin), 0o755);
console.log(
  `build: ${production ? 'production' : 'development'} bundles in ${Date.now() - started} ms (${relative(process.cwd(), root) || '.'})`,
);
