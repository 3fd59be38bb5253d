// A pass-through HTTP proxy on 127.0.0.1 in front of a real server: it records each request's path,
// JSON body and whether the client hung up before the answer, and can hold requests back (to cancel
// them in flight).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  body: Record<string, unknown>;
  /** The client closed the connection before the proxy answered. */
  aborted: boolean;
  authorization?: string;
}

export class RecordingProxy {
  readonly requests: Recorded[] = [];
  /** Each request waits this long before it is forwarded. */
  delayMs = 0;
  private server: Server | undefined;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const rec: Recorded = { path: req.url ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, aborted: false };
        if (req.headers.authorization) rec.authorization = req.headers.authorization;
        this.requests.push(rec);
        res.on('close', () => {
          if (!res.writableFinished) rec.aborted = true;
        });
        setTimeout(() => {
          if (rec.aborted) return;
          const up = request(
            { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          up.on('error', () => res.destroy());
          up.end(text);
        }, this.delayMs);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The requests to `path` so far. */
  to(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
