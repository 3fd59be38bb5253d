import { join } from 'node:path';
import { type Connection, type InitializeParams, type InitializeResult, TextDocumentSyncKind } from 'vscode-languageserver';
import { DocumentStore } from './documents/store';
import { LensService } from './lens/lensService';
import { assessHealth } from './health';
import { Logger } from './logger';
import {
  compareRequest,
  countRequest,
  documentStatsRequest,
  type Health,
  healthNotification,
  type InitializationOptions,
  type OnnxRuntimeInfo,
  serverInfoRequest,
  tokenAtRequest,
  tokensRequest,
} from './lsp_ext';
import { readSettings } from './settings';
import { documentStats } from './documents/stats';
import { probeOnnxRuntime } from './runtime/onnxProbe';
import { VERSION } from './version';

export interface ServerOptions {
  /** Injected in tests; by default loads onnxruntime-node. */
  probeRuntime?: () => OnnxRuntimeInfo;
  /** Where tree-sitter.wasm and grammars/ are; by default dist/wasm beside the bundle. */
  wasmDir?: string;
}

/**
 * Wires Tessera's handlers onto an LSP connection. Transport-agnostic: the same function serves
 * VS Code over node IPC and any other editor over stdio.
 */
export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const startedAt = new Date();
  const logger = new Logger(connection.console);
  const documents = new DocumentStore();
  const lens = new LensService(connection, documents, logger, options.wasmDir ?? join(__dirname, 'wasm'));
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
    lens.configure(readSettings(init.settings));
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
    const section = (settings as { tessera?: { server?: { logLevel?: InitializationOptions['logLevel'] } } } | undefined)?.tessera;
    const level = section?.server?.logLevel;
    logger.setLevel(level);
    logger.debug(`log level: ${level ?? 'unchanged'}`);
    if (section) lens.configure(readSettings(section));
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
    openDocuments: documents.size,
    tokenizer: lens.tokenizerStatus(),
  }));

  connection.onRequest(documentStatsRequest, ({ uri }) => {
    const doc = documents.get(uri);
    return doc ? documentStats(uri, doc.version, doc.getText()) : null;
  });

  connection.onRequest(tokensRequest, (params) => lens.tokens(params));
  connection.onRequest(countRequest, (params) => lens.count(params));
  connection.onRequest(tokenAtRequest, (params) => lens.tokenAt(params));
  connection.onRequest(compareRequest, (params) => lens.compare(params));

  connection.onDidOpenTextDocument((params) => documents.open(params));
  connection.onDidChangeTextDocument((params) => documents.change(params));
  connection.onDidCloseTextDocument((params) => documents.close(params));
  connection.listen();
}
