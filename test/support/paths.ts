import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this bundle whose package.json is Tessera's. */
export const repoRoot = ((): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tessera') return dir;
  }
  throw new Error(`no Tessera package.json above ${__dirname}`);
})();

/** ../shared beside the repository (TESSERA_SHARED overrides): real tokenizer files and notes. */
export const sharedDir = process.env.TESSERA_SHARED ?? join(repoRoot, '..', 'shared');

export const TOKENIZER_NAMES = ['starcoder2', 'refact', 'deepseek-coder', 'gpt2', 'llama2-spm', 'qwen2.5-coder', 'cl100k', 'o200k'];

export function tokenizerPath(name: string): string {
  const path = join(sharedDir, 'tokenizers', name, 'tokenizer.json');
  if (!existsSync(path)) throw new Error(`missing ${path}: the tests read real tokenizers from ../shared/tokenizers`);
  return path;
}
