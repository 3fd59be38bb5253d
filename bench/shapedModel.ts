// A model of Qwen2.5-Coder-0.5B's shape with random weights, in every form the speed benchmarks compare
// (fp32, our int8, onnx-community's fp16, q4 and q4f16), made by models/recipe/shaped.py into a
// temporary folder on first use: never committed, and nothing the tests need.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../scripts/lib/repoRoot';

export const SHAPED_FILES = ['model.onnx', 'model_quantized.onnx', 'model_fp16.onnx', 'model_q4.onnx', 'model_q4f16.onnx'];

/** Python with torch and onnx: Debian's (what the model recipe uses), or $PYTHON. */
export const python = process.env.PYTHON ?? '/usr/bin/python3';

/** The shaped model's folder, made if any of its files is missing. */
export function shapedModel(): string {
  const dir = join(tmpdir(), 'tessera-shaped-qwen2.5-coder-0.5b');
  if (!SHAPED_FILES.every((f) => existsSync(join(dir, 'onnx', f)))) {
    console.error(`making a model of Qwen2.5-Coder-0.5B's shape in ${dir} (${python} models/recipe/shaped.py)…`);
    const r = spawnSync(python, ['models/recipe/shaped.py', '--out', dir, '--int8', '--variants'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('models/recipe/shaped.py failed (it needs Python with torch and onnx)');
  }
  // A model folder needs a tokenizer (tessera optimize opens it as one): the default model's, whose ids
  // are valid in the larger vocabulary.
  if (!existsSync(join(dir, 'tokenizer.json')))
    copyFileSync(join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json'), join(dir, 'tokenizer.json'));
  return dir;
}
