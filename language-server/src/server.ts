import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  type Connection,
  type InitializeParams,
  type InitializeResult,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { assessHealth } from './health';
import { Logger } from './logger';
import {
  documentStatsRequest,
  type Health,
  healthNotification,
  type InitializationOptions,
  type OnnxRuntimeInfo,
  serverInfoRequest,
} from './lsp_ext';
import { documentStats } from './documents/stats';
import { probeOnnxRuntime } from './runtime/onnxProbe';
import { VERSION } from './version';

export interface ServerOptions {
  /** Injected in tests; by default loads onnxruntime-node. */
  probeRuntime?: () => OnnxRuntimeInfo;
}

/**
 * Wires Tessera's handlers onto an LSP connection. Transport-agnostic: the same function serves
 * VS Code over node IPC and any other editor over stdio.
 */
export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const startedAt = new Date();
  const logger = new Logger(connection.console);
  const documents = new TextDocuments(TextDocument);
  let onnxruntime: OnnxRuntimeInfo = { available: false, error: 'not probed yet' };
  let health: Health = { state: 'warning', message: 'Starting' };

  const setHealth = (next: Health): void => {
    health = next;
    void connection.sendNotification(healthNotification, next);
    const log = next.state === 'error' ? logger.error : next.state === 'warning' ? logger.warn : logger.info;
    log.call(logger, `health: ${next.state}: ${next.message}${next.detail ? `\n${next.detail}` : ''}`);
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    logger.setLevel(init.logLevel);
    logger.info(`Tessera language server ${VERSION} (pid ${process.pid}, Node ${process.version})`);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      },
      serverInfo: { name: 'tessera-lsp', version: VERSION },
    };
  });

  connection.onInitialized(() => {
    onnxruntime = (options.probeRuntime ?? probeOnnxRuntime)();
    setHealth(assessHealth(onnxruntime));
  });

  // Settings pushed by the client (VS Code sends the whole `tessera` section on every change).
  connection.onDidChangeConfiguration(({ settings }) => {
    const level = (settings as { tessera?: { server?: { logLevel?: InitializationOptions['logLevel'] } } } | undefined)?.tessera?.server?.logLevel;
    logger.setLevel(level);
    logger.debug(`log level: ${level ?? 'unchanged'}`);
  });

  connection.onRequest(serverInfoRequest, () => ({
    name: 'tessera-lsp',
    version: VERSION,
    pid: process.pid,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    startedAt: startedAt.toISOString(),
    uptimeMs: Date.now() - startedAt.getTime(),
    onnxruntime,
    health,
    openDocuments: documents.all().length,
  }));

  connection.onRequest(documentStatsRequest, ({ uri }) => {
    const doc = documents.get(uri);
    return doc ? documentStats(uri, doc.version, doc.getText()) : null;
  });

  documents.listen(connection);
  connection.listen();
}
