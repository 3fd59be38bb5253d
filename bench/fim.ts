// Fill-in-the-middle quality of the healing modes (off, heal, exact), all from one run, on:
//   - HumanEval-infilling (bench/data/human-eval-infilling, MIT): single-line, multi-line, random-span-light
//     and random-span; exact match and pass@1 (each problem's tests run in python3, 10 s limit);
//   - random spans of real TypeScript from packages nothing in the project trains on (their sources in
//     node_modules: @azure/msal-common and ajv; the training manifest is models/recipe/corpus-manifest.json).
//   npm run bench -- fim [--n N] [--ts-files N] [--modes off,heal,exact] [--model DIR] [--json]
// Fills go through the editor's pipeline (fimCheck/check.ts: the span kind sets the shape, no
// confidence gate). Results: bench/results/fim.txt.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CompletionService } from '../language-server/src/completion/service';
import { errorCount } from '../language-server/src/completion/syntaxCut';
import { checkFim, type FimFile, fillSpan, scores } from '../language-server/src/fimCheck/check';
import { median } from '../language-server/src/quantiles';
import { formatFimTable } from '../language-server/src/fimCheck/table';
import { seededRandom } from '../language-server/src/generation/processors';
import type { FimFill, FimScores, HealingMode } from '../language-server/src/lsp_ext';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { DEFAULT_SETTINGS } from '../language-server/src/settings';
import { SyntaxService } from '../language-server/src/syntax/parser';
import { TokenizerRegistry } from '../language-server/src/tokenizer/registry';
import { repoRoot } from '../scripts/lib/repoRoot';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const N = Number(arg('n', '100'));
const TS_FILES = Number(arg('ts-files', '12'));
const MODES = arg('modes', 'off,heal,exact').split(',') as HealingMode[];
const modelDir = arg('model', join(repoRoot, 'models', 'tessera-tiny'));
const SEED = 7;
const DATA = join(repoRoot, 'bench', 'data', 'human-eval-infilling');
const SUBSETS = [
  ['single-line', 'HumanEval-SingleLineInfilling', 'line'],
  ['multi-line', 'HumanEval-MultiLineInfilling', 'multiline'],
  ['random-span-light', 'HumanEval-RandomSpanInfillingLight', 'random'],
  ['random-span', 'HumanEval-RandomSpanInfilling', 'random'],
] as const;
/** Packages with hand-written TypeScript in node_modules that the training corpus does not include. */
const HELD_OUT_TS = ['@azure/msal-common/src', 'ajv/lib'];

interface Problem {
  task_id: string;
  entry_point: string;
  prompt: string;
  suffix: string;
  canonical_solution: string;
  test: string;
}

/** N problems of a subset, the same ones in every run (a seeded shuffle). */
function problems(file: string): Problem[] {
  const all = gunzipSync(readFileSync(join(DATA, `${file}.jsonl.gz`)))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Problem);
  const random = seededRandom(SEED);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, N);
}

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs the problem's tests on the filled program: true if they pass within 10 s. */
function passes(p: Problem, middle: string): boolean {
  const program = `${p.prompt}${middle}${p.suffix}\n${p.test}\ncheck(${p.entry_point})\n`;
  const r = spawnSync('python3', ['-I', '-c', program], { timeout: 10_000, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return r.status === 0;
}

function tsFiles(): FimFile[] {
  const out: FimFile[] = [];
  for (const dir of HELD_OUT_TS) {
    const root = join(repoRoot, 'node_modules', dir);
    const found: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && statSync(p).size > 2000) found.push(p);
      }
    };
    try {
      walk(root);
    } catch {
      throw new Error(`${root} is missing: run npm install (the held-out TypeScript comes from its packages)`);
    }
    const random = seededRandom(SEED);
    for (let k = 0; k < TS_FILES / HELD_OUT_TS.length && found.length; k++) {
      const p = found.splice(Math.floor(random() * found.length), 1)[0]!;
      out.push({ path: relative(join(repoRoot, 'node_modules'), p), text: readFileSync(p, 'utf8') });
    }
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);

async function main(): Promise<void> {
  const settings = { model: { ...DEFAULT_SETTINGS.model, path: modelDir }, completion: DEFAULT_SETTINGS.completion };
  const service = new CompletionService(
    settings,
    new TokenizerRegistry({ name: basename(modelDir), path: join(modelDir, 'tokenizer.json') }),
    undefined,
    join(repoRoot, 'dist', 'worker.js'),
  );
  await service.configure(settings);
  if (service.status.state !== 'ready') throw new Error(service.status.error ?? 'model not loaded');
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const parser = await syntax.parser('python');
  const out: string[] = [];
  const say = (line = '') => {
    out.push(line);
    console.log(line);
  };
  say(`bench/fim — ${describeMachine(machine())}; model ${service.modelName}`);
  say(
    `modes: ${MODES.join(', ')}; ${N} problems per HumanEval-infilling subset (seed ${SEED}); pass@1 ${python ? 'by python3, 10 s a program' : 'skipped: no python3 here'}`,
  );
  say();

  const results: Record<string, Partial<Record<HealingMode, { scores: FimScores; pass: number }>>> = {};
  const latency = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<HealingMode, number[]>;
  say('subset              mode    n     exact   edit sim  parses  pass@1   latency p50');
  for (const [name, file, kind] of SUBSETS) {
    const list = problems(file);
    results[name] = {};
    for (const mode of MODES) {
      const fills: FimFill[] = [];
      let passed = 0;
      for (const p of list) {
        const text = p.prompt + p.canonical_solution + p.suffix;
        const tree = parser.parse(text)!;
        const errorsBefore = errorCount(tree);
        tree.delete();
        const span = { kind, start: p.prompt.length, end: p.prompt.length + p.canonical_solution.length };
        const fill = await fillSpan(service, { path: `${p.task_id.replace(/\//g, '_')}.py`, text, span, parser, errorsBefore }, mode);
        if (!fill) continue;
        fills.push(fill);
        latency[mode].push(fill.latencyMs);
        if (python && passes(p, fill.text)) passed++;
      }
      const s = scores(fills);
      const pass = fills.length ? passed / fills.length : 0;
      results[name]![mode] = { scores: s, pass };
      say(
        `${name.padEnd(19)} ${mode.padEnd(6)} ${String(s.n).padStart(4)} ${pct(s.exactMatch)}  ${pct(s.editSimilarity)}  ${pct(s.parseRate)} ${python ? pct(pass) : '      –'}  ${s.latencyMs.toFixed(1).padStart(7)} ms`,
      );
    }
  }

  say();
  const ts = tsFiles();
  const report = await checkFim(service, syntax, ts, {
    kinds: ['random'],
    n: Math.max(1, Math.round(N / Math.max(1, ts.length))),
    modes: MODES,
    seed: SEED,
  });
  say(
    `Random spans of held-out TypeScript: ${ts.length} files of ${HELD_OUT_TS.map((d) => d.split('/')[0]).join(' and ')} (${report.samples.length} spans)`,
  );
  say(formatFimTable(report));
  for (const mode of MODES)
    for (const f of report.samples.map((s) => s.fills[mode]).filter((f): f is FimFill => !!f)) latency[mode].push(f.latencyMs);

  say();
  say('Latency per fill, all of the above (ms)');
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] ?? 0;
  for (const mode of MODES)
    say(`  ${mode.padEnd(6)} p50 ${median(latency[mode]).toFixed(1).padStart(6)}   p95 ${p95(latency[mode]).toFixed(1).padStart(6)}`);

  // The comparison is the point: each mode against plain prompting, on the random spans (where the
  // cursor sits inside tokens).
  say();
  say('Relative to off (random spans: HumanEval random-span + light, and the TypeScript spans)');
  const random = (mode: HealingMode) => {
    const list = [results['random-span']?.[mode]?.scores, results['random-span-light']?.[mode]?.scores, report.summary[mode]].filter(
      (s): s is FimScores => !!s,
    );
    const n = list.reduce((a, s) => a + s.n, 0);
    return { n, em: list.reduce((a, s) => a + s.exactMatch * s.n, 0) / n, es: list.reduce((a, s) => a + s.editSimilarity * s.n, 0) / n };
  };
  const base = random('off');
  for (const mode of MODES) {
    const r = random(mode);
    const rel = (x: number, b: number) => (b > 0 ? `${x / b >= 1 ? '+' : ''}${((x / b - 1) * 100).toFixed(1)}%` : '–');
    say(
      `  ${mode.padEnd(6)} n ${r.n}  exact match ${pct(r.em)} (${rel(r.em, base.em)})  edit similarity ${pct(r.es)} (${rel(r.es, base.es)})`,
    );
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify({ results, typescript: report.summary, byKind: report.byKind }));
  await service.dispose();
}

void main().catch((err: unknown) => {
  console.error(`bench/fim: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
