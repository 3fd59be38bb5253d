// `npm run bench -- NAME [args]`: builds bench/NAME.ts and runs it. Run one at a time, on a quiet machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(join(root, 'bench', `${name}.ts`))) {
  console.error('usage: npm run bench -- NAME [args]   (NAME: a file bench/NAME.ts, e.g. tokenize)');
  process.exit(2);
}
const outfile = join(root, 'out', 'bench', `${name}.js`);
await esbuild.build({ absWorkingDir: root, entryPoints: [`bench/${name}.ts`], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, MALLOC_ARENA_MAX: '1' } });
process.exit(r.status ?? 1);
