// One request in flight per editor, as the local model does it: a new request aborts the one before
// (its HTTP stream is closed, so a server stops working on it), and the caller's cancel aborts it too.

export class LatestRequest {
  private current: AbortController | undefined;

  /** A signal for a new request; the one before it is aborted. */
  start(onCancel?: (cancel: () => void) => void): AbortSignal {
    this.abortAll();
    const controller = new AbortController();
    this.current = controller;
    onCancel?.(() => controller.abort());
    return controller.signal;
  }

  done(signal: AbortSignal): void {
    if (this.current?.signal === signal) this.current = undefined;
  }

  get pending(): number {
    return this.current ? 1 : 0;
  }

  abortAll(): void {
    this.current?.abort();
    this.current = undefined;
  }
}
