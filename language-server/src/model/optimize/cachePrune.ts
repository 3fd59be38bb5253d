// Optimized copies are large (a 0.5B model's is ~400 MB): a copy that a newer one supersedes is removed
// when the newer one is made, not left to fill the disk. Superseded: the same source file's copy made by
// another optimizer version, or for the same precision and block from an older state of the source (the
// model was downloaded again).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** What a copy's optimized.json says of where it came from (older versions may lack `block`). */
interface CopyOrigin {
  version: number;
  source: string;
  sourceFile: string;
  target: string;
  block?: number;
}

function originOf(dir: string): CopyOrigin | undefined {
  const path = join(dir, 'optimized.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CopyOrigin;
  } catch {
    return undefined;
  }
}

/** Removes the copies in `cacheDir` that the copy at `kept` supersedes; returns their folders. */
export function pruneSuperseded(cacheDir: string, kept: string): string[] {
  const now = originOf(kept);
  if (!now) return [];
  const removed: string[] = [];
  for (const name of existsSync(cacheDir) ? readdirSync(cacheDir) : []) {
    const dir = join(cacheDir, name);
    const old = dir === kept ? undefined : originOf(dir);
    if (!old || old.source !== now.source || old.sourceFile !== now.sourceFile) continue;
    const sameKind = old.target === now.target && (old.block ?? 32) === (now.block ?? 32);
    if (old.version === now.version && !sameKind) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // In use where files cannot be removed while open (Windows): the next copy tries again.
    }
  }
  return removed;
}
