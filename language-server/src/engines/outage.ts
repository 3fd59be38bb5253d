// A server that failed is left alone until it answers again: requests do not hit it per keystroke;
// a probe retries with exponential backoff (1 s, 2 s, 4 s … 30 s), and the first probe that succeeds
// ends the outage.
import type { EngineFault } from './serverHttp';

export const FIRST_RETRY_MS = 1000;
export const LAST_RETRY_MS = 30_000;

export class Outage {
  private fault: EngineFault | undefined;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    /** Resolves when the server answers again (and is open). */
    private readonly probe: () => Promise<void>,
    /** The fault (and when the next try is) or undefined when the server is back. */
    private readonly onChange: (fault: EngineFault | undefined, retryInMs: number) => void,
  ) {}

  get down(): EngineFault | undefined {
    return this.fault;
  }

  /** A request failed: the outage starts (or goes on with this fault). */
  report(fault: EngineFault): void {
    const starting = !this.fault;
    this.fault = fault;
    if (starting) {
      this.attempts = 0;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.disposed) return;
    const delay = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempts);
    this.onChange(this.fault, delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.retry(), delay);
    this.timer.unref?.();
  }

  private async retry(): Promise<void> {
    try {
      await this.probe();
      if (this.disposed) return;
      this.fault = undefined;
      this.onChange(undefined, 0);
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof Error && err.name === 'EngineFault') this.fault = err as EngineFault;
      this.attempts++;
      this.schedule();
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
