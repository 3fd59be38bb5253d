// The Hugging Face cache layout, shared with Python's huggingface_hub and llama.cpp: where the cache is,
// how a repo's folder is named, and which names from the Hub may become paths in it.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';

/** HF_HUB_CACHE, else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** `org/name`, as the Hub spells repo ids; anything else (`..`, slashes, spaces) is refused. */
export function checkRepoId(repo: string): string {
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && !p.includes('..'))) {
    throw new Error(`"${repo}" is not a Hugging Face repo id (org/name)`);
  }
  return repo;
}

/** `models--org--name`, the repo's folder in the cache. */
export function repoFolder(cache: string, repo: string): string {
  return join(cache, `models--${checkRepoId(repo).replace('/', '--')}`);
}

/** The repo id a `models--org--name` folder holds, or undefined for other folders. */
export function repoOfFolder(name: string): string | undefined {
  const m = /^models--([^-].*?)--(.+)$/.exec(name);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The repo id and commit of a snapshot folder (…/models--org--name/snapshots/<commit>), if it is one. */
export function snapshotOf(dir: string): { repo: string; commit: string } | undefined {
  const commit = basename(dir);
  const snapshots = dirname(dir);
  if (basename(snapshots) !== 'snapshots') return undefined;
  const repo = repoOfFolder(basename(dirname(snapshots)));
  return repo ? { repo, commit } : undefined;
}

/**
 * A file path from the Hub's listing, checked before it becomes a path on disk: relative, no `..`, no
 * empty or hidden-parent parts, so nothing is written outside the snapshot.
 */
export function checkRepoPath(path: string): string {
  const parts = path.split('/');
  if (
    !path ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new Error(`the Hub listed a file path Tessera will not write: ${JSON.stringify(path)}`);
  }
  return parts.join(sep);
}

/** A commit hash or a branch/tag name safe as a file name under refs/ and snapshots/. */
export function checkRevision(revision: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/.test(revision) || revision.split('/').some((p) => p === '..' || p === '')) {
    throw new Error(`"${revision}" is not a revision (a branch, tag or commit hash)`);
  }
  return revision;
}

/** The blob name huggingface_hub gives a file: its ETag without `W/` and quotes (the sha256 for LFS files). */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** A folder's entries, none when it does not exist. */
export const listDir = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
