// The Hub's documented HTTP surface, as much of it as a download needs: a revision's info (its commit and
// files) and a file's metadata (HEAD on resolve/). Errors become messages that say what to do.
import { checkRepoId, checkRevision, normalizeEtag } from './cacheLayout';
import { discard, type HttpResponse, readText, send } from './http';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Where requests go: a setting, else HF_ENDPOINT (mirrors), else the Hub. */
export function hubEndpoint(setting = '', env: NodeJS.ProcessEnv = process.env): string {
  return (setting.trim() || env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

export interface HubAccess {
  endpoint: string;
  /** A user access token (HF_TOKEN or the editor's secret storage); sent as a Bearer token, never logged. */
  token?: string;
  signal?: AbortSignal;
  /** The editor's http.proxy, for https requests (else HTTPS_PROXY). */
  proxy?: string;
}

export type HubErrorKind =
  | 'repo-not-found'
  | 'gated'
  | 'unauthorized'
  | 'revision-not-found'
  | 'entry-not-found'
  | 'server'
  | 'network'
  | 'corrupt'
  | 'no-decoder'
  | 'disk'
  | 'busy';

export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export function headersFor(access: HubAccess, extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': 'tessera', ...(access.token ? { authorization: `Bearer ${access.token}` } : {}), ...extra };
}

/** The Hub's error answer as a HubError with a message that says what to do. */
export async function hubError(res: HttpResponse, repo: string, access: HubAccess, what: string): Promise<HubError> {
  const code = res.headers['x-error-code'];
  const text = res.headers['x-error-message'] ?? (await readText(res, 64 * 1024).catch(() => ''));
  const page = `${access.endpoint}/${repo}`;
  if (code === 'GatedRepo')
    return new HubError(
      'gated',
      `${repo} is gated: accept its conditions at ${page} while signed in, then ${access.token ? 'try again (the token given has no access yet)' : 'set a Hugging Face token (Tessera: Set Hugging Face Token, or HF_TOKEN) and try again'}`,
      res.status,
    );
  if (res.status === 401 && text === 'Invalid credentials in Authorization header')
    return new HubError(
      'unauthorized',
      `${access.endpoint} refused the token: set a new one (Tessera: Set Hugging Face Token, or HF_TOKEN)`,
      res.status,
    );
  if (code === 'RepoNotFound' || (res.status === 401 && !code))
    return new HubError(
      'repo-not-found',
      `${repo} was not found on ${access.endpoint}: check the name${access.token ? '' : '; if it is private, set a Hugging Face token with access to it'}`,
      res.status,
    );
  if (code === 'RevisionNotFound') return new HubError('revision-not-found', `${repo} has no revision "${what}"`, res.status);
  if (code === 'EntryNotFound' || res.status === 404) return new HubError('entry-not-found', `${repo} has no file ${what}`, res.status);
  if (res.status === 401 || res.status === 403)
    return new HubError(
      'unauthorized',
      `${access.endpoint} refused the request for ${repo} (${res.status}): ${access.token ? 'the token was refused; set a new one' : 'it needs a Hugging Face token'}`,
      res.status,
    );
  return new HubError(
    'server',
    `${access.endpoint} answered ${res.status} for ${what} of ${repo}${text ? `: ${text.slice(0, 200)}` : ''}`,
    res.status,
  );
}

/**
 * Sends, following relative redirects only, as huggingface_hub does: the Hub answers a renamed repo with
 * a relative one; an absolute one (a file's CDN) is returned to the caller.
 */
async function sendFollowingRenames(url: string, access: HubAccess, init: { method: 'GET' | 'HEAD'; headers?: Record<string, string> }) {
  let target = url;
  for (let hops = 0; hops < 5; hops++) {
    const res = await send(target, {
      method: init.method,
      headers: headersFor(access, init.headers),
      signal: access.signal,
      proxy: access.proxy,
    }).catch((err: unknown) => {
      if (access.signal?.aborted) throw err;
      throw new HubError('network', `cannot reach ${new URL(target).origin}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location && !/^([a-z][a-z0-9+.-]*:)?\/\//i.test(location)) {
      discard(res);
      target = new URL(location, target).toString();
      continue;
    }
    return res;
  }
  throw new HubError('server', `${url}: too many redirects`);
}

export interface RevisionInfo {
  /** The repo's id as the Hub names it now (it differs when the repo was renamed). */
  id: string;
  commit: string;
  files: string[];
}

/** GET /api/models/{repo}/revision/{rev}: the commit a revision points at and the files it holds. */
export async function revisionInfo(repo: string, revision: string, access: HubAccess): Promise<RevisionInfo> {
  checkRepoId(repo);
  checkRevision(revision);
  const url = `${access.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const res = await sendFollowingRenames(url, access, { method: 'GET' });
  if (res.status !== 200) throw await hubError(res, repo, access, revision);
  const body = JSON.parse(await readText(res)) as { id?: string; modelId?: string; sha?: string; siblings?: { rfilename?: string }[] };
  if (typeof body.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha)) throw new HubError('server', `${url}: the answer names no commit`);
  const id = body.id ?? body.modelId ?? repo;
  return {
    id: checkRepoId(id),
    commit: body.sha,
    files: (body.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string'),
  };
}

export interface FileMeta {
  /** The blob name: the LFS sha256 for large files, the git blob sha1 for small ones. */
  etag: string;
  size: number;
  commit: string;
  /** Where its bytes are (the CDN for LFS files), when the Hub redirects. */
  location: string;
}

/** HEAD {endpoint}/{repo}/resolve/{commit}/{path}: what huggingface_hub reads to name and check a file. */
export async function fileMeta(repo: string, commit: string, path: string, access: HubAccess): Promise<FileMeta> {
  const url = `${access.endpoint}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const res = await sendFollowingRenames(url, access, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
  discard(res);
  if (res.status >= 400) throw await hubError(res, repo, access, path);
  const etag = res.headers['x-linked-etag'] ?? res.headers.etag;
  const size = Number(res.headers['x-linked-size'] ?? res.headers['content-length']);
  if (!etag || !Number.isFinite(size)) throw new HubError('server', `${url}: no ETag or size in the answer`);
  const location = res.status >= 300 && res.headers.location ? new URL(res.headers.location, url).toString() : url;
  return { etag: normalizeEtag(etag), size, commit: res.headers['x-repo-commit'] ?? commit, location };
}
