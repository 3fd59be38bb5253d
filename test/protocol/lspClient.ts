// A minimal LSP client for protocol tests: spawns the built `tessera-lsp --stdio` and speaks
// JSON-RPC to it over its real stdin/stdout.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

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

/** Starts the built server; `wrapper` is a command that runs it (e.g. strace and its options). */
export function spawnServer(wrapper: string[] = []): ServerUnderTest {
  const command = [...wrapper, process.execPath, serverJs, '--stdio'];
  const proc = spawn(command[0]!, command.slice(1), { stdio: 'pipe' });
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
