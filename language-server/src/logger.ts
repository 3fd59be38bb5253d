import type { LogLevel } from './lsp_ext';

const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Sink {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  log(message: string): void;
}

/** Level-filtered logging onto the LSP connection's console (the client's output channel). */
export class Logger {
  constructor(
    private readonly sink: Sink,
    private level: LogLevel = 'info',
  ) {}

  setLevel(level: LogLevel | undefined): void {
    if (level && level in order) this.level = level;
  }

  error(message: string): void {
    if (this.enabled('error')) this.sink.error(message);
  }
  warn(message: string): void {
    if (this.enabled('warn')) this.sink.warn(message);
  }
  info(message: string): void {
    if (this.enabled('info')) this.sink.info(message);
  }
  debug(message: string): void {
    if (this.enabled('debug')) this.sink.log(message);
  }

  private enabled(level: LogLevel): boolean {
    return order[level] <= order[this.level];
  }
}
