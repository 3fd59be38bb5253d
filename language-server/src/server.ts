import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Connection, type InitializeParams, type InitializeResult, InlineCompletionItem, LSPErrorCodes, ResponseError, TextDocumentSyncKind } from 'vscode-languageserver';
import { CompletionService } from './completion/service';
import { grammarFor } from './syntax/languages';
import { SyntaxService } from './syntax/parser';
import { DocumentStore } from './documents/store';
import { LensService } from './lens/lensService';
import { assessHealth } from './health';
import { Logger } from './logger';
import {
  compareRequest,
  completionInfoNotification,
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
import { DEFAULT_SETTINGS, readSettings } from './settings';
import { documentStats } from './documents/stats';
import { probeOnnxRuntime } from './model/onnxProbe';
import { VERSION } from './version';

/** Files up to this many characters go to completion whole; larger ones as a window around the cursor. */
const WHOLE_FILE = 512 * 1024;
const WINDOW_BEFORE = 192 * 1024;
const WINDOW_AFTER = 32 * 1024;

export interface ServerOptions {
  /** Injected in tests; by default loads onnxruntime-node. */
  probeRuntime?: () => OnnxRuntimeInfo;
  /** Where tree-sitter.wasm and grammars/ are; by default dist/wasm beside the bundle. */
  wasmDir?: string;
  /** The inference worker's bundle; by default dist/worker.js beside the server. */
  workerFile?: string;
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
  documents.listen({ opened: () => undefined, changed: () => undefined, closed: (uri) => completion.forget(uri) });
  const wasmDir = options.wasmDir ?? join(__dirname, 'wasm');
  const syntax = SyntaxService.create(wasmDir).catch(() => undefined);
  let onnxruntime: OnnxRuntimeInfo = { available: false, error: 'not probed yet' };
  let health: Health = { state: 'warning', message: 'Starting' };
  let workspaceFolders: string[] = [];
  const completion = new CompletionService(DEFAULT_SETTINGS, (status) => setHealth(assessHealth(onnxruntime, status)), options.workerFile);

  const setHealth = (next: Health): void => {
    health = next;
    void connection.sendNotification(healthNotification, next);
    const log = next.state === 'error' ? logger.error : next.state === 'warning' ? logger.warn : logger.info;
    log.call(logger, `health: ${next.state}: ${next.message}${next.detail ? `\n${next.detail}` : ''}`);
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    logger.setLevel(init.logLevel);
    const settings = readSettings(init.settings);
    lens.configure(settings);
    pendingSettings = settings;
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    logger.info(`Tessera language server ${VERSION} (pid ${process.pid}, Node ${process.version})`);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        inlineCompletionProvider: true,
      },
      serverInfo: { name: 'tessera-lsp', version: VERSION },
    };
  });

  let pendingSettings = DEFAULT_SETTINGS;
  connection.onInitialized(() => {
    onnxruntime = (options.probeRuntime ?? probeOnnxRuntime)();
    setHealth(assessHealth(onnxruntime, completion.status));
    if (onnxruntime.available) void completion.configure(pendingSettings);
  });

  // Settings pushed by the client (VS Code sends the whole `tessera` section on every change).
  connection.onDidChangeConfiguration(({ settings }) => {
    const section = (settings as { tessera?: { server?: { logLevel?: InitializationOptions['logLevel'] } } } | undefined)?.tessera;
    const level = section?.server?.logLevel;
    logger.setLevel(level);
    logger.debug(`log level: ${level ?? 'unchanged'}`);
    if (section) {
      const settings = readSettings(section);
      lens.configure(settings);
      pendingSettings = settings;
      if (onnxruntime.available) void completion.configure(settings);
    }
  });

  connection.languages.inlineCompletion.on(async (params, token) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !onnxruntime.available) return null;
    // The prompt needs a few KB around the cursor: a large file is not copied whole per keystroke
    // (and is not parsed: the syntax check is for files up to WHOLE_FILE).
    const cursor = doc.offsetAt(params.position);
    // The window starts on a 64K grid, at a line start: it stays put while typing, so the prompt does too.
    const from = doc.length > WHOLE_FILE ? lineStartAfter(doc, Math.max(0, Math.floor((cursor - WINDOW_BEFORE) / 65536) * 65536)) : 0;
    const text = doc.length > WHOLE_FILE ? doc.slice(from, Math.min(doc.length, cursor + WINDOW_AFTER)) : doc.getText();
    const offset = cursor - from;
    const grammar = grammarFor(doc.languageId, params.textDocument.uri);
    const service = grammar && doc.length <= WHOLE_FILE ? await syntax : undefined;
    const parser = service && grammar ? await service.parser(grammar).catch(() => undefined) : undefined;
    // The lens keeps the document's tree edit by edit: the syntax check starts from a copy of it.
    const tree = parser && from === 0 ? lens.syntaxTreeCopy(doc.uri, text) : undefined;
    try {
      const r = await completion.complete(
        { uri: doc.uri, path: displayPath(doc.uri, workspaceFolders), text, offset, parser, tree },
        { onCancel: (f) => token.onCancellationRequested(f) },
      );
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      if (!r) return null;
      void connection.sendNotification(completionInfoNotification, {
        uri: doc.uri, model: completion.modelName, latencyMs: Math.round(r.latencyMs * 10) / 10, tokens: r.tokens,
        prefillTokens: r.prefillTokens, reusedTokens: r.reusedTokens, confidence: r.confidence, shown: r.shown, reason: r.reason,
      });
      logger.debug(`completion ${r.shown ? 'shown' : `held back (${r.reason})`}: ${r.tokens} tokens, ${r.prefillTokens} run / ${r.reusedTokens} reused, ${r.latencyMs.toFixed(1)} ms, confidence ${r.confidence.toFixed(2)}`);
      if (!r.shown) return [];
      return [InlineCompletionItem.create(r.text, undefined, { start: params.position, end: params.position })];
    } catch (err) {
      if (err instanceof ResponseError) throw err;
      logger.warn(`completion failed: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    } finally {
      tree?.delete();
    }
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
    model: completion.status,
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
  connection.onShutdown(() => completion.dispose());
  connection.listen();
}

function lineStartAfter(doc: { slice(a: number, b: number): string; length: number }, pos: number): number {
  if (pos === 0) return 0;
  const nl = doc.slice(pos, Math.min(doc.length, pos + 65536)).indexOf('\n');
  return nl < 0 ? pos : pos + nl + 1;
}

function uriToPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/** The file's path relative to its workspace folder (what the model sees as its name), else its name. */
function displayPath(uri: string, folders: string[]): string {
  const path = uriToPath(uri);
  if (!path) return uri.slice(uri.lastIndexOf('/') + 1);
  const folder = folders.find((f) => path.startsWith(f + sep));
  return folder ? relative(folder, path).split(sep).join('/') : path.slice(path.lastIndexOf(sep) + 1);
}
