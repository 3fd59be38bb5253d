// `tessera optimize MODEL`: the model's decoder rewritten for this CPU, as a model folder `--model` loads.
import {
  describeOptimization,
  OPTIMIZE_BLOCKS,
  type OptimizeBlock,
  type OptimizeTarget,
  optimizeFolder,
} from '../model/optimize/optimizeFolder';
import { PRECISIONS, type Precision } from '../settings';
import { type Command, parseArgs, UsageError } from './command';
import { modelDir } from './modelArg';

export const optimizeCommand: Command = {
  name: 'optimize',
  summary: "Rewrite a model's decoder for this CPU (4- or 8-bit MatMulNBits, int8 dot products) into Tessera's cache",
  usage:
    'tessera optimize MODEL [--precision q4|int8] [--block 32|64|128] [--from P] [--out DIR] [--json]\n' +
    '  MODEL: a model folder, or the repo id of a downloaded model. --from: which decoder file of it to read\n' +
    "  (as tessera.model.precision; default fp32, else what the folder has). --precision: the weights' bits\n" +
    '  (default: int8 from an 8-bit or wider file, q4 from a 4-bit one). --block: weights per scale (default 32;\n' +
    '  larger is faster and coarser). Writes a complete model folder into\n' +
    "  Tessera's cache (reused while the source is unchanged) or --out DIR, and prints it; the source folder\n" +
    '  is never written to. JSON: {dir, reused, report}.',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['precision', 'block', 'from', 'out'] });
    if (positionals.length !== 1) throw new UsageError('which MODEL? (a folder or org/name)');
    const target = options.get('precision');
    if (target !== undefined && target !== 'q4' && target !== 'int8') throw new UsageError('--precision is q4 or int8');
    const block = options.has('block') ? Number(options.get('block')) : undefined;
    if (block !== undefined && !OPTIMIZE_BLOCKS.includes(block as OptimizeBlock))
      throw new UsageError(`--block is one of ${OPTIMIZE_BLOCKS.join(', ')}`);
    const from = options.get('from');
    if (from !== undefined && !PRECISIONS.includes(from as Precision)) throw new UsageError(`--from is one of ${PRECISIONS.join(', ')}`);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    try {
      let last = 0;
      const r = optimizeFolder({
        source: modelDir(positionals[0]),
        ...(from ? { from: from as Precision } : {}),
        ...(target ? { target: target as OptimizeTarget } : {}),
        ...(block ? { block: block as OptimizeBlock } : {}),
        ...(options.has('out') ? { out: options.get('out')! } : {}),
        signal: abort.signal,
        onProgress: (done, total) => {
          if (Date.now() - last > 1000 || done === total) io.err(`optimizing: ${done} of ${total} weight matrices\n`);
          last = Date.now();
        },
      });
      if (flags.has('json')) io.out(`${JSON.stringify({ dir: r.dir, reused: r.reused, report: r.report })}\n`);
      else {
        io.err(`${r.reused ? 'reused: ' : ''}${describeOptimization(r.report)}${r.reused ? '' : ` (${r.report.seconds} s)`}\n`);
        io.out(`${r.dir}\n`);
      }
      return 0;
    } finally {
      process.removeListener('SIGINT', stop);
    }
  },
};
