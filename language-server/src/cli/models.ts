// `tessera models list|pull|rm`: the models on this machine and in the catalogue, a download of one
// precision into the Hugging Face cache, and its removal. Only `pull` touches the network.
import { hubCacheDir } from '../hub/cacheLayout';
import { CATALOGUE, formatBytes } from '../hub/catalogue';
import { hubEndpoint } from '../hub/hubApi';
import { listModels } from '../hub/listing';
import { type PullProgress, pullModel, removeModel } from '../hub/pull';
import { PRECISIONS, type Precision } from '../settings';
import { type Command, type Io, parseArgs, UsageError } from './command';

const USAGE =
  'tessera models list [--json]\n' +
  '       tessera models pull REPO [--precision P] [--revision R] [--json]\n' +
  '       tessera models rm REPO\n' +
  '  The Hugging Face cache: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. pull reads HF_ENDPOINT,\n' +
  '  HF_TOKEN and HF_HUB_OFFLINE as huggingface_hub does, prints the snapshot folder (progress on stderr) and\n' +
  "  resumes a download that stopped. --precision: one of the repo's (default: the catalogue's choice, else int8).";

export const modelsCommand: Command = {
  name: 'models',
  summary: 'List, download (one precision, into the Hugging Face cache) and remove models',
  usage: USAGE,
  async run(args, io) {
    const [verb, ...rest] = args;
    if (verb === 'list') return list(rest, io);
    if (verb === 'pull') return pull(rest, io);
    if (verb === 'rm') return rm(rest, io);
    throw new UsageError(verb ? `unknown models command '${verb}' (list, pull or rm)` : 'list, pull or rm?');
  },
};

function list(args: string[], io: Io): number {
  const { flags, positionals } = parseArgs(args, { flags: ['json'] });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const cache = hubCacheDir();
  const { installed, catalogue } = listModels(cache);
  if (flags.has('json')) {
    io.out(`${JSON.stringify({ cache, installed, catalogue }, null, 2)}\n`);
    return 0;
  }
  io.out(`Installed (the embedded model, and ${cache}):\n`);
  for (const m of installed) io.out(`  ${m.name.padEnd(44)} ${m.precisions.join(', ').padEnd(18)} ${formatBytes(m.bytes)}\n`);
  io.out('\nCatalogue (tessera models pull REPO --precision P; sizes approximate):\n');
  for (const m of catalogue) {
    const sizes = Object.entries(m.precisions)
      .map(([p, b]) => `${p} ${formatBytes(b!)}`)
      .join(', ');
    io.out(
      `  ${m.repo.padEnd(44)} ${m.kind === 'instruct' ? 'instruct (FIM weaker)' : 'base'}; ${m.licence}; ${sizes}${m.installed.length ? `; installed: ${m.installed.join(', ')}` : ''}\n`,
    );
  }
  return 0;
}

async function pull(args: string[], io: Io): Promise<number> {
  const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['precision', 'revision'] });
  if (positionals.length !== 1) throw new UsageError('which REPO? (org/name)');
  const repo = positionals[0]!;
  const precision = (options.get('precision') ?? CATALOGUE.find((m) => m.repo === repo)?.recommended ?? 'int8') as Precision;
  if (!PRECISIONS.includes(precision)) throw new UsageError(`--precision is one of ${PRECISIONS.join(', ')}`);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  let last = 0;
  const progress = (p: PullProgress) => {
    if (Date.now() - last < 500 && p.bytes < p.total) return;
    last = Date.now();
    const left = p.secondsLeft !== undefined ? `, ${Math.ceil(p.secondsLeft)} s left` : '';
    io.err(`${p.file}: ${formatBytes(p.bytes)} of ${formatBytes(p.total)} (${formatBytes(p.bytesPerSecond)}/s${left})\n`);
  };
  try {
    const r = await pullModel({
      repo,
      precision,
      ...(options.has('revision') ? { revision: options.get('revision')! } : {}),
      cache: hubCacheDir(),
      access: { endpoint: hubEndpoint(), ...(process.env.HF_TOKEN ? { token: process.env.HF_TOKEN } : {}), signal: abort.signal },
      onProgress: progress,
      onRetry: (file, attempt, error) => io.err(`${file}: ${error}; resuming (try ${attempt + 1})\n`),
    });
    if (r.repo !== repo) io.err(`${repo} is now ${r.repo}\n`);
    if (flags.has('json')) io.out(`${JSON.stringify({ ...r, precision })}\n`);
    else {
      io.err(
        `${r.repo} ${precision} (${r.decoder}) at commit ${r.commit.slice(0, 10)}: ${formatBytes(r.fetchedBytes)} fetched, ${formatBytes(r.cachedBytes)} already here\n`,
      );
      io.out(`${r.dir}\n`);
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

function rm(args: string[], io: Io): number {
  const { positionals } = parseArgs(args, {});
  if (positionals.length !== 1) throw new UsageError('which REPO? (org/name)');
  if (!removeModel(hubCacheDir(), positionals[0]!)) {
    io.err(`${positionals[0]} is not in ${hubCacheDir()}\n`);
    return 1;
  }
  io.out(`removed ${positionals[0]} from ${hubCacheDir()}\n`);
  return 0;
}
