// Every custom request and notification between the Tessera client and server, with its types.
// Both sides import this file, so a change to the protocol is a change in one place.
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** What the client passes in `initialize.initializationOptions`. */
export interface InitializationOptions {
  logLevel?: LogLevel;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The server's own judgement of whether it can do its job; the client only displays it. */
export type HealthState = 'ok' | 'warning' | 'error';

export interface Health {
  state: HealthState;
  /** One line, shown in the status bar tooltip (and as the reason on error). */
  message: string;
  /** Longer explanation, written to the output channel. */
  detail?: string;
}

/** Pushed by the server whenever its health changes (first right after `initialized`). */
export const healthNotification = new NotificationType<Health>('tessera/health');

export interface OnnxRuntimeInfo {
  available: boolean;
  version?: string;
  /** Why it could not be loaded, when it could not. */
  error?: string;
}

export interface ServerInfo {
  name: string;
  version: string;
  pid: number;
  node: string;
  platform: string;
  arch: string;
  /** ISO time the process started. */
  startedAt: string;
  uptimeMs: number;
  onnxruntime: OnnxRuntimeInfo;
  health: Health;
  openDocuments: number;
}

export const serverInfoRequest = new RequestType0<ServerInfo, void>('tessera/serverInfo');

export interface DocumentStatsParams {
  uri: string;
}

export interface DocumentStats {
  uri: string;
  version: number;
  lines: number;
  /** Length in UTF-16 code units, VS Code's unit for offsets. */
  utf16Length: number;
  /** Size of the text encoded as UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
  utf8Bytes: number;
}

/** Statistics of an open document as the server sees it: proves that document sync is exact. */
export const documentStatsRequest = new RequestType<DocumentStatsParams, DocumentStats | null, void>(
  'tessera/documentStats',
);
