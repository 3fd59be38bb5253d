// A stand-in for the Hugging Face Hub on 127.0.0.1, for tests: the Hub itself cannot be reached here. It
// speaks the documented endpoints a download uses (revision info, HEAD/GET resolve/ with X-Repo-Commit,
// ETag, X-Linked-Etag, X-Linked-Size and a 302 to a CDN path for LFS files, Range on the CDN, the
// X-Error-Code answers) over real model folders, logs every request, and can drop a connection or
// corrupt a byte once, on demand.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface StandInRepo {
  id: string;
  /** Repo path → file on disk. */
  files: Record<string, string>;
  /** A 40-hex commit; one is derived from the id when absent. */
  commit?: string;
  gated?: boolean;
  private?: boolean;
  /** Old ids that redirect here (a renamed repo). */
  formerly?: string[];
}

interface Served {
  bytes: Buffer;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  authorized: boolean;
  status: number;
}

/** Files at least this large are LFS files, as the Hub stores weights (and here, ONNX files of any size). */
const LFS_BYTES = 64 * 1024;

export class HubStandIn {
  readonly log: LoggedRequest[] = [];
  private readonly repos = new Map<string, { repo: StandInRepo; commit: string; files: Map<string, Served> }>();
  private readonly blobs = new Map<string, Served>();
  private readonly renamed = new Map<string, string>();
  private drop: { path: string; after: number } | undefined;
  private corrupt: string | undefined;
  private rate = 0;
  private server!: Server;
  url = '';

  private readonly token: string;

  /** `tls`: serve https with this key and certificate (the proxy test); plain http otherwise. */
  constructor(
    repos: StandInRepo[],
    private readonly options: { token?: string; tls?: { key: string; cert: string } } = {},
  ) {
    this.token = options.token ?? 'hf_standin_token';
    for (const repo of repos) {
      const files = new Map<string, Served>();
      for (const [path, disk] of Object.entries(repo.files)) {
        const bytes = readFileSync(disk);
        const served = {
          bytes,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          gitSha1: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
          lfs: bytes.length >= LFS_BYTES || path.includes('.onnx'),
        };
        files.set(path, served);
        if (served.lfs) this.blobs.set(served.sha256, served);
      }
      const commit = repo.commit ?? createHash('sha1').update(repo.id).digest('hex');
      this.repos.set(repo.id, { repo, commit, files });
      for (const old of repo.formerly ?? []) this.renamed.set(old, repo.id);
    }
  }

  async start(): Promise<string> {
    const tls = this.options.tls;
    this.server = tls ? createTlsServer(tls, (req, res) => this.handle(req, res)) : createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as AddressInfo).port;
    this.url = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
    return this.url;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  commitOf(id: string): string {
    return this.repos.get(id)!.commit;
  }

  /** The next download of `path` stops after `after` bytes, its connection destroyed. */
  dropOnce(path: string, after: number): void {
    this.drop = { path, after };
  }

  /** Files are served at most this fast from now on (so a progress notification can be seen). */
  throttle(bytesPerSecond: number): void {
    this.rate = bytesPerSecond;
  }

  /** The next download of `path` has one byte changed. */
  corruptOnce(path: string): void {
    this.corrupt = path;
  }

  /** Answers one request; what it returns is only the end of its path. */
  private handle(req: IncomingMessage, res: ServerResponse): unknown {
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path,
      authorized: req.headers.authorization === `Bearer ${this.token}`,
      status: 0,
      ...(req.headers.range ? { range: req.headers.range } : {}),
    };
    this.log.push(entry);
    const answer = (status: number, headers: Record<string, string | number> = {}, body?: Buffer | string) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const fail = (status: number, code: string, message: string) =>
      answer(
        status,
        { 'X-Error-Code': code, 'X-Error-Message': message, 'Content-Type': 'application/json' },
        JSON.stringify({ error: message }),
      );

    // A token the Hub does not know (here: not shaped hf_…) is refused on every request, as the Hub does.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && !bearer.startsWith('hf_')) return fail(401, 'Unauthorized', 'Invalid credentials in Authorization header');
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn) return this.serveBlob(req, res, entry, this.blobs.get(cdn[1]!));
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/(.+))?$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const id = api?.[1] ?? resolve?.[1];
    if (!id) return fail(404, 'NotFound', 'not a Hub endpoint');
    const moved = this.renamed.get(id);
    if (moved) return answer(307, { Location: path.replace(id, moved) + url.search });
    const found = this.repos.get(id);
    if (!found || (found.repo.private && !entry.authorized)) return fail(401, 'RepoNotFound', 'Repository not found');
    if (found.repo.gated && !entry.authorized)
      return fail(req.headers.authorization ? 403 : 401, 'GatedRepo', `Access to model ${id} is restricted.`);
    const rev = api?.[2] ?? resolve?.[2] ?? 'main';
    if (rev !== 'main' && rev !== found.commit) return fail(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    if (api) {
      const siblings = [...found.files.keys()].map((rfilename) => ({ rfilename }));
      return answer(
        200,
        { 'Content-Type': 'application/json' },
        JSON.stringify({ _id: id, id, modelId: id, sha: found.commit, siblings, gated: !!found.repo.gated, private: !!found.repo.private }),
      );
    }
    const file = found.files.get(resolve![3]!);
    if (!file) return fail(404, 'EntryNotFound', `${resolve![3]} does not exist on "${rev}"`);
    const common = { 'X-Repo-Commit': found.commit, 'Accept-Ranges': 'bytes' };
    if (file.lfs) {
      return answer(302, {
        ...common,
        ETag: `"${file.gitSha1}"`,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': file.bytes.length,
        Location: `${this.url}/cdn/${file.sha256}?path=${encodeURIComponent(resolve![3]!)}`,
      });
    }
    return this.serveBytes(req, res, entry, file.bytes, resolve![3]!, { ...common, ETag: `"${file.gitSha1}"` });
  }

  private serveBlob(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest, blob: Served | undefined): void {
    if (!blob) {
      entry.status = 404;
      res.writeHead(404).end();
      return;
    }
    const path = new URL(req.url ?? '/', this.url).searchParams.get('path') ?? '';
    this.serveBytes(req, res, entry, blob.bytes, path, { ETag: `"${blob.sha256}"` });
  }

  /** The bytes, or the Range asked for; a drop or corruption planned for this path happens here. */
  private serveBytes(
    req: IncomingMessage,
    res: ServerResponse,
    entry: LoggedRequest,
    bytes: Buffer,
    path: string,
    headers: Record<string, string>,
  ): void {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= bytes.length && m) {
      entry.status = 416;
      res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
      return;
    }
    let body = bytes.subarray(start);
    if (this.corrupt === path && req.method !== 'HEAD') {
      this.corrupt = undefined;
      body = Buffer.from(body);
      const at = body.length >> 1;
      body.writeUInt8(body.readUInt8(at) ^ 0xff, at);
    }
    entry.status = m ? 206 : 200;
    res.writeHead(entry.status, {
      ...headers,
      'Content-Length': body.length,
      'Accept-Ranges': 'bytes',
      ...(m ? { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (this.drop?.path === path) {
      const after = this.drop.after;
      this.drop = undefined;
      res.write(body.subarray(0, after), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (!this.rate) return void res.end(body);
    const chunk = 64 * 1024;
    const next = (at: number): void => {
      if (at >= body.length || res.destroyed) return void res.end();
      res.write(body.subarray(at, at + chunk), () => setTimeout(() => next(at + chunk), (chunk / this.rate) * 1000));
    };
    next(0);
  }
}
