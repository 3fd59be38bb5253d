import { relative, resolve } from 'node:path';
import { DEFAULT_MODEL } from '../defaultModel';
import { describeMachine } from '../measure/machine';
import { cutPrompts, DEFAULT_SPECULATIVE, formatSpeculative, measureSpeculative } from '../measure/speculative';
import { openModelFolder } from '../model/folder';
import { openDecoder } from '../model/openDecoder';
import { PRECISIONS, type Precision } from '../settings';
import { Tokenizer } from '../tokenizer/tokenizer';
import { type Command, parseArgs, UsageError } from './command';
import { readSourceFile } from './sourceFile';

const BENCHMARKS = ['speculative'] as const;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure decoding speed on your files: plain greedy, prompt-lookup chains and draft trees',
  usage:
    'tessera bench speculative FILE... [--model DIR] [--precision fp32|quantized|int8|q4|…] [--cuts N] [--json]\n' +
    '  Greedy block completions of 64 tokens from N cuts per file (default 3), decoded plainly, with prompt-lookup\n' +
    '  chains, with Token Recycling trees of several sizes and as the server chooses (auto); same tokens checked.\n' +
    '  JSON: {machine, prompts, modes:[{name, tokensPerSecond, tokensPerPass, acceptedPerPass, draftedPerPass,\n' +
    '  medianSpeedup, identical}], passCost:[{tokens, ms, ratio}], best, speedup, acceptedPerPass, identical, rankHits}.',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['model', 'precision', 'cuts'] });
    const [which, ...files] = positionals;
    if (!BENCHMARKS.includes(which as (typeof BENCHMARKS)[number])) throw new UsageError(`which benchmark? ${BENCHMARKS.join(', ')}`);
    if (!files.length) throw new UsageError('which FILE(s)? The completions are cut from them');
    const precision = options.get('precision') ?? 'fp32';
    if (!PRECISIONS.includes(precision as Precision)) throw new UsageError(`--precision is one of ${PRECISIONS.join(', ')}`);
    const cuts = Number(options.get('cuts') ?? DEFAULT_SPECULATIVE.cutsPerFile);
    if (!Number.isInteger(cuts) || cuts < 1) throw new UsageError(`--cuts wants a whole number from 1, not ${options.get('cuts')}`);
    const folder = openModelFolder(options.has('model') ? resolve(options.get('model')!) : DEFAULT_MODEL.dir, precision as Precision);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const sources = files.map((f) => ({ path: relative(process.cwd(), resolve(f)) || f, text: readSourceFile(f, io) }));
    const o = { ...DEFAULT_SPECULATIVE, cutsPerFile: cuts };
    const prompts = cutPrompts(sources, (t) => tok.encodeIds(t), o);
    if (!prompts.length) throw new UsageError('the files are too short to cut completions from');
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    try {
      const report = await measureSpeculative(decoder, tok, prompts, o);
      if (flags.has('json')) io.out(`${JSON.stringify(report)}\n`);
      else io.out(`${describeMachine(report.machine)}\n${folder.onnxPath}\n${formatSpeculative(report)}\n`);
      return report.identical ? 0 : 1;
    } finally {
      await decoder.release();
    }
  },
};
