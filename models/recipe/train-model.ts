// `npm run train:model`: the whole default-model recipe, from nothing to models/tessera-tiny.
//   corpus → tokenizer → token files → training (torch, CPU, resumable) → ONNX export (fp32 + int8)
//   → the subtoken-merging fine-tune and its export (onnx/model_merging.onnx)
//   → test fixtures → evaluation in onnxruntime-node (models/tessera-tiny/evaluation.json)
// Options: --steps N (default 11000), --merge-steps N (the merging fine-tune, default 1200), --skip-corpus, --skip-tokenizer (reuse what is there),
// --train-dir DIR (checkpoints; default ~/.cache/tessera/train/tessera-tiny; a rerun resumes).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';

const root = join(__dirname, '..', '..');
const recipe = join(root, 'models', 'recipe');
const modelDir = join(root, 'models', 'tessera-tiny');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const trainDir = option('train-dir', join(homedir(), '.cache', 'tessera', 'train', 'tessera-tiny'));
const PYTHON = '/usr/bin/python3';
const APT = ['python3-torch', 'python3-onnx', 'python3-numpy', 'libopenblas0-openmp', 'libjemalloc2'];
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
/** What reference.json records torch's logits and greedy tokens for (the ONNX test compares against it). */
const REFERENCE_PROMPT = 'src/math.ts\nexport function clamp(value: number, min: number, max: number): number {\n  return ';
/** merge_reference.json's prompt: identifiers the tokenizer cuts into several tokens, merged. */
const MERGE_REFERENCE_PROMPT =
  'src/dom.ts\nconst elementsByTagName = document.getElementsByTagName("div");\nfor (const element of elementsByTagName) {\n  element.addEventListener(';

function run(title: string, cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = {}): void {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`${title} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

function ensurePythonSide(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' });
  if (probe.status === 0 && existsSync(JEMALLOC)) return;
  // Debian's torch: the pip one is not reachable offline. OpenBLAS: reference BLAS is 30x slower.
  run('apt packages for training', 'sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${APT.join(' ')}`]);
}

function main(): void {
  if (!flag('skip-corpus')) run('corpus', process.execPath, [join(recipe, 'corpus.mjs')]);
  if (!flag('skip-tokenizer')) run('tokenizer', process.execPath, [join(root, 'scripts', 'run-ts.mjs'), 'models/recipe/tokenizer.ts']);
  run('token files', process.execPath, [join(root, 'scripts', 'run-ts.mjs'), 'models/recipe/pretokenize.ts']);
  ensurePythonSide();
  // torch frees and re-faults its large buffers every step; in this VM page faults made elementwise
  // work 10-30x slower. jemalloc that never returns memory removes that (measured 1.5k → 8k tokens/s).
  const malloc = { LD_PRELOAD: JEMALLOC, MALLOC_CONF: 'dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true' };
  run('training', PYTHON, [join(recipe, 'train.py'), '--out', trainDir, '--steps', option('steps', '11000')], malloc);
  const tokenizer = Tokenizer.fromFile(join(modelDir, 'tokenizer.json'));
  const prompt = [tokenizer.id('<file_sep>')!, ...tokenizer.encodeIds(REFERENCE_PROMPT)];
  run(
    'export',
    PYTHON,
    [join(recipe, 'export.py'), '--checkpoint', join(trainDir, 'checkpoint.pt'), '--out', modelDir, '--prompt-ids', JSON.stringify(prompt)],
    malloc,
  );
  // Subtoken merging: the exported weights fine-tuned to read merged identifiers (train_merge.py).
  const mergeDir = `${trainDir}-merging`;
  run('merging fine-tune', PYTHON, [join(recipe, 'train_merge.py'), '--out', mergeDir, '--steps', option('merge-steps', '1200')], malloc);
  const mergePrompt = [tokenizer.id('<file_sep>')!, ...tokenizer.encodeIds(MERGE_REFERENCE_PROMPT)];
  run(
    'merging export',
    PYTHON,
    [join(recipe, 'train_merge.py'), '--out', mergeDir, '--export', modelDir, '--prompt-ids', JSON.stringify(mergePrompt)],
    malloc,
  );
  run('fixtures', PYTHON, [join(recipe, 'fixtures.py'), '--out', join(root, 'test', 'fixtures', 'models'), '--tokenizer', modelDir]);
  run('evaluation', process.execPath, [join(root, 'scripts', 'run-ts.mjs'), 'models/recipe/evaluate.ts', '--train-dir', trainDir]);
}

main();
