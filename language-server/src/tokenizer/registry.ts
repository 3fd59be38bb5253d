// Finds and loads tokenizers by name or path, once each: loading one takes 0.1-1 s. One registry per
// process serves the lens and the completion model, so a tokenizer.json is parsed once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TokenizerError } from './spec';
import { Tokenizer } from './tokenizer';

export interface TokenizerRef {
  name: string;
  /** The tokenizer.json file. */
  path: string;
}

export class TokenizerRegistry {
  private readonly loaded = new Map<string, { mtimeMs: number; tokenizer: Tokenizer }>();

  /** `fallback`: the tokenizer used when none is set (the default model's). */
  constructor(private readonly fallback: TokenizerRef) {}

  /** Every tokenizer found in the directories, by subfolder name, sorted. */
  available(directories: string[]): TokenizerRef[] {
    const found = new Map<string, TokenizerRef>();
    for (const dir of directories) {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(dir, name, 'tokenizer.json');
        if (!found.has(name) && existsSync(path)) found.set(name, { name, path });
      }
    }
    return [...found.values()];
  }

  /** A path (file or folder) or a name in the directories; throws TokenizerError naming what is wrong. */
  resolve(spec: string, directories: string[]): TokenizerRef {
    if (!spec) {
      if (existsSync(this.fallback.path)) return this.fallback;
      throw new TokenizerError(`no tokenizer is set, and the default one is missing (${this.fallback.path})`);
    }
    const byName = this.available(directories).find((r) => r.name === spec);
    if (byName) return byName;
    if (isAbsolute(spec) || spec.includes('/') || spec.endsWith('.json')) {
      let path = resolve(spec);
      if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'tokenizer.json');
      if (!existsSync(path)) throw new TokenizerError(`${path}: no such file`);
      const name = path.endsWith('/tokenizer.json') ? path.split('/').slice(-2, -1)[0]! : path.split('/').pop()!;
      return { name, path };
    }
    const names = this.available(directories).map((r) => r.name);
    throw new TokenizerError(
      `no tokenizer named "${spec}"${names.length ? ` (found: ${names.join(', ')})` : ' (tessera.tokenizerDirectories lists no folder with tokenizers)'}`,
    );
  }

  load(ref: TokenizerRef): Tokenizer {
    const mtimeMs = statSync(ref.path).mtimeMs;
    const hit = this.loaded.get(ref.path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.tokenizer;
    const tokenizer = Tokenizer.fromFile(ref.path, ref.name);
    this.loaded.set(ref.path, { mtimeMs, tokenizer });
    return tokenizer;
  }
}
