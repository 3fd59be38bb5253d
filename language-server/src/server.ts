import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Connection,
  ErrorCodes,
  type InitializeParams,
  type InitializeResult,
  InlineCompletionItem,
  LSPErrorCodes,
  ResponseError,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { CompletionService } from './completion/service';
import { checkFim } from './fimCheck/check';
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
  fimCheckProgressNotification,
  fimCheckRequest,
  type Health,
  healthNotification,
  type InitializationOptions,
  type OnnxRuntimeInfo,
  serverInfoRequest,
  tokenAtRequest,
  tokensRequest,
} from './lsp_ext';
import { DEFAULT_TOKENIZER } from './defaultModel';
import { DEFAULT_SETTINGS, readSettings } from './settings';
import { TokenizerRegistry } from './tokenizer/registry';
import { documentStats } from './documents/stats';
import { probeOnnxRuntime } from './model/onnxProbe';
import { VERSION } from './version';
import { registerModelRequests } from './modelRequests';

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
  // One owner each, shared by the lens and completions: grammars and tokenizers load once.
  const syntax = SyntaxService.create(options.wasmDir ?? join(__dirname, 'wasm')).catch((err: unknown) => {
    logger.warn(`syntax trees are off: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });
  const tokenizers = new TokenizerRegistry(DEFAULT_TOKENIZER);
  const lens = new LensService(connection, documents, logger, tokenizers, syntax);
  documents.listen({
    // A server engine's cache gets the document's prompt as soon as it opens (not awaited).
    opened: (doc) =>
      void completion
        .warm({ uri: doc.uri, path: displayPath(doc.uri, workspaceFolders), document: doc, offset: 0, neighbours })
        .catch(() => undefined),
    changed: () => undefined,
    closed: (uri) => completion.forget(uri),
  });
  let onnxruntime: OnnxRuntimeInfo = { available: false, error: 'not probed yet' };
  let health: Health = { state: 'warning', message: 'Starting' };
  let workspaceFolders: string[] = [];
  // A server engine completes without ONNX Runtime; the local model needs it.
  const canComplete = () => onnxruntime.available || pendingSettings.engine.kind !== 'local';
  // An optimization's progress as LSP work-done progress: the editor shows it with a cancel button.
  const optimizeProgress = async (name: string) => {
    const p = await connection.window.createWorkDoneProgress().catch(() => undefined);
    if (!p) return undefined;
    const abort = new AbortController();
    p.token.onCancellationRequested(() => abort.abort());
    p.begin(`Tessera: optimizing ${name} for this CPU`, 0, 'reading the model', true);
    return {
      report: (done: number, total: number) => p.report(Math.round((100 * done) / total), `${done} of ${total} weight matrices`),
      done: () => p.done(),
      signal: abort.signal,
    };
  };
  const completion = new CompletionService(
    DEFAULT_SETTINGS,
    tokenizers,
    (status) => setHealth(assessHealth(onnxruntime, status)),
    options.workerFile,
    optimizeProgress,
  );

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
    if (canComplete()) void completion.configure(pendingSettings);
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
      if (canComplete()) void completion.configure(settings);
    }
  });

  /** The open documents, as sources of snippets for completions (the largest are left out). */
  const neighbours = () =>
    [...documents.all()]
      .filter((d) => d.length <= 512 * 1024)
      .map((d) => ({ uri: d.uri, path: displayPath(d.uri, workspaceFolders), languageId: d.languageId, text: d.getText() }));

  connection.languages.inlineCompletion.on(async (params, token) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !canComplete()) return null;
    const version = doc.version;
    const grammar = grammarFor(doc.languageId, doc.uri);
    const parser = grammar ? await (await syntax)?.parser(grammar).catch(() => undefined) : undefined;
    if (doc.version !== version) return null; // edited while the grammar loaded: a newer request follows
    // The lens keeps the document's tree edit by edit: the syntax check starts from a copy of it
    // (complete() reads the document at once, so text and tree agree).
    const tree = parser ? lens.syntaxTreeCopy(doc.uri) : undefined;
    try {
      const r = await completion.complete(
        {
          uri: doc.uri,
          path: displayPath(doc.uri, workspaceFolders),
          document: doc,
          offset: doc.offsetAt(params.position),
          syntax: parser && { parser, tree },
          neighbours,
        },
        { onCancel: (f) => token.onCancellationRequested(f) },
      );
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      if (!r) return null;
      void connection.sendNotification(completionInfoNotification, {
        uri: doc.uri,
        model: r.model,
        latencyMs: Math.round(r.latencyMs * 10) / 10,
        tokens: r.tokens,
        prefillTokens: r.prefillTokens,
        reusedTokens: r.reusedTokens,
        confidence: r.confidence,
        shown: r.shown,
        reason: r.reason,
        healing: r.healing,
        canonical: r.canonical,
        ...(r.filteredBy ? { filteredBy: r.filteredBy } : {}),
        ...(r.typedThrough ? { typedThrough: true } : {}),
        ...(r.snippets ? { snippets: r.snippets } : {}),
        ...(r.computedAhead ? { computedAhead: true } : {}),
        ...(r.timeLimitMs ? { timeLimitMs: r.timeLimitMs } : {}),
        ...(r.headProbability !== undefined ? { headProbability: Math.round(r.headProbability * 1000) / 1000 } : {}),
      });
      logger.debug(
        `completion ${r.shown ? 'shown' : `held back (${r.reason})`}: ${r.tokens} tokens, ${r.prefillTokens} run / ${r.reusedTokens} reused, ${r.latencyMs.toFixed(1)} ms, confidence ${r.confidence.toFixed(2)}`,
      );
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
    inference: completion.inference,
  }));

  connection.onRequest(documentStatsRequest, ({ uri }) => {
    const doc = documents.get(uri);
    return doc ? documentStats(uri, doc.version, doc.getText()) : null;
  });

  connection.onRequest(fimCheckRequest, async (params, token) => {
    const doc = documents.get(params.uri);
    if (!doc) throw new ResponseError(ErrorCodes.InvalidParams, `${params.uri} is not open`);
    if (!canComplete()) throw new ResponseError(ErrorCodes.InternalError, `ONNX Runtime is unavailable: ${onnxruntime.error}`);
    // A model of its own (another worker): completions while typing go on beside the check.
    const settings = { ...pendingSettings, completion: { ...pendingSettings.completion, enabled: true } };
    const checker = new CompletionService(settings, tokenizers, undefined, options.workerFile);
    try {
      await checker.configure(settings);
      if (checker.status.state !== 'ready')
        throw new ResponseError(ErrorCodes.InternalError, checker.status.error ?? 'the model did not load');
      const file = { path: displayPath(doc.uri, workspaceFolders), text: doc.getText(), languageId: doc.languageId };
      const report = await checkFim(
        checker,
        await syntax,
        [file],
        {
          kinds: params.kinds ?? ['line', 'multiline', 'random'],
          n: params.n ?? 8,
          modes: params.modes ?? ['off', 'heal', 'exact'],
          seed: params.seed ?? 1,
          ...(params.range ? { range: params.range } : {}),
        },
        ({ done, total }) => void connection.sendNotification(fimCheckProgressNotification, { uri: doc.uri, done, total }),
        () => token.isCancellationRequested,
      );
      if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      logger.info(`FIM check of ${file.path}: ${report.samples.length} spans, ${report.modes.join('/')}`);
      return report;
    } finally {
      await checker.dispose();
    }
  });

  registerModelRequests(connection, logger, () => pendingSettings.hub.endpoint);
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
