/** How many crashes are forgiven, over what time, before the server is left stopped. */
export interface CrashLimits {
  limit: number;
  windowMs: number;
}

export interface CrashDecision {
  restart: boolean;
  /** Crashes inside the window, this one included. */
  crashes: number;
  limit: number;
  windowMs: number;
}

/**
 * Bounded restarts: a server that keeps crashing is not restarted forever. Crashes older than
 * the window are forgotten; a restart the user asks for clears the count.
 */
export class CrashPolicy {
  private times: number[] = [];

  record(now: number, limits: CrashLimits): CrashDecision {
    this.times = this.times.filter((t) => now - t < limits.windowMs);
    this.times.push(now);
    const crashes = this.times.length;
    return { restart: crashes <= limits.limit, crashes, limit: limits.limit, windowMs: limits.windowMs };
  }

  reset(): void {
    this.times = [];
  }
}
