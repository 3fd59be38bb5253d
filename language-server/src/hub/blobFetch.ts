// One file of a repo into the cache's blobs/: resumed from its `.incomplete` part with HTTP Range, and
// checked against the Hub's hash (sha256 for LFS files, the git blob sha1 for the rest) before it is
// given its final name. A mismatch deletes the part; a dropped connection keeps it for the next try.
import { createHash, type Hash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type FileMeta, HubError, headersFor, type HubAccess } from './hubApi';
import { discard, send } from './http';

/** How the Hub's ETag checks a file's bytes: an LFS oid is their sha256, a git oid the sha1 of "blob N\0" + bytes. */
function hasherFor(meta: FileMeta): { hash: Hash; expected: string } | undefined {
  if (/^[0-9a-f]{64}$/.test(meta.etag)) return { hash: createHash('sha256'), expected: meta.etag };
  if (/^[0-9a-f]{40}$/.test(meta.etag)) {
    const hash = createHash('sha1');
    hash.update(`blob ${meta.size}\0`);
    return { hash, expected: meta.etag };
  }
  return undefined;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
}

/** True while the process that wrote a lock is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `lock` (huggingface_hub's own lock path, `.locks/models--org--name/<etag>.lock`) while `fn` runs, so
 * two pulls (the editor and the command line, say) never write one part at once. The file holds the
 * holder's pid; one left by a process that is gone, or by huggingface_hub (which leaves it empty), is
 * taken over.
 */
export async function withBlobLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const holder = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder))
      throw new HubError('busy', `another download of this file is running (process ${holder}); wait for it, or stop it`);
    writeFileSync(lock, String(process.pid));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Headers for a request to `url`: the token goes to the Hub only, not to the CDN it redirects to (the redirect is signed). */
function headersAt(url: string, access: HubAccess, start: number): Record<string, string> {
  const base = new URL(url).origin === new URL(access.endpoint).origin ? headersFor(access) : { 'user-agent': 'tessera' };
  return start > 0 ? { ...base, range: `bytes=${start}-` } : base;
}

/**
 * Downloads `meta` into `blob` (resuming `blob.incomplete`); `onBytes` is told of every chunk written
 * (fresh) and, first, of the bytes a resumed part already holds (not fresh). One attempt: the caller retries.
 */
export async function fetchBlob(
  meta: FileMeta,
  blob: string,
  access: HubAccess,
  onBytes: (n: number, fresh: boolean) => void,
): Promise<void> {
  const part = `${blob}.incomplete`;
  let start = existsSync(part) ? statSync(part).size : 0;
  if (start > meta.size) {
    rmSync(part);
    start = 0;
  }
  let url = meta.location;
  let res = await send(url, { headers: headersAt(url, access, start), signal: access.signal, proxy: access.proxy });
  for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.location && hops < 5; hops++) {
    discard(res);
    url = new URL(res.headers.location, res.url).toString();
    res = await send(url, { headers: headersAt(url, access, start), signal: access.signal, proxy: access.proxy });
  }
  if (res.status === 416 && start === meta.size) discard(res);
  else if (res.status === 200)
    start = 0; // the server sent it whole: start over
  else if (res.status !== 206) {
    discard(res);
    throw new HubError(
      res.status === 401 || res.status === 403 ? 'unauthorized' : 'server',
      `${new URL(res.url).host} answered ${res.status} for a file of ${meta.size} bytes`,
      res.status,
    );
  }
  const check = hasherFor(meta);
  if (start > 0 && check) await hashFile(part, check.hash);
  onBytes(start, false);
  if (res.status !== 416) {
    const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        check?.hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        onBytes(chunk.length, true);
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    if (!res.body.complete) throw new Error('the connection dropped');
  }
  const size = statSync(part).size;
  if (size !== meta.size) {
    if (size > meta.size) rmSync(part);
    throw new Error(`got ${size} of ${meta.size} bytes`);
  }
  if (check) {
    const got = check.hash.digest('hex');
    if (got !== check.expected) {
      rmSync(part);
      throw new HubError(
        'corrupt',
        `the file's bytes do not match the Hub's hash (${check.expected.slice(0, 12)}…, got ${got.slice(0, 12)}…): the partial download was deleted; try again`,
      );
    }
  }
  renameSync(part, blob);
}
