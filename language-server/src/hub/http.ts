// The one module that opens network connections. Only a user's action reaches it (a download, a repo's
// file list); with HF_HUB_OFFLINE set it refuses before any socket is opened. https only, plain http
// only to this machine (a mirror or a stand-in on 127.0.0.1).
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

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
}

/** The network is off: HF_HUB_OFFLINE, as huggingface_hub reads it. */
export function offline(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|on|yes|true)$/i.test(env.HF_HUB_OFFLINE?.trim() ?? '');
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

/** One request, no redirects followed: the caller decides which to follow. */
export function send(target: string, options: SendOptions = {}): Promise<HttpResponse> {
  if (offline()) return Promise.reject(new OfflineError());
  const url = new URL(target);
  try {
    checkUrl(url);
  } catch (err) {
    return Promise.reject(err);
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, signal: options.signal }, (res) => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      resolve({ status: res.statusCode ?? 0, headers, url: url.toString(), body: res });
    });
    req.setTimeout(options.idleTimeoutMs ?? 30_000, () =>
      req.destroy(new Error(`no answer from ${url.host} in ${(options.idleTimeoutMs ?? 30_000) / 1000} s`)),
    );
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
