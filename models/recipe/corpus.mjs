// Builds the training corpus of the default model, offline: installs the pinned npm packages of
// sources.json into a cache, reads Debian's Python, keeps hand-written code once, holds out whole
// packages for validation, and writes
//   $TESSERA_CORPUS_DIR (default ~/.cache/tessera/corpus)/{train,valid}.jsonl   {package, path, language, text}
//   models/recipe/corpus-manifest.json                                         what went in (committed)
// Never commit the corpus itself.   node models/recipe/corpus.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuildOutput, isGenerated, isMinified, languageOf, layoutFreeHash, MAX_FILE_BYTES } from './filters.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sources = JSON.parse(readFileSync(join(here, 'sources.json'), 'utf8'));
const out = process.env.TESSERA_CORPUS_DIR ?? join(homedir(), '.cache', 'tessera', 'corpus');
/** No package may dominate: the rest of its files are left out. */
const PACKAGE_CAP = 4_000_000;
const holdout = new Set(sources.holdout);

mkdirSync(out, { recursive: true });
const packages = [...npmPackages(), ...pythonPackages()];
const seen = new Set();
const streams = { train: [], valid: [] };
const manifest = [];
for (const pkg of packages) {
  const split = holdout.has(pkg.name) ? 'valid' : 'train';
  const entry = {
    name: pkg.name,
    version: pkg.version,
    licence: pkg.licence,
    source: pkg.source,
    split,
    files: 0,
    bytes: {},
    skipped: { minified: 0, generated: 0, duplicate: 0, tooLarge: 0, cap: 0 },
  };
  let total = 0;
  for (const path of pkg.files) {
    const language = languageOf(path);
    if (!language || isBuildOutput(path)) continue;
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES || size < 64) {
      entry.skipped.tooLarge += size > MAX_FILE_BYTES ? 1 : 0;
      continue;
    }
    const text = readFileSync(path, 'utf8');
    if (isMinified(text)) entry.skipped.minified++;
    else if (isGenerated(text)) entry.skipped.generated++;
    else if (seen.has(layoutFreeHash(text))) entry.skipped.duplicate++;
    else if (total + size > PACKAGE_CAP) entry.skipped.cap++;
    else {
      seen.add(layoutFreeHash(text));
      total += size;
      entry.files++;
      entry.bytes[language] = (entry.bytes[language] ?? 0) + Buffer.byteLength(text);
      streams[split].push(JSON.stringify({ package: pkg.name, path: relative(pkg.root, path), language, text }));
    }
  }
  if (entry.files > 0) manifest.push(entry);
}
for (const split of ['train', 'valid']) writeFileSync(join(out, `${split}.jsonl`), `${streams[split].join('\n')}\n`);

const totals = {};
for (const e of manifest)
  for (const [lang, n] of Object.entries(e.bytes)) {
    totals[e.split] ??= {};
    totals[e.split][lang] = (totals[e.split][lang] ?? 0) + n;
  }
writeFileSync(
  join(here, 'corpus-manifest.json'),
  `${JSON.stringify({ builtWith: 'models/recipe/corpus.mjs', totals, packages: manifest }, null, 1)}\n`,
);
for (const [split, langs] of Object.entries(totals)) {
  console.log(
    `${split}: ${Object.entries(langs)
      .map(([l, n]) => `${l} ${(n / 1e6).toFixed(1)} MB`)
      .join(', ')}`,
  );
}
console.log(`corpus in ${out}; manifest in models/recipe/corpus-manifest.json (${manifest.length} packages)`);

function npmPackages() {
  const dir = join(out, 'npm');
  const stamp = join(dir, 'installed.json');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== JSON.stringify(sources.npm)) {
    mkdirSync(dir, { recursive: true });
    const deps = Object.fromEntries(
      sources.npm.map((spec) => {
        const at = spec.lastIndexOf('@');
        return [spec.slice(0, at), spec.slice(at + 1)];
      }),
    );
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tessera-corpus', private: true, dependencies: deps }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const r = spawnSync('npm', ['install', '--ignore-scripts', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      env,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('npm install of the corpus packages failed');
    writeFileSync(stamp, JSON.stringify(sources.npm));
  }
  // Only the packages named, not their dependencies: those were not chosen for their sources.
  return sources.npm.map((spec) => {
    const name = spec.slice(0, spec.lastIndexOf('@'));
    const root = join(dir, 'node_modules', name);
    const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    return { name, version: meta.version, licence: meta.license ?? 'unknown', source: 'npm', root, files: walk(root, () => true) }; // walk() skips nested node_modules
  });
}

function pythonPackages() {
  const found = [];
  const debian = new Map();
  for (const root of sources.python) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const path = join(root, name);
      if (name.startsWith('_') && name !== '__future__.py') continue;
      if (/(site-packages|test|tests|idlelib|lib2to3|tkinter|turtledemo|ensurepip|config-)/.test(name)) continue;
      const module = name.replace(/\.py$/, '');
      if (!statSync(path).isDirectory() && !name.endsWith('.py')) continue;
      const owner = debianOwner(path, debian);
      found.push({
        name: `python:${module}`,
        version: owner.version,
        licence: owner.licence,
        source: `debian:${owner.pkg}`,
        root,
        files: statSync(path).isDirectory() ? walk(path, () => true) : [path],
      });
    }
  }
  return found;
}

/** The Debian package that installed a path, its version and licence (first License: line). */
function debianOwner(path, cache) {
  let pkg = 'unknown';
  try {
    pkg = execFileSync('dpkg', ['-S', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/[:,]/)[0]
      .trim();
  } catch {
    return { pkg, version: 'unknown', licence: 'unknown' };
  }
  if (!cache.has(pkg)) {
    let version = 'unknown';
    let licence = 'unknown';
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      version = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
    } catch {}
    try {
      const copyright = readFileSync(`/usr/share/doc/${pkg.replace(/:.*/, '')}/copyright`, 'utf8');
      licence = /^License:\s*(.+)$/m.exec(copyright)?.[1]?.trim() ?? 'see copyright';
    } catch {}
    cache.set(pkg, { pkg, version, licence });
  }
  return cache.get(pkg);
}

function walk(dir, keep) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (name !== 'node_modules' && !name.startsWith('.')) files.push(...walk(path, keep));
    } else if (keep(path)) files.push(path);
  }
  return files;
}
