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
  return exchange(server, path, body, o, async (response, url) => {
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new EngineFault('bad-response', `${url} answered ${response.status} with something that is not JSON: ${text.slice(0, 120)}`);
    }
  });
}

/**
 * POST `path` with `stream: true` and hand each server-sent event's JSON to `onEvent`; false when the
 * caller cancelled. Streaming is what lets a server notice a cancel: llama-server finishes a
 * non-streaming request whose client has gone (measured), but stops a stream at its next token.
 */
export async function streamJson(
  server: ServerAddress,
  path: string,
  body: Record<string, unknown>,
  o: CallOptions,
  onEvent: (event: unknown) => void,
): Promise<boolean> {
  const done = await exchange(server, path, { ...body, stream: true }, o, async (response, url) => {
    if (!response.body) throw new EngineFault('bad-response', `${url} answered with no body`);
    const decoder = new TextDecoder();
    let buffered = '';
    const line = (l: string) => {
      if (!l.startsWith('data:')) return;
      const data = l.slice(5).trim();
      if (!data || data === '[DONE]') return;
      try {
        onEvent(JSON.parse(data));
      } catch {
        throw new EngineFault('bad-response', `${url} sent an event that is not JSON: ${data.slice(0, 120)}`);
      }
    };
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        line(buffered.slice(0, nl).replace(/\r$/, ''));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
    }
    line(buffered);
    return true;
  });
  return done === true;
}

const STALE_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET']);

/** One HTTP exchange: the request, its faults in words, and `read` on a successful response. */
async function exchange<T>(
  server: ServerAddress,
  path: string,
  body: unknown | undefined,
  o: CallOptions,
  read: (response: Response, url: string) => Promise<T>,
): Promise<T | null> {
  const url = `${baseUrl(server.url)}${path}`;
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (server.apiKey) headers.authorization = `Bearer ${server.apiKey}`;
  const failed = (err: unknown): null => {
    if (err instanceof EngineFault) throw err;
    if (o.signal?.aborted) return null;
    if (timeout.aborted) throw new EngineFault('timeout', `${url} gave no answer in ${(o.timeoutMs / 1000).toFixed(1)} s`);
    throw new EngineFault('unreachable', `cannot reach ${url} (${causeOf(err)})`);
  };
  const send = () =>
    fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  let response: Response;
  try {
    response = await send().catch((err: unknown) => {
      // A kept-alive connection the server closed as the request went out: sent again once on a new one.
      if (!signal.aborted && STALE_CONNECTION.has(causeOf(err))) return send();
      throw err;
    });
  } catch (err) {
    return failed(err);
  }
  if (response.ok) {
    try {
      return await read(response, url);
    } catch (err) {
      return failed(err);
    }
  }
  const said = serverMessage(await response.text().catch(() => ''));
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
