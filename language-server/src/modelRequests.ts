// The model requests of the protocol: the list (installed and catalogue), a Hub repo's decoders, and a
// download with progress and cancellation. Only a pull or a repo listing, each asked for by the user,
// reaches the network; the list reads the disk.
import { totalmem } from 'node:os';
import { type CancellationToken, type Connection, ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import { hubCacheDir } from './hub/cacheLayout';
import { HubError, type HubAccess, hubEndpoint, revisionInfo } from './hub/hubApi';
import { offline } from './hub/http';
import { listModels } from './hub/listing';
import { pullModel } from './hub/pull';
import { precisionsAmong } from './model/folder';
import type { Logger } from './logger';
import { modelsRequest, type PullParams, pullProgressNotification, pullRequest, repoFilesRequest } from './lsp_ext';
import { PRECISIONS, type Precision } from './settings';

/** A token for the Hub: the editor's (secret storage) first, else HF_TOKEN as huggingface_hub reads it. */
const tokenFor = (given?: string): string | undefined => given || process.env.HF_TOKEN || undefined;

export function registerModelRequests(connection: Connection, logger: Logger, endpointSetting: () => string): void {
  const access = (token: CancellationToken, given?: string, proxy?: string): HubAccess => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const t = tokenFor(given);
    return { endpoint: hubEndpoint(endpointSetting()), ...(t ? { token: t } : {}), ...(proxy ? { proxy } : {}), signal: abort.signal };
  };
  const failure = (err: unknown, token: CancellationToken): ResponseError<void> => {
    if (token.isCancellationRequested)
      return new ResponseError(LSPErrorCodes.RequestCancelled, err instanceof Error ? err.message : 'cancelled');
    return new ResponseError(ErrorCodes.InternalError, err instanceof Error ? err.message : String(err), undefined);
  };

  connection.onRequest(modelsRequest, ({ folders }) => {
    const cache = hubCacheDir();
    return { cache, offline: offline(), endpoint: hubEndpoint(endpointSetting()), ...listModels(cache, folders), memoryBytes: totalmem() };
  });

  connection.onRequest(repoFilesRequest, async ({ repo, revision, token: given, proxy }, token) => {
    try {
      const info = await revisionInfo(repo.trim(), revision ?? 'main', access(token, given, proxy));
      return { repo: info.id, commit: info.commit, precisions: precisionsAmong(info.files) };
    } catch (err) {
      throw failure(err, token);
    }
  });

  connection.onRequest(pullRequest, async (params: PullParams, token) => {
    if (!PRECISIONS.includes(params.precision as Precision))
      throw new ResponseError(ErrorCodes.InvalidParams, `unknown precision ${params.precision}`);
    const started = Date.now();
    logger.info(`download: ${params.repo} ${params.precision} from ${hubEndpoint(endpointSetting())} into ${hubCacheDir()}`);
    try {
      const r = await pullModel({
        repo: params.repo.trim(),
        precision: params.precision as Precision,
        ...(params.revision ? { revision: params.revision } : {}),
        cache: hubCacheDir(),
        access: access(token, params.token, params.proxy),
        onProgress: (p) => void connection.sendNotification(pullProgressNotification, { repo: params.repo, ...p }),
        onRetry: (file, attempt, error) => logger.warn(`download: ${file}: ${error}; resuming (try ${attempt + 1})`),
      });
      logger.info(
        `download: ${r.repo} at ${r.commit.slice(0, 10)} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.fetchedBytes} bytes fetched, ${r.cachedBytes} already cached`,
      );
      return {
        repo: r.repo,
        dir: r.dir,
        commit: r.commit,
        precision: params.precision,
        fetchedBytes: r.fetchedBytes,
        cachedBytes: r.cachedBytes,
      };
    } catch (err) {
      logger.warn(
        `download of ${params.repo} failed: ${err instanceof HubError ? `${err.kind}: ` : ''}${err instanceof Error ? err.message : String(err)}`,
      );
      throw failure(err, token);
    }
  });
}
