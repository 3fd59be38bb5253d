// Packs the built extension into a platform-specific .vsix with @vscode/vsce.
//   node scripts/package.mjs [--target linux-x64]   (default: this machine)
// The .vsix carries onnxruntime-node's native binaries for its target only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const targetArg = process.argv.indexOf('--target');
const target = targetArg > 0 ? process.argv[targetArg + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = target.split('-');
const ortPlatforms = { linux: ['x64', 'arm64'], darwin: ['x64', 'arm64'], win32: ['x64', 'arm64'] };
if (!ortPlatforms[platform]?.includes(arch)) {
  console.error(
    `package: unsupported target ${target}; one of ${Object.entries(ortPlatforms)
      .flatMap(([p, as]) => as.map((a) => `${p}-${a}`))
      .join(', ')}`,
  );
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'server.js'))) {
  console.error('package: dist/ is missing; run `npm run build` (or `npm run package`, which builds first)');
  process.exit(2);
}

const napi = 'node_modules/onnxruntime-node/bin/napi-v6';
const others = Object.entries(ortPlatforms).flatMap(([p, as]) =>
  as.filter((a) => !(p === platform && a === arch)).map((a) => `${napi}/${p}/${a}/**`),
);
mkdirSync(join(root, 'out'), { recursive: true });
const ignoreFile = join(root, 'out', `.vscodeignore-${target}`);
writeFileSync(ignoreFile, `${readFileSync(join(root, '.vscodeignore'), 'utf8')}\n# other platforms\n${others.join('\n')}\n`);

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, 'out', `tessera-${target}-${version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const result = spawnSync(
  process.execPath,
  [
    vsce,
    'package',
    '--target',
    target,
    '--ignoreFile',
    ignoreFile,
    '--allow-missing-repository',
    '--skip-license',
    '--no-rewrite-relative-links',
    '--out',
    vsix,
  ],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`package: ${vsix} (${(statSync(vsix).size / 1e6).toFixed(1)} MB)`);
