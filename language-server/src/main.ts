// Entry point of `tessera-lsp`: the language server on stdio, node IPC, a socket or a pipe.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';
import { VERSION } from './version';

const usage = `tessera-lsp ${VERSION} — the Tessera language server

Usage:
  tessera-lsp --stdio            speak LSP on stdin/stdout (any LSP editor)
  tessera-lsp --node-ipc         speak LSP over node IPC (VS Code starts it this way)
  tessera-lsp --socket=PORT      connect to a client listening on 127.0.0.1:PORT
  tessera-lsp --pipe=NAME        connect to a client on a named pipe
  tessera-lsp --version | --help
`;

const transports = ['--stdio', '--node-ipc', '--socket=', '--pipe='];
const args = process.argv.slice(2);

if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
} else if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`${VERSION}\n`);
} else if (!args.some((a) => transports.some((t) => a === t || (t.endsWith('=') && a.startsWith(t))))) {
  process.stderr.write(`tessera-lsp: choose a transport\n\n${usage}`);
  process.exitCode = 2;
} else {
  // createConnection reads the transport from process.argv.
  startServer(createConnection(ProposedFeatures.all));
}
