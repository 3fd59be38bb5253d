// What the server engines share: the server's address and key, one request in flight, and letting go.
import type { InferenceLoad } from '../lsp_ext';
import type { EngineSettings } from '../settings';
import { LatestRequest } from './latestRequest';
import type { ServerAddress } from './serverHttp';

export abstract class ServerEngine {
  protected readonly server: ServerAddress;
  protected readonly latest = new LatestRequest();

  constructor(protected readonly settings: EngineSettings) {
    this.server = { url: settings.url, ...(settings.apiKey ? { apiKey: settings.apiKey } : {}) };
  }

  get inFlight(): InferenceLoad {
    return { workers: 0, pendingRequests: this.latest.pending };
  }

  async dispose(): Promise<void> {
    this.latest.abortAll();
  }
}
