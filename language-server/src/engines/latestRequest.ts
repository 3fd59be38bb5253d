// One request in flight per editor, as the local model does it: a new request aborts the one before
// (its HTTP request is closed, so a server stops working on it), and the caller's cancel aborts it too.

export class LatestRequest {
  private readonly open = new Set<AbortController>();

  /** A signal for a new request; the requests before it are aborted. */
  start(onCancel?: (cancel: () => void) => void): AbortSignal {
    this.abortAll();
    const controller = new AbortController();
    this.open.add(controller);
    onCancel?.(() => controller.abort());
    return controller.signal;
  }

  done(signal: AbortSignal): void {
    for (const c of this.open) if (c.signal === signal) this.open.delete(c);
  }

  get pending(): number {
    return this.open.size;
  }

  abortAll(): void {
    for (const c of this.open) c.abort();
    this.open.clear();
  }
}
