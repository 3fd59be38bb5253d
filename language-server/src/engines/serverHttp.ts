// JSON over HTTP to a completion server, with one error type that names what went wrong in words a
// user can act on: the server cannot be reached, refused the key, failed, or took too long.
// The API key goes out as a Bearer token and appears in no message.

export type FaultKind = 'unreachable' | 'auth' | 'server' | 'timeout' | 'unsupported' | 'bad-response';

export class EngineFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EngineFault';
  }
}

export interface ServerAddress {
  /** Base URL, e.g. http://127.0.0.1:8012 (a trailing slash is dropped). */
  url: string;
  apiKey?: string;
}

export interface CallOptions {
  /** The caller's cancel: aborts the HTTP request; the call then resolves to null. */
  signal?: AbortSignal;
  /** No answer in this many ms: a 'timeout' fault. */
  timeoutMs: number;
}

/** `host:port` of a URL, for the status bar. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A served model's name for the status bar: a file path (llama.cpp names models by their GGUF) as its file name. */
export function modelLabel(name: string): string {
  return /^(\/|[A-Za-z]:\\)/.test(name) ? (name.split(/[\\/]/).pop() ?? name) : name;
}

export function baseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** GET or POST `path`; the parsed JSON, or null when the caller cancelled. */
export async function callJson(server: ServerAddress, path: string, body: unknown | undefined, o: CallOptions): Promise<unknown | null> {
  const url = `${baseUrl(server.url)}${path}`;
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (server.apiKey) headers.authorization = `Bearer ${server.apiKey}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    text = await response.text();
  } catch (err) {
    if (o.signal?.aborted) return null;
    if (timeout.aborted) throw new EngineFault('timeout', `${url} gave no answer in ${(o.timeoutMs / 1000).toFixed(1)} s`);
    throw new EngineFault('unreachable', `cannot reach ${url} (${causeOf(err)})`);
  }
  if (response.ok) {
    try {
      return JSON.parse(text);
    } catch {
      throw new EngineFault('bad-response', `${url} answered ${response.status} with something that is not JSON: ${text.slice(0, 120)}`);
    }
  }
  const said = serverMessage(text);
  if (response.status === 401 || response.status === 403)
    throw new EngineFault('auth', `${url} refused the API key (${response.status}${said ? `: ${said}` : ''})`, response.status);
  if (response.status === 404 || response.status === 405 || response.status === 501)
    throw new EngineFault(
      'unsupported',
      `${url} is not offered by this server (${response.status}${said ? `: ${said}` : ''})`,
      response.status,
    );
  const kind: FaultKind = response.status >= 500 ? 'server' : 'bad-response';
  throw new EngineFault(kind, `${url} failed (${response.status}${said ? `: ${said}` : ''})`, response.status);
}

/** The error message in a server's JSON error body (llama.cpp and OpenAI both nest it under `error`). */
function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    return typeof m === 'string' ? m.slice(0, 200) : '';
  } catch {
    return text.trim().slice(0, 200);
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
