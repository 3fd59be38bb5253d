// Code the default model never trained on, for the quality benchmarks: TypeScript of @azure/msal-common
// and ajv and JavaScript of vscode-jsonrpc (none of them in models/recipe/corpus-manifest.json; their
// sources come with node_modules), and the Python programs of HumanEval (bench/data, which nothing
// trains on).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from '../language-server/src/generation/processors';
import { repoRoot } from '../scripts/lib/repoRoot';

export interface Source {
  path: string;
  text: string;
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (pattern.test(name) && !name.endsWith('.d.ts') && statSync(p).size > 1500) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** `n` files of each held-out source, the same for the same seed. */
export function heldOutSources(n: number, seed: number): Source[] {
  const random = seededRandom(seed);
  const pick = (paths: string[], k: number) => {
    const pool = [...paths];
    const out: string[] = [];
    while (out.length < k && pool.length) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    return out;
  };
  const nm = join(repoRoot, 'node_modules');
  const read = (p: string): Source => ({ path: relative(nm, p), text: readFileSync(p, 'utf8') });
  const ts = pick(
    [...filesUnder(join(nm, '@azure', 'msal-common', 'src'), /\.ts$/), ...filesUnder(join(nm, 'ajv', 'lib'), /\.ts$/)],
    n,
  ).map(read);
  const js = pick(filesUnder(join(nm, 'vscode-jsonrpc', 'lib'), /\.js$/), n).map(read);
  // HumanEval's programs (prompt and solution), one per task.
  const tasks = gunzipSync(readFileSync(join(repoRoot, 'bench', 'data', 'human-eval-infilling', 'HumanEval-SingleLineInfilling.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { task_id: string; prompt: string; suffix: string; canonical_solution: string });
  const programs = new Map<string, string>();
  for (const t of tasks) {
    const id = t.task_id.split('/').slice(1, 3).join('_');
    if (!programs.has(id)) programs.set(id, t.prompt + t.canonical_solution + t.suffix);
  }
  const py = pick([...programs.keys()], n).map((id) => ({ path: `${id}.py`, text: programs.get(id)! }));
  return [...ts, ...js, ...py];
}

/**
 * The windows the quality benchmarks score held-out code in: `window` tokens every window/2, each with
 * the first position it scores, so that every token is scored exactly once and with at least window/2
 * tokens of context before it (near a file's start, all there are).
 */
export function* scoringWindows(ids: readonly number[], window: number): Generator<{ w: number[]; scoredFrom: number }> {
  const stride = window / 2;
  for (let start = 0; start < ids.length - 1; start += stride) {
    yield { w: ids.slice(start, start + window), scoredFrom: start === 0 ? 1 : window - stride };
    if (start + window >= ids.length) return;
  }
}
