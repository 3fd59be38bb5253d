// The import rules of the code, checked on every `npm test`: data flows one way, from the document to
// the completion, and the client knows the server only through the protocol module.
//   node scripts/checkLayers.mjs        prints each import that breaks a rule; exit 1 if any
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SERVER = 'language-server/src';

/**
 * The server's layers, earliest first: a module may import its own layer and earlier ones. Layers of
 * equal rank (completions and the lens) do not import each other.
 */
const LAYERS = [
  { rank: 0, name: 'base', paths: ['lsp_ext.ts', 'settings.ts', 'defaultModel.ts', 'logger.ts', 'version.ts', 'quantiles.ts'] },
  { rank: 1, name: 'documents', paths: ['documents/'] },
  { rank: 2, name: 'tokenizer', paths: ['tokenizer/'] },
  { rank: 3, name: 'syntax', paths: ['syntax/'] },
  { rank: 4, name: 'prompt', paths: ['prompt/'] },
  { rank: 5, name: 'model', paths: ['model/'] },
  { rank: 6, name: 'generation', paths: ['generation/'] },
  { rank: 6, name: 'hub', paths: ['hub/'] },
  { rank: 7, name: 'inference', paths: ['inference/'] },
  { rank: 8, name: 'engines', paths: ['engines/'] },
  { rank: 9, name: 'completion', paths: ['completion/'] },
  { rank: 9, name: 'lens', paths: ['lens/'] },
  { rank: 10, name: 'fimCheck', paths: ['fimCheck/'] },
  { rank: 10, name: 'measure', paths: ['measure/'] },
  { rank: 11, name: 'server', paths: ['health.ts', 'server.ts', 'main.ts', 'modelRequests.ts', 'cli/'] },
];

function layerOf(file) {
  const rel = relative(join(root, SERVER), file).split('\\').join('/');
  if (rel.startsWith('..')) return undefined;
  const layer = LAYERS.find((l) => l.paths.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p)));
  if (!layer) throw new Error(`${SERVER}/${rel} belongs to no layer: add it to scripts/checkLayers.mjs`);
  return layer;
}

function sources(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative module specifiers a file imports (import/export ... from, import(), require()). */
function imports(text) {
  const out = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]);
  return out;
}

const problems = [];
const rule = (file, target, why) => problems.push(`${file} imports ${relative(root, target)}: ${why}`);

for (const file of [...sources('language-server/src'), ...sources('extension/src'), ...sources('bench')]) {
  const abs = join(root, file);
  for (const spec of imports(readFileSync(abs, 'utf8'))) {
    const target = resolve(dirname(abs), spec);
    const rel = relative(root, target);
    if (file.startsWith('extension/')) {
      // The client is thin: it speaks to the server through the protocol module alone.
      if (!rel.startsWith('extension/') && rel !== `${SERVER}/lsp_ext`)
        rule(file, target, 'the extension imports only extension/ and the protocol module (lsp_ext.ts)');
    } else if (file.startsWith('bench/')) {
      if (rel.startsWith('test/')) rule(file, target, 'benchmarks do not import tests (shared helpers live in scripts/lib/)');
    } else {
      if (!rel.startsWith(`${SERVER}/`)) {
        rule(file, target, 'the server imports nothing outside language-server/src');
        continue;
      }
      const from = layerOf(abs);
      const to = layerOf(`${target}.ts`);
      if (to.rank > from.rank) rule(file, target, `${from.name} comes before ${to.name} in the flow (no stage imports a later one)`);
      else if (to.rank === from.rank && to !== from)
        rule(file, target, `${from.name} and ${to.name} are siblings: neither imports the other`);
    }
  }
}

if (problems.length) {
  console.error(`layers: ${problems.length} import(s) break the rules (scripts/checkLayers.mjs):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`layers: ${LAYERS.map((l) => l.name).join(' → ')}; the extension through lsp_ext.ts only — no import breaks them`);
