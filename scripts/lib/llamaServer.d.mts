// Types for llamaServer.mjs, for the TypeScript tests and benchmarks that run the real llama.cpp server.
export const NODE_LLAMA_CPP: string;
export function installNodeLlamaCpp(dir: string, o?: { also?: string[]; scripts?: boolean }): void;
export function ensureLlamaServer(): string;
export function embeddedGguf(repoRoot: string): string;
export const EMBEDDED_SERVER_ARGS: string[];
export function freePort(): Promise<number>;
export interface LlamaServer {
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}
export function startLlamaServer(o: {
  model: string;
  port?: number;
  parallel?: number;
  apiKey?: string;
  ctx?: number;
  threads?: number;
  args?: string[];
}): Promise<LlamaServer>;
