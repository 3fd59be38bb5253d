import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import type { RequestType, RequestType0 } from 'vscode-languageclient';
import {
  type Health,
  healthNotification,
  type InitializationOptions,
  type LogLevel,
  type TokenizerStatus,
  tokenizerStatusNotification,
  completionInfoNotification,
  type CompletionInfo,
  type FimCheckProgress,
  fimCheckProgressNotification,
  type PullProgressInfo,
  pullProgressNotification,
} from '../../language-server/src/lsp_ext';
import { TypingRhythm } from './completion/typingRhythm';
import { CrashPolicy } from './crashPolicy';
import { settingsSnapshot } from './settingsSnapshot';
import { RECENT_CRASH_MS, type ServerPhase, type StatusInput } from './statusModel';

/**
 * Owns the language client: starts the server over node IPC, restarts it after a crash within
 * the configured bounds, and reports every change of state to whoever displays it.
 */
export class ServerSupervisor implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private phase: ServerPhase = 'stopped';
  private health: Health | undefined;
  private failure: string | undefined;
  private lastCrash: StatusInput['lastCrash'];
  private lastCompletion: CompletionInfo | undefined;
  private readonly rhythm = new TypingRhythm();
  private readonly policy = new CrashPolicy();
  private readonly changed = new vscode.EventEmitter<StatusInput>();
  private crashTimer: NodeJS.Timeout | undefined;
  readonly onDidChange = this.changed.event;
  private tokenizer: TokenizerStatus | undefined;
  private lastTokenizerError: string | undefined;
  private readonly tokenizerChanged = new vscode.EventEmitter<TokenizerStatus>();
  private readonly fimProgress = new vscode.EventEmitter<FimCheckProgress>();
  /** Progress of a FIM check the server runs. */
  readonly onFimCheckProgress = this.fimProgress.event;
  private readonly pullProgress = new vscode.EventEmitter<PullProgressInfo>();
  /** Progress of a model download the server runs. */
  readonly onPullProgress = this.pullProgress.event;
  /** The server's active tokenizer, or why there is none. */
  readonly onDidChangeTokenizer = this.tokenizerChanged.event;

  private readonly typing: vscode.Disposable;

  constructor(
    private readonly serverModule: string,
    private readonly output: vscode.LogOutputChannel,
    /** The setting keys the extension declares (package.json): all of them go to the server. */
    private readonly settingKeys: readonly string[],
    /**
     * The completion server's API key (from secret storage): it goes into the server process's
     * environment, never into an LSP message (a trace of the protocol would show it).
     */
    private readonly engineKey: () => string = () => '',
  ) {
    this.typing = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length && e.document === vscode.window.activeTextEditor?.document) this.rhythm.keystroke(Date.now());
    });
  }

  tokenizerStatus(): TokenizerStatus | undefined {
    return this.tokenizer;
  }

  status(): StatusInput {
    return {
      phase: this.phase,
      health: this.health,
      failure: this.failure,
      lastCrash: this.lastCrash,
      lastCompletion: this.lastCompletion,
      now: Date.now(),
    };
  }

  async start(): Promise<void> {
    const client = this.createClient();
    this.client = client;
    this.failure = undefined;
    this.health = undefined;
    this.setPhase('starting');
    try {
      await client.start();
    } catch (err) {
      if (this.client !== client) return;
      this.failure = `the language server did not start: ${err instanceof Error ? err.message : String(err)}`;
      this.setPhase('failed');
    }
  }

  /** A restart the user asked for: forgets past crashes and starts a fresh server. */
  async restart(): Promise<void> {
    this.policy.reset();
    this.lastCrash = undefined;
    await this.stopClient();
    await this.start();
  }

  async sendRequest<R>(type: RequestType0<R, void>): Promise<R>;
  async sendRequest<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  async sendRequest(
    type: RequestType0<unknown, void> | RequestType<unknown, unknown, void>,
    params?: unknown,
    token?: vscode.CancellationToken,
  ): Promise<unknown> {
    const client = this.client;
    if (!client || this.phase !== 'running') {
      throw new Error(`the Tessera language server is not running (${this.phase})`);
    }
    return params === undefined
      ? client.sendRequest(type as RequestType0<unknown, void>)
      : client.sendRequest(type as RequestType<unknown, unknown, void>, params, token);
  }

  async dispose(): Promise<void> {
    clearTimeout(this.crashTimer);
    await this.stopClient();
    this.changed.dispose();
    this.tokenizerChanged.dispose();
    this.fimProgress.dispose();
    this.typing.dispose();
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.isRunning()) await client.stop(2000);
    } catch (err) {
      this.output.warn(`stopping the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    await client.dispose().catch(() => undefined);
  }

  private createClient(): LanguageClient {
    const config = vscode.workspace.getConfiguration('tessera');
    const apiKey = this.engineKey();
    const run = {
      module: this.serverModule,
      transport: TransportKind.ipc,
      ...(apiKey ? { options: { env: { ...process.env, TESSERA_API_KEY: apiKey } } } : {}),
    };
    const serverOptions: ServerOptions = {
      run,
      debug: { ...run, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const initializationOptions: InitializationOptions = {
      logLevel: config.get<LogLevel>('server.logLevel', 'info'),
      settings: this.settings(),
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,

      initializationOptions,
      middleware: {
        // Wait out the user's usual gap between keys; the next key cancels the request for free.
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const wait = this.rhythm.delay(Date.now());
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          if (token.isCancellationRequested) return null;
          return next(document, position, context, token);
        },
      },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
        closed: () => this.onServerClosed(),
      },
    };
    const client = new LanguageClient('tessera', 'Tessera', serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setPhase('running');
      else if (e.newState === State.Starting && this.phase !== 'restarting') this.setPhase('starting');
      else if (e.newState === State.Stopped && this.phase !== 'failed' && this.phase !== 'restarting') this.setPhase('stopped');
    });
    // Push the settings on every change (VS Code leaves out restricted ones in untrusted workspaces).
    const configWatch = vscode.workspace.onDidChangeConfiguration((e) => {
      if (this.client !== client || !e.affectsConfiguration('tessera') || !client.isRunning()) return;
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { tessera: this.settings() } });
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client !== client) configWatch.dispose();
    });
    client.onNotification(tokenizerStatusNotification, (status) => {
      if (this.client !== client) return;
      this.tokenizer = status;
      if (status.error && status.error !== this.lastTokenizerError) {
        this.output.warn(`tokenizer: ${status.error}`);
        // A tokenizer the user named and that fails is worth a message; no tokenizer set is not.
        if (vscode.workspace.getConfiguration('tessera').get<string>('tokenizer')) {
          void vscode.window
            .showWarningMessage(`Tessera: the tokenizer could not be loaded: ${status.error}`, 'Open Settings')
            .then((choice) => {
              if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'tessera.tokenizer');
            });
        }
      }
      this.lastTokenizerError = status.error;
      this.tokenizerChanged.fire(status);
    });
    client.onNotification(fimCheckProgressNotification, (p) => {
      if (this.client === client) this.fimProgress.fire(p);
    });
    client.onNotification(pullProgressNotification, (p) => {
      if (this.client === client) this.pullProgress.fire(p);
    });
    client.onNotification(completionInfoNotification, (info) => {
      if (this.client !== client) return;
      this.lastCompletion = info;
      this.emit();
    });
    client.onNotification(healthNotification, (health) => {
      if (this.client !== client) return;
      // A server that fails is said once per outage (the status bar keeps saying it while it lasts).
      if (health.fault && !this.health?.fault) this.notifyFault(health);
      this.health = health;
      if (health.detail) this.output.info(`server health: ${health.message}\n${health.detail}`);
      this.emit();
    });
    return client;
  }

  /** The `tessera` settings as plain data (VS Code leaves out restricted ones in untrusted workspaces). */
  private settings(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration('tessera');
    return settingsSnapshot(this.settingKeys, (key) => config.get(key));
  }

  private notifyFault(health: Health): void {
    const action = health.fault === 'auth' ? 'Set Engine API Key' : 'Open Settings';
    void vscode.window.showWarningMessage(`Tessera: ${health.message}`, action).then((choice) => {
      if (choice === 'Set Engine API Key') void vscode.commands.executeCommand('tessera.setEngineApiKey');
      else if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'tessera.engine');
    });
  }

  private onServerClosed(): CloseHandlerResult {
    const config = vscode.workspace.getConfiguration('tessera');
    const limit = config.get<number>('server.restartLimit', 5);
    const windowMs = config.get<number>('server.restartWindowSeconds', 180) * 1000;
    const now = Date.now();
    const decision = this.policy.record(now, { limit, windowMs });
    this.health = undefined;
    if (decision.restart) {
      this.lastCrash = { at: now, crashes: decision.crashes, limit };
      this.output.warn(
        `The language server stopped unexpectedly; restarting it (${decision.crashes} of ${limit} in ${windowMs / 1000} s).`,
      );
      this.setPhase('restarting');
      // Re-render when the "(restarted)" note should leave the status bar text.
      clearTimeout(this.crashTimer);
      this.crashTimer = setTimeout(() => this.emit(), RECENT_CRASH_MS + 100);
      return { action: CloseAction.Restart, handled: true };
    }
    this.failure = `the server crashed ${decision.crashes} times in ${windowMs / 1000} s and was not restarted`;
    this.output.error(`${this.failure}.`);
    this.setPhase('failed');
    void vscode.window
      .showErrorMessage(`Tessera: ${this.failure}. The Tessera output has the server's last messages.`, 'Restart Server', 'Show Output')
      .then((choice) => {
        if (choice === 'Restart Server') void vscode.commands.executeCommand('tessera.restartServer');
        else if (choice === 'Show Output') this.output.show(true);
      });
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private setPhase(phase: ServerPhase): void {
    this.phase = phase;
    this.emit();
  }

  private emit(): void {
    this.changed.fire(this.status());
  }
}
