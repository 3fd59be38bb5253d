import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, from a test bundled into out/test/<dir>/. */
export const repoRoot = join(__dirname, '..', '..', '..');

/** ../shared beside the repository (TESSERA_SHARED overrides): real tokenizer files and notes. */
export const sharedDir = process.env.TESSERA_SHARED ?? join(repoRoot, '..', 'shared');

export const TOKENIZER_NAMES = ['starcoder2', 'refact', 'deepseek-coder', 'gpt2', 'llama2-spm', 'qwen2.5-coder', 'cl100k', 'o200k'];

export function tokenizerPath(name: string): string {
  const path = join(sharedDir, 'tokenizers', name, 'tokenizer.json');
  if (!existsSync(path)) throw new Error(`missing ${path}: the tests read real tokenizers from ../shared/tokenizers`);
  return path;
}
