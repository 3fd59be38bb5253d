// `npm run bench -- NAME [args]`: runs bench/NAME.ts. Run one at a time, on a quiet machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(`${root}bench/${name}.ts`)) {
  console.error('usage: npm run bench -- NAME [args]   (NAME: a file bench/NAME.ts, e.g. tokenize)');
  process.exit(2);
}
const r = spawnSync(process.execPath, [`${root}scripts/run-ts.mjs`, `bench/${name}.ts`, ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
