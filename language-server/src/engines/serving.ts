// The engine the pipeline completes with right now: the one the settings chose once it is open; while
// its server is down, the local model if the settings ask for it (tessera.engine.fallback), else none.
// It owns the engine's status: loading, ready, or the fault with when the next try is.
import type { ModelStatus } from '../lsp_ext';
import type { CompletionEngine, ServedModel } from './engine';
import { Outage } from './outage';
import { EngineFault } from './serverHttp';

export interface Served {
  engine: CompletionEngine;
  model: ServedModel;
  /** The local model, standing in while the server is down. */
  fallback: boolean;
}

interface Standby {
  engine: CompletionEngine;
  model?: ServedModel;
  opening?: Promise<void>;
  error?: string;
}

export class Serving {
  private opened: ServedModel | undefined;
  private opening: Promise<void> | undefined;
  /** The local worker crashed: open again on the next request (a folder that failed to load is not retried). */
  private reopen = false;
  private readonly outage: Outage;
  private standby: Standby | undefined;
  private disposed = false;

  constructor(
    readonly engine: CompletionEngine,
    /** What to name while loading (the folder, or the server's address). */
    private readonly label: { name: string; dir?: string; url?: string },
    private readonly makeFallback: (() => CompletionEngine) | undefined,
    private readonly setStatus: (s: ModelStatus) => void,
  ) {
    // Only a server's faults start an outage; the way back is opening it again (it may have come back
    // with another model).
    this.outage = new Outage(
      async () => {
        this.opened = await engine.open();
      },
      (fault, retryInMs) => this.outageChanged(fault, retryInMs),
    );
  }

  open(): Promise<void> {
    this.opening ??= this.openNow().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openNow(): Promise<void> {
    this.setStatus({ state: 'loading', ...this.label, engine: this.engine.kind });
    try {
      const model = await this.engine.open();
      if (this.disposed) return;
      this.opened = model;
      this.setStatus(readyStatus(this.engine, model));
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof EngineFault && err.kind !== 'unsupported') this.outage.report(err);
      else
        this.setStatus({
          state: 'error',
          ...this.label,
          engine: this.engine.kind,
          error: err instanceof Error ? err.message : String(err),
          // A server's answer that it cannot complete (no FIM tokens, no such model) is said once, like an outage.
          ...(err instanceof EngineFault ? { fault: err.kind } : {}),
        });
    }
  }

  /** The engine to complete with now, or undefined (the status says why). */
  async current(): Promise<Served | undefined> {
    if (this.reopen) {
      this.reopen = false;
      void this.open();
    }
    await this.opening;
    if (this.opened && !this.outage.down) return { engine: this.engine, model: this.opened, fallback: false };
    if (this.outage.down && this.makeFallback) return this.fallback();
    return undefined;
  }

  /** A request to this engine failed: a server fault starts an outage; anything else is the caller's to report. */
  failed(err: unknown): boolean {
    if (!(err instanceof EngineFault) || err.kind === 'bad-response') return false;
    this.outage.report(err);
    return true;
  }

  /** The local worker crashed or hung: it is opened again on the next request. */
  crashed(message: string): void {
    this.opened = undefined;
    this.reopen = true;
    this.setStatus({
      state: 'error',
      ...this.label,
      engine: this.engine.kind,
      error: `${message}; it is restarted on the next completion`,
    });
  }

  private async fallback(): Promise<Served | undefined> {
    if (!this.standby) {
      const standby: Standby = { engine: this.makeFallback!() };
      this.standby = standby;
      standby.opening = standby.engine.open().then(
        (model) => {
          standby.model = model;
        },
        (err: unknown) => {
          standby.error = err instanceof Error ? err.message : String(err);
        },
      );
    }
    await this.standby.opening;
    const { engine, model } = this.standby;
    return model ? { engine, model, fallback: true } : undefined;
  }

  private outageChanged(fault: EngineFault | undefined, retryInMs: number): void {
    if (this.disposed) return;
    if (!fault) {
      this.setStatus(readyStatus(this.engine, this.opened!));
      return;
    }
    const meanwhile = this.makeFallback
      ? this.standby?.error
        ? `; the local model did not load either (${this.standby.error})`
        : '; completing with the local model meanwhile'
      : '';
    this.setStatus({
      state: 'error',
      ...this.label,
      ...(this.opened ? { name: this.opened.name } : {}),
      engine: this.engine.kind,
      error: `${fault.message}; trying again in ${Math.round(retryInMs / 1000)} s${meanwhile}`,
      fault: fault.kind,
    });
  }

  /** The engine's model once open (whether or not its server answers now). */
  get model(): ServedModel | undefined {
    return this.opened;
  }

  get inFlight() {
    return this.engine.inFlight;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.outage.dispose();
    await Promise.all([this.engine.dispose(), this.standby?.engine.dispose()]);
  }
}

function readyStatus(engine: CompletionEngine, m: ServedModel): ModelStatus {
  return {
    state: 'ready',
    name: m.name,
    engine: engine.kind,
    description: m.description,
    fimTemplate: m.fimTemplate,
    tokens: m.tokensFrom,
    ...(m.dir ? { dir: m.dir } : {}),
    ...(m.onnxFile ? { onnxFile: m.onnxFile } : {}),
    ...(m.url ? { url: m.url } : {}),
    ...(m.healingNote ? { healingNote: m.healingNote } : {}),
  };
}
