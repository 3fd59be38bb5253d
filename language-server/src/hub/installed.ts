// Models already on this machine: every snapshot in the Hugging Face cache that holds an ONNX decoder and
// a tokenizer (whoever downloaded it), and folders the user named. Reads the disk only.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Precision, precisionsAmong } from '../model/folder';
import { listDir, repoFolder, repoOfFolder, snapshotOf } from './cacheLayout';

export interface InstalledModel {
  /** `org/name` for the cache's models; the folder's name otherwise. */
  name: string;
  dir: string;
  repo?: string;
  commit?: string;
  /** The precisions whose decoder the folder holds. */
  precisions: Precision[];
  /** Bytes on disk (links followed), for the list. */
  bytes: number;
  source: 'hub-cache' | 'folder';
}

/** The precisions a folder holds a decoder for. */
export function precisionsOf(dir: string): Precision[] {
  return precisionsAmong([...listDir(join(dir, 'onnx')).map((f) => `onnx/${f}`), ...listDir(dir)]);
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const name of listDir(dir)) {
    const path = join(dir, name);
    try {
      const s = statSync(path);
      total += s.isDirectory() ? sizeOf(path) : s.size;
    } catch {
      // a dangling link: the blob was removed under it
    }
  }
  return total;
}

/** A folder as a model, if it is one (tokenizer.json, config.json and a decoder). */
export function asInstalled(dir: string, source: InstalledModel['source']): InstalledModel | undefined {
  if (!existsSync(join(dir, 'tokenizer.json')) || !existsSync(join(dir, 'config.json'))) return undefined;
  const precisions = precisionsOf(dir);
  if (precisions.length === 0) return undefined;
  const snap = snapshotOf(dir);
  return {
    name: snap?.repo ?? basename(dir),
    dir,
    ...(snap ? { repo: snap.repo, commit: snap.commit } : {}),
    precisions,
    bytes: sizeOf(dir),
    source,
  };
}

/** The snapshot a repo's `main` points at (refs/main), else its most recently written one. */
export function currentSnapshot(cache: string, repo: string, revision = 'main'): string | undefined {
  const folder = repoFolder(cache, repo);
  const ref = join(folder, 'refs', revision);
  if (existsSync(ref)) {
    const commit = readFileSync(ref, 'utf8').trim();
    if (existsSync(join(folder, 'snapshots', commit))) return join(folder, 'snapshots', commit);
  }
  if (/^[0-9a-f]{40}$/.test(revision) && existsSync(join(folder, 'snapshots', revision))) return join(folder, 'snapshots', revision);
  const snaps = listDir(join(folder, 'snapshots')).map((c) => join(folder, 'snapshots', c));
  return snaps.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** Every usable model in the cache (one entry per repo: its current snapshot), then the named folders. */
export function installedModels(cache: string, folders: string[] = []): InstalledModel[] {
  const out: InstalledModel[] = [];
  for (const name of listDir(cache).sort()) {
    const repo = repoOfFolder(name);
    if (!repo) continue;
    const dir = currentSnapshot(cache, repo);
    const model = dir && asInstalled(dir, 'hub-cache');
    if (model) out.push(model);
  }
  for (const dir of folders) {
    if (out.some((m) => m.dir === dir)) continue;
    const model = asInstalled(dir, 'folder');
    if (model) out.push(model);
  }
  return out;
}

/**
 * What `--model` names: a folder, or the id of a repo in the cache (`org/name`, `org/name@revision`).
 * Never the network: a repo that is not downloaded is an error that says how to get it.
 */
export function resolveModelArg(arg: string, cache: string): string {
  if (existsSync(arg)) return arg;
  const m = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$/.exec(arg);
  if (!m) throw new Error(`${arg}: no such folder`);
  const dir = currentSnapshot(cache, m[1]!, m[2] ?? 'main');
  if (!dir) throw new Error(`${arg}: no such folder, and no model ${m[1]} in ${cache} (download it: tessera models pull ${m[1]})`);
  return dir;
}
