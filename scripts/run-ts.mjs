// Runs a TypeScript entry point of the repository (benchmarks, model recipe steps): bundles it with
// esbuild into out/run/ and runs it with Node.   node scripts/run-ts.mjs FILE.ts [args]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const [entry, ...args] = process.argv.slice(2);
if (!entry || !existsSync(join(root, entry))) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args]');
  process.exit(2);
}
const outfile = join(root, 'out', 'run', basename(entry).replace(/\.ts$/, '.js'));
await esbuild.build({
  absWorkingDir: root,
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [outfile, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, MALLOC_ARENA_MAX: '1' } });
process.exit(r.status ?? 1);
