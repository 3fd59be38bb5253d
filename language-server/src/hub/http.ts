// The one module that opens network connections. Only a user's action reaches it (a download, a repo's
// file list); with HF_HUB_OFFLINE set it refuses before any socket is opened. https only, plain http
// only to this machine (a mirror or a stand-in on 127.0.0.1). https goes through a proxy where one is
// set (the editor's http.proxy, else HTTPS_PROXY), as a CONNECT tunnel, unless NO_PROXY names the host.
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  url: string;
  body: IncomingMessage;
}

export interface SendOptions {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Milliseconds without a byte before the request fails (a dead connection, not a slow one). */
  idleTimeoutMs?: number;
  /** A proxy for https requests (http://host:port, credentials allowed); else HTTPS_PROXY from the environment. */
  proxy?: string;
}

/** The network is off: HF_HUB_OFFLINE (else TRANSFORMERS_OFFLINE), with the values huggingface_hub takes as true. */
export function offline(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|on|yes|true)$/i.test(env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE || '');
}

export class OfflineError extends Error {
  constructor() {
    super('HF_HUB_OFFLINE is set: Tessera opens no connection (installed models still work)');
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** https anywhere; http only to this machine. */
export function checkUrl(url: URL): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.'))) return;
  throw new Error(`refusing ${url.protocol}//${url.host}: only https (plain http only to 127.0.0.1)`);
}

/** The proxy an https request to `url` goes through: the one given, else HTTPS_PROXY; none where NO_PROXY names the host. */
export function proxyFor(url: URL, given: string | undefined, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (url.protocol !== 'https:') return undefined;
  const raw = given?.trim() || env.HTTPS_PROXY || env.https_proxy;
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const bypass = (env.NO_PROXY ?? env.no_proxy ?? '')
    .split(',')
    .map((h) => h.trim().replace(/^\*?\./, ''))
    .filter(Boolean);
  if (bypass.some((h) => h === '*' || host === h || host.endsWith(`.${h}`))) return undefined;
  const proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  if (proxy.protocol !== 'http:') throw new Error(`proxy ${proxy.origin}: only http:// proxies are supported`);
  return proxy;
}

/** A TCP stream to `target` through the proxy's CONNECT. */
function tunnel(proxy: URL, target: URL, signal?: AbortSignal): Promise<Socket> {
  const auth = proxy.username
    ? {
        'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`,
      }
    : {};
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...auth },
      signal,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy ${proxy.host} refused the tunnel to ${authority} (${res.statusCode})`));
    });
    req.on('error', (err) => reject(new Error(`the proxy ${proxy.host}: ${err.message}`)));
    req.end();
  });
}

/** One request, no redirects followed: the caller decides which to follow. */
export async function send(target: string, options: SendOptions = {}): Promise<HttpResponse> {
  if (offline()) throw new OfflineError();
  const url = new URL(target);
  checkUrl(url);
  const proxy = proxyFor(url, options.proxy);
  const socket = proxy ? await tunnel(proxy, url, options.signal) : undefined;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeout = options.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        signal: options.signal,
        ...(socket ? { createConnection: () => tlsConnect({ socket, servername: url.hostname }) } : {}),
      },
      (res) => {
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers, url: url.toString(), body: res });
      },
    );
    req.setTimeout(timeout, () => req.destroy(new Error(`no answer from ${url.host} in ${timeout / 1000} s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A whole response body as text, at most `limit` bytes (API answers, not files). */
export async function readText(res: HttpResponse, limit = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new Error(`${res.url}: answer larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drains a response whose body is not wanted, so its connection can close. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}
