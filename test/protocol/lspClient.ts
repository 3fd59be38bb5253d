// A minimal LSP client for protocol tests: spawns the built `tessera-lsp --stdio` and speaks
// JSON-RPC to it over its real stdin/stdout.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { Health } from '../../language-server/src/lsp_ext';

export const root = join(__dirname, '..', '..', '..');
export const serverJs = join(root, 'dist', 'server.js');
export const cliJs = join(root, 'dist', 'cli.js');

export interface ServerUnderTest {
  proc: ChildProcessWithoutNullStreams;
  connection: MessageConnection;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines the server sent with window/logMessage. */
  logs: string[];
}

/** Starts the built server; `wrapper` is a command that runs it (e.g. strace and its options); `env` adds to its environment. */
export function spawnServer(wrapper: string[] = [], env?: NodeJS.ProcessEnv): ServerUnderTest {
  const command = [...wrapper, process.execPath, serverJs, '--stdio'];
  const proc = spawn(command[0]!, command.slice(1), { stdio: 'pipe', ...(env ? { env: { ...process.env, ...env } } : {}) });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const connection = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const logs: string[] = [];
  connection.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  connection.listen();
  return { proc, connection, stderr: () => stderr, exited, logs };
}

/** Resolves with the first health that says whether completions are on (the model loaded, or why not). */
export function modelHealth(server: ServerUnderTest): Promise<Health> {
  return new Promise((resolve) =>
    server.connection.onNotification('tessera/health', (h: Health) => {
      if (/^(Ready:|Completions off)/.test(h.message)) resolve(h);
    }),
  );
}

/** The LSP handshake, with `settings` as the client sends them at start. */
export async function initialize(server: ServerUnderTest, settings: Record<string, unknown> = {}): Promise<void> {
  await server.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    initializationOptions: { settings },
  });
  await server.connection.sendNotification('initialized', {});
}

/** A started, initialized server whose model is ready; killed by `stopAll` (call it in after()). */
export async function readyServer(settings: Record<string, unknown> = {}): Promise<ServerUnderTest> {
  const server = spawnServer();
  started.push(server);
  const health = modelHealth(server);
  await initialize(server, settings);
  const h = await health;
  if (h.state !== 'ok') throw new Error(`the model did not load: ${h.message}`);
  return server;
}

const started: ServerUnderTest[] = [];

export function stopAll(): void {
  for (const s of started.splice(0)) {
    s.connection.dispose();
    s.proc.kill('SIGKILL');
  }
}

/** Resident memory (MB) and thread count of a process, from /proc (the load and soak tests watch both). */
export function processUse(pid: number): { rssMB: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rssMB: field('VmRSS') / 1024, threads: field('Threads') };
}
