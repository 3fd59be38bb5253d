// `models pull`: one precision of a repo into the Hugging Face cache, laid out as huggingface_hub lays it
// (blobs/ named by hash, snapshots/<commit>/ as relative links into them, refs/<branch>), so Python,
// llama.cpp and Tessera share one copy. Only the chosen decoder, its external data and the small files a
// model needs are fetched, never the whole snapshot.
import { copyFileSync, existsSync, mkdirSync, rmSync, statfsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { decoderCandidates, isDataFileOf, type Precision, precisionsAmong } from '../model/folder';
import { fetchBlob, withBlobLock } from './blobFetch';
import { checkRepoPath, checkRevision, repoFolder } from './cacheLayout';
import { formatBytes } from './catalogue';
import { type FileMeta, fileMeta, HubError, type HubAccess, revisionInfo } from './hubApi';

/** The small files a model folder needs beside its decoder, where the repo has them. */
const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** The files of one precision: its decoder (the first candidate the repo has), that decoder's external data, the small files. */
export function filesFor(repoFiles: string[], precision: Precision): { decoder: string; files: string[] } | undefined {
  const have = new Set(repoFiles);
  const decoder = decoderCandidates(precision).find((f) => have.has(f));
  if (!decoder) return undefined;
  const data = repoFiles.filter((f) => isDataFileOf(f, decoder));
  return { decoder, files: [...MODEL_FILES.filter((f) => have.has(f)), decoder, ...data] };
}

export interface PullProgress {
  file: string;
  /** Bytes of this pull's files present so far (resumed parts included), of `total`. */
  bytes: number;
  total: number;
  bytesPerSecond: number;
  /** Undefined until the rate is known. */
  secondsLeft?: number;
}

export interface PullRequest {
  repo: string;
  precision: Precision;
  revision?: string;
  cache: string;
  access: HubAccess;
  onProgress?: (p: PullProgress) => void;
  /** Told of each attempt that failed and will be retried. */
  onRetry?: (file: string, attempt: number, error: string) => void;
}

export interface PullResult {
  /** The snapshot folder: a model folder Tessera (and transformers.js) loads. */
  dir: string;
  /** The repo's current id (a renamed repo answers under its new name). */
  repo: string;
  commit: string;
  decoder: string;
  files: string[];
  /** Bytes fetched now, and bytes already in the cache (blobs shared with other revisions, resumed parts). */
  fetchedBytes: number;
  cachedBytes: number;
}

/** Attempts per file: a dropped connection resumes where it stopped. */
const ATTEMPTS = 5;

export async function pullModel(req: PullRequest): Promise<PullResult> {
  const revision = checkRevision(req.revision ?? 'main');
  const info = await revisionInfo(req.repo, revision, req.access);
  const chosen = filesFor(info.files, req.precision);
  if (!chosen) {
    const offered = precisionsAmong(info.files);
    throw new HubError(
      'no-decoder',
      `${info.id} has no ${req.precision} ONNX decoder${offered.length ? `; it offers ${offered.join(', ')}` : ' (no ONNX decoder at all: Tessera needs an ONNX export)'}`,
    );
  }
  for (const f of chosen.files) checkRepoPath(f);
  const folder = repoFolder(req.cache, info.id);
  const metas = new Map<string, FileMeta>();
  for (const f of chosen.files) metas.set(f, await fileMeta(info.id, info.commit, f, req.access));
  mkdirSync(join(folder, 'blobs'), { recursive: true });
  const blobOf = (m: FileMeta) => join(folder, 'blobs', m.etag);
  const missing = [...metas.entries()].filter(([, m]) => !existsSync(blobOf(m)));
  checkDisk(
    folder,
    missing.map(([, m]) => m.size - partSize(blobOf(m))).reduce((a, b) => a + b, 0),
  );

  const lockOf = (m: FileMeta) => join(req.cache, '.locks', basename(folder), `${m.etag}.lock`);
  const fetched = await fetchMissing(req, missing, blobOf, lockOf);
  const snapshot = join(folder, 'snapshots', info.commit);
  for (const [file, meta] of metas) linkIntoSnapshot(blobOf(meta), join(snapshot, checkRepoPath(file)));
  if (revision !== info.commit) {
    mkdirSync(dirname(join(folder, 'refs', revision)), { recursive: true });
    writeFileSync(join(folder, 'refs', revision), info.commit);
  }
  const cached = [...metas.values()].reduce((s, m) => s + m.size, 0) - fetched;
  return {
    dir: snapshot,
    repo: info.id,
    commit: info.commit,
    decoder: chosen.decoder,
    files: chosen.files,
    fetchedBytes: fetched,
    cachedBytes: Math.max(0, cached),
  };
}

/** Fetches each missing blob, retrying a dropped connection from where it stopped; returns the bytes fetched. */
async function fetchMissing(
  req: PullRequest,
  missing: [string, FileMeta][],
  blobOf: (m: FileMeta) => string,
  lockOf: (m: FileMeta) => string,
): Promise<number> {
  const total = missing.reduce((s, [, m]) => s + m.size, 0);
  let done = 0; // bytes of the files finished
  let fetched = 0; // bytes fetched by this pull (resumed parts not counted)
  const started = Date.now();
  for (const [file, meta] of missing) {
    for (let attempt = 1; ; attempt++) {
      let present = 0;
      try {
        await withBlobLock(lockOf(meta), () =>
          fetchBlob(meta, blobOf(meta), req.access, (n, fresh) => {
            present += n;
            if (fresh) fetched += n;
            report(req, file, done + present, total, fetched, started);
          }),
        );
        done += meta.size;
        break;
      } catch (err) {
        if (req.access.signal?.aborted)
          throw new Error('the download was cancelled: its part stays in the cache and the next pull resumes it');
        if (err instanceof HubError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        if (attempt >= ATTEMPTS)
          throw new HubError(
            'network',
            `${file}: ${message} (${ATTEMPTS} tries; the part stays in the cache and the next pull resumes it)`,
          );
        req.onRetry?.(file, attempt, message);
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
  }
  return fetched;
}

function report(req: PullRequest, file: string, bytes: number, total: number, fetched: number, started: number): void {
  if (!req.onProgress) return;
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0.2 ? fetched / seconds : 0;
  req.onProgress({ file, bytes, total, bytesPerSecond: rate, ...(rate > 0 ? { secondsLeft: (total - bytes) / rate } : {}) });
}

const partSize = (blob: string): number => (existsSync(`${blob}.incomplete`) ? statSync(`${blob}.incomplete`).size : 0);

/** Refuses a download the disk cannot hold, before a byte is fetched (with room to spare for the editor). */
export function checkDisk(folder: string, needed: number): void {
  const fs = statfsSync(folder);
  const free = Number(fs.bavail) * Number(fs.bsize);
  const spare = 256 * 1024 * 1024;
  if (needed + spare > free) {
    throw new HubError(
      'disk',
      `the download needs ${formatBytes(needed)} and ${folder} has ${formatBytes(free)} free: free some space or set HF_HUB_CACHE to another disk`,
    );
  }
}

/** snapshots/<commit>/<path> → ../../blobs/<etag>, relative as huggingface_hub makes it; a copy where links fail. */
function linkIntoSnapshot(blob: string, pointer: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blob), pointer);
  } catch {
    copyFileSync(blob, pointer);
  }
}

/** Removes a repo's folder from the cache (every revision): what `tessera models rm` does. */
export function removeModel(cache: string, repo: string): boolean {
  const folder = repoFolder(cache, repo);
  if (!existsSync(folder)) return false;
  rmSync(folder, { recursive: true, force: true });
  return true;
}
